"""Daily runs (issue #17): an unchanged table's row-suite outcomes stand, new files of a raw table are validated
alone, and anything else (a changed row, a changed suite, an earlier failure, `now` moving back) re-validates.
Real DuckDB, real GX."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.quality.runner import QualityRunner
from tests.unit.quality.conftest import make_raw_crm_contacts

NOW = datetime(2026, 11, 22, tzinfo=UTC)
NEXT_DAY = NOW + timedelta(days=1)
TABLE = "raw_crm_contacts"


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    yield connection
    connection.close()


def _summary(result) -> list[tuple]:
    return sorted((o.qualified_name, o.severity, o.success, o.failing_count) for o in result.outcomes)


def _results_table(con) -> list[tuple]:
    return con.execute(
        "SELECT check_name, severity, success, failing_count, observed_value FROM quality_check_results "
        "WHERE table_name = ? ORDER BY check_name",
        [TABLE],
    ).fetchall()


def _add_file(
    con, name: str, rows: int, *, bad_email_every: int | None = None, future_every: int | None = None
):
    """Append the rows of another export file, shaped like the fixture's (ingest appends a new file's rows)."""
    bad = f"i % {bad_email_every} = 0" if bad_email_every else "false"
    future = f"i % {future_every} = 0" if future_every else "false"
    con.execute(f"""
        INSERT INTO {TABLE} SELECT * EXCLUDE (i) REPLACE (
            '{name}' AS _source_file, i + 2 AS _source_line, 'new' || i AS source_record_id,
            CASE WHEN {bad} THEN 'person ' || i || ' at example' ELSE 'n' || i || '@example.com' END AS email,
            CASE WHEN {future} THEN TIMESTAMP '2027-06-01' ELSE created_at END AS created_at)
        FROM (SELECT t.*, r.range AS i FROM {TABLE} t, range({rows}) r WHERE t._source_line = 2)
    """)


def test_unchanged_table_reuses_the_earlier_outcomes_with_the_same_result(gx_root: Path, con):
    make_raw_crm_contacts(con, rows=1000, invalid_share=0.1)  # email_valid (WARN) fails on 100 rows
    runner = QualityRunner(gx_root)
    first = runner.validate_table(con, TABLE, now=NOW, run_id="run1", build_docs=False)
    first_results = _results_table(con)
    first_failures = con.execute(
        "SELECT count(*) FROM quality_failures WHERE table_name = ?", [TABLE]
    ).fetchone()
    assert first.rows_scope == "validated" and first.passed and first.warn_failures

    # rebuilt with the same rows, as a dbt table would be
    make_raw_crm_contacts(con, rows=1000, invalid_share=0.1)
    second = QualityRunner(gx_root).validate_table(con, TABLE, now=NEXT_DAY, run_id="run2", build_docs=False)

    assert second.rows_scope == "reused" and second.reused_from_run == "run1"
    assert "validate_rows" not in second.timings  # GX did not run the row suite
    assert _summary(second) == _summary(first)
    assert second.passed and second.rows_validated == first.rows_validated == 1000
    assert "rows unchanged since run run1" in second.message()
    assert _results_table(con) == first_results
    scopes = con.execute(
        "SELECT DISTINCT validation, validated_at = run_at FROM quality_check_results WHERE table_name = ? "
        "ORDER BY 1",
        [TABLE],
    ).fetchall()
    assert scopes == [("reused", False), ("validated", True)]  # the profile suite ran in this run
    failures = con.execute("SELECT count(*) FROM quality_failures WHERE table_name = ?", [TABLE]).fetchone()
    assert failures == first_failures == (100,)  # the WARN check's failing keys are still listed
    history = con.execute(
        "SELECT count(*) FROM quality_volume_history WHERE table_name = ?", [TABLE]
    ).fetchone()
    assert history == (4,)  # two sources, two runs: the volume check was evaluated again


def test_a_changed_row_is_validated_again(gx_root: Path, con):
    make_raw_crm_contacts(con, rows=500)
    QualityRunner(gx_root).validate_table(con, TABLE, now=NOW, build_docs=False)
    con.execute(f"UPDATE {TABLE} SET created_at = TIMESTAMP '2027-06-01' WHERE _source_line = 7")

    result = QualityRunner(gx_root).validate_table(con, TABLE, now=NEXT_DAY, build_docs=False)

    assert result.rows_scope == "validated"
    assert [(o.check, o.failing_count) for o in result.error_failures] == [("created_at_not_future", 1)]


def test_a_changed_expectation_file_validates_again(gx_root: Path, con):
    make_raw_crm_contacts(con, rows=500, invalid_share=0.1)
    assert QualityRunner(gx_root).validate_table(con, TABLE, now=NOW, build_docs=False).passed
    suite_file = gx_root / "expectations" / f"{TABLE}.json"
    suite = json.loads(suite_file.read_text())
    for expectation in suite["expectations"]:
        if expectation["meta"]["check"] == "email_valid_error":
            expectation["kwargs"]["mostly"] = 0.95  # 10% invalid now breaks the ERROR tier
    suite_file.write_text(json.dumps(suite, indent=2))

    result = QualityRunner(gx_root).validate_table(con, TABLE, now=NEXT_DAY, build_docs=False)

    assert result.rows_scope == "validated"
    assert [o.check for o in result.error_failures] == ["email_valid_error"]


def test_an_earlier_error_failure_is_validated_again(gx_root: Path, con):
    make_raw_crm_contacts(con, rows=500, invalid_share=0.3)
    runner = QualityRunner(gx_root)
    assert not runner.validate_table(con, TABLE, now=NOW, build_docs=False).passed

    result = runner.validate_table(con, TABLE, now=NEXT_DAY, build_docs=False)

    assert result.rows_scope == "validated" and not result.passed


def test_now_moving_back_or_past_a_failed_not_future_check_validates_again(gx_root: Path, con):
    make_raw_crm_contacts(con, rows=200)
    runner = QualityRunner(gx_root)
    runner.validate_table(con, TABLE, now=NOW, build_docs=False)
    # a day earlier: rows that were not in the future may be now (updated_at 2026-11-20, `now` 2026-11-18 + 1 day)
    earlier = runner.validate_table(con, TABLE, now=NOW - timedelta(days=4), build_docs=False)
    assert earlier.rows_scope == "validated"
    assert [o.check for o in earlier.error_failures] == ["updated_at_not_future"]

    # birth_date_not_future (WARN) failing: with a later `now` the row may no longer be in the future
    con.execute(f"UPDATE {TABLE} SET birth_date = DATE '2026-12-01' WHERE _source_line = 5")
    first = runner.validate_table(con, TABLE, now=NOW, build_docs=False)
    assert [o.check for o in first.warn_failures] == ["birth_date_not_future"]
    later = runner.validate_table(con, TABLE, now=NOW + timedelta(days=10), build_docs=False)
    assert later.rows_scope == "validated" and not later.failed


def test_reuse_off_validates_an_unchanged_table(gx_root: Path, con):
    """`touchplan run --full-refresh` (reuse=False): no earlier outcome stands."""
    make_raw_crm_contacts(con, rows=200)
    runner = QualityRunner(gx_root)
    runner.validate_table(con, TABLE, now=NOW, build_docs=False)

    result = runner.validate_table(con, TABLE, now=NEXT_DAY, build_docs=False, reuse=False)

    assert result.rows_scope == "validated" and "validate_rows" in result.timings
    # and the next run may reuse this validation
    assert runner.validate_table(con, TABLE, now=NEXT_DAY, build_docs=False).rows_scope == "reused"


def test_a_new_file_alone_is_validated_and_the_whole_table_profiled(gx_root: Path, con):
    make_raw_crm_contacts(con, rows=1000)
    runner = QualityRunner(gx_root)
    runner.validate_table(con, TABLE, now=NOW, run_id="run1", build_docs=False)
    _add_file(con, "crm/hubspot_contacts_day2.csv", 30)

    result = runner.validate_table(con, TABLE, now=NEXT_DAY, run_id="run2", build_docs=False)

    assert result.rows_scope == "new rows" and result.new_files == 1
    assert result.rows_validated == 30 and result.total_rows == 1030
    assert result.passed and not result.failed
    rows = con.execute(
        "SELECT row_count FROM quality_volume_history WHERE table_name = ? AND run_id = 'run2' ORDER BY source",
        [TABLE],
    ).fetchall()
    assert rows == [(530,), (500,)]  # hubspot, salesforce: the profile counted the whole table
    # the new state covers both files: the next run with nothing new reuses it, as a validation of all rows
    again = runner.validate_table(con, TABLE, now=NEXT_DAY, build_docs=False)
    assert again.rows_scope == "reused" and again.rows_validated == 1030 and not again.failed


def test_a_bad_row_in_a_new_file_fails_the_check_with_its_key(gx_root: Path, con):
    make_raw_crm_contacts(con, rows=1000)
    runner = QualityRunner(gx_root)
    runner.validate_table(con, TABLE, now=NOW, build_docs=False)
    _add_file(con, "crm/hubspot_contacts_day2.csv", 30, future_every=29)  # lines 2 and 31

    result = runner.validate_table(con, TABLE, now=NEXT_DAY, build_docs=False)

    assert result.rows_scope == "new rows"
    assert not result.passed
    assert [(o.check, o.failing_count) for o in result.error_failures] == [("created_at_not_future", 2)]
    keys = con.execute(
        "SELECT key_value FROM quality_failures WHERE check_name = ? ORDER BY key_value",
        [f"{TABLE}.created_at_not_future"],
    ).fetchall()
    assert keys == [("crm/hubspot_contacts_day2.csv|2",), ("crm/hubspot_contacts_day2.csv|31",)]


def test_a_new_file_with_many_bad_emails_fails_even_where_the_whole_table_would_pass(gx_root: Path, con):
    """`mostly` applies to the new files' rows: 1 in 3 bad emails in a new file fails the ERROR tier (0.8), though
    over all 1,030 rows it would be 1%."""
    make_raw_crm_contacts(con, rows=1000)
    runner = QualityRunner(gx_root)
    runner.validate_table(con, TABLE, now=NOW, build_docs=False)
    _add_file(con, "crm/hubspot_contacts_day2.csv", 30, bad_email_every=3)

    result = runner.validate_table(con, TABLE, now=NEXT_DAY, build_docs=False)

    assert result.rows_scope == "new rows"
    assert {o.check for o in result.error_failures} == {"email_valid_error"}


def test_a_replaced_file_with_a_new_one_validates_the_whole_table(gx_root: Path, con):
    make_raw_crm_contacts(con, rows=500)
    runner = QualityRunner(gx_root)
    runner.validate_table(con, TABLE, now=NOW, build_docs=False)
    _add_file(con, "crm/hubspot_contacts_day2.csv", 10)
    con.execute(f"UPDATE {TABLE} SET phone = '+1 555 0199' WHERE _source_file = 'crm/hubspot_contacts.csv'")

    result = runner.validate_table(con, TABLE, now=NEXT_DAY, build_docs=False)

    assert result.rows_scope == "validated" and result.rows_validated == 510


def test_an_earlier_warn_failure_stands_when_only_good_files_were_added(gx_root: Path, con):
    make_raw_crm_contacts(con, rows=1000, invalid_share=0.1)  # email_valid (WARN): 100 rows
    runner = QualityRunner(gx_root)
    runner.validate_table(con, TABLE, now=NOW, build_docs=False)
    _add_file(con, "crm/hubspot_contacts_day2.csv", 30)

    result = runner.validate_table(con, TABLE, now=NEXT_DAY, build_docs=False)

    assert result.rows_scope == "new rows" and result.passed
    assert [(o.check, o.failing_count) for o in result.warn_failures] == [("email_valid", 100)]


def test_a_warehouse_from_before_daily_runs_gets_the_new_result_columns(gx_root: Path, con):
    con.execute("""
        CREATE TABLE quality_check_results (check_name VARCHAR, table_name VARCHAR, severity VARCHAR,
            success BOOLEAN, failing_count BIGINT, observed_value VARCHAR, run_at TIMESTAMP)
    """)
    con.execute("INSERT INTO quality_check_results VALUES ('dim_customers.schema', 'dim_customers', 'error', true, "
                "NULL, NULL, TIMESTAMP '2026-11-01')")  # fmt: skip
    make_raw_crm_contacts(con, rows=100)

    QualityRunner(gx_root).validate_table(con, TABLE, now=NOW, build_docs=False)

    rows = con.execute(
        "SELECT table_name, validation, count(*) FROM quality_check_results GROUP BY ALL ORDER BY 1, 2"
    ).fetchall()
    assert rows == [("dim_customers", None, 1), (TABLE, "validated", 18)]  # 12 row, 6 profile expectations
