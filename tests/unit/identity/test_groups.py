"""Splink on groups of records joined by deterministic rules, and the contradicting-attribute guards."""

from __future__ import annotations

import pytest

from pipelines.lib.identity import resolve_identities
from pipelines.lib.identity.config import IdentityConfig

from .conftest import NOW, customer_of, person, same_customer, write_records


def keep_every_scored_pair() -> IdentityConfig:
    cfg = IdentityConfig()
    cfg.splink.train = False
    cfg.thresholds.match_probability = 1e-9
    cfg.thresholds.name_only_match_probability = None  # keep name-only pairs too
    cfg.thresholds.match_weight = -1000
    return cfg


def guard_events(con) -> list[tuple[str, list[str]]]:
    return con.execute("SELECT guard, record_keys FROM identity_guard_events ORDER BY guard").fetchall()


@pytest.mark.parametrize("compare", ["records", "groups"])
def test_a_group_is_compared_with_the_attributes_of_all_its_records(con, config, compare):
    # The Mailchimp member has only a name; the record sharing its email has the birth date and postal code but no
    # name. Record by record nothing links them to the HubSpot contact; with the group's attributes they match it.
    config.splink.compare = compare
    config.thresholds.match_weight = 0  # three records: untrained priors, TF-adjusted on a tiny table
    config.thresholds.match_probability = 0.5
    write_records(
        con,
        [
            person("mailchimp:1", "margaret", "oyelaran", email="peggy@mail.com"),
            {
                "key": "zoho:1",
                "email": "peggy@mail.com",
                "birth_date": "1979-04-18",
                "postal_code_norm": "ls12ab",
            },
            person(
                "hubspot:1",
                "margaret",
                "oyelaran",
                email="m.oyelaran@corp.com",
                birth_date="1979-04-18",
                postal_code_norm="ls12ab",
            ),
        ],
    )
    report = resolve_identities(con, config, "r1", NOW)
    assert same_customer(con, "mailchimp:1", "zoho:1", "hubspot:1")
    splink = con.execute(
        "SELECT record_key_l, record_key_r FROM identity_edges WHERE rule = 'splink' ORDER BY ALL"
    ).fetchall()
    if compare == "groups":  # one row per group: the edge joins the groups' smallest records
        assert splink == [("hubspot:1", "mailchimp:1")]
    else:  # each record of the group, gaps filled from the group
        assert splink == [("hubspot:1", "mailchimp:1"), ("hubspot:1", "zoho:1")]
    assert report.edges_by_rule["splink"] == len(splink)


def _namesakes(con, other_birth_date: str, grouped: bool = True) -> None:
    """Two Ann Lees at one address; with `grouped`, the Salesforce one is a group of two records (a newsletter
    member on the same email)."""
    shared = {"street_norm": "12 harbour view rd", "postal_code_norm": "ls12ab", "country_code": "GB"}
    rows = [
        person("salesforce:1", "ann", "lee", email="a1@x.com", birth_date="1970-01-13", **shared),
        person("hubspot:1", "ann", "lee", email="a2@y.com", birth_date=other_birth_date, **shared),
    ]
    if grouped:
        rows.append(person("zoom:1", "ann", "lee", email="a1@x.com"))
    write_records(con, rows)


def test_splink_edge_between_contradicting_birth_dates_is_dropped_and_logged(con):
    _namesakes(con, "1985-06-30")
    report = resolve_identities(con, keep_every_scored_pair(), "r1", NOW)
    assert not same_customer(con, "salesforce:1", "hubspot:1")
    events = guard_events(con)
    assert {e[0] for e in events} == {"conflicting_attributes"}
    assert ["hubspot:1", "salesforce:1"] in [e[1] for e in events]
    assert report.edges_by_rule["splink"] == 0

    cfg = keep_every_scored_pair()
    cfg.guards.conflicting_birth_date = False
    resolve_identities(con, cfg, "r2", NOW)
    assert same_customer(con, "salesforce:1", "hubspot:1")
    assert guard_events(con) == []


def test_two_single_records_are_left_to_splink_whatever_their_birth_dates(con):
    """Between two records that are no group (nothing joins either to another record), Splink compared the very
    birth dates and weighed the difference: the guard does not overrule it (FEBRL: a typo beyond one edit)."""
    _namesakes(con, "1985-06-30", grouped=False)
    report = resolve_identities(con, keep_every_scored_pair(), "r1", NOW)
    assert same_customer(con, "salesforce:1", "hubspot:1")
    assert report.guard_firings["conflicting_attributes"] == 0


def test_birth_dates_one_typo_apart_do_not_conflict(con):
    _namesakes(con, "1970-01-31")  # 13 -> 31: a transposition
    resolve_identities(con, keep_every_scored_pair(), "r1", NOW)
    assert same_customer(con, "salesforce:1", "hubspot:1")
    assert guard_events(con) == []


def test_cluster_joining_contradicting_groups_loses_its_weakest_splink_edge(con, config, monkeypatch):
    from pipelines.lib.identity import resolve
    from pipelines.lib.identity.probabilistic import SplinkResult

    write_records(
        con,
        [
            person("hubspot:1", "ann", "lee", email="b@y.com", birth_date="1988-05-05"),  # id 1
            person("mailchimp:1", "ann", "lee", email="m@z.com"),  # id 2
            person("salesforce:1", "ann", "lee", email="a@x.com", birth_date="1970-01-13"),  # id 3
            person("zoom:1", "ann", "lee", email="a@x.com"),  # id 4: the Salesforce contact is a group
        ],
    )

    def scored_pairs(con_, config_, out_table, model=None):
        # The name-only member scores with both namesakes, more strongly with the Salesforce one.
        con_.execute(
            f"CREATE OR REPLACE TEMP TABLE {out_table} AS SELECT * FROM (VALUES "
            "(2::BIGINT, 3::BIGINT, 9.0, 0.99), (1, 2, 5.0, 0.9)) t(id_l, id_r, match_weight, match_probability)"
        )
        return SplinkResult(edges=2, trained=False, probability_two_random_records_match=0.01)

    monkeypatch.setattr(resolve, "splink_edges", scored_pairs)
    resolve_identities(con, config, "r1", NOW)
    ids = customer_of(con)
    assert ids["mailchimp:1"] == ids["salesforce:1"] != ids["hubspot:1"]
    assert guard_events(con) == [
        ("conflicting_attributes", ["hubspot:1", "mailchimp:1", "salesforce:1", "zoom:1"])
    ]
    assert con.execute("SELECT count(*) FROM identity_edges WHERE rule = 'splink'").fetchone()[0] == 1
