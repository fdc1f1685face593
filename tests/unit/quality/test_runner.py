"""The GX runner on a real DuckDB: severities, failing keys, volume history, Data Docs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.quality.runner import QualityConfigError, QualityRunner, shared_runner
from tests.unit.quality.conftest import make_raw_crm_contacts

NOW = datetime(2026, 11, 22, tzinfo=UTC)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    yield connection
    connection.close()


def test_thirty_percent_invalid_emails_fail_the_error_check_with_count(gx_root: Path, con):
    make_raw_crm_contacts(con, rows=1000, invalid_share=0.3)
    result = QualityRunner(gx_root).validate_table(con, "raw_crm_contacts", now=NOW)

    assert not result.passed
    errors = {o.check: o for o in result.error_failures}
    assert set(errors) == {"email_valid_error"}
    assert errors["email_valid_error"].failing_count == 300
    assert "email_valid_error on raw_crm_contacts: 300 failing rows" in result.message()


def test_a_few_invalid_emails_fail_only_the_warn_check(gx_root: Path, con):
    make_raw_crm_contacts(con, rows=1000, invalid_share=0.1)
    result = QualityRunner(gx_root).validate_table(con, "raw_crm_contacts", now=NOW, build_docs=False)

    assert result.passed  # no ERROR expectation failed
    assert [(o.check, o.severity, o.failing_count) for o in result.failed] == [("email_valid", "warn", 100)]


def test_failing_keys_land_in_quality_failures(gx_root: Path, con):
    make_raw_crm_contacts(con, rows=200, invalid_share=0.3)
    QualityRunner(gx_root).validate_table(con, "raw_crm_contacts", now=NOW, build_docs=False)

    rows = con.execute("""
        SELECT key_column, key_value, observed_value, severity FROM quality_failures
        WHERE check_name = 'raw_crm_contacts.email_valid_error' ORDER BY key_value
    """).fetchall()
    assert len(rows) == 60
    assert rows[0][0] == "_source_file,_source_line"
    expected_lines = sorted(f"crm/hubspot_contacts.csv|{i + 2}" for i in range(200) if i % 10 < 3)
    assert [r[1] for r in rows] == expected_lines
    assert all(" at example" in r[2] and r[3] == "error" for r in rows)


def test_every_expectation_lands_in_quality_check_results_and_is_replaced_next_run(gx_root: Path, con):
    runner = QualityRunner(gx_root)
    make_raw_crm_contacts(con, rows=1000, invalid_share=0.1)
    result = runner.validate_table(con, "raw_crm_contacts", now=NOW, build_docs=False)
    rows = con.execute(
        "SELECT check_name, severity, success, failing_count FROM quality_check_results ORDER BY check_name"
    ).fetchall()
    assert len(rows) == len(result.outcomes) > 1
    assert [(r[0], r[1], r[3]) for r in rows if not r[2]] == [("raw_crm_contacts.email_valid", "warn", 100)]
    make_raw_crm_contacts(con, rows=1000, invalid_share=0.0)
    runner.validate_table(con, "raw_crm_contacts", now=NOW, build_docs=False)
    assert con.execute("SELECT count(*) FROM quality_check_results").fetchone()[0] == len(rows)
    assert con.execute("SELECT count(*) FROM quality_check_results WHERE NOT success").fetchone()[0] == 0


def test_failing_keys_are_replaced_on_the_next_run(gx_root: Path, con):
    runner = QualityRunner(gx_root)
    make_raw_crm_contacts(con, rows=200, invalid_share=0.3)
    runner.validate_table(con, "raw_crm_contacts", now=NOW, build_docs=False)
    make_raw_crm_contacts(con, rows=200, invalid_share=0.0)
    runner.validate_table(con, "raw_crm_contacts", now=NOW, build_docs=False)
    assert con.execute("SELECT count(*) FROM quality_failures").fetchone()[0] == 0


def test_volume_check_catches_a_feed_that_lost_half_its_rows(gx_root: Path, con):
    runner = QualityRunner(gx_root)
    make_raw_crm_contacts(con, rows=1000)
    first = runner.validate_table(con, "raw_crm_contacts", now=NOW, build_docs=False)
    assert first.passed

    make_raw_crm_contacts(con, rows=500)
    second = runner.validate_table(con, "raw_crm_contacts", now=NOW, build_docs=False)

    assert not second.passed
    drop = [o for o in second.error_failures if o.check == "volume_drop"]
    assert drop and drop[0].failing_count == 2  # both source systems halved
    assert "ERROR volume_drop on raw_crm_contacts: 2 failing sources" in second.message()
    history = con.execute("""
        SELECT source, row_count, is_accepted FROM quality_volume_history ORDER BY measured_at, source
    """).fetchall()
    assert history == [
        ("hubspot", 500, True),
        ("salesforce", 500, True),
        ("hubspot", 250, False),
        ("salesforce", 250, False),
    ]
    failing_sources = con.execute("""
        SELECT key_value FROM quality_failures WHERE check_name = 'raw_crm_contacts__profile.volume_drop'
        ORDER BY 1""").fetchall()
    assert failing_sources == [("hubspot",), ("salesforce",)]

    # The shrunken count was not accepted: the next run still compares with the last good one.
    third = runner.validate_table(con, "raw_crm_contacts", now=NOW, build_docs=False)
    assert any(o.check == "volume_drop" for o in third.error_failures)


def test_small_volume_change_passes(gx_root: Path, con):
    runner = QualityRunner(gx_root)
    make_raw_crm_contacts(con, rows=1000)
    runner.validate_table(con, "raw_crm_contacts", now=NOW, build_docs=False)
    make_raw_crm_contacts(con, rows=950)
    result = runner.validate_table(con, "raw_crm_contacts", now=NOW, build_docs=False)
    assert not [o for o in result.failed if o.check.startswith("volume")]


def test_future_dated_rows_fail_the_not_future_check(gx_root: Path, con):
    make_raw_crm_contacts(con, rows=100)
    con.execute("UPDATE raw_crm_contacts SET updated_at = TIMESTAMP '2027-06-01' WHERE _source_line <= 4")
    result = QualityRunner(gx_root).validate_table(con, "raw_crm_contacts", now=NOW, build_docs=False)
    failed = {o.check: o.failing_count for o in result.error_failures}
    assert failed == {"updated_at_not_future": 3}


def test_missing_contract_column_fails_the_schema_check(gx_root: Path, con):
    make_raw_crm_contacts(con, rows=100)
    con.execute("ALTER TABLE raw_crm_contacts DROP COLUMN lifecycle_stage")
    result = QualityRunner(gx_root).validate_table(con, "raw_crm_contacts", now=NOW, build_docs=False)
    assert "schema" in {o.check for o in result.error_failures}


def test_data_docs_index_exists_after_validation_under_the_output_folder(gx_root: Path, con, tmp_path):
    make_raw_crm_contacts(con, rows=100)
    result = QualityRunner(gx_root).validate_table(con, "raw_crm_contacts", now=NOW)
    index = Path(result.data_docs_path)
    assert index.name == "index.html" and index.is_file()
    assert index.is_relative_to(tmp_path / "out" / "quality" / "data_docs")
    assert "raw_crm_contacts" in index.read_text()
    assert not (gx_root / "uncommitted").exists()  # nothing written into the committed context


def test_data_docs_pages_keep_the_custom_styles_with_the_shared_template_cache(gx_root: Path, con, tmp_path):
    """The templates are compiled once per process (runner._share_data_docs_templates); every page, the first and
    the ones rendered from the cache, still carries the context's custom styles (plugins/custom_data_docs)."""
    (gx_root / "plugins" / "custom_data_docs" / "styles" / "data_docs_custom_styles.css").write_text(
        ".touchplan-test-custom-style {}\n"
    )
    make_raw_crm_contacts(con, rows=100)
    runner = QualityRunner(gx_root)
    runner.validate_table(con, "raw_crm_contacts", now=NOW)
    runner.validate_table(con, "raw_crm_contacts", now=NOW, reuse=False)  # GX runs both suites again
    pages = sorted((tmp_path / "out" / "quality" / "data_docs").rglob("*.html"))
    assert len(pages) == 5  # the index and two runs of two suites
    assert all(".touchplan-test-custom-style" in page.read_text() for page in pages)


