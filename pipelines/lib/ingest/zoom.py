"""Zoom reports.

- Webinar attendee report: sections (report title, `Report Generated:`, the webinar summary, `Host Details`,
  `Panelist Details`, `Attendee Details`, `Other Attended`), one row per join/leave session. Both the 2020 layout
  (`"Mar 28, 2020 08:07:27"`, quoting that changes between sections) and the newer one (section lines padded with
  commas, `MM/DD/YYYY hh:mm:ss AM`, `User Name (Original Name)`, `Phone`, `Is Guest`, `Source Name`).
- Webinar registration report: the same frame with a `Registrant Details` section.
- Meeting participants report: one header row (`Name (Original Name),User Email,Join Time,...`), optionally after a
  meeting summary block.

Times carry no zone: `sources.zoom.time_zone` applies (default UTC). `--` means "no value".
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path

from pipelines.lib.ingest.encoding import read_text
from pipelines.lib.ingest.errors import FileRejected
from pipelines.lib.ingest.formats import FileContext, Format, Sniff, make_segment, register, timestamp_col
from pipelines.lib.ingest.mapping import Col, Segment, _convert, lit, q
from pipelines.lib.ingest.tabular import check_headers, clean_header, rejects_table, stage_csv, stage_rows

ZOOM = "zoom"
ROLES = {
    "host details": "host",
    "panelist details": "panelist",
    "attendee details": "attendee",
    "other attended": "other",
    "registrant details": "registrant",
    "registrants details": "registrant",
}
TITLES = {"attendee report", "registration report", "webinar attendee report", "performance report"}
META_LABELS = ("report generated:",)


def _trimmed(fields: list[str]) -> list[str]:
    end = len(fields)
    while end and not fields[end - 1].strip():
        end -= 1
    return fields[:end]


def _value(text: str) -> str | None:
    text = text.strip()
    return None if text in ("", "--", "NA", "N/A") else text


def read_rows(text: str) -> list[tuple[int, str, list[str]]]:
    """(first physical line, raw text, fields) of every CSV record of `text`."""
    lines = text.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(text))
    out: list[tuple[int, str, list[str]]] = []
    start = 1
    try:
        for fields in reader:
            end = reader.line_num
            raw = "".join(lines[start - 1 : end]).rstrip("\r\n")
            out.append((start, raw, fields))
            start = end + 1
    except csv.Error as exc:
        raw = "".join(lines[start - 1 :]).rstrip("\r\n")
        out.append((start, raw, ["\x00csv-error", str(exc)]))
    return out


def _digits(value: str | None) -> str | None:
    if not value:
        return None
    digits = re.sub(r"\D", "", value)
    return digits or value


ATTENDANCE = {  # header (casefolded) -> (raw column, kind)
    "attended": ("attended", "bool"),
    "user name (original name)": ("name", "text"),
    "user name": ("name", "text"),
    "name (original name)": ("name", "text"),
    "first name": ("first_name", "text"),
    "last name": ("last_name", "text"),
    "email": ("email", "text"),
    "user email": ("email", "text"),
    "phone": ("phone", "text"),
    "registration time": ("registered_at", "timestamp"),
    "approval status": ("approval_status", "text"),
    "join time": ("joined_at", "timestamp"),
    "leave time": ("left_at", "timestamp"),
    "time in session (minutes)": ("duration_minutes", "double"),
    "duration (minutes)": ("duration_minutes", "double"),
    "is guest": ("is_guest", "bool"),
    "guest": ("is_guest", "bool"),
    "country/region name": ("country", "text"),
}
REGISTRATION = {
    "first name": ("first_name", "text"),
    "last name": ("last_name", "text"),
    "email": ("email", "text"),
    "registration time": ("registered_at", "timestamp"),
    "approval status": ("approval_status", "text"),
    "country/region": ("country", "text"),
    "country/region name": ("country", "text"),
    "organization": ("company", "text"),
    "job title": ("title", "text"),
    "phone": ("phone", "text"),
}


def _columns(ctx: FileContext, headers: list[str], spec: dict[str, tuple[str, str]]) -> list[Col]:
    cols: list[Col] = []
    seen: set[str] = set()
    for h in headers:
        target = spec.get(h.casefold())
        if target and target[0] not in seen:
            seen.add(target[0])
            if target[1] == "timestamp":
                cols.append(timestamp_col(ZOOM, ctx, target[0], source=h))
            else:
                cols.append(Col(target[0], h, target[1]))
    return cols


class ZoomSectionReport(Format):
    name = "zoom_webinar_report"
    kind = "webinar"
    source_system = ZOOM

    def detect(self, sniff: Sniff) -> bool:
        for _, fields in sniff.rows[:3]:
            trimmed = _trimmed(fields)
            if trimmed and clean_header(trimmed[0]).casefold() in TITLES:
                return True
        return False

    def stage(self, ctx: FileContext, sniff: Sniff) -> list[Segment]:
        assert ctx.encoding is not None
        rows = read_rows(read_text(ctx.path, ctx.encoding))
        meta: dict[str, str | None] = {}
        sections: list[tuple[str, int, list[str], list[tuple[int, str, list[str]]]]] = []
        stray: list[tuple[int, str, str]] = []
        state = "start"  # start | summary_header | summary_values | section_header | section_rows | ignored
        current: tuple[str, int, list[str], list] | None = None
        summary_headers: list[str] = []
        for line, raw, fields in rows:
            if fields and fields[0] == "\x00csv-error":
                stray.append((line, raw, f"unreadable CSV: {fields[1]}"))
                continue
            trimmed = _trimmed(fields)
            if not trimmed:
                continue
            first = clean_header(trimmed[0]).casefold()
            if len(trimmed) == 1 and first in TITLES:
                state = "summary_header"
                continue
            if first in META_LABELS:
                continue
            if len(trimmed) == 1 and (first in ROLES or first.endswith(("details", "report", "attended"))):
                if first in ROLES:
                    current = (ROLES[first], line, [], [])
                    sections.append(current)
                    state = "section_header"
                else:
                    state = "ignored"
                    ctx.warn(f"{ctx.relative}: line {line}: section {trimmed[0]!r} is not loaded")
                continue
            if state == "summary_header":
                summary_headers = [clean_header(f) for f in trimmed]
                state = "summary_values"
            elif state == "summary_values":
                meta = {h.casefold(): _value(v) for h, v in zip(summary_headers, fields, strict=False)}
                state = "after_summary"
            elif state == "section_header" and current is not None:
                current[2].extend(clean_header(f) for f in trimmed)
                current = (current[0], line, current[2], current[3])
                sections[-1] = current
                state = "section_rows"
            elif state == "section_rows" and current is not None:
                current[3].append((line, raw, [_value(f) for f in fields]))
            elif state == "ignored":
                stray.append((line, raw, "row of a section that is not loaded"))
            else:
                stray.append((line, raw, "row outside any known section"))
        if not sections:
            raise FileRejected(f"{ctx.relative}: no Host/Panelist/Attendee/Registrant section found")
        webinar_id = _digits(meta.get("webinar id") or meta.get("meeting id"))
        if webinar_id is None:
            match = re.search(r"(\d{9,12})", ctx.relative)
            webinar_id = match.group(1) if match else None
        topic = meta.get("topic")
        start = meta.get("actual start time") or meta.get("scheduled time") or meta.get("start time")
        if webinar_id is None and (topic or start):
            # No id in the summary nor in the file name: a stable one from the topic and start as written.
            webinar_id = "zoom-webinar-" + hashlib.sha256(f"{topic}|{start}".encode()).hexdigest()[:16]
        segments: list[Segment] = []
        for index, (role, line, headers, data) in enumerate(sections):
            registration = role == "registrant"
            spec = REGISTRATION if registration else ATTENDANCE
            required = ["Email"] if registration else (["Join Time"] if role != "attendee" else [])
            check_headers(ctx.relative, headers, required, line, f"section {role}")
            staged = stage_rows(ctx.con, ctx.new_stage(), headers, data)
            cols = _columns(ctx, headers, spec) + [
                Col("source_system", const=ZOOM),
                Col("webinar_id", const=webinar_id),
                Col("webinar_topic", const=topic),
                Col(
                    "webinar_start_at",
                    sql=_timestamp_literal(ctx, timestamp_col(ZOOM, ctx, "webinar_start_at"), start),
                ),
            ]
            if not registration:
                cols += [Col("role", const=role), Col("record_level", const="session")]
            table = "raw_webinar_registrations" if registration else "raw_webinar_attendance"
            if index == 0 and stray:
                staged.rejects = _merge_rejects(ctx, staged.rejects, stray)
            segments.append(
                make_segment(
                    ctx,
                    self.name,
                    table,
                    cols,
                    headers,
                    staged.stage,
                    staged.headers,
                    staged.rejects,
                    what=f"section {role}",
                )
            )
        return segments


def _timestamp_literal(ctx: FileContext, col: Col, value: str | None) -> str:
    """The webinar start (a constant of the file) through the same timestamp conversion as the rows, computed once
    here: a TIMESTAMP literal or NULL. (Written out, the conversion tries every date format on the constant, and
    DuckDB planned that expression again in every section's query: about 10 ms of CPU each.)"""
    expr, _ = _convert(col, f"NULLIF(TRIM({lit(value)}), '')")
    start = ctx.con.execute(f"SELECT CAST(CAST({expr} AS TIMESTAMP) AS VARCHAR)").fetchall()[0][0]
    return "NULL" if start is None else f"TIMESTAMP {lit(start)}"


def _merge_rejects(ctx: FileContext, rejects: str, stray: list[tuple[int, str, str]]) -> str:
    extra = rejects_table(ctx.con, ctx.new_stage(), stray)
    ctx.con.execute(f"INSERT INTO {rejects} SELECT * FROM {extra}")
    ctx.con.execute(f"DROP TABLE {extra}")
    return rejects


def derived_meeting_id(
    ctx: FileContext, stage: str, header_cols: dict[str, str], cols: list[Col]
) -> str | None:
    """A meeting participants report without its meeting block and without the id in its file name: a stable id
    from the earliest join time (`zoom-meeting-` + 16 hex digits of its sha256), so the same meeting exported
    twice, under any name, gets the same id; NULL only when no row has a readable join time."""
    joined = next((c for c in cols if c.target == "joined_at"), None)
    if joined is None or joined.source not in header_cols:
        return None
    expr, _ = _convert(joined, f"NULLIF(TRIM({q(header_cols[joined.source])}), '')")
    first = ctx.con.execute(f"SELECT min({expr}) FROM {stage}").fetchall()[0][0]
    if first is None:
        return None
    return "zoom-meeting-" + hashlib.sha256(first.isoformat(sep=" ").encode()).hexdigest()[:16]


class ZoomParticipants(Format):
    """Meeting participants report (optionally preceded by the meeting summary block)."""

    name = "zoom_participants"
    kind = "webinar"
    source_system = ZOOM

    def _header(self, sniff: Sniff) -> tuple[int, list[str], dict[str, str | None]]:
        meta: dict[str, str | None] = {}
        for i, (line, fields) in enumerate(sniff.rows[:20]):
            h = {clean_header(f).casefold() for f in fields}
            if {"join time", "leave time"} <= h and bool(h & {"name (original name)", "user email", "name"}):
                return line, [clean_header(f) for f in _trimmed(fields)], meta
            if "meeting id" in h and i + 1 < len(sniff.rows):
                meta = {
                    clean_header(k).casefold(): _value(v)
                    for k, v in zip(fields, sniff.rows[i + 1][1], strict=False)
                }
        raise FileRejected(f"{sniff.relative}: no participants header (Join Time, Leave Time) found")

    def detect(self, sniff: Sniff) -> bool:
        try:
            self._header(sniff)
        except FileRejected:
            return False
        return True

    def stage(self, ctx: FileContext, sniff: Sniff) -> list[Segment]:
        line, headers, meta = self._header(sniff)
        check_headers(ctx.relative, headers, ["Join Time"], line)
        staged = stage_csv(
            ctx.con, ctx.utf8_path(), ctx.new_stage(), headers, line, sniff.delimiter, null_padding=True
        )
        cols = _columns(ctx, headers, ATTENDANCE)
        meeting = _digits(meta.get("meeting id"))
        if meeting is None:
            # Zoom names the download participants_<meeting id>.csv
            match = re.search(r"(\d{9,12})", Path(ctx.relative).name)
            meeting = match.group(1) if match else None
        if meeting is None:
            meeting = derived_meeting_id(ctx, staged.stage, staged.headers, cols)
        start_col = timestamp_col(ZOOM, ctx, "webinar_start_at")
        cols = cols + [
            Col("source_system", const=ZOOM),
            Col("webinar_id", const=meeting),
            Col("webinar_topic", const=meta.get("topic")),
            Col("webinar_start_at", sql=_timestamp_literal(ctx, start_col, meta.get("start time"))),
            Col("role", const="attendee"),
            Col("record_level", const="session"),
        ]
        return [
            make_segment(
                ctx,
                self.name,
                "raw_webinar_attendance",
                cols,
                headers,
                staged.stage,
                staged.headers,
                staged.rejects,
                staged.raw_sql,
                staged.nondata,
            )
        ]


register(ZoomSectionReport())
register(ZoomParticipants())
