"""Per-step wall and CPU time of one `touchplan run` (issue #17's demo figures in docs/benchmarks.md).

    python -m benchmarks.bench_demo_run -- --exports EXPORTS --warehouse W --output OUT --as-of 2026-12-07T12:00:00+00:00

Starts `touchplan run` with the given options and samples, every 0.2 s, the CPU time (user + system) of the process,
of its finished children (`cutime`/`cstime`: the dbt subprocesses once waited) and of its live descendants, all
from /proc (Linux). Each step's share is the CPU spent between its `> step` and `ok step` progress lines; the rest
(Python and Dagster start-up, definitions, run summary) is shown as "outside the steps". Load average is printed:
on a shared machine, compare CPU, not wall.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
_STEP = re.compile(r"^  (>|ok|FAILED) ([\w]+)")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from 3 on (state, ppid, ...)


def _cpu_seconds(root: int) -> float:
    """CPU of `root` and its waited children, plus every live descendant's own."""
    fields = _stat(root)
    if fields is None:
        return 0.0
    total = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime (fields 14-17)
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None:
                children.setdefault(int(stat[1]), []).append(int(entry))
    stack = list(children.get(root, []))
    while stack:
        pid = stack.pop()
        stat = _stat(pid)
        if stat is not None:
            total += int(stat[11]) + int(stat[12])
        stack.extend(children.get(pid, []))
    return total / TICKS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_args", nargs=argparse.REMAINDER, help="options for `touchplan run` (after --)")
    args = parser.parse_args(argv)
    run_args = [a for a in args.run_args if a != "--"]
    touchplan = shutil.which("touchplan", path=str(Path(sys.executable).parent)) or "touchplan"
    load_before = os.getloadavg()
    started = time.perf_counter()
    process = subprocess.Popen(
        [touchplan, "run", *run_args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    samples: list[tuple[float, float]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.perf_counter(), _cpu_seconds(process.pid)))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    marks: list[tuple[str, str, float, float]] = []  # (kind, step, time, cpu)
    assert process.stdout is not None
    for line in process.stdout:
        sys.stdout.write(line)
        match = _STEP.match(line)
        if match:
            marks.append((match.group(1), match.group(2), time.perf_counter(), _cpu_seconds(process.pid)))
    # the last sample before the process is reaped: its own and its children's totals
    final_cpu = _cpu_seconds(process.pid) or (samples[-1][1] if samples else 0.0)
    process.wait()
    done.set()
    wall = time.perf_counter() - started
    load_after = os.getloadavg()

    rows: list[tuple[str, float, float]] = []
    open_steps: dict[str, tuple[float, float]] = {}
    for kind, step, at, cpu in marks:
        if kind == ">":
            open_steps[step] = (at, cpu)
        elif step in open_steps:
            began, cpu0 = open_steps.pop(step)
            rows.append((step, at - began, cpu - cpu0))
    in_steps_wall = sum(r[1] for r in rows)
    in_steps_cpu = sum(r[2] for r in rows)
    print("\nstep | wall s | CPU s")
    print("---|---|---")
    for step, step_wall, step_cpu in rows:
        print(f"{step} | {step_wall:.1f} | {step_cpu:.1f}")
    print(f"sum of steps | {in_steps_wall:.1f} | {in_steps_cpu:.1f}")
    print(f"outside the steps | {wall - in_steps_wall:.1f} | {final_cpu - in_steps_cpu:.1f}")
    print(f"whole `touchplan run` | {wall:.1f} | {final_cpu:.1f}")
    print(
        f"load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f}; exit {process.returncode}"
    )
    return process.returncode


if __name__ == "__main__":
    raise SystemExit(main())
