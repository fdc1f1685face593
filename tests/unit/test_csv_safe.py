"""The spreadsheet-safe rule (OWASP CSV injection) in Python and as DuckDB SQL, and the COPY writer."""

from __future__ import annotations

import csv

import duckdb
import pytest

from pipelines.lib.csv_safe import copy_csv, csv_safe_sql, escape_cell

HOSTILE = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://evil.example")']
HARMLESS = ["ada@example.com", "1-2", "a=b", "'=already", " =spaced", "", "Ünïcode"]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_value_that_starts_like_a_formula_gets_a_leading_quote(value):
    assert escape_cell(value) == "'" + value


@pytest.mark.parametrize("value", HARMLESS)
def test_other_values_are_unchanged(value):
    assert escape_cell(value) == value


def test_the_sql_expression_agrees_with_python():
    con = duckdb.connect()
    for value in [*HOSTILE, *HARMLESS, None]:
        got = con.execute(f"SELECT {csv_safe_sql('$v')}", {"v": value}).fetchone()[0]
        assert got == escape_cell(value), repr(value)


def test_copy_csv_escapes_text_columns_and_keeps_numbers(tmp_path):
    con = duckdb.connect()
    con.execute("CREATE TABLE t (name VARCHAR, amount DOUBLE, n INTEGER)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", [(v, -1.5, -3) for v in HOSTILE])
    path = tmp_path / "out" / "t.csv"
    copy_csv(con, "SELECT * FROM t", path)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["name"] for r in rows] == ["'" + v for v in HOSTILE]
    assert {r["amount"] for r in rows} == {"-1.5"} and {r["n"] for r in rows} == {"-3"}
    assert con.execute("SELECT list(name) FROM t").fetchone()[0] == HOSTILE  # the table keeps raw values
