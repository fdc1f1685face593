"""The columns and types of a table as dbt built it, next to the ones its YAML documents (issue #18: the YAML is
the one place a mart's schema is written; planning's stand-ins read it)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.lib.dbt_schema import documented_columns


def built_columns(warehouse: Path, table: str) -> list[tuple[str, str]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? AND table_schema = 'main' ORDER BY ordinal_position",
            [table],
        ).fetchall()
    finally:
        con.close()


def schema_drift(warehouse: Path, tables: list[str]) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """Per table whose built columns differ from its documented ones: what each side has that the other lacks."""
    drift = {}
    for table in tables:
        built, documented = built_columns(warehouse, table), documented_columns(table)
        if built != documented:
            drift[table] = {
                "built_not_documented": [c for c in built if c not in documented],
                "documented_not_built": [c for c in documented if c not in built],
            }
    return drift
