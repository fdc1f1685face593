"""The rules of ingestion: nothing lost, nothing twice, re-exports supersede, bad files do not stop good ones."""

from __future__ import annotations

import random

from tests.unit.ingest.conftest import (
    SF_CONTACT_HEADER,
    result_for,
    sf_contact_csv,
    sf_contact_row,
    sf_contact_rows,
)


def test_1000_malformed_rows_among_100000_are_quarantined_with_reasons_and_counts_reconcile(exports):
    rng = random.Random(7)
    bad_lines = set(rng.sample(range(2, 101_002), 1000))  # physical lines of the malformed rows
    kinds = ["fields", "date", "bool", "short"]
    fast = sf_contact_rows(range(2, 101_002))
    lines = [SF_CONTACT_HEADER]
    expected: dict[int, str] = {}
    good = 0
    for line_no in range(2, 101_002):
        if line_no in bad_lines:
            kind = kinds[line_no % 4]
            expected[line_no] = kind
            if kind == "fields":
                lines.append(sf_contact_row(line_no) + ",surplus")
            elif kind == "date":
                lines.append(sf_contact_row(line_no, Birthdate="31/31/1999"))
            elif kind == "bool":
                lines.append(sf_contact_row(line_no, HasOptedOutOfEmail="perhaps"))
            else:
                lines.append(",".join(sf_contact_row(line_no).split(",")[:-3]))  # a truncated row
        else:
            lines.append(fast[line_no - 2])
            good += 1
    exports.write("salesforce/Contact.csv", "\n".join(lines) + "\n")
    report = exports.ingest()
    res = result_for(report, "salesforce/Contact.csv")
    assert res.status == "loaded"
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined) == (101_000, good, 1000)
    assert exports.one("SELECT count(*) FROM raw_crm_contacts") == 100_000
    files = exports.rows("SELECT rows_read, rows_loaded, rows_quarantined FROM ingest_files")
    assert files == [(101_000, 100_000, 1000)]
    quarantined = dict(exports.rows("SELECT line_number, reason FROM ingest_quarantine"))
    assert set(quarantined) == bad_lines
    for line_no, kind in expected.items():
        reason = quarantined[line_no]
        if kind == "fields":
            assert reason == "malformed row: expected 28 fields, found 29", reason
        elif kind == "date":
            assert "Birthdate: 31/31/1999 is not a date" in reason
        elif kind == "bool":
            assert "HasOptedOutOfEmail: perhaps is not a yes/no value" in reason
        else:
            assert reason == "malformed row: expected 28 fields, found 25", reason
    # Good rows keep their physical line; the malformed ones left no gap in the numbering.
    lines_loaded = exports.rows(
        "SELECT min(_source_line), max(_source_line), count(DISTINCT _source_line) FROM raw_crm_contacts"
    )[0]
    assert lines_loaded[2] == 100_000 and lines_loaded[0] >= 2 and lines_loaded[1] <= 101_001
    assert (
        exports.one(
            "SELECT count(*) FROM raw_crm_contacts WHERE source_record_id <> "
            "'0038d000' || lpad(CAST(_source_line AS VARCHAR), 10, '0')"
        )
        == 0
    )
    raw = exports.one(f"SELECT raw_text FROM ingest_quarantine WHERE line_number = {min(bad_lines)}")
    assert raw.startswith(f"0038d000{min(bad_lines):010d}")


def test_the_same_file_twice_loads_nothing_new(exports):
    exports.write("salesforce/Contact.csv", sf_contact_csv(5))
    first = exports.ingest()
    assert result_for(first, "salesforce/Contact.csv").rows_loaded == 5
    second = exports.ingest()
    res = result_for(second, "salesforce/Contact.csv")
    assert res.status == "duplicate" and res.rows_loaded == 0
    exports.write("copies/Contact (1).csv", sf_contact_csv(5))  # same bytes under another name
    third = exports.ingest()
    assert result_for(third, "copies/Contact (1).csv").status == "duplicate"
    assert exports.one("SELECT count(*) FROM raw_crm_contacts") == 5
    assert exports.rows("SELECT source_file, status FROM ingest_files ORDER BY 1") == [
        ("copies/Contact (1).csv", "duplicate"),
        ("salesforce/Contact.csv", "loaded"),
    ]


