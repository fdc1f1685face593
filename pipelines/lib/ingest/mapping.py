"""From a staged file (all text, one row per data row) to typed raw rows, in SQL.

A parser stages a file into a temporary DuckDB table whose columns are the file's columns as VARCHAR plus
`_line` (1-based line), `_raw` (the row's text) and `_member` (zip member). A `Segment` says how each raw column
is computed from the staged columns. Every conversion is a TRY_* expression; a value that is present but does not
convert gives the row a reason, and rows with a reason go to `ingest_quarantine` instead of the raw table.
"""

from __future__ import annotations

import dataclasses
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


FIRST_YEAR, LAST_YEAR = 1900, 2199  # a parsed date outside these years is not plausible (never loaded)


def _plausible(expr: str) -> str:
    """`expr` (a timestamp) when its year is plausible, else NULL: `%Y` reading "22" as year 22 is no match."""
    return f"(CASE WHEN year({expr}) BETWEEN {FIRST_YEAR} AND {LAST_YEAR} THEN {expr} END)"


def _iso(s: str) -> str:
    return f"TRY_CAST({s} AS TIMESTAMP)"


def _parse(col: Col, s: str) -> str:
    """A zone-less timestamp from text: ISO 8601, else the column's formats in order (the first plausible parse).

    `col.formats` is what `choose_formats` decided for the file (one date order), or the vendor's candidates
    plus the defaults when nothing was decided (a constant such as a meeting's start time)."""
    if col.formats_decided:
        formats = col.formats or []
    else:
        formats = _dedupe((col.formats or []) + (DATE_FORMATS if col.kind == "date" else TIMESTAMP_FORMATS))
    parts = [_plausible(_iso(s))] + [_plausible(f"try_strptime({s}, {lit(f)})") for f in formats]
    return f"COALESCE({', '.join(parts)})"


def _dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def date_order(fmt: str) -> str:
    """DMY, MDY or YMD for a numeric date format; TEXT when the month is a name or there is no day (unambiguous)."""
    if "%b" in fmt or "%B" in fmt or "%d" not in fmt and "%e" not in fmt:
        return "TEXT"
    day = min(i for i in (fmt.find("%d"), fmt.find("%e")) if i >= 0)
    month = fmt.find("%m")
    year = max(fmt.find("%Y"), fmt.find("%y"))
    if month < 0:
        return "TEXT"
    if 0 <= year < min(day, month):
        return "YMD"
    return "DMY" if day < month else "MDY"


DATE_ORDERS = ("DMY", "MDY", "YMD")


# Short names: the ingestion SQL builders use these on almost every line.
q = quote_ident
lit = sql_literal


def _int_list(values) -> str:
    return "[" + ", ".join(str(int(v)) for v in values) + "]"


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
    formats_decided: bool = False  # `formats` is the file's decided list (no defaults appended)

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
    lines_skipped: int | None = (
        None  # physical lines that are no data rows (header, footers, blank), if known
    )
    # file headers whose staged values are known to be clean already (no surrounding spaces, never ''): read as
    # they are, without NULLIF(TRIM(...)), which on long texts (an event's JSON) is a copy of the column per use;
    # a `json` column from one of them is JSON text its parser wrote, cast without `json_valid` (a second parse)
    clean_sources: frozenset[str] = frozenset()


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
        value = f"CAST({_parse(col, s)} AS DATE)"
        return value, "a date"
    if kind == "timestamp":
        naive = _parse(col, s)
        local = naive if col.zone == "UTC" else f"timezone('UTC', timezone({lit(col.zone)}, {naive}))"
        # the year checked on the cheap zone-less cast (no time zone arithmetic twice)
        zoned = (
            f"(CASE WHEN year(TRY_CAST({s} AS TIMESTAMP)) BETWEEN {FIRST_YEAR} AND {LAST_YEAR} "
            f"THEN timezone('UTC', TRY_CAST({s} AS TIMESTAMPTZ)) END)"
        )
        value = f"CASE WHEN regexp_matches({s}, '(Z|[+-]\\d\\d:?\\d\\d)$') THEN {zoned} ELSE {local} END"
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


def _early(col: Col, s: str) -> str:
    """True when a date value parses, but only to a year before 1900 (such a row is quarantined, never loaded)."""
    formats = _dedupe((col.formats or []) + ([] if col.formats_decided else DATE_FORMATS + TIMESTAMP_FORMATS))
    parsed = (
        f"COALESCE(TRY_CAST({s} AS TIMESTAMP), try_strptime({s}, {_list(formats)}))" if formats else _iso(s)
    )
    return f"year({parsed}) < {FIRST_YEAR}"


