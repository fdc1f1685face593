"""Ingest against its lower bound: `touchplan ingest` on an exports folder, and plain DuckDB readers on the same
files (every CSV with `read_csv`, the event JSON with `read_json`, its schema from all records, the zip's members
with `read_csv`) into a fresh DuckDB file; wall time, CPU time and peak RSS of each (each in its own process), and
the ratio.

    .venv/bin/python -m benchmarks.bench_ingest_lower_bound --contacts 100000          # generates the exports
    .venv/bin/python -m benchmarks.bench_ingest_lower_bound --exports /tmp/b100/exports
    .venv/bin/python -m benchmarks.bench_ingest_lower_bound --exports DIR --baseline old=/other/.venv/bin/touchplan

`--baseline NAME=EXECUTABLE` (repeatable) also times another checkout's `touchplan ingest` on the same folder (one
run after the other, never at once) and compares its warehouse with ours row for row with SQL `EXCEPT ALL` both
ways (every raw table and `ingest_quarantine`, all columns but the ingest time; JSON columns by value).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

LOWER_BOUND = "lower-bound"


def run_measured(cmd: list[str]) -> dict:
    """Run `cmd` in its own process: wall seconds, CPU seconds (user + system, all threads), peak RSS (MB), and
    the last line it printed."""
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        lines = out.read().splitlines()
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
        "exit": code,
        "last_line": lines[-1] if lines else "",
    }


def lower_bound(exports: Path, warehouse: Path) -> int:
    """Read every export file with DuckDB's own readers into tables (no checks, no mapping): rows read."""
    import duckdb

    from pipelines.lib.ingest.loader import list_export_files

    con = duckdb.connect(str(warehouse))
    con.execute("SET enable_progress_bar = false")
    rows = 0
    csv_options = "all_varchar = true, null_padding = true, strict_mode = false, ignore_errors = true"
    with tempfile.TemporaryDirectory(prefix="bench-lower-bound-") as tmp:
        for n, path in enumerate(list_export_files(exports)):
            table = f"t{n}"
            name = path.name.lower()
            if name.endswith(".zip"):
                with zipfile.ZipFile(path) as archive:
                    for m, member in enumerate(archive.namelist()):
                        if member.endswith("/"):
                            continue
                        target = Path(archive.extract(member, tmp))
                        con.execute(
                            f"CREATE TABLE {table}_{m} AS SELECT * FROM read_csv('{target}', {csv_options})"
                        )
                        rows += con.execute(f"SELECT count(*) FROM {table}_{m}").fetchall()[0][0]
                        target.unlink()
                continue
            with open(path, "rb") as handle:
                head = handle.read(64).lstrip()
            if head.startswith((b"[", b"{")):
                con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_json('{path}', sample_size = -1)")
            else:
                con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv('{path}', {csv_options})")
            rows += con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    con.close()
    return rows


def compare(ours: Path, theirs: Path) -> dict[str, tuple[int, int, int]]:
    """Per table: (rows in ours, rows only in ours, rows only in theirs), all columns but the ingest time."""
    import duckdb

    from pipelines.lib.ingest.schema import RAW_TABLES

    con = duckdb.connect(str(ours), read_only=True)
    con.execute("SET enable_progress_bar = false")
    con.execute(f"ATTACH '{theirs}' AS theirs (READ_ONLY)")
    out = {}
    theirs_tables = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'theirs'"
        ).fetchall()
    }
    for table in [*RAW_TABLES, "ingest_quarantine"]:
        total = con.execute(f"SELECT count(*) FROM main.{table}").fetchall()[0][0]
        if table not in theirs_tables:
            # a table the other checkout does not have (a newer format): every row is "only ours"
            out[table] = (total, total, 0)
            continue
        skip = {"_ingested_at", "ingested_at"}
        theirs_cols = {r[0] for r in con.execute(f"DESCRIBE theirs.{table}").fetchall()}
        described = con.execute(f"DESCRIBE main.{table}").fetchall()
        json_cols = {r[0] for r in described if r[1] == "JSON"}
        cols = [r[0] for r in described if r[0] not in skip]
        # columns both sides have; a column only one side has is a schema change, not a row difference
        cols = [c for c in cols if c in theirs_cols]
        # a JSON column is compared by value (DuckDB's minified text of it): its stored text changed on
        # 2026-12-07 (SendGrid payload / custom_args: json.dumps's spaced text before, compact JSON after)
        listed = ", ".join(f'json("{c}")' if c in json_cols else f'"{c}"' for c in cols)
        a, b = f"SELECT {listed} FROM main.{table}", f"SELECT {listed} FROM theirs.{table}"
        only_ours = con.execute(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})").fetchall()[0][0]
        only_theirs = con.execute(f"SELECT count(*) FROM ({b} EXCEPT ALL {a})").fetchall()[0][0]
        out[table] = (total, only_ours, only_theirs)
    con.close()
    return out