def test_validation_results_and_data_docs_keep_no_row_values(gx_root: Path, con, tmp_path):
    """Failing emails and names are counted, never copied into the stored results or the Data Docs pages."""
    make_raw_crm_contacts(con, rows=200, invalid_share=0.3)
    con.execute("UPDATE raw_crm_contacts SET first_name = 'Zebulon' || _source_line, last_name = 'Quux'")
    con.execute("UPDATE raw_crm_contacts SET phone = 'call zebulon at home' WHERE _source_line % 7 = 0")
    result = QualityRunner(gx_root).validate_table(con, "raw_crm_contacts", now=NOW)
    assert {o.check for o in result.failed} >= {"email_valid"}  # there were failing values to leak
    files = [p for p in (tmp_path / "out" / "quality").rglob("*") if p.is_file()]
    assert any(p.suffix == ".json" for p in files) and any(p.suffix == ".html" for p in files)
    text = "\n".join(p.read_text(errors="replace") for p in files)
    assert "raw_crm_contacts" in text
    for value in ("at example", "@example.com", "Zebulon", "call zebulon"):
        assert value not in text, value


def test_only_the_latest_results_per_suite_are_kept(gx_root: Path, con, tmp_path):
    make_raw_crm_contacts(con, rows=50)
    runner = QualityRunner(gx_root)
    for n in range(4):
        # reuse=False: every run validates both suites (an unchanged table would reuse the row suite's result)
        runner.validate_table(
            con, "raw_crm_contacts", now=NOW, run_id=f"run{n}", build_docs=False, reuse=False
        )
    store = tmp_path / "out" / "quality" / "validations" / "raw_crm_contacts"
    assert len([t for r in store.iterdir() for t in r.iterdir()]) == 4
    assert runner.prune_results(keep=2) == 2 * 2  # the rows suite and the profile suite
    assert sorted(r.name for r in store.iterdir() if any(r.iterdir())) == ["run2", "run3"]


