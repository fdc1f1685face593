"""The whole pipeline, step by step: `touchplan run` on an exports folder, with wall time, CPU time and peak RSS.

    .venv/bin/python -m benchmarks.bench_pipeline --contacts 2000            # the demo's size (generates exports)
    .venv/bin/python -m benchmarks.bench_pipeline --exports DIR --as-of 2026-12-07T12:00:00+00:00
    BENCH_SIZE=1000000 make bench-pipeline                                   # the issue #17 figure at 1M

Runs `touchplan run` (email in dry run) in its own process and reads its progress lines (`  > step`, `  ok step
(12.3s)`) as they come. Per step: wall time from the progress lines, CPU time (user + system) of the whole process
tree between the step's start and end, sampled from /proc every 0.2 s (dbt's subprocesses included: a finished
child's CPU is counted through its parent's `children_*` times). Also: the run's own "finished in" time (the
pipeline time: from the job's start to its end, without the CLI's start-up), the process's wall and CPU time and
the peak RSS of any process of the run (`wait4`'s `ru_maxrss`: the largest of the process and every descendant it
waited for). The exports folder is generated with `touchplan sample-data` unless `--exports` names one; its
generation is timed apart and is not part of the pipeline's figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

STEP_START = re.compile(r"^  > (\S+)\s*$")
STEP_END = re.compile(r"^  (ok|FAILED) ([^\s:]+)(?: \(([\d.]+)s\))?")
FINISHED = re.compile(r"finished in ([\d.]+)s")


def tree_cpu(proc: psutil.Process) -> float:
    """CPU seconds (user + system) of `proc`, every living descendant, and every child they have waited for."""
    total = 0.0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    for p in procs:
        try:
            t = p.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def run_pipeline(cmd: list[str], log_path: Path, interval: float = 0.2) -> dict:
    """Run `cmd`, timing each progress step: {"steps": [...], "wall", "cpu", "rss_mb", "exit", "pipeline_s"}."""
    steps: list[dict] = []
    open_steps: dict[str, dict] = {}
    cpu_now = [0.0]
    finished: list[float] = []
    started = time.perf_counter()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # each progress line as it is printed, not at exit
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1, env=env
    )
    ps = psutil.Process(proc.pid)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            cpu_now[0] = max(cpu_now[0], tree_cpu(ps))
            stop.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with open(log_path, "w") as log:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            log.flush()
            line = line.rstrip("\n")
            now = time.perf_counter() - started
            cpu_now[0] = max(cpu_now[0], tree_cpu(ps))
            if m := STEP_START.match(line):
                open_steps[m.group(1)] = {"step": m.group(1), "start": now, "cpu_start": cpu_now[0]}
            elif (m := STEP_END.match(line)) and m.group(2) in open_steps:
                step = open_steps.pop(m.group(2))
                step.update(
                    status=m.group(1),
                    wall=float(m.group(3)) if m.group(3) else now - step["start"],
                    cpu=cpu_now[0] - step["cpu_start"],
                )
                steps.append(step)
            elif m := FINISHED.search(line):
                finished.append(float(m.group(1)))
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    stop.set()
    sampler.join()
    return {
        "steps": [{k: s[k] for k in ("step", "status", "wall", "cpu")} for s in steps],
        "wall": time.perf_counter() - started,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
        "exit": proc.returncode,
        "pipeline_s": finished[-1] if finished else None,
    }


def render(result: dict) -> str:
    lines = [f"{'step':<44} {'wall s':>9} {'CPU s':>9}"]
    for s in result["steps"]:
        flag = "" if s["status"] == "ok" else f"  ({s['status']})"
        lines.append(f"{s['step']:<44} {s['wall']:>9.1f} {s['cpu']:>9.1f}{flag}")
    lines.append(
        f"{'sum of steps':<44} {sum(s['wall'] for s in result['steps']):>9.1f} "
        f"{sum(s['cpu'] for s in result['steps']):>9.1f}"
    )
    pipeline = f"{result['pipeline_s']:.1f} s" if result["pipeline_s"] is not None else "n/a"
    lines.append(
        f"pipeline time (the run's 'finished in'): {pipeline}; whole process: {result['wall']:.1f} s wall, "
        f"{result['cpu']:.1f} s CPU, peak RSS {result['rss_mb']:,.0f} MB (largest process); exit {result['exit']}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--exports", type=Path, help="an exports folder (default: generate one, --contacts)")
    parser.add_argument("--contacts", type=int, default=2000, help="size of the generated exports")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", help="the run's --as-of (default: the time of the run)")
    parser.add_argument(
        "--workdir", type=Path, help="keep exports, warehouse and output here (default: temporary)"
    )
    parser.add_argument(
        "--touchplan",
        default=str(Path(sys.executable).with_name("touchplan")),
        help="the touchplan executable to time (another checkout's, to compare)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_pipeline_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        figures: dict = {"contacts": None if args.exports else args.contacts}
        exports = args.exports
        if exports is None:
            exports = work / "exports"
            if exports.exists():
                shutil.rmtree(exports)
            started = time.perf_counter()
            gen = [args.touchplan, "sample-data", "--out", str(exports), "--contacts", str(args.contacts)]
            subprocess.run([*gen, "--seed", str(args.seed)], check=True, stdout=subprocess.DEVNULL)
            figures["generate_s"] = time.perf_counter() - started
            print(
                f"exports: {args.contacts:,} contacts generated in {figures['generate_s']:.1f} s ({exports})"
            )
        warehouse, output = work / "warehouse.duckdb", work / "out"
        for stale in work.glob("warehouse.duckdb*"):
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
        cmd = [args.touchplan, "run", "--exports", str(exports), "--warehouse", str(warehouse)]
        cmd += ["--output", str(output)] + (["--as-of", args.as_of] if args.as_of else [])
        load = os.getloadavg()[0]
        result = run_pipeline(cmd, work / "run.log")
        figures.update(result, load_before=load, exports=str(exports))
        print(f"touchplan run (load average {load:.1f} before; log: {work / 'run.log'})")
        print(render(result))
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2))
        return result["exit"]
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
