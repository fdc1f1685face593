"""Microsoft Teams reports.

- Meeting / webinar attendance report (`teams_attendance`): UTF-16 LE with BOM, tab-separated, in sections
  `1. Summary` (key<TAB>value lines: meeting title, start time...), `2. Participants` (one row per person:
  `Name, First Join, Last Leave, In-Meeting Duration, Email, Participant ID (UPN), Role`, webinars add
  `Registration Email`) and `3. In-Meeting Activities` (one row per join/leave: `Name, Join Time, Leave Time,
  Duration, Email, Role`). The older layout (`Meeting Summary`, then one `Full Name, Join Time, Leave Time, ...`
  table) reads the same way. Sessions come from the In-Meeting Activities when the report has them: each is one
  raw_webinar_attendance row, enriched with the person's UPN and registration email from Participants; a
  Participants row is then a per-person summary (not a data row), except for a person with no activity row, who
  is loaded from it (`record_level = 'participant'`) so that nobody is lost. Without section 3, every Participants
  row is a session. Times carry no zone (the downloader's locale and zone, `3/15/24, 9:58:12 AM` or
  `2024-03-15 09:58:12`): `sources.teams.time_zone`. Durations like `1h 5m 3s` become minutes.
- Live-event attendee engagement report (`teams_live_events`): CSV event log `Session Id, Participant Id,
  Full Name, UserAgent, UTC Event Timestamp, Action, Role` with `Joined` / `Left` rows, paired in SQL into one
  session per Joined (per session id and participant id, in time order). A Joined without a Left loads with an
  empty `left_at`; a Left without a Joined, an unknown action or an unreadable time is quarantined. Anonymous
  viewers (empty Participant Id) load with a null email and `is_guest = true`, like Zoom's "Other Attended" rows.
  Here a row of the raw table (and of `rows_read`) is a session: the Joined line with its Left line.

- Attendance list as downloaded in 2020 (`teams_attendance_list`): UTF-16 LE with BOM, tab-separated, no final
  newline, `Full Name, User Action, Timestamp` with `Joined` / `Left` rows (`Timestamp` in the downloader's locale,
  `11/12/2020, 12:27:24` = 11 December in a 24-hour day-first locale; `sources.teams.time_zone`). Paired in SQL
  like the live-event log, per Full Name (the list has nothing else to tell people apart).

Pairing rule (live events and the 2020 list): per person, events in time order (then line order); each `Joined`
is paired with the next event when that is a `Left`. A `Joined` followed by another `Joined` or by nothing
(still in the meeting when the list was downloaded) loads with an empty `left_at` and a warning; a `Left` with no
`Joined` before it is quarantined. A row of the raw table (and of `rows_read`) is a session: the Joined line with
its Left line.

A session longer than MAX_SESSION_HOURS (30 h: Teams ends a meeting after 30 hours) is not an attendance but a
join paired with a leave of another day; it is quarantined with its length, as is a session whose leave is
before its join. Rows identical to an earlier row of the same section (a report listing the same leave twice)
are quarantined as repeats of that line, so a session is loaded once.

Roles: Organizer / Co-organizer / Producer and the live-event `Event Team Member` (organisers, producers and
presenters) -> host, Presenter -> panelist, Attendee (or none) -> attendee, anything else -> other; the role as
written is kept in `extra`.
"""

from __future__ import annotations

import csv
import hashlib
import re

from pipelines.lib.ingest.encoding import read_text
from pipelines.lib.ingest.errors import FileRejected
from pipelines.lib.ingest.formats import FORMATS, FileContext, Format, Sniff, make_segment, register
from pipelines.lib.ingest.mapping import TIMESTAMP_FORMATS, Col, Segment, _convert, lit, q
from pipelines.lib.ingest.tabular import check_headers, clean_header, rejects_table, stage_csv, stage_rows

