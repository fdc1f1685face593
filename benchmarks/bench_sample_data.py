"""Wall time, CPU time and peak RSS of `touchplan sample-data` at a given size, per step and in total.

    .venv/bin/python -m benchmarks.bench_sample_data --contacts 1000000 [--out DIR] [--seed 42]

A step runs from one progress message of the generator to the next. CPU time is this process's user + system
time (DuckDB's CSV writer may use a second core); on a shared machine wall time also counts waiting for a core.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pipelines.commands.sample_data import duckdb_limits
from touchplan_sample_data import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, help="keep the files here (default: a temporary folder, removed)")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="touchplan-bench-"))
    steps: list[tuple[str, float, float]] = []  # (step, wall at start, cpu at start)
    started, cpu0 = time.perf_counter(), time.process_time()

    def progress(msg: str) -> None:
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
        steps.append((msg, wall, cpu))
        print(f"  [{wall:7.1f}s wall, {cpu:7.1f}s cpu] {msg}", file=sys.stderr, flush=True)

    summary = generate(
        out,
        contacts=args.contacts,
        seed=args.seed,
        as_of=datetime(2026, 3, 4, tzinfo=UTC),
        progress=progress,
        duckdb_config=duckdb_limits(),  # the memory cap `touchplan sample-data` gives it
    )
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    size_mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6
    print(
        f"sample-data contacts={args.contacts}: wall {wall:.1f}s, cpu {cpu:.1f}s, peak RSS {peak_mb:.0f} MB, "
        f"{sum(summary.files.values())} rows in {len(summary.files)} files, {size_mb:.0f} MB on disk, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    ends = [*steps[1:], ("end", wall, cpu)]
    for (msg, w0, c0), (_next, w1, c1) in zip(steps, ends, strict=True):
        print(f"  {msg:<45} wall {w1 - w0:7.1f}s  cpu {c1 - c0:7.1f}s")
    if args.out is None:
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
