"""`stg_sendgrid__events` built in full vs incrementally after a day's SendGrid file (issue #17).

Takes a warehouse that holds ingested SendGrid events (e.g. a `touchplan run` over `touchplan sample-data
--contacts 100000`, whose day file `benchmarks/bench_daily.py` splits off), copies it, and holds back one staged
events file (the day's, about 1% of the rows). Then, each a separate dbt process, timed (wall, CPU of dbt and its
children, peak RSS, and the model's own time from dbt's run_results.json):

1. `dbt run --full-refresh -s stg_sendgrid__events` without the day file: the full build;
2. the day file's raw rows back, `dbt run -s stg_sendgrid__event_rows` (incremental by file), then
   `dbt run -s stg_sendgrid__events`: the incremental build;
3. on a copy, `dbt run --full-refresh -s stg_sendgrid__events` with the day file, and both tables compared row for
   row (they must be equal).

    .venv/bin/python -m benchmarks.bench_sendgrid_events --warehouse WAREHOUSE.duckdb \\
        --day-file sendgrid/events-day.json --work /tmp/bench_sendgrid_events

The source warehouse is only read. Figures: docs/benchmarks.md ("stg_sendgrid__events incremental").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from pipelines.lib.settings import DBT_PROJECT_DIR

DBT = Path(sys.executable).parent / "dbt"
MODEL = "stg_sendgrid__events"


def _dbt(warehouse: Path, work: Path, args: list[str]) -> dict:
    env = {**os.environ, "TOUCHPLAN_WAREHOUSE": str(warehouse)}
    target = work / "target"
    command = [
        str(DBT),
        *args,
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(work / "logs"),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, cwd=DBT_PROJECT_DIR, check=False
    )
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"dbt {' '.join(args)} failed:\n{result.stdout[-4000:]}")
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    return {
        "wall_s": round(wall, 1),
        "cpu_s": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1),
        "peak_rss_mb": round(after.ru_maxrss / 1024),  # the largest child so far (kilobytes on Linux)
        "models_s": {r["unique_id"].split(".")[-1]: round(r["execution_time"], 1) for r in results},
        "log": [line for line in result.stdout.splitlines() if f"{MODEL}: " in line],
    }


def _same_rows(a: Path, b: Path, tables: list[str]) -> dict[str, str]:
    """Per table: 'same' when both warehouses hold the same rows (EXCEPT ALL both ways), else the counts."""
    con = duckdb.connect()
    con.execute("ATTACH ? AS a (READ_ONLY)", [str(a)])
    con.execute("ATTACH ? AS b (READ_ONLY)", [str(b)])
    out = {}
    for table in tables:
        only_a, only_b = (
            con.execute(
                f"SELECT count(*) FROM (FROM {x}.main.{table} EXCEPT ALL FROM {y}.main.{table})"
            ).fetchone()[0]
            for x, y in (("a", "b"), ("b", "a"))
        )
        out[table] = (
            "same" if not (only_a or only_b) else f"differs: {only_a} only incremental, {only_b} only full"
        )
    con.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--warehouse", type=Path, required=True, help="a warehouse with SendGrid events (read only)"
    )
    parser.add_argument("--day-file", default="sendgrid/events-day.json", help="the _source_file held back")
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench_sendgrid_events"))
    args = parser.parse_args(argv)

    work = args.work
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    incremental, full = work / "incremental.duckdb", work / "full.duckdb"
    shutil.copy2(args.warehouse, incremental)

    con = duckdb.connect(str(incremental))
    total = con.execute("select count(*) from raw_email_events where source_system = 'sendgrid'").fetchone()[
        0
    ]
    con.execute("create schema bench")
    con.execute(
        "create table bench.day as select * from raw_email_events where _source_file = ?", [args.day_file]
    )
    day = con.execute("select count(*) from bench.day").fetchone()[0]
    if not day:
        sys.exit(f"no raw rows of {args.day_file} in {args.warehouse}")
    con.execute("delete from raw_email_events where _source_file = ?", [args.day_file])
    con.close()
    print(f"SendGrid raw rows: {total:,}; day file {args.day_file}: {day:,} ({day / total:.2%})")

    setup = _dbt(
        incremental, work / "setup", ["run", "--full-refresh", "-s", "stg_sendgrid__event_rows", MODEL]
    )
    print(f"setup (both models, full, without the day file): {setup['wall_s']} s")
    runs = {"full": _dbt(incremental, work / "full_build", ["run", "--full-refresh", "-s", MODEL])}

    con = duckdb.connect(str(incremental))
    con.execute("insert into raw_email_events select * from bench.day")
    con.execute("drop schema bench cascade")
    con.close()
    runs["event_rows_incremental"] = _dbt(
        incremental, work / "rows", ["run", "-s", "stg_sendgrid__event_rows"]
    )
    runs["incremental"] = _dbt(incremental, work / "incremental", ["run", "-s", MODEL])

    shutil.copy2(incremental, full)
    runs["full_with_day"] = _dbt(full, work / "full_with_day", ["run", "--full-refresh", "-s", MODEL])
    equal = _same_rows(incremental, full, [MODEL, f"{MODEL}__survivors", f"{MODEL}__files"])

    print(f"{'build':<24}{'model s':>9}{'dbt wall s':>12}{'dbt CPU s':>11}{'peak RSS MB':>13}")
    for name, run in runs.items():
        model = "stg_sendgrid__event_rows" if name == "event_rows_incremental" else MODEL
        print(
            f"{name:<24}{run['models_s'][model]:>9}{run['wall_s']:>12}{run['cpu_s']:>11}{run['peak_rss_mb']:>13}"
        )
    print("\n".join(runs["incremental"]["log"]))
    print(f"incremental vs full refresh with the day file: {equal}")
    return 0 if all(status == "same" for status in equal.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
