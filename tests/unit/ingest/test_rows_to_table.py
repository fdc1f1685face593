"""Rows a Python parser produced reach DuckDB text for text, through Arrow or through the NDJSON file."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.lib.ingest import tabular

VALUES = [
    "plain",
    "",  # an empty text stays an empty text
    None,
    "  padded  ",
    'a "quoted" value, with a comma',
    "two\r\nlines\nand a lone\rCR",
    "tab\there",
    "NUL \x00 inside",
    "Zoë Müller 北京 😀",
    "\\u0041 is not an escape here",
    "null",
    "123",
    "2026-12-07",
    "true",
]


@pytest.mark.parametrize("arrow", [False, True], ids=["ndjson", "arrow"])
def test_rows_reach_duckdb_text_for_text(monkeypatch, arrow: bool):
    monkeypatch.setattr(tabular, "_through_arrow", lambda values: arrow)
    con = duckdb.connect()
    lines = list(range(1, len(VALUES) + 1))
    tabular.create_table_from_columns(
        con,
        "t",
        {"_line": "BIGINT", "c0": "VARCHAR", "_raw": "VARCHAR"},
        {"_line": lines, "c0": VALUES, "_raw": VALUES[::-1]},
    )
    assert [(d[0], d[1]) for d in con.execute("DESCRIBE t").fetchall()] == [
        ("_line", "BIGINT"),
        ("c0", "VARCHAR"),
        ("_raw", "VARCHAR"),
    ]
    assert con.execute("SELECT _line, c0, _raw FROM t ORDER BY _line").fetchall() == list(
        zip(lines, VALUES, VALUES[::-1], strict=True)
    )


@pytest.mark.parametrize("arrow", [False, True], ids=["ndjson", "arrow"])
def test_no_rows_is_an_empty_table_with_the_columns(monkeypatch, arrow: bool):
    monkeypatch.setattr(tabular, "_through_arrow", lambda values: arrow)
    con = duckdb.connect()
    tabular.create_table_from_columns(
        con, "t", {"_line": "BIGINT", "reason": "VARCHAR"}, {"_line": [], "reason": []}
    )
    assert con.execute("SELECT count(*) FROM t").fetchall() == [(0,)]
    assert [d[0] for d in con.execute("DESCRIBE t").fetchall()] == ["_line", "reason"]
