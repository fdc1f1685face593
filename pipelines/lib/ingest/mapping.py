"""From a staged file (all text, one row per data row) to typed raw rows, in SQL.

A parser stages a file into a temporary DuckDB table whose columns are the file's columns as VARCHAR plus
`_line` (1-based line), `_raw` (the row's text) and `_member` (zip member). A `Segment` says how each raw column
is computed from the staged columns. Every conversion is a TRY_* expression; a value that is present but does not
convert gives the row a reason, and rows with a reason go to `ingest_quarantine` instead of the raw table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from pipelines.lib.ingest.schema import table_columns
from pipelines.lib.sql import quote_ident, sql_literal

# strptime formats tried after ISO 8601 for zone-less timestamps.
TIMESTAMP_FORMATS = [
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%b %d, %Y %H:%M:%S",
    "%b %d, %Y %I:%M:%S %p",
    "%b %d, %Y %I:%M %p",
    "%b %d, %Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%b %d, %Y",
]
DATE_FORMATS = ["%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d", "%b %d, %Y", "%d %b %Y"]

TRUE_WORDS = ("true", "yes", "y", "1", "t", "x", "checked", "opted out", "subscribed")
FALSE_WORDS = ("false", "no", "n", "0", "f", "unchecked", "-")


# Short names: the ingestion SQL builders use these on almost every line.
q = quote_ident
lit = sql_literal


def _list(values: list[str]) -> str:
    return "[" + ", ".join(lit(v) for v in values) + "]"


@dataclass
class Col:
    """One raw column: from a staged column (`source`, a file header) or an SQL expression (`sql`)."""

    target: str
    source: str | None = None
    kind: str = "text"  # text | bool | int | double | date | timestamp | epoch | duration | json | list
    sql: str | None = None  # expression over staged columns (use {src} for the cleaned source value)
    required: bool = False
    const: Any = None
    formats: list[str] | None = None
    zone: str = "UTC"
    label: str | None = None  # how the column is called in reasons (default: its header)

    @property
    def name_in_reasons(self) -> str:
        return self.label or self.source or self.target


@dataclass
class Segment:
    """Rows of one staged table bound for one raw table."""

    table: str
    stage: str  # temp table with _line, _raw, _member and the staged columns
    columns: list[Col]
    format: str
    headers: dict[str, str] = field(default_factory=dict)  # file header -> staged column name
    extra_headers: list[str] = field(default_factory=list)  # headers kept in `extra`
    row_filter: str | None = None  # SQL condition: rows that are not data (dropped, not counted)
    rejects: str | None = None  # temp table of rows the parser could not read: _line, _raw, _member, reason
    raw_sql: str = "_raw"  # expression over the staged row giving its text for the quarantine


def _clean(expr: str) -> str:
    return f"NULLIF(TRIM({expr}), '')"


def _convert(col: Col, src: str | None) -> tuple[str, str | None]:
    """(value expression, bad-value expression or None) for one column."""
    if col.sql is not None:
        if "{src}" in col.sql:
            return (col.sql.format(src=src) if src is not None else "NULL"), None
        return col.sql, None
    if src is None:
        return lit(col.const), None
    s = src
    kind = col.kind
    if kind == "text":
        return s, None
    if kind == "bool":
        value = (
            f"CASE WHEN lower({s}) IN {tuple(TRUE_WORDS)} THEN TRUE "
            f"WHEN lower({s}) IN {tuple(FALSE_WORDS)} THEN FALSE END"
        )
        return value, "a yes/no value"
    if kind in ("int", "double"):
        number = f"TRY_CAST(regexp_replace({s}, '[,\\s$€£]', '', 'g') AS DOUBLE)"
        if kind == "double":
            return number, "a number"
        value = f"CASE WHEN {number} = round({number}) AND abs({number}) < 2147483647 THEN CAST({number} AS INTEGER) END"
        return value, "a whole number"
    if kind == "date":
        formats = (col.formats or []) + DATE_FORMATS
        value = (
            f"COALESCE(TRY_CAST({s} AS DATE), TRY_CAST(TRY_CAST({s} AS TIMESTAMP) AS DATE), "
            f"CAST(try_strptime({s}, {_list(formats)}) AS DATE))"
        )
        return value, "a date"
    if kind == "timestamp":
        formats = (col.formats or []) + TIMESTAMP_FORMATS
        naive = f"COALESCE(TRY_CAST({s} AS TIMESTAMP), try_strptime({s}, {_list(formats)}))"
        local = naive if col.zone == "UTC" else f"timezone('UTC', timezone({lit(col.zone)}, {naive}))"
        value = (
            f"CASE WHEN regexp_matches({s}, '(Z|[+-]\\d\\d:?\\d\\d)$') "
            f"THEN timezone('UTC', TRY_CAST({s} AS TIMESTAMPTZ)) ELSE {local} END"
        )
        return value, "a date and time"
    if kind == "duration":  # "1h 5m 3s", "45m", "12s" (Teams) or "01:05:03" -> minutes
        units = " + ".join(
            f"coalesce(TRY_CAST(regexp_extract({s}, '(\\d+)\\s*{u}', 1) AS DOUBLE), 0) * {f}"
            for u, f in (("h", 60), ("m", 1), ("s", "(1.0 / 60)"))
        )
        clock = (
            f"TRY_CAST(split_part({s}, ':', 1) AS DOUBLE) * 60 + TRY_CAST(split_part({s}, ':', 2) AS DOUBLE) "
            f"+ TRY_CAST(split_part({s}, ':', 3) AS DOUBLE) / 60"
        )
        value = (
            f"CASE WHEN regexp_full_match({s}, '(\\d+\\s*h)?\\s*(\\d+\\s*m)?\\s*(\\d+\\s*s)?') "
            f"THEN {units} WHEN regexp_full_match({s}, '\\d+:\\d\\d:\\d\\d') THEN {clock} END"
        )
        return value, "a duration (like 1h 5m 3s)"
    if kind == "epoch":
        value = f"timezone('UTC', to_timestamp(TRY_CAST({s} AS DOUBLE)))"
        return value, "a Unix timestamp"
    if kind == "json":
        return f"CASE WHEN json_valid({s}) THEN CAST({s} AS JSON) END", "JSON"
    if kind == "list":
        value = (
            f"CASE WHEN {s} LIKE '[%' THEN TRY_CAST(json_transform({s}, '[\"VARCHAR\"]') AS VARCHAR[]) "
            f"WHEN {s} IS NOT NULL THEN [{s}] END"
        )
        return value, "a list"
    raise ValueError(f"unknown column kind {kind!r}")


def segment_select(seg: Segment, meta: dict[str, Any]) -> tuple[str, list[str]]:
    """The SELECT giving, for each staged row, the raw columns, the meta columns and `_reason`."""
    columns = table_columns(seg.table)
    values: dict[str, str] = {}
    problems: list[str] = []
    for col in seg.columns:
        if col.target not in columns:
            raise ValueError(f"{seg.format}: {col.target!r} is not a column of {seg.table}")
        src = (
            _clean(q(seg.headers[col.source]))
            if col.source is not None and col.source in seg.headers
            else None
        )
        value, expected = _convert(col, src)
        values[col.target] = value
        name = col.name_in_reasons
        if expected is not None and src is not None:
            problems.append(
                f"CASE WHEN {src} IS NOT NULL AND ({value}) IS NULL THEN "
                f"{lit(name + ': ')} || {src} || {lit(' is not ' + expected)} END"
            )
        if col.required:
            empty = f"{src} IS NULL" if src is not None and expected is not None else f"({value}) IS NULL"
            problems.append(f"CASE WHEN {empty} THEN {lit(name + ' is empty')} END")
    if "extra" in columns and "extra" not in values:
        if seg.extra_headers:
            pairs = ", ".join(f"{lit(h)}, {_clean(q(seg.headers[h]))}" for h in seg.extra_headers)
            values["extra"] = f"json_object({pairs})"
        else:
            values["extra"] = "NULL"
    for name, value in meta.items():
        values[name] = lit(value)
    values["_source_line"] = "_line"
    values["_source_member"] = "_member"
    targets = [c for c in columns if c in values]
    select = ", ".join(f"CAST({values[c]} AS {columns[c]}) AS {q(c)}" for c in targets)
    reason = f"concat_ws('; ', {', '.join(problems)})" if problems else "''"
    where = f" WHERE {seg.row_filter}" if seg.row_filter else ""
    sql = f"SELECT {select}, _line AS _stage_line, {reason} AS _reason FROM {seg.stage}{where}"
    return sql, targets


def count_rows(con: duckdb.DuckDBPyConnection, seg: Segment) -> int:
    """Data rows of a segment as read from the file (staged rows plus rows the parser could not read)."""
    where = f" WHERE {seg.row_filter}" if seg.row_filter else ""
    staged = con.execute(f"SELECT count(*) FROM {seg.stage}{where}").fetchall()[0][0]
    rejected = con.execute(f"SELECT count(*) FROM {seg.rejects}").fetchall()[0][0] if seg.rejects else 0
    return int(staged) + int(rejected)


def write_segment(con: duckdb.DuckDBPyConnection, seg: Segment, meta: dict[str, Any]) -> tuple[int, int]:
    """Insert the good rows into the raw table and the bad ones into the quarantine; (loaded, quarantined)."""
    sql, targets = segment_select(seg, meta)
    judged = f"{seg.stage}_judged"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {judged} AS {sql}")
    cols = ", ".join(q(c) for c in targets)
    con.execute(f"INSERT INTO {seg.table} ({cols}) SELECT {cols} FROM {judged} WHERE _reason = ''")
    quarantine_cols = (
        "INSERT INTO ingest_quarantine (source_file, _file_hash, source_member, line_number, "
        "raw_text, reason, format, target_table, ingested_at) "
    )
    fixed = (
        f"{lit(meta['_source_file'])}, {lit(meta['_file_hash'])}",
        f"{lit(meta['_format'])}, {lit(seg.table)}, CAST({lit(meta['_ingested_at'])} AS TIMESTAMP)",
    )
    con.execute(
        quarantine_cols + f"SELECT {fixed[0]}, s._member, s._line, {seg.raw_sql}, j._reason, {fixed[1]} "
        f"FROM {judged} j JOIN {seg.stage} s ON s._line = j._stage_line WHERE j._reason <> '' ORDER BY s._line"
    )
    if seg.rejects:
        con.execute(
            quarantine_cols + f"SELECT {fixed[0]}, _member, _line, _raw, reason, {fixed[1]} "
            f"FROM {seg.rejects} ORDER BY _line"
        )
    loaded, quarantined = con.execute(
        f"SELECT count(*) FILTER (WHERE _reason = ''), count(*) FILTER (WHERE _reason <> '') FROM {judged}"
    ).fetchall()[0]
    if seg.rejects:
        quarantined += con.execute(f"SELECT count(*) FROM {seg.rejects}").fetchall()[0][0]
    con.execute(f"DROP TABLE {judged}")
    return int(loaded), int(quarantined)
