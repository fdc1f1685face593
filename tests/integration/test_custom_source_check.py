"""The blocking Dagster asset check of raw_crm_contacts on the documented custom CSV example (`source:
tradeshow`, docs/formats.md): the check reads config/sources.yaml of the run and lets the declared source pass,
so the run reaches planning."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg

from pipelines.defs.quality.checks import build_table_check
from pipelines.defs.quality.resources import GreatExpectationsResource
from pipelines.defs.resources import TouchplanResource
from pipelines.lib.ingest import ingest_folder
from pipelines.lib.settings import EXPECTATIONS_DIR
from tests.unit.quality.test_custom_sources import BADGE_SCANS, documented_rule


def test_documented_custom_source_passes_the_blocking_check_in_a_run(tmp_path: Path):
    config = tmp_path / "config"
    config.mkdir()
    (config / "sources.yaml").write_text(documented_rule("docs"))
    exports = tmp_path / "exports"
    (exports / "tradeshow").mkdir(parents=True)
    (exports / "tradeshow" / "booth_scans.csv").write_text(BADGE_SCANS, newline="")
    gx_root = tmp_path / "expectations"
    shutil.copytree(EXPECTATIONS_DIR, gx_root, ignore=shutil.ignore_patterns("uncommitted"))

    @dg.asset(name="raw_crm_contacts")
    def raw_crm_contacts(touchplan: TouchplanResource) -> None:
        settings = touchplan.settings()
        with touchplan.connect() as con:
            ingest_folder(con, settings.exports, settings.config_dir)

    @dg.asset(name="contact_plan", deps=[raw_crm_contacts])
    def contact_plan() -> None:
        return None

    defs = dg.Definitions(
        assets=[raw_crm_contacts, contact_plan],
        asset_checks=[build_table_check("raw_crm_contacts", blocking=True)],
        jobs=[dg.define_asset_job("touchplan_job", selection="*")],
        resources={
            "touchplan": TouchplanResource(
                warehouse=str(tmp_path / "warehouse.duckdb"),
                exports=str(exports),
                config_dir=str(config),
                output=str(tmp_path / "out"),
            ),
            "great_expectations": GreatExpectationsResource(context_root_dir=str(gx_root)),
        },
        executor=dg.in_process_executor,
    )
    result = defs.resolve_job_def("touchplan_job").execute_in_process(raise_on_error=False)
    [evaluation] = result.get_asset_check_evaluations()
    assert "source_system_allowed" not in evaluation.metadata["failed_checks"].value, evaluation.description
    assert evaluation.severity != dg.AssetCheckSeverity.ERROR or evaluation.passed, evaluation.description
    assert result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"raw_crm_contacts", "contact_plan"}
