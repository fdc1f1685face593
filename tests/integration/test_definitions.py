"""The code location loads the way `make dev` and `dagster definitions validate` load it."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from pipelines.definitions import build_definitions

ROOT = Path(__file__).resolve().parents[2]

EXPECTED_ASSETS = [
    "raw_crm_contacts",
    "raw_email_events",
    "raw_webinar_attendance",
    "ingest_files",
    "ingest_quarantine",
    "stg_crm__contacts",
    "int_identity_records",
    "identity_clusters",
    "dim_customers",
    "customer_crosswalk",
    "customer_consent",
    "fct_touchpoints",
    "customer_rfv",
    "lead_scores",
    "customer_moments",
    "contact_decisions",
    "contact_plan",
    "send_ledger",
]


def test_definitions_load_with_every_stage():
    defs = build_definitions()
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    missing = [name for name in EXPECTED_ASSETS if name not in keys]
    assert not missing, f"assets missing from the code location: {missing}"
    assert defs.resolve_job_def("touchplan_job") is not None
    assert defs.resolve_schedule_def("touchplan_daily").cron_schedule == "0 6 * * *"
    assert defs.resolve_sensor_def("exports_folder_sensor") is not None
    checks = defs.resolve_asset_graph().asset_check_keys
    assert any(check.asset_key == dg.AssetKey("dim_customers") for check in checks)


def test_dagster_definitions_validate_accepts_the_workspace():
    env = {**os.environ, "DAGSTER_HOME": str(ROOT / ".dagster")}
    Path(env["DAGSTER_HOME"]).mkdir(exist_ok=True)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_the_report_runs_after_every_asset_whose_table_it_reads():
    from pipelines.defs.report.assets import READS

    graph = build_definitions().resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    report = dg.AssetKey("touchplan_report")
    assert report in keys
    upstream = {key.to_user_string() for key in graph.get(report).parent_keys}
    assert set(READS) <= upstream
    # each table it reads is a real asset of the code location (not a stub the job would never build)
    assert not [name for name in READS if not graph.get(dg.AssetKey(name)).is_materializable]
