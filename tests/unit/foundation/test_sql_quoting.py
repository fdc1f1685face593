"""pipelines/lib/sql.py, the one quoting helper: every literal and identifier it makes reads back from DuckDB as the
value it was given, quotes and odd characters included."""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb
import pytest

from pipelines.lib.sql import quote_ident, sql_list, sql_literal

AWKWARD = ["plain", "O'Brien", "it''s", 'a"b', "semi;colon -- comment", "", "naïve ☃", "back\\slash"]


@pytest.fixture()
def con():
    with duckdb.connect() as c:
        yield c


@pytest.mark.parametrize("text", AWKWARD)
def test_text_literal_reads_back_unchanged(con, text):
    assert con.execute(f"SELECT {sql_literal(text)}").fetchone()[0] == text


@pytest.mark.parametrize(
    "value",
    [None, True, False, 0, -7, 2**40, 1.5, date(2026, 12, 1), datetime(2026, 12, 1, 9, 30, 15)],
)
def test_other_literals_read_back_unchanged(con, value):
    assert con.execute(f"SELECT {sql_literal(value)}").fetchone()[0] == value


def test_timestamp_literal_keeps_the_utc_offset_meaning(con):
    got = con.execute(
        f"SELECT {sql_literal(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))}::TIMESTAMPTZ"
    ).fetchone()[0]
    assert got.astimezone(UTC) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_list_literal_reads_back_as_a_varchar_list(con):
    assert con.execute(f"SELECT {sql_list(AWKWARD)}").fetchone()[0] == AWKWARD
    assert con.execute(f"SELECT {sql_list(('a', 'b'))}").fetchone()[0] == ["a", "b"]


@pytest.mark.parametrize("empty", [None, [], ()])
def test_empty_list_literal_is_typed(con, empty):
    value, kind = con.execute(f"SELECT {sql_list(empty)} AS l, typeof(l)").fetchone()
    assert value == [] and kind == "VARCHAR[]"


@pytest.mark.parametrize("name", ["plain", 'quo"te', "with space", "select", "naïve"])
def test_quoted_identifier_names_the_column_it_was_given(con, name):
    con.execute(f"CREATE TABLE t ({quote_ident(name)} INTEGER)")
    con.execute(f"INSERT INTO t ({quote_ident(name)}) VALUES (1)")
    assert [d[0] for d in con.execute("SELECT * FROM t").description] == [name]
    assert con.execute(f"SELECT {quote_ident(name)} FROM t").fetchone()[0] == 1
