"""SendGrid events parsed by DuckDB (sendgrid_sql.py) give the same rows as the Python parser, row for row.

Each file is ingested twice into fresh warehouses, once with the SQL path and once with the Python parser, and
every ingest table is compared in full (raw rows, quarantine rows with their reasons, per-file counts). The path
each file took is asserted too: the common shapes must take the SQL path (the speed), the shapes where DuckDB and
Python's json module disagree must take the Python parser (the same rows).
"""

from __future__ import annotations

import codecs
import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.ingest import ingest_folder, sendgrid
from pipelines.lib.ingest.schema import TABLE_NAMES
from tests.unit.ingest.conftest import FIXTURES

NOW = datetime(2026, 12, 7, 9, 0, 0)

BASE = {
    "email": "zoe@example.com",
    "timestamp": 1767225600,
    "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
    "event": "processed",
    "category": "cat facts",
    "sg_event_id": "rbtnWrG1DVDGGGFHFyun0A==",
    "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.000000000000000000000",
}

# Shapes real webhooks send, and the corners of Python's str() / json.dumps that the SQL must match.
COMMON = [
    BASE,
    {
        **BASE,
        "event": "open",
        "category": ["news", "spring"],
        "sg_machine_open": False,
        "useragent": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0",
        "ip": "255.255.255.255",
    },
    {
        **BASE,
        "event": "click",
        "url": "https://sendgrid.com/?a=1,b:2",
        "url_offset": {"index": 0, "type": "html"},
    },
    {
        **BASE,
        "event": "bounce",
        "type": "blocked",
        "bounce_classification": "Reputation",
        "reason": "550: blocked, {see} [x]",
        "status": "5.0.0",
        "tls": 1,
        "cert_err": True,
    },
    {**BASE, "event": "deferred", "response": "400 try later", "attempt": "5"},
    {**BASE, "event": "deferred", "attempt": 7, "pool": {"name": "new_MY_test", "id": 210}},
    {**BASE, "event": "group_unsubscribe", "asm_group_id": 10, "category": []},
    {
        **BASE,
        "email": "kraków@example.pl",
        "reason": "Zoë 😀 ∑ , : {",
        "campaign_id": "spring_launch",
        "touchplan_send_id": "s-1",
    },
    {**BASE, "touchplan_send_id": "", "send_id": "s-2"},
    {**BASE, "touchplan_send_id": 0, "send_id": "s-3"},
    {**BASE, "touchplan_send_id": False, "send_id": 42},
    {**BASE, "touchplan_send_id": None, "send_id": True},
    {**BASE, "touchplan_send_id": [], "send_id": {"id": "s-5", "tags": ["a", "b"]}},
    {**BASE, "touchplan_send_id": "0"},
    {**BASE, "category": "", "custom": {"deep": {"list": [1, 2, {"k": None}]}, "empty": {}}, "": "empty key"},
    {**BASE, "category": 7, "big": 123456789012345678901234567890, "neg": -12},
    {**BASE, "timestamp": "yesterday"},
    {**BASE, "timestamp": True},
    {**BASE, "timestamp": {"at": 1}},
    {**BASE, "attempt": "many", "asm_group_id": [1]},
    {**BASE, "email": ""},
    {**BASE, "email": None, "event": "   "},
    {"event": "processed"},
    {**BASE, "category": ["  "], "status": False, "ip": 10},
    {**BASE, "reason": "tab\tnew\nline \\ back/slash \u2028 sep \x7f"},
]


def _ingest(exports: Path, sql: bool, monkeypatch) -> tuple[duckdb.DuckDBPyConnection, list]:
    taken: list[tuple[str, bool]] = []
    real = sendgrid.stage_events_sql

    def spy(ctx, sniff):
        staged = real(ctx, sniff)
        taken.append((ctx.relative, staged is not None))
        return staged

    monkeypatch.setattr(sendgrid, "SQL_EVENTS", sql)
    monkeypatch.setattr(sendgrid, "stage_events_sql", spy)
    con = duckdb.connect()
    ingest_folder(con, exports, exports.parent / "config", now=NOW)
    return con, taken


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    out = {}
    for table in TABLE_NAMES:
        rows = con.execute(f"SELECT * FROM {table}").fetchall()
        out[table] = sorted(rows, key=repr)
    return out