TEAMS = "teams"
# Teams writes times in the downloader's locale; tried after ISO 8601 (first match wins; en-US has AM/PM).
TEAMS_FORMATS = [
    "%m/%d/%y, %I:%M:%S %p",
    "%m/%d/%Y, %I:%M:%S %p",
    "%m/%d/%y %I:%M:%S %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%d/%m/%Y, %H:%M:%S",
    "%d/%m/%y, %H:%M:%S",
    "%d.%m.%Y, %H:%M:%S",
    "%d.%m.%y, %H:%M:%S",
    "%d.%m.%Y %H:%M:%S",
    "%Y-%m-%d, %H:%M:%S",
    "%Y/%m/%d, %H:%M:%S",
    *TIMESTAMP_FORMATS,
]
SECTION = re.compile(r"^\s*\d+\s*\.\s*(.+?)\s*$")
SUMMARY_TITLES = {"summary", "meeting summary"}
PARTICIPANTS, ACTIVITIES = "participants", "in-meeting activities"
# header (casefolded) -> (raw column, kind)
ATTENDANCE = {
    "name": ("name", "text"),
    "full name": ("name", "text"),
    "join time": ("joined_at", "timestamp"),
    "first join": ("joined_at", "timestamp"),
    "leave time": ("left_at", "timestamp"),
    "last leave": ("left_at", "timestamp"),
    "duration": ("duration_minutes", "duration"),
    "in-meeting duration": ("duration_minutes", "duration"),
    "attendance duration": ("duration_minutes", "duration"),
    "registration time": ("registered_at", "timestamp"),
    "registered at": ("registered_at", "timestamp"),
    "registration date": ("registered_at", "timestamp"),
    "registration status": ("approval_status", "text"),
    "approval status": ("approval_status", "text"),
}
# Participants columns carried onto the person's In-Meeting Activities rows (as `_p<i>` staged columns).
CARRIED = (
    "registration time",
    "registered at",
    "registration date",
    "registration status",
    "approval status",
)
MAX_SESSION_HOURS = 30
ROLE_SQL = (
    "CASE WHEN {r} IS NULL OR lower({r}) = 'attendee' THEN 'attendee' "
    "WHEN lower({r}) IN ('organizer', 'organiser', 'co-organizer', 'co-organiser', 'producer', "
    "'event team member') THEN 'host' "
    "WHEN lower({r}) = 'presenter' THEN 'panelist' ELSE 'other' END"
)
META_TOPIC = ("meeting title", "title", "webinar title", "event title", "meeting name")
META_ID = ("meeting id", "webinar id", "event id", "id")
META_START = ("start time", "meeting start time", "actual start time", "first join")


def _nz(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.replace("\u202f", " ").replace("\u00a0", " ").strip()
    return value or None


def _ts(col_name: str, zone: str) -> Col:
    return Col(col_name, kind="timestamp", zone=zone, formats=TEAMS_FORMATS)


def _timestamp_literal(zone: str, value: str | None) -> str:
    expr, _ = _convert(_ts("webinar_start_at", zone), f"NULLIF(TRIM({lit(value)}), '')")
    return expr


def _clean(expr: str) -> str:
    return f"NULLIF(TRIM({expr}), '')"


def session_problem(joined: str, left: str) -> str:
    """SQL: why a (joined, left) session is not plausible, else NULL."""
    seconds = f"date_diff('second', {joined}, {left})"
    return (
        f"CASE WHEN {left} < {joined} THEN 'leave time before join time' "
        f"WHEN {seconds} > {MAX_SESSION_HOURS * 3600} THEN 'session of ' || CAST(round({seconds} / 60) AS BIGINT) "
        f"|| ' minutes is longer than {MAX_SESSION_HOURS} hours, the longest a Teams meeting runs (a join paired "
        "with a leave of another day)' END"
    )


def quarantine_repeats_and_implausible_sessions(
    ctx: FileContext, stage: str, rejects: str, headers: list[str], hc: dict[str, str]
) -> None:
    """Quarantine rows identical to an earlier row of the section, and sessions that cannot be one."""
    con = ctx.con
    data_cols = [hc[h] for h in headers if h in hc]
    if data_cols:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {stage}_rep AS SELECT _line, _raw, _member, first FROM "
            f"(SELECT _line, _raw, _member, min(_line) OVER (PARTITION BY {', '.join(data_cols)}) AS first "
            f"FROM {stage}) WHERE _line <> first"
        )
        con.execute(
            f"INSERT INTO {rejects} (_line, _raw, _member, reason) SELECT _line, _raw, _member, "
            f"'identical to line ' || first || ': the same row is loaded once' FROM {stage}_rep"
        )
        con.execute(f"DELETE FROM {stage} WHERE _line IN (SELECT _line FROM {stage}_rep)")
        con.execute(f"DROP TABLE {stage}_rep")
    folded = {h.casefold(): h for h in headers if h}
    join = next((folded[k] for k in ("join time", "first join") if k in folded), None)
    leave = next((folded[k] for k in ("leave time", "last leave") if k in folded), None)
    if join is None or leave is None:
        return
    joined, _ = _convert(_ts("t", ctx.zone(TEAMS)), _clean(q(hc[join])))
    left, _ = _convert(_ts("t", ctx.zone(TEAMS)), _clean(q(hc[leave])))
    problem = session_problem(joined, left)
    con.execute(
        f"INSERT INTO {rejects} (_line, _raw, _member, reason) SELECT _line, _raw, _member, problem FROM "
        f"(SELECT _line, _raw, _member, {problem} AS problem FROM {stage}) WHERE problem IS NOT NULL"
    )
    con.execute(f"DELETE FROM {stage} WHERE ({problem}) IS NOT NULL")


