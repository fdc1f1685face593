"""Validation cost at scale: GX suites on 1M-row dim_customers / fct_touchpoints-like tables in DuckDB.

    .venv/bin/python -m benchmarks.bench_quality --rows 1000000 [--again]

Prints wall time per table (content fingerprint, read, validate, profile, failing keys, Data Docs) and the peak
RSS; `--again`: then validates the unchanged tables a second time, a day later (a daily run: the row suites'
outcomes are reused, the content fingerprint and the profile are what it costs).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import psutil

from pipelines.lib.quality.runner import QualityRunner
from pipelines.lib.settings import EXPECTATIONS_DIR


def make_tables(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    con.execute(f"""
        CREATE TABLE dim_customers AS SELECT
          'c' || i AS customer_id,
          CASE WHEN i % 500 = 0 THEN 'broken' ELSE 'p' || i || '@example.com' END AS email,
          'Ann' AS first_name, 'Lee' AS last_name, 'Ann Lee' AS full_name,
          '+4420' || lpad(CAST(i AS VARCHAR), 8, '0') AS phone_e164, 'CTO' AS title, 'Acme' AS company,
          (i % 5000)::INTEGER AS employees, 'GB' AS country_code, 'Europe/London' AS time_zone,
          i % 7 = 0 AS is_customer, TIMESTAMP '2024-01-01' + INTERVAL (i % 600) DAY AS first_seen_at,
          TIMESTAMP '2026-11-01' + INTERVAL (i % 20) DAY AS last_seen_at, 1 + i % 3 AS source_record_count
        FROM range({rows}) t(i)""")
    con.execute(f"""
        CREATE TABLE fct_touchpoints AS SELECT
          't' || i AS touchpoint_id, 'c' || (i % {rows}) AS customer_id, 'sendgrid' AS source_system,
          'email' AS channel, 'delivered' AS touchpoint_type, true AS is_marketing_contact,
          'cmp' || (i % 20) AS campaign_id, 'm' || i AS message_id, 0.0 AS value,
          TIMESTAMP '2026-01-01' + INTERVAL (i % 320) DAY AS occurred_at
        FROM range({rows * 3}) t(i)""")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--again", action="store_true", help="validate the unchanged tables a second time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "expectations"
        shutil.copytree(EXPECTATIONS_DIR, root, ignore=shutil.ignore_patterns("uncommitted"))
        con = duckdb.connect(str(Path(tmp) / "bench.duckdb"))
        t0 = time.perf_counter()
        make_tables(con, args.rows)
        print(f"setup {time.perf_counter() - t0:.1f}s")
        t0 = time.perf_counter()
        runner = QualityRunner(root)
        runner.context  # noqa: B018 - import GX and load the context once
        print(f"gx import + context {time.perf_counter() - t0:.1f}s")
        total = 0.0
        passes = [datetime(2026, 11, 22, tzinfo=UTC)] + (
            [datetime(2026, 11, 23, tzinfo=UTC)] if args.again else []
        )
        for now in passes:
            for table in ("dim_customers", "fct_touchpoints"):
                result = runner.validate_table(con, table, now=now)
                total += result.seconds
                timings = " ".join(f"{k}={v:.2f}s" for k, v in result.timings.items())
                print(
                    f"{table} ({now:%Y-%m-%d}, {result.rows_scope}): rows={result.total_rows} "
                    f"validated={result.rows_validated} wall={result.seconds:.2f}s ({timings}) "
                    f"failed={[o.check for o in result.failed]}"
                )
        print(
            f"validation total {total:.1f}s; peak RSS {psutil.Process().memory_info().rss / 2**20:.0f} MiB "
            "(current; see /usr/bin/time for the peak)"
        )


if __name__ == "__main__":
    main()
