"""Blocking GX checks in a Dagster run (execute_in_process): ERROR failures stop everything downstream, WARN
failures do not."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.defs.quality.checks import CHECK_NAME, build_table_check, table_checks
from pipelines.defs.quality.resources import GreatExpectationsResource
from pipelines.defs.resources import TouchplanResource
from pipelines.defs.transform.dbt import DBT_STEPS, full_refresh_run_config
from pipelines.lib.settings import EXPECTATIONS_DIR
from tests.unit.quality.conftest import make_raw_crm_contacts

# The checks' "now" (TOUCHPLAN_AS_OF, read by the Dagster check through TouchplanResource): the day after the
# fixture rows' updated_at (2026-11-20) and their _ingested_at (2026-11-21), so freshness holds whatever the wall
# clock says and only the invalid emails can fail a check.
AS_OF = "2026-11-21T12:00:00"


def _dbt_step(name: str, deps: list) -> dg.AssetsDefinition:
    """A stand-in for a dbt step with its run config (`full_refresh`), as `touchplan run --full-refresh` sets it."""

    @dg.asset(name=name, deps=deps, config_schema={"full_refresh": dg.Field(bool, default_value=False)})
    def _step() -> None:
        return None

    return _step


def _job_defs(tmp_path: Path, invalid_share: float, dbt_steps: bool = False) -> dg.Definitions:
    warehouse = tmp_path / "warehouse.duckdb"
    gx_root = tmp_path / "expectations"
    shutil.copytree(EXPECTATIONS_DIR, gx_root, ignore=shutil.ignore_patterns("uncommitted"))

    @dg.asset(name="raw_crm_contacts")
    def raw_crm_contacts(touchplan: TouchplanResource) -> None:
        with touchplan.connect() as con:
            make_raw_crm_contacts(con, rows=1000, invalid_share=invalid_share)

    @dg.asset(name="contact_plan", deps=[raw_crm_contacts])
    def contact_plan(touchplan: TouchplanResource) -> None:
        with touchplan.connect() as con:
            con.execute("CREATE OR REPLACE TABLE planned AS SELECT 1 AS x")

    @dg.asset(name="send_ledger", deps=[contact_plan])
    def send_ledger() -> None:
        return None

    steps = [_dbt_step(name, [raw_crm_contacts]) for name in DBT_STEPS] if dbt_steps else []
    return dg.Definitions(
        assets=[raw_crm_contacts, contact_plan, send_ledger, *steps],
        asset_checks=[build_table_check("raw_crm_contacts", blocking=True)],
        jobs=[dg.define_asset_job("touchplan_job", selection="*")],
        resources={
            "touchplan": TouchplanResource(warehouse=str(warehouse), output=str(tmp_path / "out")),
            "great_expectations": GreatExpectationsResource(context_root_dir=str(gx_root)),
        },
        executor=dg.in_process_executor,
    )


def _check_evaluation(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    [evaluation] = result.get_asset_check_evaluations()
    return evaluation


def test_thirty_percent_invalid_emails_stop_the_run_before_planning_and_delivery(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TOUCHPLAN_AS_OF", AS_OF)
    defs = _job_defs(tmp_path, invalid_share=0.3)
    result = defs.resolve_job_def("touchplan_job").execute_in_process(raise_on_error=False)

    assert not result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"raw_crm_contacts"}  # no plan, no send

    evaluation = _check_evaluation(result)
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.check_name == CHECK_NAME
    assert "ERROR email_valid_error on raw_crm_contacts: 300 failing rows" in evaluation.description
    # 1,000 rows, the first 3 of every 10 not addresses: 300; as of AS_OF nothing else fails (the WARN
    # email_valid check counts the same 300 rows)
    assert evaluation.metadata["failing_counts"].value == {
        "raw_crm_contacts.email_valid_error": 300,
        "raw_crm_contacts.email_valid": 300,
    }
    assert Path(evaluation.metadata["data_docs"].value).is_file()
    phases = evaluation.metadata["seconds_by_phase"].value
    assert set(phases) == {
        "fingerprint",
        "read_rows",
        "validate_rows",
        "profile",
        "failing_keys",
        "data_docs",
    }

    failures = [e for e in result.all_events if e.is_step_failure]
    assert len(failures) == 1
    message = failures[0].event_specific_data.error.message
    assert "blocking asset check failed" in message and "raw_crm_contacts" in message

    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        assert (
            con.execute(
                "SELECT count(*) FROM quality_failures WHERE check_name = "
                "'raw_crm_contacts.email_valid_error'"
            ).fetchone()[0]
            == 300
        )
        assert not con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'planned'"
        ).fetchone()[0]


def test_warn_only_failures_let_the_run_complete(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TOUCHPLAN_AS_OF", AS_OF)
    defs = _job_defs(tmp_path, invalid_share=0.1)
    result = defs.resolve_job_def("touchplan_job").execute_in_process(raise_on_error=False)

    assert result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"raw_crm_contacts", "contact_plan", "send_ledger"}
    evaluation = _check_evaluation(result)
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert "WARN email_valid on raw_crm_contacts: 100 failing rows" in evaluation.description
    # 1,000 rows, the first of every 10 not an address: 100 rows fail the WARN check, under the ERROR check's
    # share; as of AS_OF (fresh rows) that is the only failure
    assert evaluation.metadata["failing_counts"].value == {"raw_crm_contacts.email_valid": 100}


def test_an_unchanged_table_is_reused_and_a_full_refresh_run_validates_it_again(tmp_path: Path, monkeypatch):
    """Daily runs (docs/quality.md): the second run's check reuses the first run's row outcomes (same result,
    same severity); a run with the dbt steps' full_refresh config (`touchplan run --full-refresh`) validates."""
    monkeypatch.setenv("TOUCHPLAN_AS_OF", AS_OF)
    job = _job_defs(tmp_path, invalid_share=0.1, dbt_steps=True).resolve_job_def("touchplan_job")
    runs = [
        job.execute_in_process(raise_on_error=False),
        job.execute_in_process(raise_on_error=False),
        job.execute_in_process(run_config=full_refresh_run_config(True), raise_on_error=False),
    ]

    assert all(r.success for r in runs)
    evaluations = [_check_evaluation(r) for r in runs]
    assert [e.metadata["rows_validation"].value for e in evaluations] == ["validated", "reused", "validated"]
    assert evaluations[1].metadata["rows_reused_from_run"].value == runs[0].run_id
    assert "validate_rows" not in evaluations[1].metadata["seconds_by_phase"].value
    for evaluation in evaluations:
        assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
        assert evaluation.metadata["failing_counts"].value == {"raw_crm_contacts.email_valid": 100}
    assert "rows unchanged since run " + runs[0].run_id in evaluations[1].description


