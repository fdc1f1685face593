"""The persisted identity model (identity_model, identity_model_input, identity_pair_evidence) and
`touchplan explain-match`: real resolve_identities runs with real Splink on small hand-made records."""

from __future__ import annotations

import json
import math
import re

import duckdb
import pytest

from pipelines.cli import main
from pipelines.lib.identity import resolve_identities
from pipelines.lib.identity.config import IdentityConfig
from pipelines.lib.identity.explain import ExplainMatchError, explain_match, format_explanation

from .conftest import NOW, person, write_records
from .test_matching import _many_records

SHARED = {
    "street_norm": "12 harbour view rd",
    "city_norm": "leeds",
    "postal_code_norm": "ls12ab",
    "birth_date": "1979-04-18",
    "country_code": "GB",
}

QUIST = {**SHARED, "company_norm": "quist tools", "title": "CEO"}


def _small(con) -> IdentityConfig:
    write_records(
        con,
        [
            person("salesforce:1", "margaret", "oyelaran", email="m.oyelaran@corp.com", **SHARED),
            person("dynamics:1", "margaret", "oyelaran", email="peggy77@mail.com", **SHARED),
            # namesakes with nothing else in common
            person(
                "hubspot:1", "john", "smith", email="js1@a.com", city_norm="york", birth_date="1960-01-01"
            ),
            person("zoho:1", "john", "smith", email="js2@b.com", city_norm="bath", birth_date="1990-07-07"),
            # one email on two records of one CRM: a direct email edge
            person("hubspot:2", "ann", "lee", email="ann.lee@x.org"),
            person("hubspot:3", "anne", "lee", email="ann.lee@x.org", company_norm="lee consulting"),
            # a role mailbox on two people: no email edge (guard)
            person("salesforce:7", "ann", "ray", email="info@acme.com"),
            person("hubspot:7", "bob", "ray", email="info@acme.com"),
            # same name, street, birth date, company and title, mailboxes at the company: Splink scores high;
            # hubspot:8 is one person with zoho:8 (one email), a group whose postal code contradicts salesforce:8's,
            # so the conflict guard drops the edge (it acts when one side is such a group)
            person("salesforce:8", "walter", "quist", email="w@quisttools.com", **QUIST),
            person(
                "hubspot:8",
                "walter",
                "quist",
                email="wq@quisttools.com",
                **{**QUIST, "postal_code_norm": "yo318qp"},
            ),
            person(
                "zoho:8",
                "walter",
                "quist",
                email="wq@quisttools.com",
                **{**QUIST, "postal_code_norm": "yo318qp"},
            ),
        ],
    )
    cfg = IdentityConfig()
    resolve_identities(con, cfg, "r1", NOW)
    return cfg


def test_each_run_persists_its_model_input_and_thresholds(con):
    _many_records(con, 1500)
    cfg = IdentityConfig()
    cfg.splink.min_records_for_training = 100
    cfg.splink.training_sample_records = 1000
    cfg.splink.u_max_pairs = 2e5
    report = resolve_identities(con, cfg, "run-1", NOW)
    assert report.splink_trained
    rows = con.execute(
        "SELECT run_id, splink_trained, probability_two_random_records_match, threshold_match_probability, "
        "threshold_match_weight, compare, settings_json FROM identity_model"
    ).fetchall()
    assert len(rows) == 1
    run_id, trained, prior, t_prob, t_weight, compare, settings_json = rows[0]
    # the shipped thresholds: a match probability of 0.8 and no match-weight floor
    assert (run_id, trained, t_prob, t_weight, compare) == ("run-1", True, 0.8, None, "records")
    assert prior == pytest.approx(report.splink_prior)
    settings = json.loads(settings_json)
    assert settings["probability_two_random_records_match"] == pytest.approx(prior)
    first = next(c for c in settings["comparisons"] if c["output_column_name"] == "first_name")
    exact = next(
        lv for lv in first["comparison_levels"] if lv.get("label_for_charts", "").startswith("Exact")
    )
    assert 0 < exact["u_probability"] < exact["m_probability"] <= 1
    assert con.execute(
        "SELECT count(*), count(DISTINCT record_key) FROM identity_model_input"
    ).fetchall() == [(1652, 1652)]
    # the explanation reproduces the run's own score of its Splink edge (same model, same input, same tf)
    run_prob, run_weight = con.execute(
        "SELECT match_probability, match_weight FROM identity_edges WHERE rule = 'splink' "
        "AND record_key_l = 'salesforce:a' AND record_key_r = 'salesforce:b'"
    ).fetchall()[0]
    e = explain_match(con, "salesforce:a", "qz@two.com")
    assert e.b.record_key == "salesforce:b"
    assert e.match_probability == pytest.approx(run_prob, abs=1e-9)
    assert e.match_weight == pytest.approx(run_weight, abs=1e-6)
    assert e.prior_weight == pytest.approx(math.log2(prior / (1 - prior)))
    assert e.prior_weight + sum(c.match_weight for c in e.comparisons) == pytest.approx(
        e.match_weight, abs=1e-6
    )
    assert e.same_customer and e.reasons[0].startswith("direct splink edge")
    # a second run appends its model; the input is replaced
    resolve_identities(con, cfg, "run-2", NOW)
    assert con.execute("SELECT run_id FROM identity_model ORDER BY run_id").fetchall() == [
        ("run-1",),
        ("run-2",),
    ]
    assert con.execute("SELECT count(*) FROM identity_model_input").fetchall() == [(1652,)]