def same_rows_both_ways(tmp_path: Path, files: dict[str, bytes], monkeypatch) -> dict[str, bool]:
    """Ingest `files` with the SQL path and with the Python parser; assert the tables are equal; return for each
    file whether the SQL path took it."""
    exports = tmp_path / "exports"
    for name, data in files.items():
        (exports / name).parent.mkdir(parents=True, exist_ok=True)
        (exports / name).write_bytes(data)
    (tmp_path / "config").mkdir()
    a, taken = _ingest(exports, True, monkeypatch)
    b, _ = _ingest(exports, False, monkeypatch)
    ta, tb = _tables(a), _tables(b)
    assert ta["raw_email_events"], "nothing loaded"
    for table in TABLE_NAMES:
        assert ta[table] == tb[table], table
    # the same, as the benchmark checks it: SQL EXCEPT both ways
    a.execute("ATTACH ':memory:' AS other")
    for table in ("raw_email_events", "ingest_quarantine"):
        a.execute(f"CREATE TABLE other.{table} AS SELECT * FROM {table} LIMIT 0")
        a.executemany(
            f"INSERT INTO other.{table} VALUES ({', '.join('?' * len(tb[table][0]))})", tb[table]
        ) if tb[table] else None
        diff = a.execute(
            f"SELECT count(*) FROM ((SELECT * FROM {table} EXCEPT ALL SELECT * FROM other.{table}) UNION ALL "
            f"(SELECT * FROM other.{table} EXCEPT ALL SELECT * FROM {table}))"
        ).fetchall()[0][0]
        assert diff == 0, table
    return dict(taken)


def ndjson(events: list, newline: str = "\n", **dumps) -> bytes:
    return (newline.join(json.dumps(e, **dumps) for e in events) + newline).encode("utf-8")


def array(events: list, **dumps) -> bytes:
    return ("[\n" + ",\n".join(json.dumps(e, **dumps) for e in events) + "\n]\n").encode("utf-8")


def test_the_real_webhook_sample_takes_the_sql_path_with_the_same_rows(tmp_path, monkeypatch):
    sample = (FIXTURES / "sendgrid" / "event_webhook_sample.json").read_bytes()
    taken = same_rows_both_ways(tmp_path, {"sendgrid/sample.json": sample}, monkeypatch)
    assert taken == {"sendgrid/sample.json": True}


@pytest.mark.parametrize(
    "dumps",
    [
        {},
        {"separators": (",", ":")},
        {"ensure_ascii": False},
        {"indent": None, "separators": (", ", ": ")},
        {"indent": 2, "ensure_ascii": False},
    ],
    ids=["python-default", "compact", "utf8", "spaced", "pretty-printed"],
)
def test_common_events_as_an_array_take_the_sql_path_with_the_same_rows(tmp_path, monkeypatch, dumps):
    taken = same_rows_both_ways(tmp_path, {"sendgrid/events.json": array(COMMON, **dumps)}, monkeypatch)
    assert taken == {"sendgrid/events.json": True}


def test_ndjson_with_blank_broken_and_non_object_lines_takes_the_sql_path_with_the_same_rows(
    tmp_path, monkeypatch
):
    # (the last common event holds a raw U+2028, a line break to Python's splitlines: see PYTHON_ONLY)
    lines = [json.dumps(e, ensure_ascii=False) for e in COMMON[:-1]]
    lines[3:3] = ["", "   \t ", '{"email": "d@example.com", "event": ', "[1, 2]", '"text"', "42", "null"]
    lines.append('{"email": "x@example.com" "event": "open"}')
    crlf = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    lf_no_end = "\n".join(lines).encode("utf-8")
    taken = same_rows_both_ways(
        tmp_path, {"sendgrid/a.ndjson": crlf, "sendgrid/b.json": lf_no_end}, monkeypatch
    )
    assert taken == {"sendgrid/a.ndjson": True, "sendgrid/b.json": True}


def test_bom_utf16_and_damaged_utf8_files_take_the_sql_path_with_the_same_rows(tmp_path, monkeypatch):
    text = array(COMMON[:8], ensure_ascii=False).decode("utf-8")
    damaged = ndjson(COMMON[:6], ensure_ascii=False).replace(b"cat facts", b"cat \xff facts", 1)
    files = {
        "sendgrid/bom.json": codecs.BOM_UTF8 + text.encode("utf-8"),
        "sendgrid/utf16.json": codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
        "sendgrid/damaged.json": damaged,
    }
    taken = same_rows_both_ways(tmp_path, files, monkeypatch)
    assert taken == dict.fromkeys(files, True)


