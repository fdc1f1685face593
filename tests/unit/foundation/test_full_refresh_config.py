"""Issue #17: `touchplan run --full-refresh` reaches every dbt step of the job through one run config, which the
Dagster UI's launchpad accepts as well (docs/operations.md)."""

from __future__ import annotations

import dagster as dg

from pipelines.lib.settings import Settings


def _job(tmp_path):
    from pipelines.definitions import build_definitions

    return build_definitions(Settings.from_env(warehouse=tmp_path / "w.duckdb")).resolve_job_def(
        "touchplan_job"
    )


def test_the_full_refresh_config_names_every_dbt_step_of_the_job(tmp_path):
    from pipelines.defs.transform.dbt import DBT_STEPS, full_refresh_run_config

    job = _job(tmp_path)
    dbt_steps = {node.name for node in job.graph.nodes if node.name.startswith("dbt_")}
    assert dbt_steps == set(DBT_STEPS)
    config = full_refresh_run_config(True)
    assert set(config["ops"]) == dbt_steps
    assert dg.validate_run_config(job, config)["ops"]["dbt_models"]["config"] == {"full_refresh": True}


def test_without_config_the_dbt_steps_run_incrementally(tmp_path):
    validated = dg.validate_run_config(_job(tmp_path), {})
    assert validated["ops"]["dbt_pre_identity"]["config"] == {"full_refresh": False}


def test_the_cli_option_builds_that_config():
    from pipelines.cli import build_parser

    args = build_parser().parse_args(["run", "--full-refresh"])
    assert args.full_refresh is True
    assert build_parser().parse_args(["run"]).full_refresh is False
