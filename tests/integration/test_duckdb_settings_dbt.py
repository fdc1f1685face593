"""dbt's connection gets the pipeline's memory limit and spill folder (dbt_project/profiles.yml `settings:`)."""

from __future__ import annotations

import json
import os

import duckdb

from pipelines.lib.settings import Settings
from tests.integration.dbt_runner import run_dbt

QUERY = (
    "select current_setting('memory_limit') as memory_limit, current_setting('temp_directory') as temp_dir"
)


def _dbt_reports(tmp_path, warehouse) -> dict:
    result = run_dbt(
        warehouse, tmp_path, ["show", "--inline", QUERY, "--output", "json", "--log-format", "json"], None
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


def test_dbt_connection_reports_the_configured_limit_and_temp_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "environ", dict(os.environ))  # export_to_env writes here, run_dbt reads from here
    warehouse = tmp_path / "w.duckdb"
    monkeypatch.setenv("TOUCHPLAN_MEMORY_LIMIT", "700MiB")
    Settings.from_env(warehouse=warehouse).export_to_env()  # what every dbt step does before `dbt build`
    assert _dbt_reports(tmp_path / "a", warehouse) == {
        "memory_limit": _shown("700MiB"),
        "temp_dir": str(tmp_path / "w.duckdb.tmp"),
    }

    # DuckDB's own default for a file is `<file>.tmp` too: the variable shows the profile passes it through.
    monkeypatch.setenv("TOUCHPLAN_TEMP_DIRECTORY", str(tmp_path / "spill"))
    monkeypatch.setenv("TOUCHPLAN_MEMORY_LIMIT", "1.5GB")
    Settings.from_env(warehouse=warehouse).export_to_env()
    assert _dbt_reports(tmp_path / "b", warehouse) == {
        "memory_limit": _shown("1.5GB"),
        "temp_dir": str(tmp_path / "spill"),
    }