@pytest.mark.parametrize("table", ["raw_crm_contacts", "dim_customers", "contact_plan", "raw_email_events"])
def test_tables_with_error_expectations_get_blocking_checks(table: str):
    checks = {next(iter(c.check_keys)).asset_key.to_user_string(): c for c in table_checks()}
    spec = next(iter(checks[table].check_specs))
    assert spec.blocking


# --------------------------------------------------------------------------- CRM health (real dbt)
# The run's as-of time (dbt var as_of, from Settings.as_of): the day after core_marts_dataset's rows were ingested
# (2026-04-01), so stale_records (not updated in 365 days) does not depend on the wall clock.
HEALTH_AS_OF = datetime(2026, 4, 2, tzinfo=UTC)


@pytest.fixture(scope="module")
def health_built(tmp_path_factory):
    from pipelines.lib.config.dbt_vars import collect_dbt_vars
    from pipelines.lib.settings import PROJECT_ROOT, Settings
    from tests.integration import core_marts_dataset
    from tests.integration.dbt_runner import run_dbt

    work = tmp_path_factory.mktemp("crm_health")
    warehouse = work / "warehouse.duckdb"
    core_marts_dataset.build(str(warehouse))
    settings = Settings.from_env(warehouse=warehouse, config_dir=PROJECT_ROOT / "config", as_of=HEALTH_AS_OF)
    dbt_vars = collect_dbt_vars(settings)
    assert dbt_vars["as_of"] == "2026-04-02 00:00:00"
    select = ["--select", "+crm_health_history", "--indirect-selection", "cautious"]
    run_dbt(warehouse, work, ["build", *select], dbt_vars)
    # a second run: the history then holds two runs per source, as the trend needs
    run_dbt(warehouse, work, ["build", "--select", "crm_health", "crm_health_history"], dbt_vars)
    return work, warehouse


def _health(warehouse: Path) -> dict[str, dict]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cur = con.execute("SELECT * FROM crm_health")
        names = [d[0] for d in cur.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cur.fetchall()}


