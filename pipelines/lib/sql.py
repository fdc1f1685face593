"""Quoting for the SQL statements built from names and values (identifiers from config, literals): the one place
that escapes; every module that splices a config value or a path into SQL uses these."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


def quote_ident(name: str) -> str:
    """A quoted SQL identifier: any name is safe to splice."""
    return '"' + name.replace('"', '""') + '"'


def sql_literal(value: Any) -> str:
    """A SQL literal for None, booleans, numbers, dates, timestamps and text."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):  # pandas Timestamp is a datetime
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def sql_list(values: list[str] | tuple[str, ...] | None) -> str:
    """A VARCHAR[] literal of text values; no values -> a typed empty list."""
    if not values:
        return "[]::VARCHAR[]"
    return "[" + ", ".join(sql_literal(str(v)) for v in values) + "]"