def test_missing_table_is_reported_by_name(gx_root: Path, con):
    with pytest.raises(QualityConfigError, match="raw_crm_contacts"):
        QualityRunner(gx_root).validate_table(con, "raw_crm_contacts", now=NOW)


def test_suite_without_freshness_column_validates(gx_root: Path, con):
    """customer_consent has no freshness column: its profile query takes no as-of parameter."""
    con.execute("""
        CREATE TABLE customer_consent AS SELECT
            'cus_' || i AS customer_id, 'email' AS channel, 'marketing' AS subscription_group,
            'subscribed' AS consent_state, 'mailchimp_subscribed' AS reason, 'mailchimp' AS asserted_by_source_system,
            'm' || i AS asserted_by_record_id, TIMESTAMP '2026-10-01' AS asserted_at
        FROM range(50) t(i)
    """)
    result = QualityRunner(gx_root).validate_table(con, "customer_consent", now=NOW, build_docs=False)
    assert result.passed, result.message()


def _make_consent(con, rows: list[tuple[str, str | None]]) -> None:
    """customer_consent with one row per (consent_state, asserted_by_source_system)."""
    con.execute("DROP TABLE IF EXISTS customer_consent")
    con.execute("""
        CREATE TABLE customer_consent (customer_id VARCHAR, channel VARCHAR, subscription_group VARCHAR,
            consent_state VARCHAR, reason VARCHAR, asserted_by_source_system VARCHAR,
            asserted_by_record_id VARCHAR, asserted_at TIMESTAMP)
    """)
    con.executemany(
        "INSERT INTO customer_consent VALUES (?, 'email', 'marketing', ?, NULL, ?, NULL, TIMESTAMP '2026-11-01')",
        [(f"c{i}", state, source) for i, (state, source) in enumerate(rows)],
    )