def pair_events(ctx: FileContext, events: str, rejects: str, partition: str, who: str) -> str:
    """Joined/Left events (`events`: staged columns plus _line, _member, _raw, _ts, _action) -> a sessions table.

    Per `partition`, in time then line order, each Joined is paired with the next event when that is a Left.
    Lefts with no Joined before them and implausible sessions go to `rejects`; returns the sessions table
    (the Joined row's columns, `_joined_at`, `_left_at`, `_left_line`, `_raw` = both lines)."""
    con = ctx.con
    paired = f"{events}_pr"
    con.execute(
        f"CREATE TEMP TABLE {paired} AS SELECT *, "
        f"lag(_action) OVER w AS _prev, lead(_action) OVER w AS _next, lead(_ts) OVER w AS _next_ts, "
        f"lead(_line) OVER w AS _next_line, lead(_raw) OVER w AS _next_raw FROM {events} "
        f"WINDOW w AS (PARTITION BY {partition} ORDER BY _ts, _line)"
    )
    con.execute(
        f"INSERT INTO {rejects} (_line, _raw, _member, reason) SELECT _line, _raw, _member, "
        f"{lit('Left without a Joined before it (same ' + who + ')')} FROM "
        f"{paired} WHERE _action = 'left' AND (_prev IS NULL OR _prev <> 'joined')"
    )
    sessions = ctx.new_stage()
    con.execute(
        f"CREATE TEMP TABLE {sessions} AS SELECT * EXCLUDE (_raw, _prev, _next, _next_ts, _next_line, _next_raw),"
        " _ts AS _joined_at, CASE WHEN _next = 'left' THEN _next_ts END AS _left_at, "
        "CAST(CASE WHEN _next = 'left' THEN _next_line END AS VARCHAR) AS _left_line, "
        "CASE WHEN _next = 'left' THEN _raw || chr(10) || _next_raw ELSE _raw END AS _raw "
        f"FROM {paired} WHERE _action = 'joined' ORDER BY _line"
    )
    problem = session_problem("_joined_at", "_left_at")
    con.execute(
        f"INSERT INTO {rejects} (_line, _raw, _member, reason) SELECT _line, _raw, _member, "
        f"{problem} || ' (Joined line ' || _line || ', Left line ' || _left_line || ')' FROM {sessions} "
        f"WHERE ({problem}) IS NOT NULL"
    )
    con.execute(f"DELETE FROM {sessions} WHERE ({problem}) IS NOT NULL")
    con.execute(f"DROP TABLE {paired}")
    unpaired = con.execute(f"SELECT count(*) FROM {sessions} WHERE _left_at IS NULL").fetchall()[0][0]
    if unpaired:
        ctx.warn(f"{ctx.relative}: {unpaired} Joined event(s) without a Left: loaded with no left_at")
    return sessions


