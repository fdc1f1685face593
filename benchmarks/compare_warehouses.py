"""Compare every table of two Touchplan warehouses row for row, e.g. the demo before and after a refactoring:

    python -m benchmarks.compare_warehouses before.duckdb after.duckdb

Run-specific columns (load and run times, run ids) are left out; DOUBLE columns are compared to 9 decimals (Splink's
match weights vary in the last bits between two runs on the same data: float summation order). Exit status 1 when a
table is missing on one side or differs (EXCEPT ALL both ways, so duplicate rows count)."""

from __future__ import annotations

import argparse
import sys

import duckdb

from pipelines.lib.sql import quote_ident, sql_literal

VOLATILE = {
    "_ingested_at", "ingested_at", "run_id", "plan_run_id", "created_at", "updated_at", "event_at", "saved_at",
    "run_at", "first_seen_at", "last_seen_at", "sent_at", "batch_id", "request_path", "checked_at", "generated_at",
    "started_at", "finished_at", "validated_at", "recorded_at", "measured_at", "dbt_invocation_id", "settings_json",
}  # fmt: skip


def _columns(con: duckdb.DuckDBPyConnection, db: str, table: str) -> dict[str, str]:
    return dict(
        con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? AND table_name = ? "
            "ORDER BY column_index",
            [db, table],
        ).fetchall()
    )


def compare(before: str, after: str) -> list[str]:
    """One line per difference (empty: every table identical)."""
    con = duckdb.connect()
    con.execute(f"ATTACH {sql_literal(before)} AS a (READ_ONLY)")
    con.execute(f"ATTACH {sql_literal(after)} AS b (READ_ONLY)")
    tables = {
        db: {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main'", [db]
        ).fetchall()}
        for db in ("a", "b")
    }  # fmt: skip
    problems = [f"{t}: only in {before}" for t in sorted(tables["a"] - tables["b"])]
    problems += [f"{t}: only in {after}" for t in sorted(tables["b"] - tables["a"])]
    for table in sorted(tables["a"] & tables["b"]):
        cols_a, cols_b = _columns(con, "a", table), _columns(con, "b", table)
        if set(cols_a) != set(cols_b):
            problems.append(f"{table}: columns differ: {sorted(set(cols_a) ^ set(cols_b))}")
        shared = [c for c in cols_a if c in cols_b and c not in VOLATILE]
        select = ", ".join(
            f"round({quote_ident(c)}, 9)" if cols_a[c] == "DOUBLE" else quote_ident(c) for c in shared
        )
        name = quote_ident(table)
        only_a, only_b = (
            con.execute(
                f"SELECT count(*) FROM (SELECT {select} FROM {x}.main.{name} EXCEPT ALL "
                f"SELECT {select} FROM {y}.main.{name})"
            ).fetchone()[0]
            for x, y in (("a", "b"), ("b", "a"))
        )
        if only_a or only_b:
            problems.append(f"{table}: {only_a} rows only before, {only_b} rows only after")
    print(f"{len(tables['a'] & tables['b'])} tables compared, {len(problems)} differences")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    args = parser.parse_args()
    problems = compare(args.before, args.after)
    for line in problems:
        print(line)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
