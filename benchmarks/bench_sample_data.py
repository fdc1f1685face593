"""Wall time and peak RSS of `touchplan sample-data` at a given size.

    .venv/bin/python -m benchmarks.bench_sample_data --contacts 1000000 [--out DIR] [--seed 42]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pipelines.lib.sample_data import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, help="keep the files here (default: a temporary folder, removed)")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="touchplan-bench-"))
    started = time.perf_counter()
    summary = generate(out, contacts=args.contacts, seed=args.seed, as_of=datetime(2026, 3, 4, tzinfo=UTC),
                       progress=lambda m: print(f"  [{time.perf_counter() - started:7.1f}s] {m}", file=sys.stderr))
    wall = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    size_mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6
    print(f"sample-data contacts={args.contacts}: wall {wall:.1f}s, peak RSS {peak_mb:.0f} MB, "
          f"{sum(summary.files.values())} rows in {len(summary.files)} files, {size_mb:.0f} MB on disk")
    if args.out is None:
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
