"""What the end-to-end tests share: the `touchplan` command of this venv run in a subprocess, an environment
without the caller's TOUCHPLAN_* settings or SendGrid key, and generated exports with the arguments of a run
over them (temporary paths, never data/)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

AS_OF = "2026-11-02T07:00:00"
TOUCHPLAN = str(Path(sys.executable).parent / "touchplan")


def touchplan(*args: str, env: dict[str, str], timeout: int = 1800) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TOUCHPLAN, *args], capture_output=True, text=True, env=env, check=False, timeout=timeout
    )


@dataclass(frozen=True)
class Workspace:
    root: Path
    env: dict[str, str]
    exports: Path
    warehouse: Path
    output: Path

    @property
    def run_args(self) -> list[str]:
        """`touchplan run` over the generated exports, into this workspace's warehouse and output."""
        return [
            "run",
            "--exports",
            str(self.exports),
            "--warehouse",
            str(self.warehouse),
            "--output",
            str(self.output),
            "--as-of",
            AS_OF,
        ]


def generated_workspace(root: Path, contacts: int, seed: int, **env_extra: str) -> Workspace:
    """A clean environment (own DAGSTER_HOME, no TOUCHPLAN_* or SENDGRID_API_KEY from the caller, plus
    `env_extra`) and `touchplan sample-data` exports of `contacts` contacts under `root`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOUCHPLAN_") and k != "SENDGRID_API_KEY"}
    env["DAGSTER_HOME"] = str(root / "dagster_home")
    env.update(env_extra)
    Path(env["DAGSTER_HOME"]).mkdir()
    ws = Workspace(root, env, root / "exports", root / "warehouse.duckdb", root / "out")
    generated = touchplan(
        "sample-data",
        "--out",
        str(ws.exports),
        "--contacts",
        str(contacts),
        "--seed",
        str(seed),
        "--as-of",
        AS_OF,
        env=env,
    )
    assert generated.returncode == 0, generated.stderr[-4000:]
    return ws
