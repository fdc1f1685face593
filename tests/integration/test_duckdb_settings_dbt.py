"""dbt's connection gets the pipeline's memory limit and spill folder (dbt_project/profiles.yml `settings:`)."""

from __future__ import annotations

import json
from dataclasses import replace

import duckdb

from pipelines.lib.settings import Settings
from tests.integration.dbt_runner import run_dbt

QUERY = (
    "select current_setting('memory_limit') as memory_limit, current_setting('temp_directory') as temp_dir"
)


def _dbt_reports(tmp_path, warehouse, dbt_vars: dict | None = None) -> dict:
    result = run_dbt(
        warehouse,
        tmp_path,
        ["show", "--inline", QUERY, "--output", "json", "--log-format", "json"],
        dbt_vars,
    )
    for line in result.stdout.splitlines():
        preview = json.loads(line).get("data", {}).get("preview") if line.startswith("{") else None
        if preview:
            return json.loads(preview)[0]
    raise AssertionError(f"no preview in dbt's output: {result.stdout[-2000:]}")


def _shown(limit: str) -> str:
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{limit}'")
    return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def test_dbt_connection_takes_the_limit_and_temp_directory_of_the_runs_settings(tmp_path, monkeypatch):
    """What every dbt step of a run passes (Settings.dbt_profile_vars), over what the environment says."""
    warehouse = tmp_path / "w.duckdb"
    monkeypatch.setenv("TOUCHPLAN_MEMORY_LIMIT", "900MiB")  # the vars win over a stale environment
    monkeypatch.setenv("TOUCHPLAN_TEMP_DIRECTORY", str(tmp_path / "env_spill"))
    settings = Settings(
        warehouse=warehouse, exports=tmp_path, config_dir=tmp_path, output=tmp_path, memory_limit="700MiB"
    )
    assert _dbt_reports(tmp_path / "a", warehouse, settings.dbt_profile_vars()) == {
        "memory_limit": _shown("700MiB"),
        "temp_dir": str(tmp_path / "w.duckdb.tmp"),
    }
    spill = replace(settings, memory_limit="1.5GB", temp_dir=tmp_path / "spill")
    assert _dbt_reports(tmp_path / "b", warehouse, spill.dbt_profile_vars()) == {
        "memory_limit": _shown("1.5GB"),
        "temp_dir": str(tmp_path / "spill"),
    }


def test_bare_dbt_reads_the_environment(tmp_path, monkeypatch):
    """`dbt` run by hand (no Touchplan vars) still takes TOUCHPLAN_MEMORY_LIMIT / TOUCHPLAN_TEMP_DIRECTORY."""
    warehouse = tmp_path / "w.duckdb"
    monkeypatch.setenv("TOUCHPLAN_MEMORY_LIMIT", "700MiB")
    assert _dbt_reports(tmp_path / "a", warehouse) == {
        "memory_limit": _shown("700MiB"),
        "temp_dir": str(tmp_path / "w.duckdb.tmp"),
    }
    monkeypatch.setenv("TOUCHPLAN_TEMP_DIRECTORY", str(tmp_path / "spill"))
    assert _dbt_reports(tmp_path / "b", warehouse)["temp_dir"] == str(tmp_path / "spill")