def test_unknown_consent_without_a_source_is_not_a_finding(gx_root: Path, con):
    # 'unknown' means no source asserted anything: no source is expected for it
    _make_consent(con, [("unknown", None)] * 90 + [("subscribed", "mailchimp")] * 10)
    result = QualityRunner(gx_root).validate_table(con, "customer_consent", now=NOW, build_docs=False)

    assert "asserted_by_source_present" not in {o.check for o in result.failed}


def test_known_consent_without_a_source_is_reported_with_its_keys(gx_root: Path, con):
    rows = [("unknown", None)] * 50 + [("subscribed", "mailchimp")] * 40 + [("unsubscribed", None)] * 10
    _make_consent(con, rows)
    result = QualityRunner(gx_root).validate_table(con, "customer_consent", now=NOW, build_docs=False)

    failed = {o.check: o for o in result.failed}
    assert failed["asserted_by_source_present"].severity == "warn"
    assert failed["asserted_by_source_present"].failing_count == 10  # the unknown rows are not counted
    keys = con.execute(
        "SELECT key_value FROM quality_failures WHERE check_name = 'customer_consent.asserted_by_source_present'"
    ).fetchall()
    assert sorted(k[0] for k in keys) == sorted(f"c{i}|email|marketing" for i in range(90, 100))


def test_national_phone_with_area_code_in_parentheses_is_plausible(gx_root: Path, con):
    make_raw_crm_contacts(con, rows=100)
    con.execute("UPDATE raw_crm_contacts SET phone = '(514) 169-6448' WHERE _source_line % 2 = 0")
    con.execute("UPDATE raw_crm_contacts SET phone = 'call me' WHERE _source_line % 10 = 3")
    result = QualityRunner(gx_root).validate_table(con, "raw_crm_contacts", now=NOW, build_docs=False)

    failed = {o.check: o for o in result.failed}
    assert failed["phone_plausible"].failing_count == 10  # only the text, not the 50 (514) numbers


def test_empty_suppression_list_is_not_a_finding(gx_root: Path, con):
    con.execute("""
        CREATE TABLE raw_email_suppressions (source_system VARCHAR, suppression_list VARCHAR, email VARCHAR,
            reason VARCHAR, status VARCHAR, asm_group_id INTEGER, created_at TIMESTAMP, _source_file VARCHAR,
            _source_line BIGINT)
    """)
    result = QualityRunner(gx_root).validate_table(con, "raw_email_suppressions", now=NOW, build_docs=False)

    assert result.failed == []


def test_shared_runner_is_reused_until_a_suite_changes_then_the_change_is_applied(
    gx_root: Path, con, tmp_path
):
    """One GX context per process and configuration: the same runner while the suites are unchanged, and an edited
    suite (a stricter `mostly` on the ERROR email check) is validated with its new threshold, not the cached one."""
    make_raw_crm_contacts(con, rows=1000, invalid_share=0.1)
    results = tmp_path / "out" / "quality"
    runner = shared_runner(gx_root, results)
    first = runner.validate_table(con, "raw_crm_contacts", now=NOW, build_docs=False)
    assert shared_runner(gx_root, results) is runner
    assert "email_valid_error" not in {o.check for o in first.error_failures}

    suite_path = gx_root / "expectations" / "raw_crm_contacts.json"
    suite = json.loads(suite_path.read_text())
    (email_error,) = [x for x in suite["expectations"] if x["meta"]["check"] == "email_valid_error"]
    email_error["kwargs"]["mostly"] = 0.95  # 10% invalid now fails it
    suite_path.write_text(json.dumps(suite, indent=2))

    second = shared_runner(gx_root, results).validate_table(
        con, "raw_crm_contacts", now=NOW, build_docs=False
    )
    assert {o.check: o.failing_count for o in second.error_failures} == {"email_valid_error": 100}
    assert not second.passed
