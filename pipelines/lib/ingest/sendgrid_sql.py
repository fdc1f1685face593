"""SendGrid Event Webhook files staged in SQL: DuckDB parses the JSON and extracts the fields, no Python loop.

The rows staged are exactly those of the Python parser (`SendGridEvents._stage_python`: `json.loads`, then
`_event_fields` per event), text for text:

- a field's text is Python's `str()` of the value (a string as is, an integer in digits, `True` / `False`), and an
  object or array is `json.dumps(value, ensure_ascii=False)`: DuckDB's minified JSON with a space after every `,`
  and `:` outside strings (the pieces between quote characters at odd positions), which is Python's default
  separators;
- `payload` is the event as compact JSON: DuckDB's own minified text of the element (or line) it parsed, which is
  `json.dumps(event, ensure_ascii=False, separators=(",", ":"))`, the Python parser's text, on every file this
  path takes; `custom_args` the same of the event without the standard keys (`json_merge_patch` with nulls keeps
  the key order). Neither is rebuilt per event. An array element's quarantine text stays `json.dumps(event)` with
  Python's default separators (built in the quarantine query, for the quarantined events only);
- NDJSON lines are the file's lines (LF or CRLF), numbered as an editor shows them; blank lines are skipped and a
  line DuckDB cannot read is checked again by `json.loads`, which gives the reason (Python's message).

Where the two could differ the file goes to the Python parser instead (whole file, same result, slower): a string
holding an escaped quote or a `\\u` escape (DuckDB writes `\\u001F` where Python writes `\\u001f`), a float or
NaN (their text), a repeated key (Python keeps the last value), a trailing comma (DuckDB reads it, Python refuses
it), a category that is neither text nor a list of texts, a JSON array element that is not an object, line breaks
other than LF / CRLF in NDJSON (Python's `splitlines` splits on more), a line `json.loads` reads but DuckDB does
not, and any DuckDB error (a file that is not JSON at all is refused by the Python parser with its line).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.lib.ingest.encoding import utf8_copy
from pipelines.lib.ingest.formats import FileContext, Sniff
from pipelines.lib.ingest.mapping import lit
from pipelines.lib.ingest.sendgrid_fields import EVENT_HEADERS, STANDARD, read_json_line
from pipelines.lib.ingest.tabular import Staged, header_map, rejects_table

# Field i of the stage (EVENT_HEADERS order) -> JSON path of the event key it comes from (None: computed apart).
FIELD_PATHS = [
    "$.email",
    "$.event",
    "$.timestamp",
    "$.sg_event_id",
    "$.sg_message_id",
    '$."smtp-id"',
    "$.type",
    "$.bounce_classification",
    "$.reason",
    "$.status",
    "$.response",
    "$.attempt",
    "$.url",
    "$.useragent",
    "$.ip",
    None,  # category: a list
    "$.asm_group_id",
    "$.campaign_id",
    None,  # touchplan_send_id or send_id
    None,  # custom_args
    None,  # payload
]
EXTRA_PATHS = ["$.category", "$.touchplan_send_id", "$.send_id"]
PATHS = [p for p in FIELD_PATHS if p is not None] + EXTRA_PATHS

# Python's str.splitlines() breaks lines at these as well as at LF and CR (only LF and CRLF are taken here).
OTHER_BREAKS = "[" + "".join(chr(c) for c in (0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029)) + "]"
TRAILING_COMMA = ",[ \t\r\n]*[\\]}]"
SCALARS = ("VARCHAR", "BIGINT", "UBIGINT", "BOOLEAN", "NULL")
# A float, NaN or Infinity starts right after `:`, `,` or `[` in minified JSON; the same characters inside a string
# (a user agent's `rv:11.0`) only make the exact look (`o` in `_stage_fields`) run on that event.
MAYBE_INEXACT = "[:,\\[]-?([0-9]+[.eE]|N|I)"


def py_json(expr: str) -> str:
    """json.dumps(..., ensure_ascii=False) of a minified JSON text without escaped quotes: ', ' and ': ' outside
    strings (the pieces at odd positions between quote characters)."""
    return (
        f"array_to_string(list_transform(string_split({expr}, '\"'), lambda x, i: CASE WHEN i % 2 = 1 THEN "
        "replace(replace(x, ',', ', '), ':', ': ') ELSE x END), '\"')"
    )


def _text(s: str, t: str) -> str:
    """Python's _text(value) from the value's JSON text (strings unescaped) `s` and JSON type `t`."""
    return (
        f"CASE {t} WHEN 'VARCHAR' THEN {s} WHEN 'BOOLEAN' THEN CASE {s} WHEN 'true' THEN 'True' ELSE 'False' END "
        f"WHEN 'OBJECT' THEN {py_json(s)} WHEN 'ARRAY' THEN {py_json(s)} WHEN 'NULL' THEN NULL ELSE {s} END"
    )


def _truthy(s: str, t: str) -> str:
    """Python truthiness of a JSON value (missing and null are false)."""
    return (
        f"({t} IS NOT NULL AND {t} <> 'NULL' AND NOT ({t} = 'VARCHAR' AND {s} = '') AND NOT ({t} IN "
        f"('BIGINT', 'UBIGINT') AND {s} = '0') AND NOT ({t} = 'BOOLEAN' AND {s} = 'false') AND NOT ({t} IN "
        f"('ARRAY', 'OBJECT') AND {s} IN ('[]', '{{}}')))"
    )


def _source(ctx: FileContext) -> Path:
    assert ctx.encoding is not None
    if ctx.encoding.is_plain_utf8:
        return ctx.path
    return utf8_copy(ctx.path, ctx.encoding, ctx.tmpdir / "events-utf8.json")


def stage_events_sql(ctx: FileContext, sniff: Sniff) -> tuple[Staged, str] | None:
    """(staged rows, layout) of a SendGrid events file parsed by DuckDB, or None: the Python parser must read it
    (see the module's doc); nothing is left behind then."""
    head = sniff.head_text.lstrip()
    if not head:
        return None
    layout = "array" if head.startswith("[") else "ndjson"
    con = ctx.con
    stage = ctx.new_stage()
    try:
        path = _source(ctx)
        source = f"read_text({lit(str(path))})"
        checks = [f"regexp_matches(content, {lit(TRAILING_COMMA)})"]
        if layout == "ndjson":
            checks.append(f"regexp_matches(content, {lit(OTHER_BREAKS)})")
            checks.append("regexp_matches(content, '\\r([^\\n]|$)')")
        if any(con.execute(f"SELECT {', '.join(checks)} FROM {source}").fetchall()[0]):
            return None
        if layout == "array":
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {stage}_j AS SELECT _line, _line AS _line_end, j, NULL::VARCHAR AS "
                "line FROM (SELECT generate_subscripts(l, 1) AS _line, unnest(l) AS j FROM (SELECT "
                f"json_extract(content, '$[*]') AS l FROM {source}))"
            )
            if con.execute(f"SELECT count(*) FROM {stage}_j WHERE json_type(j) <> 'OBJECT'").fetchall()[0][0]:
                return None
            rejects = rejects_table(con, f"{stage}_rej", [])
        else:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {stage}_lines AS SELECT _line, CASE WHEN suffix(line, chr(13)) "
                "THEN line[:-2] ELSE line END AS line FROM (SELECT generate_subscripts(l, 1) AS _line, "
                f"unnest(l) AS line FROM (SELECT string_split(content, chr(10)) AS l FROM {source}))"
            )
            unread = con.execute(
                f"SELECT _line, line FROM {stage}_lines WHERE line <> '' AND NOT json_valid(line) ORDER BY _line"
            ).fetchall()
            bad = _unreadable(unread)
            if bad is None:
                return None
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {stage}_j AS SELECT _line, _line AS _line_end, "
                f"json_extract(line, '$') AS j, line FROM {stage}_lines WHERE line <> '' AND json_valid(line)"
            )
            not_object = con.execute(
                f"SELECT _line, line FROM {stage}_j WHERE json_type(j) <> 'OBJECT' ORDER BY _line"
            ).fetchall()
            con.execute(f"DELETE FROM {stage}_j WHERE json_type(j) <> 'OBJECT'")
            con.execute(f"DROP TABLE {stage}_lines")
            rejects = rejects_table(
                con, f"{stage}_rej", bad + [(n, text, "not a JSON object") for n, text in not_object]
            )
        _stage_fields(con, stage, f"{stage}_j", layout, sorted(STANDARD))
        con.execute(f"DROP TABLE {stage}_j")
        if not _exact(con, stage):
            con.execute(f"DROP TABLE {stage}")
            return None
    except duckdb.Error:
        return None
    finally:
        if (
            con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?", [stage]
            ).fetchall()[0][0]
            == 0
        ):
            for suffix in ("_j", "_lines", "_rej"):
                con.execute(f"DROP TABLE IF EXISTS temp.{stage}{suffix}")
    # an array element's quarantine text is Python's json.dumps of it (as the Python parser writes it), built only
    # for the events quarantined
    raw_sql = py_json("c20") if layout == "array" else "_raw"
    return (
        Staged(stage=stage, rejects=rejects, headers=header_map(EVENT_HEADERS), raw_sql=raw_sql, nondata=0),
        layout,
    )


