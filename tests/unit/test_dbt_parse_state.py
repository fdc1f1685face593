"""The dbt parse kept between dbt invocations (pipelines/lib/dbt_parse_state.py): keyed by the run's vars, seeded
into a new invocation's target folder, and really reused by dbt (no full re-parse)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.lib.dbt_parse_state import KEEP, PARSE_FILE, keep, run_dbt_vars, seed, state_path
from pipelines.lib.settings import DBT_PROJECT_DIR, Settings


def _settings(tmp_path: Path, warehouse: str, **overrides) -> Settings:
    return Settings.from_env(warehouse=tmp_path / warehouse, output=tmp_path / "out", **overrides)


def test_the_key_follows_the_vars_dbt_checks_and_not_their_order(tmp_path):
    one = run_dbt_vars(_settings(tmp_path, "a.duckdb"))
    reordered = dict(reversed(list(one.items())))
    other_warehouse = run_dbt_vars(_settings(tmp_path, "b.duckdb"))
    assert state_path(one, tmp_path) == state_path(reordered, tmp_path)
    assert state_path(one, tmp_path) != state_path(other_warehouse, tmp_path)
    assert state_path(one, tmp_path).parent == tmp_path / "target" / "partial_parse"


def test_without_as_of_the_vars_are_the_same_at_any_time(tmp_path):
    """`now` left out of the vars: two runs (or two steps) a second apart start from the same parse."""
    settings = _settings(tmp_path, "a.duckdb")
    assert settings.as_of is None
    assert "as_of" not in run_dbt_vars(settings)
    with_as_of = run_dbt_vars(_settings(tmp_path, "a.duckdb", as_of=Settings.from_env().as_of_or_now()))
    assert "as_of" in with_as_of


def test_a_kept_parse_seeds_the_next_target_folder_and_old_ones_are_dropped(tmp_path):
    state = tmp_path / "target" / "partial_parse" / "k0.msgpack"
    assert not seed(state, tmp_path / "step0")  # nothing kept yet: dbt parses in full, as before
    first = tmp_path / "step1"
    first.mkdir()
    (first / PARSE_FILE).write_bytes(b"parse one")
    keep(first, state)
    second = tmp_path / "step2"
    assert seed(state, second)
    assert (second / PARSE_FILE).read_bytes() == b"parse one"

    for i in range(1, KEEP + 3):
        os.utime(state, (i, i))  # older than the next ones
        state = state.with_name(f"k{i}.msgpack")
        keep(first, state)
    kept = sorted(p.name for p in state.parent.iterdir())
    assert len(kept) == KEEP and "k0.msgpack" not in kept and f"k{KEEP + 2}.msgpack" in kept


@pytest.mark.slow
def test_dbt_reuses_the_kept_parse_for_the_same_vars_and_not_for_another_warehouse(tmp_path):
    """Real dbt: a parse made with a run's vars, kept and seeded into a fresh target folder, is reused by the next
    dbt command with the same vars ("no changes found"); with another warehouse dbt says the profile changed."""
    dbt = Path(sys.executable).parent / "dbt"
    vars_a = run_dbt_vars(_settings(tmp_path, "a.duckdb"))
    vars_b = run_dbt_vars(_settings(tmp_path, "b.duckdb"))

    def parse(target: Path, dbt_vars: dict) -> str:
        env = {**os.environ, "DBT_TARGET_PATH": str(target), "DBT_LOG_PATH": str(target)}
        env["DBT_PROFILES_DIR"] = str(DBT_PROJECT_DIR)
        subprocess.run(
            [str(dbt), "parse", "--vars", json.dumps(dbt_vars)],
            cwd=DBT_PROJECT_DIR,
            env=env,
            capture_output=True,
            check=True,
        )
        return (target / "dbt.log").read_text(encoding="utf-8")  # debug level: dbt's partial-parsing verdict

    state = state_path(vars_a, tmp_path)
    parse(tmp_path / "first", vars_a)
    keep(tmp_path / "first", state)

    assert seed(state, tmp_path / "second")
    assert "no changes found, skipping parsing" in parse(tmp_path / "second", vars_a)

    assert seed(state, tmp_path / "third")
    assert "profile has changed" in parse(tmp_path / "third", vars_b)