def test_a_corrected_re_export_of_the_same_path_supersedes_the_old_rows(exports):
    exports.write("salesforce/Contact.csv", sf_contact_csv(5))
    exports.ingest()
    exports.write(
        "salesforce/Contact.csv",
        SF_CONTACT_HEADER
        + "\n"
        + sf_contact_row(1, Email="fixed@example.com")
        + "\n"
        + sf_contact_row(2)
        + "\n",
    )
    report = exports.ingest()
    res = result_for(report, "salesforce/Contact.csv")
    assert res.status == "loaded" and len(res.superseded) == 1
    assert exports.rows("SELECT email FROM raw_crm_contacts ORDER BY 1") == [
        ("fixed@example.com",),
        ("zoe2@example.com",),
    ]
    assert exports.rows("SELECT status, superseded_by IS NOT NULL FROM ingest_files ORDER BY status") == [
        ("loaded", False),
        ("superseded", True),
    ]


def test_a_rejected_file_does_not_stop_the_others(exports):
    exports.write("salesforce/Contact.csv", sf_contact_csv(2))
    exports.write("misc/notes.csv", "what,is,this\n1,2,3\n")
    report = exports.ingest()
    assert result_for(report, "salesforce/Contact.csv").status == "loaded"
    bad = result_for(report, "misc/notes.csv")
    assert bad.status == "rejected" and "misc/notes.csv" in bad.error and "not recognised" in bad.error
    assert [f.path for f in report.rejected] == ["misc/notes.csv"]
    assert exports.one("SELECT count(*) FROM raw_crm_contacts") == 2


def test_underscore_and_dot_paths_are_never_ingested(exports):
    exports.write("salesforce/Contact.csv", sf_contact_csv(1))
    exports.write("_truth/ground_truth.csv", "person_id,source_system,source_record_id\n1,salesforce,x\n")
    exports.write(".cache/Contact.csv", sf_contact_csv(2))
    report = exports.ingest()
    assert [f.path for f in report.files] == ["salesforce/Contact.csv"]


def test_only_crm_files_works_creates_every_table_and_reports_the_empty_kinds(exports):
    exports.write("salesforce/Contact.csv", sf_contact_csv(2))
    report = exports.ingest()
    assert report.empty_kinds == ["email", "webinar"]
    assert any("no email export files" in w for w in report.warnings)
    assert report.table_counts["raw_crm_contacts"] == 2
    for table in (
        "raw_crm_deals",
        "raw_email_events",
        "raw_email_suppressions",
        "raw_email_audience",
        "raw_webinar_attendance",
        "raw_webinar_registrations",
        "ingest_quarantine",
    ):
        assert report.table_counts[table] == 0
    columns = {
        r[0]
        for r in exports.rows(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'raw_email_events'"
        )
    }
    assert {
        "event_id",
        "message_id",
        "categories",
        "occurred_at",
        "custom_args",
        "payload",
        "_source_file",
        "_source_line",
        "_file_hash",
        "_ingested_at",
    } <= columns


def test_a_bad_sources_file_names_the_file_and_key(exports):
    import pytest

    from pipelines.lib.config import ConfigError

    exports.sources("sources:\n  zoom:\n    time_zone: Mars/Olympus\n")
    with pytest.raises(ConfigError, match=r"sources.yaml: sources.zoom.time_zone: .*Mars/Olympus"):
        exports.ingest()


def test_an_explicit_format_rule_wins_over_detection(exports):
    exports.sources("files:\n  - glob: 'crm/*.txt'\n    format: salesforce_contact\n")
    exports.write("crm/dump.txt", sf_contact_csv(2))
    report = exports.ingest()
    assert result_for(report, "crm/dump.txt").format == "salesforce_contact"
    assert exports.one("SELECT count(*) FROM raw_crm_contacts") == 2
