"""benchmarks/bench_pipeline.py reads `touchplan run`'s progress lines and charges each step the CPU of the
whole process tree, including a child process the step started and waited for (how dbt runs)."""

from __future__ import annotations

import sys
import textwrap

from benchmarks.bench_pipeline import render, run_pipeline

FAKE_RUN = textwrap.dedent(
    """
    import subprocess, sys, time
    def burn(seconds):
        end = time.process_time() + seconds
        while time.process_time() < end:
            pass
    print("  > ingest", flush=True)
    time.sleep(0.3)
    print("  ok ingest (0.3s)", flush=True)
    print("  > dbt_models", flush=True)
    subprocess.run([sys.executable, "-c", "import time\\nend = time.process_time() + 0.8\\n"
                    "while time.process_time() < end: pass"], check=True)
    print("  ok dbt_models (0.9s)", flush=True)
    print("  > send_ledger", flush=True)
    print("  FAILED send_ledger: boom", flush=True)
    print("Touchplan run abc finished in 1.5s", flush=True)
    sys.exit(3)
    """
)


def test_steps_get_their_wall_time_and_the_cpu_of_the_children_they_waited_for(tmp_path):
    script = tmp_path / "fake_run.py"
    script.write_text(FAKE_RUN)
    result = run_pipeline([sys.executable, str(script)], tmp_path / "run.log", interval=0.05)
    steps = {s["step"]: s for s in result["steps"]}
    assert list(steps) == ["ingest", "dbt_models", "send_ledger"]
    assert steps["ingest"]["wall"] == 0.3 and steps["dbt_models"]["wall"] == 0.9
    assert steps["ingest"]["cpu"] < 0.3  # it slept
    assert steps["dbt_models"]["cpu"] >= 0.7  # the child's 0.8 s of CPU, counted after it exited
    assert steps["send_ledger"]["status"] == "FAILED"
    assert result["exit"] == 3 and result["pipeline_s"] == 1.5
    assert "  > ingest" in (tmp_path / "run.log").read_text()
    table = render(result)
    assert "dbt_models" in table and "(FAILED)" in table and "exit 3" in table