# Shapes where DuckDB and Python's json module read or write differently: the Python parser takes the file.
PYTHON_ONLY = {
    "escaped_quote": array([BASE, {**BASE, "reason": 'say "no"'}]),
    "control_char": array([BASE, {**BASE, "reason": "unit\x1fsep"}]),
    "float": array([BASE, {**BASE, "timestamp": 1767225600.5}]),
    "nan": b'[{"email": "a@example.com", "event": "open", "timestamp": NaN}]',
    "repeated_key": b'[{"email": "a@example.com", "event": "open", "timestamp": 1, "event": "click"}]',
    "nested_repeated_key": b'[{"email": "a@example.com", "event": "open", "timestamp": 1, "pool": {"id": 1, "id": 2}}]',
    "category_object": array([{**BASE, "category": {"a": 1}}]),
    "non_object_element": b'[{"email": "a@example.com", "event": "open", "timestamp": 1}, 5]',
    "line_separator": ndjson([BASE, {**BASE, "reason": "a\u2028b"}], ensure_ascii=False),
    "lone_cr": ndjson([BASE, BASE], newline="\r"),
}


@pytest.mark.parametrize("shape", sorted(PYTHON_ONLY))
def test_shapes_duckdb_reads_differently_go_to_the_python_parser_with_the_same_rows(
    tmp_path, monkeypatch, shape
):
    files = {f"sendgrid/{shape}.json": PYTHON_ONLY[shape], "sendgrid/ok.json": array([BASE])}
    taken = same_rows_both_ways(tmp_path, files, monkeypatch)
    assert taken == {f"sendgrid/{shape}.json": False, "sendgrid/ok.json": True}


def test_a_trailing_comma_is_refused_or_quarantined_as_python_does(tmp_path, monkeypatch):
    files = {
        "sendgrid/ok.json": array([BASE]),
        "sendgrid/lines.json": b'{"email": "a@example.com", "event": "open", "timestamp": 1,}\n'
        + ndjson([BASE]),
        "sendgrid/array.json": b'[{"email": "a@example.com", "event": "open", "timestamp": 1},]',
    }
    taken = same_rows_both_ways(tmp_path, files, monkeypatch)
    assert taken == {"sendgrid/ok.json": True, "sendgrid/lines.json": False, "sendgrid/array.json": False}