def _unreadable(lines: list[tuple[int, str]]) -> list[tuple[int, str, str]] | None:
    """The lines DuckDB cannot read, judged by `json.loads` as the Python parser does: (line, text, reason) of
    each that is not JSON, blank lines (Python's str.strip) left out; None when `json.loads` reads one."""
    bad = []
    for number, line in lines:
        if not line.strip():
            continue
        _, reason = read_json_line(line)
        if reason is None:
            return None
        bad.append((number, line, reason))
    return bad


def _exact(con: duckdb.DuckDBPyConnection, stage: str) -> bool:
    """Whether every staged event's text and fields are those Python's json module gives (module doc), from the
    stage's `_sql_exact` and `_sql_nested` flags; a repeated key inside a nested object is looked for with
    `json_tree` on the few events that have one."""
    inexact, nested = con.execute(
        f"SELECT count(*) FILTER (WHERE NOT _sql_exact), count(*) FILTER (WHERE _sql_nested) FROM {stage}"
    ).fetchall()[0]
    if inexact:
        return False
    if nested:
        repeated = con.execute(
            f"SELECT count(*) FROM (SELECT t.parent FROM (SELECT _line, c20 FROM {stage} WHERE _sql_nested) s, "
            "json_tree(s.c20) t WHERE t.key IS NOT NULL GROUP BY s._line, t.parent, t.key HAVING count(*) > 1)"
        ).fetchall()[0][0]
        if repeated:
            return False
    return True


