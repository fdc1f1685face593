"""The dbt manifest the Dagster definitions load is parsed again when a dbt file is newer than it (a `git pull`
that adds a model): a stale manifest made `touchplan run` fail with a bare KeyError naming the new model."""

from __future__ import annotations

import os
from pathlib import Path

from pipelines.defs.transform.dbt import manifest_is_stale


def _project(tmp_path: Path) -> tuple[Path, Path]:
    project = tmp_path / "dbt_project"
    (project / "models" / "staging").mkdir(parents=True)
    (project / "macros").mkdir()
    (project / "dbt_project.yml").write_text("name: x\n")
    (project / "models" / "staging" / "stg_a.sql").write_text("select 1 as a\n")
    (project / "macros" / "m.sql").write_text("{% macro m() %}1{% endmacro %}\n")
    manifest = project / "target" / "manifest.json"
    manifest.parent.mkdir()
    manifest.write_text("{}")
    return project, manifest


def _age(path: Path, seconds_ago: float) -> None:
    at = path.stat().st_mtime - seconds_ago
    os.utime(path, (at, at))


def test_a_missing_manifest_is_stale(tmp_path):
    project, manifest = _project(tmp_path)
    manifest.unlink()
    assert manifest_is_stale(project, manifest)


def test_a_manifest_newer_than_every_dbt_file_is_fresh(tmp_path):
    project, manifest = _project(tmp_path)
    for path in project.rglob("*"):
        if path.is_file() and path != manifest:
            _age(path, 60)
    assert not manifest_is_stale(project, manifest)


def test_a_model_macro_or_project_file_changed_after_the_parse_makes_it_stale(tmp_path):
    for changed in ("models/staging/stg_new.sql", "macros/m.sql", "dbt_project.yml", "models/staging/_s.yml"):
        project, manifest = _project(tmp_path / changed.replace("/", "_"))
        for path in project.rglob("*"):
            if path.is_file() and path != manifest:
                _age(path, 60)
        assert not manifest_is_stale(project, manifest)
        (project / changed).write_text("select 2 as b\n")  # written now: newer than the manifest
        assert manifest_is_stale(project, manifest), changed


def test_files_outside_what_dbt_parses_do_not_make_it_stale(tmp_path):
    project, manifest = _project(tmp_path)
    for path in project.rglob("*"):
        if path.is_file() and path != manifest:
            _age(path, 60)
    (project / "target" / "run_results.json").write_text("{}")
    (project / "logs").mkdir()
    (project / "logs" / "dbt.log").write_text("x")
    assert not manifest_is_stale(project, manifest)
