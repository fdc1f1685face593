"""Daily-run benchmark (issue #17): a full `touchplan run`, then one simulated day with about 1% new rows, on the
same warehouse; wall and CPU time of both runs, the wall time of every step, and the daily/full ratio.

    .venv/bin/python -m benchmarks.bench_daily --contacts 20000 [--work /tmp/bench_daily] [--keep]
    .venv/bin/python -m benchmarks.bench_daily --generated /tmp/gen100k --work /tmp/bench_daily   # reuse exports

`touchplan sample-data` generates the exports; the newest 1% of the SendGrid events (by time; events are most of
the rows) are held back, with the newest Zoom webinar's reports, and delivered as the next day's files
(`sendgrid/events-day.json`, the webinar's two reports; at scale the generator writes `events-NNN.json` parts, and
each keeps its name minus its held-back events). The full run reads everything else with --as-of the
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
    if result.returncode != 0 and args[0] != "run":
        sys.exit(f"touchplan {args[0]} failed:\n{result.stderr[-3000:]}")
    failed = None
    if result.returncode != 0:  # a failed run: the steps that ran are still printed, then the error
        failed = "\n".join(
            line for line in result.stderr.splitlines() if "FAILED" in line or "error:" in line
        )
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
        "failed": failed,
    }


def _write_events(path: Path, events: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[\n" + ",\n".join(json.dumps(e) for e in events) + "\n]\n", encoding="utf-8")


def _split(generated: Path, exports: Path, day_files: Path) -> tuple[int, int]:
    """Copy the exports minus the day's share into `exports`; write the day's files under `day_files`.

    The generator writes the events in one `sendgrid/events.json` or, at scale, in `events-NNN.json` parts: each
    file keeps its name and loses its held-back events."""
    event_files = sorted((generated / "sendgrid").glob("events*.json"))
    names = {p.name for p in event_files}
    shutil.copytree(
        generated,
        exports,
        ignore=lambda _d, files: [f for f in files if f in names or f in ("_truth", "_history")],
    )
    keys = []
    for index, path in enumerate(event_files):
        for position, event in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            keys.append((event.get("timestamp") or 0, event.get("sg_event_id") or "", index, position))
    keys.sort()
    held_count = max(1, len(keys) // 100)
    held = {(k[2], k[3]) for k in keys[-held_count:]}
    day_events: list[dict] = []
    for index, path in enumerate(event_files):
        events = json.loads(path.read_text(encoding="utf-8"))
        day_events += [e for position, e in enumerate(events) if (index, position) in held]
        _write_events(
            exports / "sendgrid" / path.name,
            [e for position, e in enumerate(events) if (index, position) not in held],
        )
    day_events.sort(key=lambda e: (e.get("timestamp") or 0, e.get("sg_event_id") or ""))
    _write_events(day_files / "sendgrid" / "events-day.json", day_events)
    webinar = sorted(p.name.split("_")[0] for p in (exports / "zoom").glob("*_attendee_report.csv"))[-1]
    for report in (exports / "zoom").glob(f"{webinar}_*.csv"):
        (day_files / "zoom").mkdir(parents=True, exist_ok=True)
        shutil.move(report, day_files / "zoom" / report.name)
    return len(keys), held_count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", default="2026-11-02T07:00:00", help="the generated exports' as-of time")
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench_daily"))
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--generated",
        type=Path,
        help="use these already generated exports (read only) instead of generating: the same data for a "
        "before/after comparison",
    )
    args = parser.parse_args(argv)

    work = args.work
    if args.generated and args.generated.resolve().is_relative_to(work.resolve()):
        parser.error("--generated must be outside --work (the work folder is emptied first)")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    generated, exports, day_files = args.generated or work / "generated", work / "exports", work / "day"
    if args.generated is None:
        _timed(
            [
                "sample-data",
                "--out",
                str(generated),
                "--contacts",
                str(args.contacts),
                "--seed",
                str(args.seed),
            ]
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
        f"bench_daily: {'the exports in ' + str(args.generated) if args.generated else str(args.contacts) + ' contacts'}, {total_events} SendGrid events, day: {new_events} new events"
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
    for name, run_ in (("full", full), ("daily", daily)):
        if run_["failed"]:
            print(f"the {name} run FAILED (steps after the failure did not run):\n{run_['failed']}")
    if full["failed"] or daily["failed"]:
        return 1
    if not args.keep:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
