"""CRM fix files from crm_merge_suggestions: per-CRM id columns (Salesforce, HubSpot, Zoho, Dynamics), objects
kept apart, both records side by side with the evidence, empty files still written."""

from __future__ import annotations

import csv
from datetime import date

import duckdb
import pytest

from pipelines.lib.crm_fixes import REVIEW_HEADER, count_rows, write_crm_fix_files

_COLUMNS = """source_system, object_type, survivor_record_id, duplicate_record_id, customer_id, evidence,
    match_weight, match_probability, agreed_comparisons, survivor_name, duplicate_name, survivor_email,
    duplicate_email, survivor_company, duplicate_company, survivor_created_at, duplicate_created_at,
    survivor_updated_at, duplicate_updated_at"""


def _row(system, obj, keep, merge, evidence, prob, agreed, names=("Ann Lee", "Anne Lee")):
    return (
        system,
        obj,
        keep,
        merge,
        "c",
        evidence,
        None,
        prob,
        agreed,
        names[0],
        names[1],
        "ann@x.com",
        None,
        "Acme, Inc.",
        "Acme",
        "2024-01-02 03:04:05",
        "2025-06-07 08:09:10",
        "2026-01-01 00:00:00",
        None,
    )


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute(
        f"""create table crm_merge_suggestions ({_COLUMNS.replace(",", " varchar,")} varchar)""".replace(
            "match_weight varchar", "match_weight double"
        )
        .replace("match_probability varchar", "match_probability double")
        .replace("_at varchar", "_at timestamp")
    )
    rows = [
        _row("salesforce", "contact", "003A", "003B", "email", 0.99999812, "email: exact match (+11.0)"),
        _row("salesforce", "contact", "003A", "003C", "splink", 0.97, "first name: exact match (+7.8)"),
        _row("salesforce", "lead", "00QA", "00QB", "phone_surname", 0.5, None),
        _row("hubspot", "contact", "501", "502", "splink", 0.9995, "last name: exact match (+10.1)"),
        _row("zoho", "contact", "z1", "z2", "email", 0.93, "email: exact match (+11.0)"),
        _row("dynamics", "contact", "d-1", "d-2", "cluster:xref", None, None, names=("Bo Li", "Bo\nLi")),
        _row("custom", "contact", "k1", "k2", "email", 0.9, None),
    ]
    con.executemany(f"insert into crm_merge_suggestions ({_COLUMNS}) values ({', '.join(['?'] * 19)})", rows)
    yield con
    con.close()


def _read(path):
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_each_crm_gets_its_merge_ids_then_both_records_side_by_side(con, tmp_path):
    paths = write_crm_fix_files(con, tmp_path / "crm_fixes", as_of=date(2026, 11, 22))
    by_name = {p.name: p for p in paths}
    assert set(by_name) == {
        "salesforce_merge_contacts_2026-11-22.csv",
        "salesforce_merge_leads_2026-11-22.csv",
        "hubspot_merge_2026-11-22.csv",
        "zoho_merge_2026-11-22.csv",
        "dynamics_merge_2026-11-22.csv",
    }
    contacts = _read(by_name["salesforce_merge_contacts_2026-11-22.csv"])
    assert contacts[0] == ["MasterRecordId", "DuplicateRecordId", *REVIEW_HEADER]
    assert contacts[1] == [
        "003A",
        "003B",
        "email",
        "0.999998",
        "email: exact match (+11.0)",
        "Ann Lee",
        "Anne Lee",
        "ann@x.com",
        "",
        "Acme, Inc.",
        "Acme",
        "2024-01-02T03:04:05Z",
        "2025-06-07T08:09:10Z",
        "2026-01-01T00:00:00Z",
        "",
    ]
    assert [r[:4] for r in contacts[1:]] == [
        ["003A", "003B", "email", "0.999998"],
        ["003A", "003C", "splink", "0.970000"],
    ]
    assert [r[:2] for r in _read(by_name["salesforce_merge_leads_2026-11-22.csv"])] == [
        ["MasterRecordId", "DuplicateRecordId"],
        ["00QA", "00QB"],
    ]
    hubspot = _read(by_name["hubspot_merge_2026-11-22.csv"])
    assert hubspot[0][:2] == ["primaryObjectId", "objectIdToMerge"]
    assert hubspot[1][:5] == ["501", "502", "splink", "0.999500", "last name: exact match (+10.1)"]
    zoho = _read(by_name["zoho_merge_2026-11-22.csv"])
    assert [r[:3] for r in zoho] == [
        ["MasterRecordId", "DuplicateRecordId", "Evidence"],
        ["z1", "z2", "email"],
    ]
    dynamics = _read(by_name["dynamics_merge_2026-11-22.csv"])
    assert dynamics[0][:2] == ["TargetId", "SubordinateId"]
    # no model score: empty cells; a line break inside a name stays inside its quoted cell
    assert dynamics[1][:7] == ["d-1", "d-2", "cluster:xref", "", "", "Bo Li", "Bo\nLi"]
    assert count_rows(by_name["dynamics_merge_2026-11-22.csv"]) == 1
    assert count_rows(by_name["salesforce_merge_contacts_2026-11-22.csv"]) == 2


def test_no_suggestions_gives_header_only_files(con, tmp_path):
    con.execute("delete from crm_merge_suggestions")
    paths = write_crm_fix_files(con, tmp_path, as_of=date(2026, 1, 2))
    assert [count_rows(p) for p in paths] == [0, 0, 0, 0, 0]
    assert _read(paths[2]) == [["primaryObjectId", "objectIdToMerge", *REVIEW_HEADER]]
    assert _read(paths[4]) == [["TargetId", "SubordinateId", *REVIEW_HEADER]]


def test_cells_that_start_like_a_spreadsheet_formula_are_escaped(con, tmp_path):
    hostile = ['=HYPERLINK("http://evil.example","x")', "+cmd", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
    con.execute("delete from crm_merge_suggestions where source_system <> 'hubspot'")
    con.execute(
        "update crm_merge_suggestions set survivor_name = ?, duplicate_name = ?, survivor_email = ?, "
        "duplicate_email = ?, survivor_company = ?, duplicate_company = ?",
        hostile,
    )
    paths = write_crm_fix_files(con, tmp_path, as_of=date(2026, 1, 2))
    row = _read(next(p for p in paths if p.name.startswith("hubspot")))[1]
    assert row[5:11] == ["'" + v for v in hostile]
    assert row[:2] == ["501", "502"] and row[3] == "0.999500"
    # the mart keeps the raw values
    assert con.execute("select survivor_name from crm_merge_suggestions").fetchone()[0] == hostile[0]