class TeamsAttendance(Format):
    name = "teams_attendance"
    kind = "webinar"
    source_system = TEAMS

    def detect(self, sniff: Sniff) -> bool:
        lines = [x for x in sniff.head_text.replace("\ufeff", "").splitlines() if x.strip()]
        if not lines or "\t" not in sniff.head_text:
            return False
        first = lines[0].strip().strip('"').casefold()
        match = SECTION.match(first)
        title = match.group(1) if match else first
        if title not in SUMMARY_TITLES:
            return False
        folded = sniff.head_text.casefold()
        return "join time" in folded or "first join" in folded or PARTICIPANTS in folded

    def stage(self, ctx: FileContext, sniff: Sniff) -> list[Segment]:
        if FORMATS["teams_attendance_list"].detect(sniff):
            # A rule in config/sources.yaml named teams_attendance for a 2020 attendance list: read it as one.
            return FORMATS["teams_attendance_list"].stage(ctx, sniff)
        assert ctx.encoding is not None
        text = read_text(ctx.path, ctx.encoding).replace("\ufeff", "")
        aliases = ctx.aliases(TEAMS)
        meta: dict[str, str | None] = {}
        tables: dict[str, tuple[int, list[str], list[tuple[int, str, list[str | None]]]]] = {}
        stray: list[tuple[int, str, str]] = []
        section = "start"  # start | summary | participants | in-meeting activities | <ignored title>
        for line, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            fields = next(csv.reader([raw], delimiter="\t"))
            data_fields = list(fields)  # data rows keep their empty trailing fields (their count is checked)
            while fields and not fields[-1].strip():
                fields.pop()
            if not fields:
                continue
            if len(fields) == 1:
                match = SECTION.match(fields[0])
                title = (match.group(1) if match else fields[0].strip()).casefold()
                if match or title in SUMMARY_TITLES:
                    section = "summary" if title in SUMMARY_TITLES else title
                    if section not in ("summary", PARTICIPANTS, ACTIVITIES):
                        ctx.warn(f"{ctx.relative}: line {line}: section {fields[0].strip()!r} is not loaded")
                    continue
            headers = [aliases.get(clean_header(f).casefold(), clean_header(f)) for f in fields]
            folded = {h.casefold() for h in headers}
            if section in ("start", "summary") and ("join time" in folded or "first join" in folded):
                # Older layout: the table follows the summary without a section title.
                section = ACTIVITIES if "join time" in folded else PARTICIPANTS
            if section in ("start", "summary"):
                if section == "summary" and len(fields) >= 2:
                    meta.setdefault(clean_header(fields[0]).casefold(), _nz(fields[1]))
                else:
                    stray.append((line, raw, "row outside any known section"))
                continue
            if section not in (PARTICIPANTS, ACTIVITIES):
                stray.append((line, raw, "row of a section that is not loaded"))
                continue
            if section not in tables:
                tables[section] = (line, headers, [])
                continue
            tables[section][2].append((line, raw, [_nz(f) for f in data_fields]))
        if not tables:
            raise FileRejected(f"{ctx.relative}: no Participants or In-Meeting Activities table found")
        for name, (line, headers, _) in tables.items():
            join = "Join Time" if name == ACTIVITIES else "First Join"
            required = ["Full Name" if "full name" in {h.casefold() for h in headers} else "Name", join]
            check_headers(ctx.relative, headers, required, line, f"section {name}")

        topic = next((meta[k] for k in META_TOPIC if meta.get(k)), None)
        start = next((meta[k] for k in META_START if meta.get(k)), None)
        webinar_id = next((meta[k] for k in META_ID if meta.get(k)), None)
        if webinar_id is None and (topic or start):
            # The report names no meeting id: a stable id from its title and start as written.
            webinar_id = "teams-" + hashlib.sha256(f"{topic}|{start}".encode()).hexdigest()[:16]
        common = [
            Col("source_system", const=TEAMS),
            Col("webinar_id", const=webinar_id),
            Col("webinar_topic", const=topic),
            Col("webinar_start_at", sql=_timestamp_literal(ctx.zone(TEAMS), start)),
        ]

        # Whether the report says who is a member of the organiser's tenant (a UPN column in any section).
        has_upn = any("participant id (upn)" in {h.casefold() for h in t[1]} for t in tables.values())
        segments: list[Segment] = []
        if ACTIVITIES in tables:
            line, headers, rows = tables[ACTIVITIES]
            people = self._people(tables.get(PARTICIPANTS))
            keys = [self._key(headers, r[2]) for r in rows]
            found = [
                people.get(k)
                or (people.get((None, k[1])) if k[1] else None)
                or people.get((k[0], None))
                or {}
                for k in keys
            ]
            upn = [p.get("participant id (upn)") for p in found]
            reg = [p.get("registration email") for p in found]
            carried: dict[str, list] = {"_upn": upn, "_registration_email": reg}
            pseudo: dict[str, str] = {}
            p_headers = tables[PARTICIPANTS][1] if PARTICIPANTS in tables else []
            own = {h.casefold() for h in headers}
            for i, h in enumerate(p_headers):
                if h.casefold() in CARRIED and h.casefold() not in own:
                    carried[f"_p{i}"] = [p.get(h.casefold()) for p in found]
                    pseudo[h] = f"_p{i}"
            segments.append(self._segment(ctx, headers, rows, common, "session", carried, pseudo, has_upn))
            # Matched by name and email, else by email, else by name (guests have no email in one section).
            seen = set(keys) | {(None, k[1]) for k in keys if k[1]} | {(k[0], None) for k in keys if k[0]}
            if PARTICIPANTS in tables:
                p_line, p_headers, p_rows = tables[PARTICIPANTS]
                p_keys = [self._key(p_headers, r[2]) for r in p_rows]
                lonely = [
                    r
                    for r, k in zip(p_rows, p_keys, strict=True)
                    if k not in seen and (None, k[1]) not in seen and (k[0], None) not in seen
                ]
                if lonely:
                    ctx.warn(
                        f"{ctx.relative}: {len(lonely)} participant(s) without an In-Meeting Activities row "
                        "loaded from the Participants section"
                    )
                    segments.append(
                        self._segment(ctx, p_headers, lonely, common, "participant", {}, {}, has_upn)
                    )
        else:
            line, headers, rows = tables[PARTICIPANTS]
            segments.append(self._segment(ctx, headers, rows, common, "session", {}, {}, has_upn))
        if stray:
            first = segments[0]
            extra = rejects_table(ctx.con, ctx.new_stage(), stray)
            ctx.con.execute(f"INSERT INTO {first.rejects} SELECT * FROM {extra}")
        return segments

    @staticmethod
    def _key(headers: list[str], fields: list[str | None]) -> tuple[str | None, str | None]:
        """(name, email) of a row, casefolded: how a Participants row and an activity row are matched."""
        by = {h.casefold(): (fields[i] if i < len(fields) else None) for i, h in enumerate(headers)}
        name = by.get("name") or by.get("full name")
        email = by.get("email") or by.get("registration email")
        return (name.casefold() if name else None, email.casefold() if email else None)

    def _people(self, table) -> dict[tuple[str | None, str | None], dict[str, str | None]]:
        if table is None:
            return {}
        _, headers, rows = table
        out: dict[tuple[str | None, str | None], dict[str, str | None]] = {}
        for _, _, fields in rows:
            values = {h.casefold(): (fields[i] if i < len(fields) else None) for i, h in enumerate(headers)}
            key = self._key(headers, fields)
            out.setdefault(key, values)
            if key[1]:
                out.setdefault((None, key[1]), values)
            if key[0]:
                out.setdefault((key[0], None), values)
        return out

    def _segment(
        self,
        ctx: FileContext,
        headers: list[str],
        rows,
        common: list[Col],
        level: str,
        extra_columns: dict[str, list],
        pseudo: dict[str, str],
        has_upn: bool,
    ) -> Segment:
        staged = stage_rows(ctx.con, ctx.new_stage(), headers, rows, extra_columns=extra_columns or None)
        hc = dict(staged.headers)
        folded = {h.casefold(): h for h in headers if h}
        quarantine_repeats_and_implausible_sessions(ctx, staged.stage, staged.rejects, headers, hc)
        # Registration time / status of the person's Participants row, carried onto each session row.
        headers = headers + list(pseudo)
        hc.update(pseudo)
        cols: list[Col] = list(common) + [Col("record_level", const=level)]
        seen: set[str] = set()
        for h in headers:
            spec = ATTENDANCE.get(h.casefold())
            if spec and spec[0] not in seen:
                seen.add(spec[0])
                if spec[1] == "timestamp":
                    col = _ts(spec[0], ctx.zone(TEAMS))
                    col.source = h
                    cols.append(col)
                else:
                    cols.append(Col(spec[0], h, spec[1]))

        def staged_col(name: str) -> str | None:
            header = folded.get(name)
            return _clean(q(hc[header])) if header else None

        email_parts = [c for c in (staged_col("email"), staged_col("registration email")) if c]
        if "_registration_email" in extra_columns:
            email_parts.append(_clean("_registration_email"))
        email = f"coalesce({', '.join(email_parts)})" if email_parts else "NULL"
        upn_parts = [c for c in (staged_col("participant id (upn)"),) if c]
        if "_upn" in extra_columns:
            upn_parts.append(_clean("_upn"))
        upn = f"coalesce({', '.join(upn_parts)})" if upn_parts else "NULL"
        role = staged_col("role")
        cols += [
            Col("email", sql=email),
            Col("participant_id", sql=upn),
            Col("role", sql=ROLE_SQL.format(r=role or "NULL")),
            Col(
                "is_guest",
                # A UPN of the organiser's tenant is a member, `#EXT#` a guest account; with UPNs in the
                # report, no UPN means a guest (an external registrant or an anonymous join). Without any
                # UPN column, only a participant with no email at all is known to be a guest.
                sql=(
                    f"CASE WHEN {upn} LIKE '%#EXT#%' THEN TRUE WHEN {upn} IS NOT NULL THEN FALSE "
                    + ("ELSE TRUE END" if has_upn else f"ELSE {email} IS NULL END")
                ),
            ),
        ]
        kept = [folded[k] for k in ("role", "registration email") if k in folded]
        seg = make_segment(
            ctx,
            self.name,
            "raw_webinar_attendance",
            cols,
            headers,
            staged.stage,
            hc,
            staged.rejects,
            ignored=("Email", "Participant ID (UPN)", *kept),
            what=f"{level} rows",
        )
        seg.extra_headers = seg.extra_headers + kept
        return seg