def segment_select(
    seg: Segment, meta: dict[str, Any], line_end: bool = False, bad_lines: tuple[int, ...] = ()
) -> tuple[str, list[str]]:
    """The SELECT giving, for each staged row, the raw columns, the meta columns and `_reason` (and `_line_end`,
    the last physical line of the row's record, when the stage has it). A row whose lines include one of
    `bad_lines` (bytes that are not valid in the file's encoding) is quarantined with that reason."""
    columns = table_columns(seg.table)
    values: dict[str, str] = {}
    checks: list[tuple[Col, str | None, str, str | None]] = []  # (column, source, value, expected)
    for col in seg.columns:
        if col.target not in columns:
            raise ValueError(f"{seg.format}: {col.target!r} is not a column of {seg.table}")
        if col.source is None or col.source not in seg.headers:
            src = None
        elif col.source in seg.clean_sources:
            src = q(seg.headers[col.source])
        else:
            src = _clean(q(seg.headers[col.source]))
        value, expected = _convert(col, src)
        if col.kind == "json" and col.source in seg.clean_sources and col.sql is None:
            # JSON text a parser wrote (json.dumps, DuckDB's own): valid by construction, not parsed again
            value, expected = f"CAST({src} AS JSON)", None
        values[col.target] = value
        checks.append((col, src, value, expected))
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
    # The converted values are computed once, in an inner projection (`__v<i>`), and the reasons refer to them: the
    # query is half the size (DuckDB's planning of these long expressions is most of the cost of a small file).
    # A cast never turns a value into NULL (it converts or fails), so `cast value IS NULL` = `value IS NULL`.
    inner = {c: f"__v{i}" for i, c in enumerate(targets)}
    problems: list[str] = []
    for col, src, value, expected in checks:
        converted = inner[col.target] if values[col.target] is value else f"({value})"
        name = col.name_in_reasons
        if expected is not None and src is not None:
            message = f"{lit(name + ': ')} || {src} || {lit(' is not ' + expected)}"
            if col.kind in ("date", "timestamp") and col.sql is None:
                early = (
                    f"{lit(name + ': ')} || {src} || {lit(f' is a date before {FIRST_YEAR} (not plausible)')}"
                )
                message = f"CASE WHEN {_early(col, src)} THEN {early} ELSE {message} END"
            problems.append(f"CASE WHEN {src} IS NOT NULL AND {converted} IS NULL THEN {message} END")
        if col.required:
            empty = f"{src} IS NULL" if src is not None and expected is not None else f"{converted} IS NULL"
            problems.append(f"CASE WHEN {empty} THEN {lit(name + ' is empty')} END")
    converted_values = ", ".join(f"CAST({values[c]} AS {columns[c]}) AS {inner[c]}" for c in targets)
    select = ", ".join(f"{inner[c]} AS {q(c)}" for c in targets)
    end = "_line_end" if line_end else "_line"
    if bad_lines:
        hit = f"list_filter({_int_list(bad_lines)}, lambda x: x BETWEEN _line AND {end})"
        problems.insert(
            0,
            f"CASE WHEN len({hit}) > 0 THEN 'line ' || {hit}[1] || ': bytes that are not valid UTF-8 "
            "(the file is UTF-8; they would load garbled)' END",
        )
    reason = f"concat_ws('; ', {', '.join(problems)})" if problems else "''"
    where = f" WHERE {seg.row_filter}" if seg.row_filter else ""
    sql = (
        f"SELECT {select}, _line AS _stage_line, {end} AS _stage_line_end, {reason} AS _reason FROM "
        f"(SELECT *, {converted_values} FROM {seg.stage}{where})"
    )
    return sql, targets


class AmbiguousDates(ValueError):
    """Two date orders read every value of a column to different dates."""


