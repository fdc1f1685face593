"""The documented schema of a dbt model or source table: the `columns:` (name, `data_type`) of its YAML.

The dbt YAML is the one place a mart's columns are written down; Python that needs a mart's schema (the planning
stand-ins for a mart not built yet) reads it here at run time instead of copying it. YAML files are found by the
model or table name anywhere under dbt_project/models, never by path: a model's YAML may move between files.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from pipelines.lib.settings import DBT_PROJECT_DIR

MODELS_DIR = DBT_PROJECT_DIR / "models"


class SchemaNotDocumented(RuntimeError):
    pass


def _documented(models_dir: Path) -> dict[str, tuple[Path, list[dict]]]:
    """name -> (YAML file, its column entries) for every model and source table documented under models_dir.

    Parsed once per state of the files (path and modification time of each): a planning run asks for ten tables."""
    files = tuple(sorted((str(path), path.stat().st_mtime_ns) for path in models_dir.rglob("*.yml")))
    return _parse(files)


@lru_cache(maxsize=4)
def _parse(files: tuple[tuple[str, int], ...]) -> dict[str, tuple[Path, list[dict]]]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when installed: ten times faster
    found: dict[str, tuple[Path, list[dict]]] = {}
    for name_of_file, _ in files:
        path = Path(name_of_file)
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}  # noqa: S506 (a safe loader)
        entries = list(doc.get("models") or [])
        entries += [table for source in doc.get("sources") or [] for table in source.get("tables") or []]
        for entry in entries:
            name = entry.get("name")
            if name in found and found[name][1] and entry.get("columns"):
                raise SchemaNotDocumented(
                    f"{path}: columns of {name} are documented twice (also in {found[name][0]})"
                )
            if name not in found or entry.get("columns"):
                found[name] = (path, list(entry.get("columns") or []))
    return found


def documented_columns(name: str, models_dir: Path = MODELS_DIR) -> list[tuple[str, str]]:
    """(column, DuckDB type) in documented order; a clear error when the table or a column's data_type is missing."""
    entry = _documented(models_dir).get(name)
    if entry is None or not entry[1]:
        raise SchemaNotDocumented(f"{models_dir}: no YAML documents the columns of {name}")
    path, columns = entry
    missing = [c.get("name") for c in columns if not c.get("data_type")]
    if missing:
        raise SchemaNotDocumented(f"{path}: {name} columns without data_type: {', '.join(map(str, missing))}")
    return [(str(c["name"]), str(c["data_type"])) for c in columns]