def rows_in(warehouse: Path) -> tuple[int, int]:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    loaded, quarantined = con.execute(
        "SELECT sum(rows_loaded), sum(rows_quarantined) FROM ingest_files WHERE status = 'loaded'"
    ).fetchall()[0]
    con.close()
    return int(loaded or 0), int(quarantined or 0)


def show(label: str, m: dict) -> str:
    return f"{label:<12} {m['wall']:7.1f} s wall  {m['cpu']:7.1f} s CPU  {m['rss_mb']:7.0f} MB peak RSS"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--exports", type=Path, help="an exports folder (default: generate one, --contacts)")
    parser.add_argument("--contacts", type=int, default=100_000, help="size of the generated exports")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--workdir", type=Path, help="keep the warehouses here (default: a temporary folder)")
    parser.add_argument(
        "--baseline",
        action="append",
        default=[],
        metavar="NAME=EXECUTABLE",
        help="another checkout's touchplan, timed on the same folder and compared row for row (repeatable)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(f"--{LOWER_BOUND}-only", dest="reader", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.reader is not None:  # the child process of the lower bound
        print(lower_bound(args.exports, args.reader))
        return 0

    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-ingest-lb-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        return run(args, work)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> int:
    touchplan = str(Path(sys.executable).with_name("touchplan"))
    exports = args.exports
    if exports is None:
        exports = work / "exports"
        subprocess.run(
            [
                touchplan,
                "sample-data",
                "--out",
                str(exports),
                "--contacts",
                str(args.contacts),
                "--seed",
                str(args.seed),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    exports = exports.resolve()
    size = sum(p.stat().st_size for p in exports.rglob("*") if p.is_file() and "_truth" not in p.parts)
    print(f"exports: {exports} ({size / 1e6:,.0f} MB)")

    results: dict[str, dict] = {}
    baselines = [tuple(b.split("=", 1)) for b in args.baseline]
    for label, exe in [("ours", touchplan), *baselines]:
        warehouse = work / f"{label}.duckdb"
        warehouse.unlink(missing_ok=True)
        results[label] = run_measured(
            [exe, "ingest", "--exports", str(exports), "--warehouse", str(warehouse)]
        )
        results[label]["rows"] = rows_in(warehouse)
    reader = work / "lower_bound.duckdb"
    reader.unlink(missing_ok=True)
    results[LOWER_BOUND] = run_measured(
        [
            sys.executable,
            "-m",
            "benchmarks.bench_ingest_lower_bound",
            "--exports",
            str(exports),
            f"--{LOWER_BOUND}-only",
            str(reader),
        ]
    )

    results[LOWER_BOUND]["rows_read"] = int(results[LOWER_BOUND]["last_line"] or 0)
    for label, m in results.items():
        rows = m.get("rows")
        extra = f"  rows loaded {rows[0]:,}, quarantined {rows[1]:,}" if rows else ""
        extra = extra or f"  rows read {m['rows_read']:,}"
        print(show(label, m) + extra + (f"  EXIT {m['exit']}" if m["exit"] else ""))
    lb = results[LOWER_BOUND]
    for label in [k for k in results if k != LOWER_BOUND]:
        m = results[label]
        print(
            f"ratio {label} / lower bound: {m['wall'] / lb['wall']:.1f}x wall, {m['cpu'] / lb['cpu']:.1f}x CPU, "
            f"{m['rss_mb'] / lb['rss_mb']:.1f}x peak RSS"
        )
    for label, _ in baselines:
        diff = compare(work / "ours.duckdb", work / f"{label}.duckdb")
        same = all(not a and not b for _, a, b in diff.values())
        print(f"ours against {label}: " + ("the same row for row" if same else "DIFFERENT"))
        for table, (total, a, b) in diff.items():
            print(f"  {table:<28} {total:>9,} rows; only ours {a}, only {label} {b}")
        results[f"compare_{label}"] = {t: list(v) for t, v in diff.items()}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0 if all(m.get("exit", 0) == 0 for m in results.values() if "exit" in m) else 1


if __name__ == "__main__":
    sys.exit(main())