def choose_formats(con: duckdb.DuckDBPyConnection, seg: Segment, order: str | None = None) -> Segment:
    """Decide, for each date/timestamp column, the date order of the file from ALL its values, in SQL.

    Candidates are the column's formats (the vendor's list) and the defaults, grouped by date order: DMY, MDY,
    YMD (month names and ISO 8601 are unambiguous and go with every order). An order fits when its formats
    parse every non-empty value to a plausible date (years 1900 to 2199: `%Y` reading "22" as year 22 is no
    parse). One fitting order: the column uses its formats only. Several whose dates differ for some value
    (all days <= 12): `AmbiguousDates` (the caller refuses the file and names the `date_order` setting). None:
    the order that parses the most values, the others are quarantined with a reason. `order` (DMY | MDY | YMD,
    from config/sources.yaml) leaves only that order."""
    where_sql = f" WHERE {seg.row_filter}" if seg.row_filter else ""
    dated = [
        c
        for c in seg.columns
        if c.kind in ("date", "timestamp")
        and c.sql is None
        and c.source in seg.headers
        and not c.formats_decided
    ]
    if not dated:
        return seg
    srcs = {c.target: _clean(q(seg.headers[c.source])) for c in dated}
    # One pass over the stage: the distinct values that are not ISO 8601 (zoned or not) of every dated column,
    # with how many rows hold each and the first line; the strptime formats must read these. The decisions below
    # read this small table only (counts weighted by rows: the same as counting the rows).
    values = f"{seg.stage}_dates"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {values} AS SELECT col, v, count(*) AS n, min(_line) AS line FROM (SELECT "
        f"_line, unnest({_int_list(range(len(dated)))}) AS col, unnest([{', '.join(srcs[c.target] for c in dated)}]) "
        f"AS v FROM {seg.stage}{where_sql}) WHERE v IS NOT NULL AND TRY_CAST(v AS TIMESTAMP) IS NULL GROUP BY col, v"
    )
    counts = dict(con.execute(f"SELECT col, sum(n) FROM {values} GROUP BY col").fetchall())
    decided: dict[str, list[str]] = {}
    # (column index, column, its date orders to try, their formats, the order-free formats)
    undecided: list[tuple[int, Col, list[str], dict[str, list[str]], list[str]]] = []
    for i, col in enumerate(dated):
        if not counts.get(i, 0):
            decided[col.target] = []  # ISO 8601 only
            continue
        candidates = _dedupe(
            (col.formats or []) + (DATE_FORMATS if col.kind == "date" else TIMESTAMP_FORMATS)
        )
        by_order: dict[str, list[str]] = {}
        for f in candidates:
            by_order.setdefault(date_order(f), []).append(f)
        text = by_order.pop("TEXT", [])
        orders = [o for o in DATE_ORDERS if o in by_order and (order is None or o == order)]
        if not orders:
            decided[col.target] = text
            continue
        undecided.append((i, col, orders, by_order, text))
    if undecided:
        # Each format parses the values once (`p<k>`: the plausible parse or NULL), in one small table; an order's
        # parse is the COALESCE of its formats' columns, so the queries below stay short (their planning, not the
        # few distinct values, was most of the cost of a small file's decisions).
        formats = _dedupe(
            [f for _, _, orders, by_order, text in undecided for o in orders for f in by_order[o] + text]
        )
        pcol = {f: f"p{k}" for k, f in enumerate(formats)}
        parsed = f"{values}_p"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {parsed} AS SELECT col, n, line, "
            + ", ".join(f"{_plausible(f'try_strptime(v, {lit(f)})')} AS {pcol[f]}" for f in formats)
            + f" FROM {values} WHERE col IN ({', '.join(str(u[0]) for u in undecided)})"
        )
        parse = {
            (i, o): f"COALESCE({', '.join(pcol[f] for f in by_order[o] + text)})"
            for i, _, orders, by_order, text in undecided
            for o in orders
        }
        fits_all = con.execute(
            "SELECT "
            + ", ".join(
                f"coalesce(sum(n) FILTER (WHERE col = {i} AND {parse[i, o]} IS NOT NULL), 0)"
                for i, _, orders, _, _ in undecided
                for o in orders
            )
            + f" FROM {parsed}"
        ).fetchall()[0]
        at = 0
        for i, col, orders, by_order, _ in undecided:
            fits = fits_all[at : at + len(orders)]
            at += len(orders)
            n_other = counts[i]
            fitting = [o for o, n in zip(orders, fits, strict=True) if n == n_other]
            if len(fitting) > 1:
                first = fitting[0]
                differ = " OR ".join(
                    f"({parse[i, first]}) IS DISTINCT FROM ({parse[i, o]})" for o in fitting[1:]
                )
                line = con.execute(
                    f"SELECT min(line) FROM {parsed} WHERE col = {i} AND ({differ})"
                ).fetchall()[0][0]
                if line is not None:
                    names = {"DMY": "day first", "MDY": "month first", "YMD": "year first"}
                    raise AmbiguousDates(
                        f"{col.name_in_reasons}: dates read both {' and '.join(names[o] for o in fitting)} (all "
                        f"days <= 12; first differing value on line {line}); state the order in config/sources.yaml: "
                        f"date_order: {' or '.join(fitting)} (under sources.<source> or the file's rule)"
                    )
                best = first
            elif fitting:
                best = fitting[0]
            else:
                best = max(orders, key=lambda o: (fits[orders.index(o)], -orders.index(o)))
            decided[col.target] = by_order[best] + text
        con.execute(f"DROP TABLE {parsed}")
    con.execute(f"DROP TABLE {values}")
    cols = [
        dataclasses.replace(c, formats=decided[c.target], formats_decided=True) if c.target in decided else c
        for c in seg.columns
    ]
    return dataclasses.replace(seg, columns=cols)