LIVE_HEADERS = {  # header without spaces, casefolded -> the name used here
    "sessionid": "Session Id",
    "participantid": "Participant Id",
    "fullname": "Full Name",
    "useragent": "UserAgent",
    "utceventtimestamp": "UTC Event Timestamp",
    "action": "Action",
    "role": "Role",
}


def _live_header(name: str) -> str:
    cleaned = clean_header(name)
    return LIVE_HEADERS.get(re.sub(r"[\s_]", "", cleaned).casefold(), cleaned)


class TeamsLiveEvents(Format):
    name = "teams_live_events"
    kind = "webinar"
    source_system = TEAMS

    def detect(self, sniff: Sniff) -> bool:
        if not sniff.rows:
            return False
        h = {_live_header(f) for f in sniff.rows[0][1]}
        return {"Session Id", "Participant Id", "UTC Event Timestamp", "Action"} <= h

    def stage(self, ctx: FileContext, sniff: Sniff) -> list[Segment]:
        line, fields = sniff.rows[0]
        headers = [_live_header(f) for f in fields]
        while headers and not headers[-1]:
            headers.pop()
        check_headers(ctx.relative, headers, ["Session Id", "UTC Event Timestamp", "Action"], line)
        staged = stage_csv(ctx.con, ctx.utf8_path(), ctx.new_stage(), headers, line, sniff.delimiter)
        con, s, hc = ctx.con, staged.stage, staged.headers

        def col(name: str) -> str:
            return _clean(q(hc[name])) if name in hc else "NULL"

        ts_expr, _ = _convert(
            Col("t", kind="timestamp", zone="UTC", formats=TEAMS_FORMATS), col("UTC Event Timestamp")
        )
        events = f"{s}_ev"
        con.execute(
            f"CREATE TEMP TABLE {events} AS SELECT *, {ts_expr} AS _ts, lower({col('Action')}) AS _action, "
            f"{staged.raw_sql} AS _raw FROM {s}"
        )
        # Events that cannot be placed: quarantined with the reason.
        bad = (
            f"CASE WHEN {col('Session Id')} IS NULL THEN 'Session Id is empty' "
            f"WHEN {col('UTC Event Timestamp')} IS NULL THEN 'UTC Event Timestamp is empty' "
            f"WHEN _ts IS NULL THEN 'UTC Event Timestamp: ' || {col('UTC Event Timestamp')} || "
            "' is not a date and time' "
            f"WHEN _action IS NULL OR _action NOT IN ('joined', 'left') THEN 'Action: ' || "
            f"coalesce({col('Action')}, '(empty)') || ' is not Joined or Left' END"
        )
        con.execute(
            f"INSERT INTO {staged.rejects} SELECT _line, _raw, _member, reason FROM "
            f"(SELECT *, {bad} AS reason FROM {events}) WHERE reason IS NOT NULL"
        )
        con.execute(f"DELETE FROM {events} WHERE {bad} IS NOT NULL")
        sessions = pair_events(
            ctx,
            events,
            staged.rejects,
            f"{col('Session Id')}, coalesce({col('Participant Id')}, '')",
            "Session Id and Participant Id",
        )
        start = con.execute(f"SELECT min(_ts) FROM {events}").fetchall()[0][0]
        pid = col("Participant Id")
        stem = re.sub(r"\.[^./]+$", "", ctx.relative)
        hc2 = {**hc, "Left line": "_left_line"}
        cols = [
            Col("source_system", const=TEAMS),
            Col("webinar_id", const=stem),
            Col("webinar_topic", const=None),
            Col(
                "webinar_start_at",
                sql=f"CAST({lit(start.isoformat(sep=' ') if start else None)} AS TIMESTAMP)",
            ),
            Col("record_level", const="session"),
            Col("name", "Full Name"),
            Col("participant_id", "Participant Id"),
            Col("email", sql=f"CASE WHEN {pid} LIKE '%_@_%' THEN {pid} END"),
            Col("role", sql=ROLE_SQL.format(r=col("Role"))),
            Col("is_guest", sql=f"{pid} IS NULL"),
            Col("joined_at", sql="_joined_at"),
            Col("left_at", sql="_left_at"),
            Col("duration_minutes", sql="date_diff('millisecond', _joined_at, _left_at) / 60000.0"),
        ]
        kept = [h for h in ("Session Id", "UserAgent", "Role", "Action", "UTC Event Timestamp") if h in hc]
        seg = make_segment(
            ctx,
            self.name,
            "raw_webinar_attendance",
            cols,
            headers,
            sessions,
            hc2,
            staged.rejects,
            raw_sql="_raw",
            nondata=staged.nondata,
            ignored=tuple(kept),
        )
        seg.extra_headers = (
            seg.extra_headers + [h for h in ("Session Id", "UserAgent", "Role") if h in hc] + ["Left line"]
        )
        return [seg]