def test_nan_infinity_and_lone_surrogate_events_are_quarantined_and_their_neighbours_load(
    tmp_path, monkeypatch
):
    """Python's json module reads `NaN`, `Infinity` and a lone `\\ud800` escape, none of which is JSON a table can
    hold: each such event is quarantined with its line and reason; the file is not rejected whole."""
    lines = [
        json.dumps({**BASE, "sg_event_id": "ok-1"}),
        '{"email": "b@example.com", "event": "open", "timestamp": NaN, "sg_event_id": "nan"}',
        '{"email": "c@example.com", "event": "open", "timestamp": 1, "reason": "\\ud800", "sg_event_id": "sur"}',
        '{"email": "d@example.com", "event": "open", "timestamp": -Infinity, "sg_event_id": "inf"}',
        json.dumps({**BASE, "sg_event_id": "ok-2"}),
    ]
    files = {
        "sendgrid/lines.json": ("\n".join(lines) + "\n").encode("utf-8"),
        "sendgrid/array.json": ("[\n" + ",\n".join(lines) + "\n]\n").encode("utf-8"),
    }
    same_rows_both_ways(tmp_path, files, monkeypatch)
    con, _ = _ingest(tmp_path / "exports", True, monkeypatch)
    loaded = con.execute(
        "SELECT _source_file, list(event_id ORDER BY event_id) FROM raw_email_events GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert [ids for _, ids in loaded] == [["ok-1", "ok-2"], ["ok-1", "ok-2"]]
    quarantined = con.execute(
        "SELECT line_number, reason FROM ingest_quarantine ORDER BY source_file, line_number"
    ).fetchall()
    assert [n for n, _ in quarantined] == [2, 3, 4, 2, 3, 4]
    reasons = [r for _, r in quarantined]
    assert reasons[0] == reasons[2] and "NaN or Infinity" in reasons[0]
    assert "lone surrogate" in reasons[1]
    files_row = con.execute(
        "SELECT list(status), sum(rows_loaded), sum(rows_quarantined) FROM ingest_files"
    ).fetchall()[0]
    assert files_row == (["loaded", "loaded"], 4, 6)


# Odd values written as the file would hold them (number forms json.dumps never writes), each event with its id.
ODD_EVENTS = [
    (
        "unicode",
        '{"email": "kraków@example.pl", "event": "open", "timestamp": 1, "sg_event_id": "unicode", '
        '"reason": "Zoë 😀 ∑ , : {", "note": "\u00e9t\u00e9"}',
    ),
    (
        "quotes",
        '{"email": "a@example.com", "event": "open", "timestamp": 1, "sg_event_id": "quotes", '
        '"reason": "say \\"no\\", {x: 1}", "tag": "\\"q\\""}',
    ),
    (
        "nested",
        '{"email": "a@example.com", "event": "click", "timestamp": 1, "sg_event_id": "nested", '
        '"url_offset": {"index": 0, "type": "html"}, "custom": {"deep": {"list": [1, 2, {"k": null}]}, "empty": {}}}',
    ),
    (
        "numbers",
        '{"email": "a@example.com", "event": "open", "timestamp": 1, "sg_event_id": "numbers", '
        '"ratio": 1.0, "big": 1e3, "neg": -0.5, "exp": 2.5E-3, "int": 12345678901234567890}',
    ),
    (
        "plain",
        '{"email": "a@example.com", "event": "open", "timestamp": 1, "sg_event_id": "plain", '
        '"campaign_id": "spring", "touchplan_send_id": "s-1"}',
    ),
]


def _pretty(text: str) -> str:
    """An event's text laid out over several lines, as a pretty-printing exporter writes it (strings untouched)."""
    parts = text.split('"')
    return '"'.join(
        p if i % 2 else p.replace(", ", ",\n    ").replace("{", "{\n    ") for i, p in enumerate(parts)
    )


@pytest.mark.parametrize("layout", ["array", "pretty-array", "ndjson"])
def test_payload_and_custom_args_hold_each_events_json_value_as_compact_json(tmp_path, monkeypatch, layout):
    """`payload` is the event's JSON value and `custom_args` that of its non-standard keys, whatever the file's
    layout and whichever parser took it (escaped quotes and the number forms go to Python's, the rest to DuckDB's):
    stored as compact JSON, the text json.dumps(value, ensure_ascii=False, separators=(",", ":")) writes."""
    texts = [t for _, t in ODD_EVENTS]
    if layout == "ndjson":
        data = "\n".join(texts) + "\n"
    elif layout == "array":
        data = "[" + ", ".join(texts) + "]"
    else:
        data = "[\n  " + ",\n  ".join(_pretty(t) for t in texts) + "\n]\n"
    # one file per event: each takes its own parser
    files = {"sendgrid/all.json": data.encode("utf-8")}
    files.update(
        {
            f"sendgrid/{name}.json": (text + "\n" if layout == "ndjson" else "[" + text + "]").encode("utf-8")
            for name, text in ODD_EVENTS
        }
    )
    taken = same_rows_both_ways(tmp_path, files, monkeypatch)
    con, _ = _ingest(tmp_path / "exports", True, monkeypatch)
    assert taken["sendgrid/plain.json"] and taken["sendgrid/nested.json"] and taken["sendgrid/unicode.json"]
    assert not taken["sendgrid/quotes.json"] and not taken["sendgrid/numbers.json"]
    rows = con.execute(
        "SELECT _source_file, event_id, CAST(payload AS VARCHAR), CAST(custom_args AS VARCHAR) FROM raw_email_events"
    ).fetchall()
    assert len(rows) == 2 * len(ODD_EVENTS)
    expected = {name: json.loads(text) for name, text in ODD_EVENTS}
    for source, event_id, payload, custom_args in rows:
        event = expected[event_id]
        custom = {k: v for k, v in event.items() if k not in sendgrid.STANDARD}
        assert json.loads(payload) == event, (source, event_id)
        assert payload == json.dumps(event, ensure_ascii=False, separators=(",", ":")), (source, event_id)
        assert json.loads(custom_args) == custom, (source, event_id)
        assert custom_args == json.dumps(custom, ensure_ascii=False, separators=(",", ":")), (
            source,
            event_id,
        )


def test_the_same_event_gets_the_same_payload_text_from_every_layout(tmp_path, monkeypatch):
    """The sending guard counts an event without `sg_event_id` once by md5(payload): the same event delivered in a
    pretty-printed array, a compact array and a spaced NDJSON file must get the same payload text."""
    events = [{k: v for k, v in e.items() if k != "sg_event_id"} for e in COMMON[:8]]
    files = {
        "sendgrid/pretty.json": array(events, indent=2, ensure_ascii=False),
        "sendgrid/compact.json": array(events, separators=(",", ":")),
        "sendgrid/lines.ndjson": ndjson(events),
    }
    taken = same_rows_both_ways(tmp_path, files, monkeypatch)
    assert taken == dict.fromkeys(files, True)
    con, _ = _ingest(tmp_path / "exports", True, monkeypatch)
    by_file = con.execute(
        "SELECT _source_file, list(md5(CAST(payload AS VARCHAR)) ORDER BY _source_line) FROM raw_email_events "
        "GROUP BY 1"
    ).fetchall()
    assert len(by_file) == 3
    assert by_file[0][1] == by_file[1][1] == by_file[2][1]