def count_rows(con: duckdb.DuckDBPyConnection, seg: Segment) -> int:
    """Data rows of a segment as read from the file (staged rows plus rows the parser could not read)."""
    where = f" WHERE {seg.row_filter}" if seg.row_filter else ""
    staged = con.execute(f"SELECT count(*) FROM {seg.stage}{where}").fetchall()[0][0]
    rejected = con.execute(f"SELECT count(*) FROM {seg.rejects}").fetchall()[0][0] if seg.rejects else 0
    return int(staged) + int(rejected)


@dataclass
class Written:
    """What `write_segment` wrote: rows, and the physical lines of those rows' records."""

    loaded: int
    quarantined: int
    lines_loaded: int
    lines_quarantined: int


def _stage_columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {d[0] for d in con.execute(f"SELECT * FROM {table} LIMIT 0").description}


def write_segment(
    con: duckdb.DuckDBPyConnection, seg: Segment, meta: dict[str, Any], bad_lines: tuple[int, ...] = ()
) -> Written:
    """Insert the good rows into the raw table and the bad ones into the quarantine."""
    line_end = "_line_end" in _stage_columns(con, seg.stage)
    sql, targets = segment_select(seg, meta, line_end, bad_lines)
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
    loaded, quarantined, lines_loaded, lines_quarantined = con.execute(
        "SELECT count(*) FILTER (WHERE _reason = ''), count(*) FILTER (WHERE _reason <> ''), "
        "coalesce(sum(_stage_line_end - _stage_line + 1) FILTER (WHERE _reason = ''), 0), "
        f"coalesce(sum(_stage_line_end - _stage_line + 1) FILTER (WHERE _reason <> ''), 0) FROM {judged}"
    ).fetchall()[0]
    if quarantined:  # (no query to plan when there is nothing to quarantine)
        con.execute(
            quarantine_cols + f"SELECT {fixed[0]}, s._member, s._line, {seg.raw_sql}, j._reason, {fixed[1]} "
            f"FROM {judged} j JOIN {seg.stage} s ON s._line = j._stage_line WHERE j._reason <> '' ORDER BY s._line"
        )
    rejected = rejected_lines = 0
    if seg.rejects:
        # A rejected record spans the lines of its text (the exact splitter rejects one line at a time).
        raw_breaks = _breaks("coalesce(_raw, '')")
        rejected, rejected_lines = con.execute(
            f"SELECT count(*), coalesce(sum(1 + {raw_breaks}), 0) FROM {seg.rejects}"
        ).fetchall()[0]
    if rejected:
        if bad_lines:
            con.execute(
                f"UPDATE {seg.rejects} SET reason = 'line ' || _line || ': bytes that are not valid UTF-8; ' || "
                f"reason WHERE list_contains({_int_list(bad_lines)}, _line)"
            )
        con.execute(
            quarantine_cols + f"SELECT {fixed[0]}, _member, _line, _raw, reason, {fixed[1]} "
            f"FROM {seg.rejects} ORDER BY _line"
        )
    con.execute(f"DROP TABLE {judged}")
    return Written(
        int(loaded),
        int(quarantined) + int(rejected),
        int(lines_loaded),
        int(lines_quarantined) + int(rejected_lines),
    )


def _breaks(expr: str) -> str:
    """Line breaks in a text (CRLF, LF, lone CR each count one)."""
    return (
        f"((length({expr}) - length(replace({expr}, chr(10), ''))) + (length({expr}) - "
        f"length(replace({expr}, chr(13), ''))) - (length({expr}) - length(replace({expr}, chr(13) || chr(10), ''))) // 2)"
    )