def test_crm_health_counts_duplicates_conflicts_and_missing_consent(health_built):
    _, warehouse = health_built
    health = _health(warehouse)
    # B's two Salesforce leads, C's two HubSpot contacts, E's two Zoho contacts and F's two Dynamics contacts
    # each resolve to one customer: one duplicate record per CRM, none in the other sources
    assert {s: row["duplicate_records"] for s, row in health.items()} == {
        "salesforce": 1, "hubspot": 1, "zoho": 1, "dynamics": 1, "zoom": 0, "sendgrid": 0, "mailchimp": 0,
    }  # fmt: skip
    # titles per customer across sources (lower-cased): A is "vp marketing" in Salesforce 003A and the Zoom
    # registration, "chief marketing officer" in HubSpot 101: all three conflict; B is "marketing manager" in
    # Salesforce 00QB1 (00QB2 has none) and "head of marketing" in HubSpot 202: both conflict; C's two titles are
    # both HubSpot's (one source: no conflict); E and F carry one title each (Zoho zc1, Dynamics dyn-1)
    assert {s: row["conflicting_title"] for s, row in health.items()} == {
        "salesforce": 2, "hubspot": 2, "zoho": 0, "dynamics": 0, "zoom": 1, "sendgrid": 0, "mailchimp": 0,
    }  # fmt: skip
    # companies and phones agree once normalised (Acme Inc. / ACME Corp / Acme, Beispiel GmbH / AG, one number)
    assert all(row["conflicting_company"] == 0 and row["conflicting_phone"] == 0 for row in health.values())
    # D only has a SendGrid delivered event: no consent assertion; A, B and C have one (unsubscribe, group
    # events, Mailchimp); E (Zoho zc1, zc2) and F (Dynamics dyn-1, dyn-2) have none: two records each
    assert {s: row["consent_missing"] for s, row in health.items()} == {
        "salesforce": 0, "hubspot": 0, "zoho": 2, "dynamics": 2, "zoom": 0, "sendgrid": 1, "mailchimp": 0,
    }  # fmt: skip
    # as of 2026-04-02, stale = updated before 2025-04-02: HubSpot 301 (2024-01-01) and 302 (2025-01-01), Zoho
    # zc1 (2024-04-01) and zc2 (2025-04-01, one day short), Dynamics dyn-1 (2024-08-01) and dyn-2 (2024-10-01)
    assert {s: row["stale_records"] for s, row in health.items() if row["stale_records"]} == {
        "hubspot": 2, "zoho": 2, "dynamics": 2,
    }  # fmt: skip
    # records per source: Salesforce 003A, 00QB1, 00QB2; HubSpot 101, 202, 301, 302; Mailchimp L1, L3;
    # SendGrid's three recipients (Bob, Zoë, D); one Zoom person (Bob's attendance and registration); Zoho zc1,
    # zc2; Dynamics dyn-1, dyn-2
    assert {s: row["records"] for s, row in health.items()} == {
        "salesforce": 3, "hubspot": 4, "zoho": 2, "dynamics": 2, "mailchimp": 2, "sendgrid": 3, "zoom": 1,
    }  # fmt: skip
    assert all(row["records"] >= row["duplicate_records"] for row in health.values())


def test_crm_health_history_keeps_one_row_per_source_per_run(health_built):
    _, warehouse = health_built
    with duckdb.connect(str(warehouse), read_only=True) as con:
        per_source = con.execute("""
            SELECT source_system, count(*), count(DISTINCT measured_at) FROM crm_health_history GROUP BY 1
        """).fetchall()
    assert per_source and all(n == 2 and runs == 2 for _, n, runs in per_source)


def test_health_report_page_renders_with_trend(health_built, tmp_path):
    from pipelines.lib.quality.health_report import write_health_report

    _, warehouse = health_built
    with duckdb.connect(str(warehouse), read_only=True) as con:
        path, sources = write_health_report(con, tmp_path / "reports")
    text = path.read_text()
    assert path.name == "crm_health.html" and sources == len(_health(warehouse))
    assert "<td>salesforce</td>" in text and "Duplicates (identity resolution)" in text
    assert "&rarr;" in text  # unchanged since the previous run


def test_health_report_renders_in_headless_chromium_with_the_warehouse_figures(health_built, tmp_path):
    from pipelines.lib.quality.health_report import METRICS, write_health_report
    from tests.chromium import rendered_text, require_chromium, screenshot

    chromium = require_chromium()
    _, warehouse = health_built
    with duckdb.connect(str(warehouse), read_only=True) as con:
        path, _ = write_health_report(con, tmp_path / "reports")
    shot = tmp_path / "crm_health.png"
    png = screenshot(chromium, path, shot)
    assert len(png) > 5000  # a table, not a blank page

    text = rendered_text(chromium, path)
    for word in ("ERR_", "can’t be reached", "not found", "Traceback", "error", "None", "nan"):
        assert word not in text, (word, text[:2000])
    assert "CRM health" in text and "Duplicates (identity resolution)" in text
    # every source's row shows the warehouse's figures in METRICS order, each unchanged since the previous run
    for source, row in _health(warehouse).items():
        cells = " ".join(f"{int(row[key]):,} →" for key, _, _ in METRICS)
        assert f"{source} {cells}" in text, (source, cells, text[:3000])
    keep = os.environ.get("TOUCHPLAN_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)


@pytest.mark.parametrize(("ci", "expected_outcome"), [(None, "1 skipped"), ("1", "1 failed")])
def test_missing_chromium_skips_locally_and_fails_in_ci(tmp_path: Path, ci, expected_outcome):
    import subprocess
    import sys

    from pipelines.lib.settings import PROJECT_ROOT

    probe = tmp_path / "test_probe.py"
    probe.write_text(
        "from tests.chromium import require_chromium\n\ndef test_page():\n    require_chromium()\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["TOUCHPLAN_CHROMIUM"] = str(tmp_path / "no-chromium")
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    if ci:
        env["CI"] = ci
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", "-p", "no:randomly",
         "-rs", "-c", str(PROJECT_ROOT / "pyproject.toml"), str(probe)],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert expected_outcome in result.stdout, result.stdout[-3000:]
    assert "no-chromium" in result.stdout
