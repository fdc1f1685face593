"""resolve_identities on hand-made records in a real DuckDB: edge rules, guards, Splink, stable ids."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipelines.lib.identity import IdentityInputError, resolve_identities
from pipelines.lib.identity.config import IdentityConfig
from pipelines.lib.identity.stable_ids import new_customer_id

from .conftest import NOW, customer_of, person, same_customer, write_records


def no_splink() -> IdentityConfig:
    cfg = IdentityConfig()
    cfg.splink.enabled = False
    return cfg


def edges(con) -> set[tuple[str, str, str]]:
    return set(con.execute("SELECT record_key_l, record_key_r, rule FROM identity_edges").fetchall())


def guards(con) -> list[tuple[str, list[str]]]:
    return con.execute("SELECT guard, record_keys FROM identity_guard_events ORDER BY guard").fetchall()


def test_same_email_makes_an_email_edge(con):
    write_records(
        con,
        [
            person("salesforce:1", "ann", "lee", email="ann@x.com"),
            person("hubspot:9", "annie", "leigh", email="ann@x.com"),
            person("zoho:3", "ann", "lee", email="other@x.com"),
        ],
    )
    resolve_identities(con, no_splink(), "r1", NOW)
    assert edges(con) == {("hubspot:9", "salesforce:1", "email")}
    assert same_customer(con, "salesforce:1", "hubspot:9")
    assert not same_customer(con, "salesforce:1", "zoho:3")


def test_same_phone_needs_same_surname(con):
    write_records(
        con,
        [
            person("salesforce:1", "ann", "lee", phone_e164="+441234"),
            person("zoho:1", "anne", "lee", phone_e164="+441234"),
            person("zoho:2", "ann", "park", phone_e164="+441234"),
        ],
    )
    resolve_identities(con, no_splink(), "r1", NOW)
    assert edges(con) == {("salesforce:1", "zoho:1", "phone_surname")}
    assert not same_customer(con, "salesforce:1", "zoho:2")


@pytest.mark.parametrize(
    "column, target",
    [
        ("xref_hubspot_id", "hubspot:77"),
        ("xref_salesforce_id", "salesforce:77"),
        ("converted_contact_id", "salesforce:77"),
        ("master_record_id", "salesforce:77"),
    ],
)
def test_cross_references_make_xref_edges(con, column, target):
    write_records(
        con,
        [
            person("dynamics:1", "ann", "lee", **{column: "77"}),
            person(target, "zed", "other"),
            person("zoho:77", "ann", "lee"),
        ],
    )
    resolve_identities(con, no_splink(), "r1", NOW)
    assert edges(con) == {tuple(sorted(["dynamics:1", target])) + ("xref",)}
    joined = dict(con.execute("SELECT record_key, joined_by_rule FROM identity_clusters").fetchall())
    assert joined["dynamics:1"] == "xref" and joined["zoho:77"] == "singleton"


def test_role_mailbox_makes_no_edge_and_is_recorded(con):
    write_records(
        con,
        [
            person("salesforce:1", "ann", "lee", email="info@acme.com"),
            person("hubspot:1", "bo", "park", email="info@acme.com"),
            person("zoho:1", "cy", "diaz", email="Sales@acme.com".lower()),
        ],
    )
    resolve_identities(con, no_splink(), "r1", NOW)
    assert edges(con) == set()
    assert len(set(customer_of(con).values())) == 3
    # the single sales@ record blocked nothing, so only info@ fired
    assert guards(con) == [("role_mailbox", ["hubspot:1", "salesforce:1"])]
    detail = con.execute("SELECT detail FROM identity_guard_events").fetchone()[0]
    assert "info@" in detail and "acme" not in detail


def test_identifier_shared_by_too_many_people_is_not_an_edge(con):
    cfg = no_splink()
    cfg.guards.max_people_per_identifier = 2
    names = [("ann", "lee"), ("bo", "park"), ("cy", "diaz")]
    write_records(
        con,
        [
            person(f"hubspot:{i}", f, last, email="family@x.com", phone_e164="+1555")
            for i, (f, last) in enumerate(names)
        ]
        + [person("zoho:1", "di", "ng", email="di@x.com"), person("zoho:2", "di", "ng", email="di@x.com")],
    )
    report = resolve_identities(con, cfg, "r1", NOW)
    assert edges(con) == {("zoho:1", "zoho:2", "email")}
    assert [g for g, _ in guards(con)] == ["shared_identifier", "shared_identifier"]
    assert report.guard_firings["shared_identifier"] == 2


def test_identifier_shared_by_few_people_still_links(con):
    cfg = no_splink()
    cfg.guards.max_people_per_identifier = 2
    write_records(
        con,
        [
            person("hubspot:1", "ann", "lee", email="a@x.com"),
            person("hubspot:2", "anne", "lee", email="a@x.com"),
        ],
    )
    resolve_identities(con, cfg, "r1", NOW)
    assert same_customer(con, "hubspot:1", "hubspot:2")
    assert guards(con) == []


def test_max_cluster_size_drops_weakest_splink_edges(con, monkeypatch):
    from pipelines.lib.identity import resolve
    from pipelines.lib.identity.probabilistic import SplinkResult

    cfg = IdentityConfig()
    cfg.guards.max_cluster_size = 3
    write_records(con, [person(f"hubspot:{i}", "ann", "lee") for i in range(1, 7)])

    def scored_pairs(con_, config_, out_table, model=None):
        # Splink's output stands in: a strong chain 1-2-3 and 4-5-6, joined by one weak edge 3-4.
        con_.execute(
            f"CREATE OR REPLACE TEMP TABLE {out_table} AS SELECT * FROM (VALUES "
            "(1::BIGINT, 2::BIGINT, 20.0, 0.999), (2, 3, 19.0, 0.999), (3, 4, 7.0, 0.99), "
            "(4, 5, 18.0, 0.999), (5, 6, 17.0, 0.999)) t(id_l, id_r, match_weight, match_probability)"
        )
        return SplinkResult(edges=5, trained=False, probability_two_random_records_match=0.01)

    monkeypatch.setattr(resolve, "splink_edges", scored_pairs)
    resolve_identities(con, cfg, "r1", NOW)
    ids = customer_of(con)
    assert len({ids[f"hubspot:{i}"] for i in (1, 2, 3)}) == 1
    assert len({ids[f"hubspot:{i}"] for i in (4, 5, 6)}) == 1
    assert ids["hubspot:3"] != ids["hubspot:4"]
    events = guards(con)
    assert [g for g, _ in events] == ["max_cluster_size"]
    assert events[0][1] == [f"hubspot:{i}" for i in range(1, 7)]
    assert ("hubspot:3", "hubspot:4", "splink") not in edges(con)
    assert len(edges(con)) == 4


def test_oversize_deterministic_cluster_keeps_records_apart(con):
    cfg = no_splink()
    cfg.guards.max_cluster_size = 2
    cfg.guards.max_people_per_identifier = 10
    write_records(con, [person(f"hubspot:{i}", "ann", "lee", email="a@x.com") for i in range(3)])
    resolve_identities(con, cfg, "r1", NOW)
    assert len(set(customer_of(con).values())) == 3
    assert edges(con) == set()
    assert [g for g, _ in guards(con)] == ["max_cluster_size"]


def test_splink_links_records_sharing_no_identifier(con, config):
    shared = {
        "street_norm": "12 harbour view rd",
        "city_norm": "leeds",
        "postal_code_norm": "ls12ab",
        "birth_date": "1979-04-18",
        "country_code": "GB",
    }
    write_records(
        con,
        [
            person("salesforce:1", "margaret", "oyelaran", email="m.oyelaran@corp.com", **shared),
            person("dynamics:1", "margaret", "oyelaran", email="peggy77@mail.com", **shared),
            # two different people with the same common name and nothing else in common
            person(
                "hubspot:1", "john", "smith", email="js1@a.com", city_norm="york", birth_date="1960-01-01"
            ),
            person("zoho:1", "john", "smith", email="js2@b.com", city_norm="bath", birth_date="1990-07-07"),
        ],
    )
    report = resolve_identities(con, config, "r1", NOW)
    assert same_customer(con, "salesforce:1", "dynamics:1")
    assert not same_customer(con, "hubspot:1", "zoho:1")
    row = con.execute(
        "SELECT match_weight, match_probability FROM identity_edges WHERE rule = 'splink'"
    ).fetchall()
    assert len(row) == 1 and config.thresholds.match_weight is None  # the probability alone decides
    assert row[0][1] >= config.thresholds.match_probability
    assert report.edges_by_rule["splink"] == 1


def test_one_row_per_record_and_deterministic_new_ids(con):
    write_records(
        con,
        [
            person("salesforce:1", "ann", "lee", email="a@x.com"),
            person("hubspot:1", "ann", "lee", email="a@x.com"),
            person("zoho:1", "bo", "park"),
        ],
    )
    report = resolve_identities(con, no_splink(), "r1", NOW)
    ids = customer_of(con)
    assert len(ids) == 3 == report.records
    assert ids["salesforce:1"] == ids["hubspot:1"] == new_customer_id("hubspot:1")
    assert ids["zoho:1"] == new_customer_id("zoho:1")
    log = con.execute("SELECT event, customer_id FROM customer_merge_log ORDER BY customer_id").fetchall()
    assert sorted(log) == sorted([("new", new_customer_id("hubspot:1")), ("new", new_customer_id("zoho:1"))])


def test_ids_stable_and_rerun_idempotent(con):
    rows = [
        person("salesforce:1", "ann", "lee", email="a@x.com"),
        person("hubspot:1", "ann", "lee", email="a@x.com"),
        person("zoho:1", "bo", "park"),
        # a role mailbox shared by two people: a guard event on every run
        person("zoho:2", "cy", "diaz", email="info@acme.com"),
        person("dynamics:2", "di", "ng", email="info@acme.com"),
    ]
    write_records(con, rows)
    resolve_identities(con, no_splink(), "r1", NOW)
    first = customer_of(con)
    tables_before = {
        t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
        for t in ("identity_edges", "identity_clusters")
    }
    guard_sql = (
        "SELECT guard, detail, record_keys, identifier_kind, record_count, event_at, run_id "
        "FROM identity_guard_events ORDER BY guard, record_keys"
    )
    guards_before = con.execute(guard_sql).fetchall()
    resolve_identities(con, no_splink(), "r2", NOW + timedelta(days=1))
    assert customer_of(con) == first
    for table, before in tables_before.items():
        after = con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
        assert after == before, table
    # the guard events are this run's: the same events, stamped with the second run's id and time
    guards_after = con.execute(guard_sql).fetchall()
    assert [g[:5] for g in guards_after] == [g[:5] for g in guards_before]
    assert [g[0] for g in guards_before] == ["role_mailbox"]
    assert guards_before[0][2] == ["dynamics:2", "zoho:2"]
    assert {(g[5], g[6]) for g in guards_before} == {(NOW.replace(tzinfo=None), "r1")}
    assert {(g[5], g[6]) for g in guards_after} == {((NOW + timedelta(days=1)).replace(tzinfo=None), "r2")}
    assert con.execute("SELECT count(*) FROM customer_merge_log WHERE run_id = 'r2'").fetchone()[0] == 0
    seen = con.execute("SELECT min(first_seen_at), max(last_seen_at) FROM customer_key_map").fetchone()
    assert seen[0] == NOW.replace(tzinfo=None) and seen[1] == (NOW + timedelta(days=1)).replace(tzinfo=None)


def test_fresh_warehouse_same_input_same_ids(con):
    import duckdb

    rows = [
        person("salesforce:1", "ann", "lee", email="a@x.com"),
        person("hubspot:1", "ann", "lee", email="a@x.com"),
    ]
    write_records(con, rows)
    resolve_identities(con, no_splink(), "r1", NOW)
    other = duckdb.connect()
    write_records(other, list(reversed(rows)))
    resolve_identities(other, no_splink(), "r9", NOW)
    assert customer_of(other) == customer_of(con)
    other.close()


def test_bridging_record_merges_two_customers(con):
    write_records(
        con,
        [
            person("salesforce:1", "ann", "lee", email="a@x.com"),
            person("hubspot:1", "ann", "lee", phone_e164="+1555"),
        ],
    )
    resolve_identities(con, no_splink(), "r1", NOW)
    before = customer_of(con)
    assert before["salesforce:1"] != before["hubspot:1"]
    # a new export: one record carrying both identifiers bridges the two customers
    write_records(
        con,
        [
            person("salesforce:1", "ann", "lee", email="a@x.com"),
            person("hubspot:1", "ann", "lee", phone_e164="+1555"),
            person("zoho:5", "ann", "lee", email="a@x.com", phone_e164="+1555"),
        ],
    )
    resolve_identities(con, no_splink(), "r2", NOW + timedelta(days=1))
    after = customer_of(con)
    assert len(set(after.values())) == 1
    survivor = after["zoho:5"]
    assert survivor in set(before.values())
    merges = con.execute(
        "SELECT customer_id, other_customer_ids, reason FROM customer_merge_log "
        "WHERE event = 'merge' AND run_id = 'r2'"
    ).fetchall()
    assert len(merges) == 1
    assert merges[0][0] == survivor
    assert merges[0][1] == [v for v in set(before.values()) if v != survivor]
    assert (
        con.execute("SELECT customer_id FROM customer_key_map WHERE record_key = 'zoho:5'").fetchone()[0]
        == survivor
    )


def test_oldest_records_keep_their_id_on_merge(con):
    write_records(con, [person("zoho:9", "ann", "lee", email="a@x.com")])
    resolve_identities(con, no_splink(), "r1", NOW)
    old = customer_of(con)["zoho:9"]
    write_records(
        con,
        [
            person("zoho:9", "ann", "lee", email="a@x.com"),
            person("hubspot:1", "ann", "lee", phone_e164="+1555"),
            person("hubspot:2", "ann", "lee", phone_e164="+1555"),
        ],
    )
    resolve_identities(con, no_splink(), "r2", NOW + timedelta(days=1))
    younger = customer_of(con)["hubspot:1"]
    write_records(
        con,
        [
            person("zoho:9", "ann", "lee", email="a@x.com", phone_e164="+1555"),
            person("hubspot:1", "ann", "lee", phone_e164="+1555"),
            person("hubspot:2", "ann", "lee", phone_e164="+1555"),
        ],
    )
    resolve_identities(con, no_splink(), "r3", NOW + timedelta(days=2))
    assert set(customer_of(con).values()) == {old}
    assert con.execute(
        "SELECT other_customer_ids FROM customer_merge_log WHERE run_id = 'r3' AND event = 'merge'"
    ).fetchone()[0] == [younger]


def test_split_gives_the_part_that_lost_the_id_a_new_one(con):
    write_records(
        con,
        [
            person("salesforce:1", "ann", "lee", email="a@x.com"),
            person("hubspot:1", "ann", "lee", email="a@x.com"),
            person("zoho:1", "ann", "lee", email="a@x.com"),
        ],
    )
    resolve_identities(con, no_splink(), "r1", NOW)
    old = customer_of(con)["zoho:1"]
    # the email is corrected in one CRM: zoho:1 no longer belongs to the cluster
    write_records(
        con,
        [
            person("salesforce:1", "ann", "lee", email="a@x.com"),
            person("hubspot:1", "ann", "lee", email="a@x.com"),
            person("zoho:1", "ann", "lee", email="zed@y.com"),
        ],
    )
    resolve_identities(con, no_splink(), "r2", NOW + timedelta(days=1))
    after = customer_of(con)
    assert after["salesforce:1"] == after["hubspot:1"] == old
    assert after["zoho:1"] != old
    split = con.execute(
        "SELECT customer_id, other_customer_ids FROM customer_merge_log WHERE run_id = 'r2'"
    ).fetchall()
    assert split == [(after["zoho:1"], [old])]
    assert con.execute("SELECT event FROM customer_merge_log WHERE run_id = 'r2'").fetchone()[0] == "split"


def test_new_id_never_reuses_an_issued_id(con):
    # zoho:0 gets the id derived from its key, merges into an older-by-size customer, then splits off again:
    # its derived id was issued before, so the split part gets a salted one.
    write_records(
        con,
        [
            person("zoho:0", "ann", "lee", email="a@x.com"),
            person("zoho:5", "ann", "lee", phone_e164="+1555"),
            person("zoho:6", "ann", "lee", phone_e164="+1555"),
        ],
    )
    resolve_identities(con, no_splink(), "r1", NOW)
    first = customer_of(con)
    assert first["zoho:0"] == new_customer_id("zoho:0")
    write_records(
        con,
        [
            person("zoho:0", "ann", "lee", email="a@x.com", phone_e164="+1555"),
            person("zoho:5", "ann", "lee", phone_e164="+1555"),
            person("zoho:6", "ann", "lee", phone_e164="+1555"),
        ],
    )
    resolve_identities(con, no_splink(), "r2", NOW + timedelta(days=1))
    assert set(customer_of(con).values()) == {first["zoho:5"]}
    write_records(
        con,
        [
            person("zoho:0", "ann", "lee", email="a@x.com"),
            person("zoho:5", "ann", "lee", phone_e164="+1555"),
            person("zoho:6", "ann", "lee", phone_e164="+1555"),
        ],
    )
    resolve_identities(con, no_splink(), "r3", NOW + timedelta(days=2))
    third = customer_of(con)
    assert third["zoho:5"] == first["zoho:5"]
    assert third["zoho:0"] not in {new_customer_id("zoho:0"), first["zoho:5"]}
    assert third["zoho:0"] == new_customer_id("zoho:0", salt=1)


def test_missing_input_and_duplicate_keys_are_named(con):
    with pytest.raises(IdentityInputError, match="int_identity_records not found"):
        resolve_identities(con, no_splink(), "r1", NOW)
    write_records(con, [person("zoho:1", "ann", "lee"), person("zoho:1", "bo", "park")])
    with pytest.raises(IdentityInputError, match="record_key value"):
        resolve_identities(con, no_splink(), "r1", NOW)