# The 2020 attendance list: slashes with a 24-hour clock are day-first (en-GB and most European locales), AM/PM
# is month-first (en-US); dots are day-first.
LIST_FORMATS = [
    "%d/%m/%Y, %H:%M:%S",
    "%m/%d/%Y, %I:%M:%S %p",
    "%d.%m.%Y, %H:%M:%S",
    "%d/%m/%y, %H:%M:%S",
    "%m/%d/%y, %I:%M:%S %p",
    "%d.%m.%y, %H:%M:%S",
    "%Y-%m-%d, %H:%M:%S",
    *TIMESTAMP_FORMATS,
]
LIST_HEADERS = ("Full Name", "User Action", "Timestamp")


class TeamsAttendanceList(Format):
    """Microsoft Teams attendance list as downloaded in 2020: `Full Name, User Action, Timestamp`."""

    name = "teams_attendance_list"
    kind = "webinar"
    source_system = TEAMS

    def detect(self, sniff: Sniff) -> bool:
        return bool(sniff.rows) and {h.casefold() for h in LIST_HEADERS} <= sniff.header_set()

    def stage(self, ctx: FileContext, sniff: Sniff) -> list[Segment]:
        line, fields = sniff.rows[0]
        aliases = ctx.aliases(TEAMS)
        by_fold = {h.casefold(): h for h in LIST_HEADERS}
        headers = []
        for f in fields:
            h = aliases.get(clean_header(f).casefold(), clean_header(f))
            headers.append(by_fold.get(h.casefold(), h))
        while headers and not headers[-1]:
            headers.pop()
        check_headers(ctx.relative, headers, list(LIST_HEADERS), line)
        staged = stage_csv(ctx.con, ctx.utf8_path(), ctx.new_stage(), headers, line, sniff.delimiter)
        con, s, hc = ctx.con, staged.stage, staged.headers

        def col(name: str) -> str:
            return _clean(q(hc[name]))

        zone = ctx.zone(TEAMS)
        ts_expr, _ = _convert(Col("t", kind="timestamp", zone=zone, formats=LIST_FORMATS), col("Timestamp"))
        events = f"{s}_ev"
        con.execute(
            f"CREATE TEMP TABLE {events} AS SELECT *, {ts_expr} AS _ts, lower({col('User Action')}) AS _action, "
            f"{staged.raw_sql} AS _raw FROM {s}"
        )
        bad = (
            f"CASE WHEN {col('Full Name')} IS NULL THEN 'Full Name is empty' "
            f"WHEN {col('Timestamp')} IS NULL THEN 'Timestamp is empty' "
            f"WHEN _ts IS NULL THEN 'Timestamp: ' || {col('Timestamp')} || ' is not a date and time' "
            f"WHEN _action IS NULL OR _action NOT IN ('joined', 'left') THEN 'User Action: ' || "
            f"coalesce({col('User Action')}, '(empty)') || ' is not Joined or Left' END"
        )
        con.execute(
            f"INSERT INTO {staged.rejects} (_line, _raw, _member, reason) SELECT _line, _raw, _member, reason "
            f"FROM (SELECT *, {bad} AS reason FROM {events}) WHERE reason IS NOT NULL"
        )
        con.execute(f"DELETE FROM {events} WHERE {bad} IS NOT NULL")
        start = con.execute(f"SELECT min(_ts) FROM {events} WHERE _action = 'joined'").fetchall()[0][0]
        sessions = pair_events(ctx, events, staged.rejects, col("Full Name"), "Full Name")
        start_text = start.isoformat(sep=" ") if start else None
        # The list names no meeting: a stable id from its first join (the same meeting downloaded twice, or
        # under another file name, gets the same id).
        webinar_id = (
            "teams-list-" + hashlib.sha256(start_text.encode()).hexdigest()[:16] if start_text else None
        )
        hc2 = {**hc, "Left line": "_left_line"}
        cols = [
            Col("source_system", const=TEAMS),
            Col("webinar_id", const=webinar_id),
            Col("webinar_topic", const=None),
            Col("webinar_start_at", sql=f"CAST({lit(start_text)} AS TIMESTAMP)"),
            Col("record_level", const="session"),
            Col("name", "Full Name"),
            Col("role", const="attendee"),  # the list has no roles
            Col("joined_at", sql="_joined_at"),
            Col("left_at", sql="_left_at"),
            Col("duration_minutes", sql="date_diff('millisecond', _joined_at, _left_at) / 60000.0"),
        ]
        seg = make_segment(
            ctx,
            self.name,
            "raw_webinar_attendance",
            cols,
            headers,
            sessions,
            hc2,
            staged.rejects,
            raw_sql="_raw",
            nondata=staged.nondata,
            ignored=("User Action", "Timestamp"),
        )
        seg.extra_headers = seg.extra_headers + ["Left line"]
        return [seg]


register(TeamsAttendance())
register(TeamsLiveEvents())
register(TeamsAttendanceList())