def _stage_fields(
    con: duckdb.DuckDBPyConnection, stage: str, table: str, layout: str, standard: list[str]
) -> None:
    """The stage table: c0..c20 (EVENT_HEADERS), _line, _line_end, _raw, _member, as `stage_rows` builds it."""
    index = {p: i + 1 for i, p in enumerate(PATHS)}

    def s(path: str) -> str:
        return f"s[{index[path]}]"

    def t(path: str) -> str:
        return f"t[{index[path]}]"

    cat_s, cat_t = s("$.category"), t("$.category")
    category = (
        f"CASE WHEN {cat_t} IS NULL OR {cat_t} = 'NULL' THEN NULL WHEN {cat_t} = 'ARRAY' THEN {py_json(cat_s)} "
        f"WHEN {cat_t} = 'VARCHAR' THEN '[' || CAST(to_json({cat_s}) AS VARCHAR) || ']' ELSE '[' || {cat_s} || ']' END"
    )
    tp = "$.touchplan_send_id"
    send_id = f"CASE WHEN {_truthy(s(tp), t(tp))} THEN {_text(s(tp), t(tp))} ELSE {_text(s('$.send_id'), t('$.send_id'))} END"
    patch = "{" + ", ".join(f'"{k}": null' for k in standard) + "}"
    custom = "CASE WHEN CAST(cm AS VARCHAR) <> '{}' THEN CAST(cm AS VARCHAR) END"
    values = []
    for i, path in enumerate(FIELD_PATHS):
        if path is not None:
            value = _text(s(path), t(path))
        else:
            value = {15: category, 18: send_id, 19: custom, 20: "jt"}[i]
        values.append(f"NULLIF({value}, '') AS c{i}")
    # an array element's text is its payload (c20): not kept twice (the quarantine text is built from c20)
    raw = "NULL::VARCHAR" if layout == "array" else "line"
    paths = "[" + ", ".join(lit(p) for p in PATHS) + "]"
    # The text outside strings (numbers, literals, punctuation: the pieces at odd positions between quote
    # characters), needed only where the cheap look at the whole text finds a possible float / NaN / Infinity or
    # a second `{`; elsewhere it is known to hold neither.
    maybe = f"(regexp_matches(jt, {lit(MAYBE_INEXACT)}) OR contains(jt[2:], '{{'))"
    outside = (
        f"CASE WHEN {maybe} THEN array_to_string(list_filter(string_split(jt, '\"'), lambda x, i: i % 2 = 1), '') "
        "ELSE '' END"
    )
    category_ok = (
        f"coalesce({cat_t} IN ('VARCHAR', 'BIGINT', 'UBIGINT', 'BOOLEAN', 'NULL') OR ({cat_t} = 'ARRAY' AND "
        f'regexp_full_match({cat_s}, \'\\[("[^"]*"(,"[^"]*")*)?\\]\')), TRUE)'
    )
    exact = (
        "NOT (contains(jt, '\\\"') OR contains(jt, '\\u') OR regexp_matches(o, '[.EIN]|[0-9]e') OR "
        f"len(k) <> len(list_distinct(k)) OR NOT {category_ok})"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {stage} AS SELECT {', '.join(values)}, CAST(_line AS BIGINT) AS _line, "
        f"CAST(_line_end AS BIGINT) AS _line_end, {raw} AS _raw, NULL::VARCHAR AS _member, {exact} AS _sql_exact, "
        "length(o) - length(replace(o, '{', '')) > 1 AS _sql_nested FROM (SELECT *, "
        f"json_extract_string(j, {paths}) AS s, json_type(j, {paths}) AS t, json_merge_patch(j, {lit(patch)}) AS cm, "
        f"json_keys(j) AS k, {outside} AS o FROM (SELECT *, CAST(j AS VARCHAR) AS jt FROM {table}))"
    )
