"""CRM fix files from crm_merge_suggestions: per-CRM shapes, objects kept apart, empty files still written."""

from __future__ import annotations

import csv
from datetime import date

import duckdb
import pytest

from pipelines.lib.crm_fixes import count_rows, write_crm_fix_files


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute(
        """
        create table crm_merge_suggestions as select * from (values
            ('salesforce', 'contact', '003A', '003B', 'c1', 'email', null::double),
            ('salesforce', 'contact', '003A', '003C', 'c1', 'splink', 11.2),
            ('salesforce', 'lead', '00QA', '00QB', 'c2', 'phone_surname', null),
            ('hubspot', 'contact', '501', '502', 'c3', 'splink', 9.5),
            ('zoho', 'contact', 'z1', 'z2', 'c4', 'email', null)
        ) t(source_system, object_type, survivor_record_id, duplicate_record_id, customer_id, evidence,
            match_weight)
        """
    )
    yield con
    con.close()


def _read(path):
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_salesforce_pairs_per_object_and_hubspot_merge_shape(con, tmp_path):
    paths = write_crm_fix_files(con, tmp_path / "crm_fixes", as_of=date(2026, 11, 22))
    by_name = {p.name: p for p in paths}
    assert set(by_name) == {
        "salesforce_merge_contacts_2026-11-22.csv",
        "salesforce_merge_leads_2026-11-22.csv",
        "hubspot_merge_2026-11-22.csv",
    }
    assert _read(by_name["salesforce_merge_contacts_2026-11-22.csv"]) == [
        ["MasterRecordId", "DuplicateRecordId"],
        ["003A", "003B"],
        ["003A", "003C"],
    ]
    assert _read(by_name["salesforce_merge_leads_2026-11-22.csv"]) == [
        ["MasterRecordId", "DuplicateRecordId"],
        ["00QA", "00QB"],
    ]
    assert _read(by_name["hubspot_merge_2026-11-22.csv"]) == [
        ["primaryObjectId", "objectIdToMerge"],
        ["501", "502"],
    ]
    assert count_rows(by_name["salesforce_merge_contacts_2026-11-22.csv"]) == 2


def test_no_suggestions_gives_header_only_files(con, tmp_path):
    con.execute("delete from crm_merge_suggestions")
    paths = write_crm_fix_files(con, tmp_path, as_of=date(2026, 1, 2))
    assert [count_rows(p) for p in paths] == [0, 0, 0]
    assert _read(paths[2]) == [["primaryObjectId", "objectIdToMerge"]]
