"""Planning reads a missing mart as an empty stand-in whose columns and types are the mart's documented ones (its
dbt YAML, found by model name anywhere under dbt_project/models), not a copy written in Python (issue #18)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

from pipelines.lib.dbt_schema import MODELS_DIR, SchemaNotDocumented, documented_columns
from pipelines.lib.delivery.ledger import LEDGER_DDL, LEDGER_TABLE
from pipelines.lib.planning.model import UPSTREAM_TABLES, _source


def _yaml_columns(name: str) -> list[tuple[str, str | None]]:
    """The columns of `name` as the YAML files say, read here independently of pipelines.lib.dbt_schema."""
    for path in MODELS_DIR.rglob("*.yml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        entries = list(doc.get("models") or []) + [
            t for s in doc.get("sources") or [] for t in s.get("tables") or []
        ]
        for entry in entries:
            if entry.get("name") == name and entry.get("columns"):
                return [(c["name"], c.get("data_type")) for c in entry["columns"]]
    raise AssertionError(f"{name} is not documented with columns")


@pytest.mark.parametrize("table", UPSTREAM_TABLES)
def test_a_missing_upstream_table_is_read_with_its_documented_columns_and_types(table):
    con = duckdb.connect()
    standin = con.execute(f"DESCRIBE SELECT * FROM {_source(con, table, set())}").fetchall()
    assert [(row[0], row[1]) for row in standin] == _yaml_columns(table)


@pytest.mark.parametrize("table", UPSTREAM_TABLES)
def test_a_present_table_without_a_documented_column_reads_it_as_null(table):
    con = duckdb.connect()
    first, *rest = documented_columns(table)
    # the table as built, minus its last documented column
    kept = [first, *rest[:-1]]
    con.execute(f'CREATE TABLE "{table}" ({", ".join(f"{n} {t}" for n, t in kept)})')
    con.execute(f'INSERT INTO "{table}" ({first[0]}) VALUES (NULL)')
    read = con.execute(f"DESCRIBE SELECT * FROM {_source(con, table, {table})}").fetchall()
    assert [(row[0], row[1]) for row in read] == documented_columns(table)
    dropped = rest[-1][0]
    assert con.execute(f"SELECT count({dropped}) FROM {_source(con, table, {table})}").fetchone()[0] == 0


def test_the_send_ledger_is_documented_as_delivery_creates_it():
    con = duckdb.connect()
    con.execute(LEDGER_DDL)
    created = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [LEDGER_TABLE],
    ).fetchall()
    assert created == documented_columns(LEDGER_TABLE)


def _models(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "models" / "somewhere" / "deeper"
    folder.mkdir(parents=True)
    (folder / "anything.yml").write_text(text)
    return tmp_path / "models"


def test_a_column_without_data_type_is_an_error_naming_the_file_and_column(tmp_path):
    models = _models(
        tmp_path,
        "version: 2\nmodels:\n  - name: mart\n    columns:\n      - name: a\n        data_type: VARCHAR\n"
        "      - name: b\n        description: no type\n",
    )
    with pytest.raises(SchemaNotDocumented, match=r"anything\.yml: mart columns without data_type: b$"):
        documented_columns("mart", models)


def test_a_table_nobody_documents_is_an_error(tmp_path):
    models = _models(tmp_path, "version: 2\nmodels:\n  - name: other\n")
    with pytest.raises(SchemaNotDocumented, match="no YAML documents the columns of mart"):
        documented_columns("mart", models)


def test_the_yaml_is_found_by_model_name_wherever_it_lives(tmp_path):
    models = _models(
        tmp_path,
        "version: 2\nsources:\n  - name: s\n    tables:\n      - name: mart\n        columns:\n"
        "          - name: a\n            data_type: INTEGER\n",
    )
    assert documented_columns("mart", models) == [("a", "INTEGER")]
