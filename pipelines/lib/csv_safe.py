"""Spreadsheet-safe CSV files: one rule for every CSV a person may open (audiences, sales tasks, CRM fix files).

A spreadsheet (Excel, LibreOffice, Google Sheets) runs a cell that starts with `=`, `+`, `-` or `@` as a formula,
and TAB / CR can hide such a start; a crafted CRM value (`=HYPERLINK(...)`, `@SUM(...)`) then executes on the
operator's machine. OWASP's rule (CSV Injection): prefix such a cell with a single quote, so the spreadsheet shows it
as text. Only text cells are escaped: numbers and dates keep their type (a negative number is not a formula).

The warehouse keeps the raw values; only the files are escaped. Files written by DuckDB's COPY go through
`copy_csv` (the escaping is a SQL expression over every VARCHAR column of the query); files written from Python go
through `escape_cell`.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from pipelines.lib.sql import quote_ident, sql_literal

# The first characters a spreadsheet may read as the start of a formula (OWASP CSV Injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_RE = re.compile(r"^[=+\-@\t\r]")
# The same class as a DuckDB (RE2) pattern.
_FORMULA_SQL_PATTERN = "^[=+\\-@\\t\\r]"


def escape_cell(value: str | None) -> str | None:
    """`'` + the value when it starts like a formula; other values (and None) unchanged."""
    if value is None or not isinstance(value, str):
        return value
    return "'" + value if _FORMULA_RE.match(value) else value


def csv_safe_sql(expr: str) -> str:
    """A DuckDB expression: the text `expr`, with `'` in front when it starts like a formula (NULL stays NULL)."""
    return f"CASE WHEN regexp_matches({expr}, '{_FORMULA_SQL_PATTERN}') THEN '''' || {expr} ELSE {expr} END"


def safe_select(con: duckdb.DuckDBPyConnection, query: str) -> str:
    """`query` wrapped so that every VARCHAR column is escaped (column names and order unchanged)."""
    columns = con.execute(f"DESCRIBE ({query})").fetchall()  # column_name, column_type, ...
    parts = []
    for name, column_type, *_ in columns:
        ident = quote_ident(name)
        if str(column_type).upper() == "VARCHAR":
            parts.append(f"{csv_safe_sql('_q.' + ident)} AS {ident}")
        else:
            parts.append(f"_q.{ident}")
    return f"SELECT {', '.join(parts)} FROM ({query}) AS _q"


def copy_csv(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    """COPY the rows of `query` to `path` as a CSV with a header, text cells escaped (OWASP's rule)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY ({safe_select(con, query)}) TO {sql_literal(str(path))} (FORMAT csv, HEADER true)")
