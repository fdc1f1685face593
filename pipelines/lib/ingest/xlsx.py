"""Excel workbooks (.xlsx) through openpyxl in read-only mode: rows are streamed, never the whole sheet in memory.

Cell values become the text a CSV export would hold (numbers without a spurious `.0`, dates as ISO 8601), so the
same SQL conversions apply to them as to delimited files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl


def open_workbook(path: Path):
    return openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)


def data_sheet(workbook):
    """The first visible worksheet (Dynamics adds a `hiddenSheet` with its metadata)."""
    visible = [ws for ws in workbook.worksheets if getattr(ws, "sheet_state", "visible") == "visible"]
    return (visible or workbook.worksheets)[0]


def cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def iter_rows(sheet) -> Iterator[tuple[int, list[str | None]]]:
    """(sheet row number, cell texts) of every row, streamed; the sheet's declared dimension is not trusted."""
    sheet.reset_dimensions()
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        yield number, [cell_text(v) for v in values]


def head_rows(path: Path, limit: int = 5) -> list[tuple[int, list[str]]]:
    """The first non-empty rows of the data sheet (for detection)."""
    workbook = open_workbook(path)
    try:
        out: list[tuple[int, list[str]]] = []
        for number, values in iter_rows(data_sheet(workbook)):
            if any(v not in (None, "") for v in values):
                out.append((number, [v or "" for v in values]))
            if len(out) >= limit or number > 50:
                break
        return out
    finally:
        workbook.close()
