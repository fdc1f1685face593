"""dbt's parse of the project (`partial_parse.msgpack`), kept between dbt invocations per set of run settings.

dbt reuses a previous parse only when the `--vars`, the profile's connection values (warehouse path, memory cap,
spill folder) and the project files are the same; anything else costs a full parse of the project (about 10 s of
CPU at demo size, more than the models take to build). A run's three dbt steps pass the same vars, so each step
starts from the parse the step before it left (or the previous run with the same settings left); `make install`
parses once with the vars a default `make run` passes, so even a fresh clone's first run starts from a matching
parse. The parses are kept under `dbt_project/target/partial_parse/<key>.msgpack`, the key a hash of the vars:
runs with other warehouses (tests, benchmarks) do not evict the demo's. dbt checks the vars, profile and file
hashes itself, so a stale or foreign file only costs the full parse it would have anyway.

`python -m pipelines.lib.dbt_parse_state` (the Makefile's install step) parses for the settings of the
environment (TOUCHPLAN_* variables, else the defaults).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from pipelines.lib.settings import DBT_PROJECT_DIR, Settings

PARSE_FILE = "partial_parse.msgpack"
STATE_FOLDER = "partial_parse"
KEEP = 8  # parses kept (most recently used first): the demo's plus a few test or benchmark warehouses


def run_dbt_vars(settings: Settings) -> dict[str, Any]:
    """The `--vars` of every `dbt build` of a run: the model vars (config, as-of) and the profile's (warehouse
    file, memory cap, spill folder: dbt_project/profiles.yml)."""
    from pipelines.lib.config.dbt_vars import collect_dbt_vars

    dbt_vars = {**collect_dbt_vars(settings), **settings.dbt_profile_vars()}
    if settings.as_of is None:
        # No --as-of: the models take the current time themselves (int_insight__as_of, crm_health: to the second,
        # as the var would). Left in, `now` would change dbt's vars between the three dbt steps of a run (and
        # between runs) and force a full re-parse of the project in each.
        dbt_vars.pop("as_of", None)
    return dbt_vars


def state_path(dbt_vars: dict[str, Any], project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """Where the parse made with these vars is kept (dbt's version is part of the key: its parse format is)."""
    text = json.dumps(dbt_vars, sort_keys=True, default=str) + importlib.metadata.version("dbt-core")
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    return Path(project_dir) / "target" / STATE_FOLDER / f"{key}.msgpack"


def seed(state: Path, target_path: Path) -> bool:
    """Put the kept parse into an invocation's target folder before dbt starts (dagster-dbt copies the project's
    `target/partial_parse.msgpack` only when the folder has none)."""
    if not state.exists():
        return False
    try:
        target_path.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(state, target_path / PARSE_FILE)
    except OSError:
        return False
    return True


def keep(target_path: Path, state: Path) -> None:
    """Keep the parse an invocation left in its target folder for the next invocation with the same vars
    (atomically: runs may overlap), and drop the least recently used beyond KEEP."""
    source = target_path / PARSE_FILE
    if not source.exists():
        return
    temporary = state.with_name(f"{state.name}.{os.getpid()}.tmp")
    try:
        state.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, temporary)
        os.replace(temporary, state)
        kept = sorted(state.parent.glob("*.msgpack"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        temporary.unlink(missing_ok=True)  # a read-only project folder: every first step parses in full


def main() -> int:
    """Parse the project with the vars a run with the environment's settings passes: target/manifest.json (the
    definitions read it) and the kept parse that run's first dbt step starts from."""
    settings = Settings.from_env()
    dbt_vars = run_dbt_vars(settings)
    dbt = Path(sys.prefix) / "bin" / "dbt"
    command = [str(dbt if dbt.exists() else "dbt"), "parse", "--quiet", "--vars", json.dumps(dbt_vars)]
    env = {**os.environ, "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)}
    env.pop("DBT_TARGET_PATH", None)
    completed = subprocess.run(command, cwd=DBT_PROJECT_DIR, env=env, stdout=subprocess.DEVNULL, check=False)
    if completed.returncode != 0:
        return completed.returncode
    keep(Path(DBT_PROJECT_DIR) / "target", state_path(dbt_vars))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
