"""Daily-run benchmark (issue #17): a full `touchplan run`, then one simulated day with about 1% new rows, on the
same warehouse; wall and CPU time of both runs, the wall time of every step, and the daily/full ratio.

    .venv/bin/python -m benchmarks.bench_daily --contacts 20000 [--work /tmp/bench_daily] [--keep]

`touchplan sample-data` generates the exports; the newest 1% of the SendGrid events (by time; events are most of
the rows) are held back, with the newest Zoom webinar's reports, and delivered as the next day's files
(`sendgrid/events-day.json`, the webinar's two reports). The full run reads everything else with --as-of the
generated day minus one; the daily run reads the folder with the day's files added, --as-of a day later. Each run
is a subprocess; CPU time is its user+sys (children included), peak RSS the largest of any process.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

TOUCHPLAN = str(Path(sys.executable).parent / "touchplan")
STEP = re.compile(r"^\s+ok (\S+) \(([\d.]+)s\)$")


def _timed(args: list[str]) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = subprocess.run([TOUCHPLAN, *args], capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"touchplan {args[0]} failed:\n{result.stderr[-3000:]}")
    steps = {}
    for line in result.stderr.splitlines():
        match = STEP.match(line)
        if match:
            steps[match.group(1)] = float(match.group(2))
    return {
        "wall": wall,
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "peak_rss_mb": after.ru_maxrss / 1024,  # the largest child so far (kilobytes on Linux)
        "steps": steps,
    }


def _split(generated: Path, exports: Path, day_files: Path) -> tuple[int, int]:
    """Copy the exports minus the day's share into `exports`; write the day's files under `day_files`."""
    # the generator writes events.json, or events-001.json, events-002.json, ... above its chunk size
    event_files = sorted((generated / "sendgrid").glob("events*.json"))
    shutil.copytree(
        generated,
        exports,
        ignore=shutil.ignore_patterns("_truth", "_history", "events.json", "events-*.json"),
    )
    events = [e for f in event_files for e in json.loads(f.read_text(encoding="utf-8"))]
    events.sort(key=lambda e: (e.get("timestamp") or 0, e.get("sg_event_id") or ""))
    held = max(1, len(events) // 100)
    for name, part in (("events.json", events[:-held]), ("events-day.json", events[-held:])):
        target = (exports if name == "events.json" else day_files) / "sendgrid" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("[\n" + ",\n".join(json.dumps(e) for e in part) + "\n]\n", encoding="utf-8")
    webinar = sorted(p.name.split("_")[0] for p in (exports / "zoom").glob("*_attendee_report.csv"))[-1]
    for report in (exports / "zoom").glob(f"{webinar}_*.csv"):
        (day_files / "zoom").mkdir(parents=True, exist_ok=True)
        shutil.move(report, day_files / "zoom" / report.name)
    return len(events), held


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", default="2026-11-02T07:00:00", help="the generated exports' as-of time")
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench_daily"))
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)

    work = args.work
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    generated, exports, day_files = work / "generated", work / "exports", work / "day"
    _timed(
        ["sample-data", "--out", str(generated), "--contacts", str(args.contacts), "--seed", str(args.seed)]
        + ["--as-of", args.as_of]
    )
    total_events, new_events = _split(generated, exports, day_files)
    day = datetime.fromisoformat(args.as_of)
    run = ["run", "--exports", str(exports), "--warehouse", str(work / "warehouse.duckdb")]
    run += ["--output", str(work / "out")]

    full = _timed([*run, "--as-of", (day - timedelta(days=1)).isoformat()])
    shutil.copytree(day_files, exports, dirs_exist_ok=True)
    daily = _timed([*run, "--as-of", day.isoformat()])

    print(
        f"bench_daily: {args.contacts} contacts, {total_events} SendGrid events, day: {new_events} new events"
    )
    print(f"{'step':<46}{'full s':>10}{'daily s':>10}{'daily/full':>12}")
    for step in full["steps"]:
        f, d = full["steps"][step], daily["steps"].get(step)
        ratio = f"{d / f:.0%}" if d is not None and f else "-"
        print(f"{step:<46}{f:>10.1f}{(d if d is not None else float('nan')):>10.1f}{ratio:>12}")
    print(
        f"{'whole run, wall':<46}{full['wall']:>10.1f}{daily['wall']:>10.1f}{daily['wall'] / full['wall']:>12.0%}"
    )
    print(
        f"{'whole run, CPU (user+sys)':<46}{full['cpu']:>10.1f}{daily['cpu']:>10.1f}{daily['cpu'] / full['cpu']:>12.0%}"
    )
    print(f"peak RSS of any process: {daily['peak_rss_mb']:.0f} MB")
    if not args.keep:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
