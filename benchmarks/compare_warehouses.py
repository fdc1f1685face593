"""Compare two warehouses table by table, row for row (SQL `EXCEPT ALL` both ways), e.g. before and after a
speed change on the same exports and `--as-of`:

    .venv/bin/python -m benchmarks.compare_warehouses BEFORE.duckdb AFTER.duckdb

Columns that record when or in which run a row was written (ingest times, run ids, `created_at`, ...) differ
between any two runs and are left out (`--ignore`, a regular expression on column names). Floating-point columns
are compared rounded to 9 decimals: DuckDB sums in parallel, so two runs of the same code differ in the last bits
(Splink's match weights, e.g. 0.0004779779947104838 and 0.00047797799471048356). For a table that still
differs, the columns whose values differ are named. Exit code 1 when any table differs or exists on one side only.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import duckdb

# Written at run time, not derived from the exports: differ between two runs of the same code.
DEFAULT_IGNORE = (
    r"^_?ingested_at$|^loaded_at$|^created_at$|^updated_at$|^run_at$|^measured_at$|^checked_at$|^computed_at$"
    r"|run_id$|^saved_at$|^invocation_id$|^validated_at$|^recorded_at$|^written_at$|^generated_at$|^_?dbt_\w+$"
)


def _tables(con: duckdb.DuckDBPyConnection, database: str) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main'", [database]
    ).fetchall()
    return {r[0] for r in rows}


def compare(before: Path, after: Path, ignore: str = DEFAULT_IGNORE) -> list[dict]:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("ATTACH ? AS a (READ_ONLY)", [str(before)])
    con.execute("ATTACH ? AS b (READ_ONLY)", [str(after)])
    skip = re.compile(ignore)
    tables_a, tables_b = _tables(con, "a"), _tables(con, "b")
    out = []
    for table in sorted(tables_a | tables_b):
        if table not in tables_a or table not in tables_b:
            out.append({"table": table, "status": "only in " + ("before" if table in tables_a else "after")})
            continue
        described = con.execute(f'DESCRIBE a.main."{table}"').fetchall()
        cols_a = [r[0] for r in described]
        floats = {r[0] for r in described if r[1] in ("DOUBLE", "FLOAT", "REAL")}
        cols_b = {r[0] for r in con.execute(f'DESCRIBE b.main."{table}"').fetchall()}
        cols = [c for c in cols_a if c in cols_b and not skip.search(c)]
        ignored = [c for c in cols_a if skip.search(c)]
        exprs = {c: f'round("{c}", 9)' if c in floats else f'"{c}"' for c in cols}
        listed = ", ".join(exprs.values()) or "1"
        qa, qb = f'SELECT {listed} FROM a.main."{table}"', f'SELECT {listed} FROM b.main."{table}"'
        rows_a = con.execute(f'SELECT count(*) FROM a.main."{table}"').fetchone()[0]
        rows_b = con.execute(f'SELECT count(*) FROM b.main."{table}"').fetchone()[0]
        only_a = con.execute(f"SELECT count(*) FROM ({qa} EXCEPT ALL {qb})").fetchone()[0]
        only_b = con.execute(f"SELECT count(*) FROM ({qb} EXCEPT ALL {qa})").fetchone()[0]
        differing = []
        if only_a or only_b:
            for c in cols:
                ca, cb = (
                    f'SELECT {exprs[c]} FROM a.main."{table}"',
                    f'SELECT {exprs[c]} FROM b.main."{table}"',
                )
                if con.execute(f"SELECT count(*) FROM ({ca} EXCEPT ALL {cb})").fetchone()[0]:
                    differing.append(c)
        out.append(
            {
                "table": table,
                "status": "same" if not (only_a or only_b or set(cols_a) ^ cols_b) else "differs",
                "rows": (rows_a, rows_b),
                "only_before": only_a,
                "only_after": only_b,
                "columns_only_one_side": sorted(set(cols_a) ^ cols_b),
                "differing_columns": differing,
                "ignored": ignored,
            }
        )
    con.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--ignore", default=DEFAULT_IGNORE, help="regex of column names left out")
    args = parser.parse_args(argv)
    results = compare(args.before, args.after, args.ignore)
    bad = 0
    for r in results:
        if r["status"] == "same":
            print(f"same     {r['table']} ({r['rows'][0]} rows; ignored: {', '.join(r['ignored']) or '-'})")
            continue
        bad += 1
        if "rows" not in r:
            print(f"DIFFERS  {r['table']}: {r['status']}")
            continue
        print(
            f"DIFFERS  {r['table']}: rows {r['rows'][0]} / {r['rows'][1]}, {r['only_before']} only before, "
            f"{r['only_after']} only after; differing columns: {', '.join(r['differing_columns']) or '-'}"
            + (
                f"; columns on one side only: {', '.join(r['columns_only_one_side'])}"
                if r["columns_only_one_side"]
                else ""
            )
        )
    print(f"{len(results) - bad} of {len(results)} tables the same, {bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
