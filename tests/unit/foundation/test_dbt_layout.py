"""The dbt layout of docs/architecture.md ("dbt layout", issue #18): intermediate models under
models/intermediate/<area>/, and one YAML convention: one `<model>.yml` next to each model holding that model's
description, columns, data tests and unit tests; sources in `_<folder>__sources.yml`; nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipelines.lib.settings import DBT_PROJECT_DIR

MODELS = DBT_PROJECT_DIR / "models"
# The layers that follow the convention. models/staging is being rewritten (issue #18, staging SQL in the model
# files); add "staging" here when it follows it too.
LAYERS = ("staging", "intermediate", "marts")


def _sql_files() -> list[Path]:
    return sorted(p for layer in LAYERS for p in (MODELS / layer).rglob("*.sql"))


def _yaml_files() -> list[Path]:
    return sorted(p for layer in LAYERS for p in (MODELS / layer).rglob("*.yml"))


def _read(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def test_intermediate_models_live_in_an_area_folder_of_the_intermediate_layer():
    for path in sorted(MODELS.rglob("int_*.sql")):
        relative = path.relative_to(MODELS)
        assert relative.parts[0] == "intermediate" and len(relative.parts) == 3, (
            f"{relative}: not intermediate/<area>/"
        )
    for path in sorted((MODELS / "intermediate").rglob("*.sql")):
        assert path.name.startswith("int_"), f"{path.relative_to(MODELS)}: not an int_ model"


@pytest.mark.parametrize("sql", _sql_files(), ids=lambda p: p.stem)
def test_each_model_has_its_own_yaml_next_to_it_documenting_every_column(sql: Path):
    own = sql.with_suffix(".yml")
    assert own.exists(), f"{sql.relative_to(MODELS)}: no {own.name} next to it"
    models = _read(own).get("models") or []
    assert [m["name"] for m in models] == [sql.stem], f"{own.name} must describe {sql.stem} and nothing else"
    model = models[0]
    assert (model.get("description") or "").strip(), f"{own.name}: no description"
    assert model.get("columns"), f"{own.name}: no columns"
    for column in model["columns"]:
        assert (column.get("description") or "").strip(), (
            f"{own.name}: column {column['name']} has no description"
        )


def test_unit_tests_sit_in_the_yaml_of_the_model_they_test():
    for path in _yaml_files():
        for unit_test in _read(path).get("unit_tests") or []:
            assert path.stem == unit_test["model"], (
                f"{path.relative_to(MODELS)}: unit test {unit_test['name']} tests {unit_test['model']}; it belongs"
                f" in {unit_test['model']}.yml"
            )


def test_the_only_other_yaml_files_declare_sources_of_their_folder():
    models = {p.stem for p in _sql_files()}
    for path in _yaml_files():
        if path.stem in models:
            assert "sources" not in _read(path), (
                f"{path.relative_to(MODELS)}: sources go in _<folder>__sources.yml"
            )
            continue
        assert path.name == f"_{path.parent.name}__sources.yml", (
            f"{path.relative_to(MODELS)}: neither <model>.yml nor _{path.parent.name}__sources.yml"
        )
        assert set(_read(path)) <= {"version", "sources"}, (
            f"{path.relative_to(MODELS)}: holds more than sources"
        )


def test_one_sqlfluff_configuration_for_every_model():
    """The rules of pyproject.toml [tool.sqlfluff] apply to every model: no folder switches rules off."""
    local = sorted(str(p.relative_to(DBT_PROJECT_DIR)) for p in DBT_PROJECT_DIR.rglob(".sqlfluff"))
    assert local == [], f"local sqlfluff configuration: {local}"
