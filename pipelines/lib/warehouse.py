"""Every DuckDB connection Touchplan opens, with the memory cap and spill folder of one setting.

`TOUCHPLAN_MEMORY_LIMIT` (default: 60% of the machine's physical memory) becomes DuckDB's `memory_limit` and
`TOUCHPLAN_TEMP_DIRECTORY` (default: `<warehouse>.tmp/` beside the warehouse file) its `temp_directory`, so a large
sort, join or aggregate spills to disk instead of growing past the cap. dbt's connection gets the same two values
through its profile (dbt_project/profiles.yml, `settings:`), which reads the vars every dbt step passes
(`Settings.dbt_profile_vars`). Both are per database instance: every connection to the same file in one process shares them.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.lib.settings import Settings
from pipelines.lib.sql import sql_literal

IN_MEMORY = ":memory:"


def apply_limits(
    con: duckdb.DuckDBPyConnection, settings: Settings | None = None
) -> duckdb.DuckDBPyConnection:
    """Set `memory_limit` and `temp_directory` on a connection opened elsewhere; returns it."""
    settings = settings or Settings.from_env()
    con.execute(f"SET memory_limit = {sql_literal(settings.memory_limit)}")
    con.execute(f"SET temp_directory = {sql_literal(str(settings.temp_directory))}")
    return con


def connect(
    path: str | Path | None = None, *, read_only: bool = False, settings: Settings | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to `path` (default: the settings' warehouse; `IN_MEMORY` for a scratch database) with
    the configured memory limit and temp directory. The spill folder is created by DuckDB when it first spills."""
    settings = settings or Settings.from_env()
    target = IN_MEMORY if path == IN_MEMORY else str(path or settings.warehouse)
    con = duckdb.connect(target, read_only=read_only)
    try:
        return apply_limits(con, settings)
    except Exception:
        con.close()
        raise
