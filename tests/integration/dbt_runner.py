"""Run dbt on the project against a test's own warehouse, keeping target/ and logs/ in the test's folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pipelines.lib.settings import DBT_PROJECT_DIR

DBT = Path(sys.executable).parent / "dbt"


def run_dbt(
    warehouse: Path, work: Path, args: list[str], dbt_vars: dict | None, *, check: bool = True
) -> subprocess.CompletedProcess:
    """`dbt <args>` on `warehouse`; fails the test with dbt's output when dbt fails (unless `check` is False)."""
    env = {**os.environ, "TOUCHPLAN_WAREHOUSE": str(warehouse)}
    command = [
        str(DBT),
        *args,
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    if dbt_vars is not None:
        command += ["--vars", json.dumps(dbt_vars)]
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, cwd=DBT_PROJECT_DIR, timeout=900
    )
    if check:
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    return result