def test_namesakes_are_explained_below_the_threshold(con):
    _small(con)
    e = explain_match(con, "hubspot:1", "zoho:1")
    assert not e.same_customer and not e.above_threshold
    by_name = {c.comparison: c for c in e.comparisons}
    assert (by_name["first name"].level, by_name["first name"].value_l, by_name["first name"].value_r) == (
        "exact match",
        "john",
        "john",
    )
    assert by_name["first name"].match_weight > 0
    assert (by_name["birth date"].level, by_name["birth date"].value_l, by_name["birth date"].value_r) == (
        "different",
        "1960-01-01",
        "1990-07-07",
    )
    assert by_name["birth date"].match_weight < 0
    assert e.match_probability < 0.8
    assert e.reasons == [
        f"the Splink score is below the threshold (probability {e.match_probability:.6g} < 0.8): not a match"
    ]
    text = format_explanation(e)
    assert re.search(r"\n  first name +exact match \(john \| john\): match weight \+", text)
    assert "Same customer: no" in text and "below the threshold" in text


def test_merged_pair_direct_edges_and_chains(con):
    _small(con)
    splink = explain_match(con, "salesforce:1", "dynamics:1")
    assert splink.same_customer and splink.above_threshold and splink.found_by_blocking_rules
    assert splink.reasons[0].startswith("direct splink edge: a Splink match (probability 0.9")
    email = explain_match(con, "hubspot:2", "hubspot:3")
    assert email.same_customer
    assert email.reasons == ["direct email edge: the same email address"]


def test_guards_that_kept_records_apart_are_named(con):
    _small(con)
    role = explain_match(con, "salesforce:7", "hubspot:7")
    assert not role.same_customer
    assert "guard role_mailbox: role mailbox info@ on 2 records: no email edge" in role.reasons
    conflict = explain_match(con, "salesforce:8", "hubspot:8")
    assert conflict.above_threshold and not conflict.same_customer
    assert [r for r in conflict.reasons if r.startswith("guard conflicting_attributes: Splink edge")]


def test_unknown_records_and_ambiguous_emails_are_one_line_errors(con):
    _small(con)
    with pytest.raises(ExplainMatchError, match=r"^unknown record 'hubspot:99'"):
        explain_match(con, "hubspot:99", "zoho:1")
    with pytest.raises(ExplainMatchError, match=r"^no record has the email nobody@x\.org$"):
        explain_match(con, "nobody@x.org", "zoho:1")
    with pytest.raises(ExplainMatchError) as err:
        explain_match(con, "ANN.LEE@x.org", "zoho:1")
    assert str(err.value) == (
        "the email ANN.LEE@x.org is on 2 records (hubspot:2, hubspot:3): give one record key instead"
    )


def test_cli_reads_the_warehouse_read_only_and_prints_to_the_terminal(tmp_path, capsys):
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    try:
        _small(con)
    finally:
        con.close()
    before = path.stat().st_mtime_ns
    assert main(["explain-match", "js1@a.com", "zoho:1", "--warehouse", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("A  hubspot:1  (hubspot contact 1)\n   John Smith <js1@a.com>")
    assert "\nSame customer: no (" in out
    assert path.stat().st_mtime_ns == before
    assert main(["explain-match", "ann.lee@x.org", "zoho:1", "--warehouse", str(path)]) == 1
    err = capsys.readouterr().err
    assert (
        err
        == "error: the email ann.lee@x.org is on 2 records (hubspot:2, hubspot:3): give one record key instead\n"
    )


def test_crm_pairs_of_one_customer_carry_probability_and_agreed_comparisons(con):
    _small(con)
    rows = con.execute(
        "SELECT record_key_l, record_key_r, match_probability, agreed_comparisons FROM identity_pair_evidence"
    ).fetchall()
    # hubspot:2 / hubspot:3 are one customer inside one CRM; salesforce:1 / dynamics:1 are two CRMs
    assert [r[:2] for r in rows] == [("hubspot:2", "hubspot:3")]
    prob, agreed = rows[0][2:]
    assert 0 < prob <= 1
    # ann / anne; hubspot:2's company is filled from its email group, as the run compared it
    assert agreed.startswith("first name: Jaro-Winkler >= 0.92 (+")
    assert "; last name: exact match (+" in agreed and "; employer: exact match (+" in agreed
    assert "; email: exact match (+" in agreed
    e = explain_match(con, "hubspot:2", "hubspot:3")
    assert prob == pytest.approx(e.match_probability, abs=1e-9)


def test_groups_mode_explains_records_sharing_one_input_row(con):
    write_records(
        con,
        [
            person("hubspot:2", "ann", "lee", email="ann.lee@x.org"),
            person("hubspot:3", "anne", "lee", email="ann.lee@x.org", company_norm="lee consulting"),
            person("zoho:1", "john", "smith", email="js2@b.com", city_norm="bath"),
        ],
    )
    cfg = IdentityConfig()
    cfg.splink.compare = "groups"
    resolve_identities(con, cfg, "r1", NOW)
    # one Splink row per deterministic group, repeated for each of its records
    rows = con.execute("SELECT record_key, id FROM identity_model_input ORDER BY record_key").fetchall()
    assert [k for k, _ in rows] == ["hubspot:2", "hubspot:3", "zoho:1"]
    assert rows[0][1] == rows[1][1] != rows[2][1]
    e = explain_match(con, "hubspot:2", "hubspot:3")
    assert e.same_customer and e.reasons == ["direct email edge: the same email address"]
    assert {c.comparison: c.level for c in e.comparisons}["email"] == "exact match"
    pairs = con.execute("SELECT record_key_l, record_key_r FROM identity_pair_evidence").fetchall()
    assert pairs == [("hubspot:2", "hubspot:3")]
