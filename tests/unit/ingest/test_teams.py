"""Microsoft Teams: the meeting/webinar attendance report (UTF-16 LE with BOM, tab-separated, sections) and the
live-event attendee engagement report (Joined/Left event log paired into sessions)."""

from __future__ import annotations

from datetime import datetime

from tests.unit.ingest.conftest import result_for

NY = "sources:\n  teams:\n    time_zone: America/New_York\n"

# A webinar report as Teams writes it (en-US locale). Line numbers matter: see the assertions.
ATTENDANCE_LINES = [
    "1. Summary",  # 1
    "Meeting title\tTouchplan Spring Launch Webinar",  # 2
    "Attended participants\t5",  # 3
    "Start time\t3/15/24, 9:58:12 AM",  # 4
    "End time\t3/15/24, 11:03:15 AM",  # 5
    "Meeting duration\t1h 5m 3s",  # 6
    "Average attendance time\t45m 2s",  # 7
    "",  # 8
    "2. Participants",  # 9
    "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail\tParticipant ID (UPN)\tRole\tRegistration Email",
    "Sam Patel\t3/15/24, 9:58:12 AM\t3/15/24, 11:03:15 AM\t1h 5m 3s\tsam@touchplan.example\t"
    "sam@touchplan.example\tOrganizer\t",  # 11
    "Ana Bauer\t3/15/24, 10:00:00 AM\t3/15/24, 10:50:30 AM\t45m 30s\tana@contoso.example\t"
    "ana_contoso.example#EXT#@touchplan.onmicrosoft.com\tPresenter\t",  # 12
    "Bo Li\t3/15/24, 10:02:00 AM\t3/15/24, 10:45:00 AM\t43m\t\t\tAttendee\tbo@fabrikam.example",  # 13
    "Guest Viewer (Unverified)\t3/15/24, 10:05:00 AM\t3/15/24, 10:06:00 AM\t1m\t\t\tAttendee\t",  # 14
    "Late Larry\t3/15/24, 11:00:00 AM\t3/15/24, 11:03:15 AM\t3m 15s\tlarry@example.org\t\tAttendee\t"
    "larry@example.org",  # 15: has no In-Meeting Activities row
    "",  # 16
    "3. In-Meeting Activities",  # 17
    "Name\tJoin Time\tLeave Time\tDuration\tEmail\tRole",  # 18
    "Sam Patel\t3/15/24, 9:58:12 AM\t3/15/24, 11:03:15 AM\t1h 5m 3s\tsam@touchplan.example\tOrganizer",  # 19
    "Ana Bauer\t3/15/24, 10:00:00 AM\t3/15/24, 10:20:00 AM\t20m\tana@contoso.example\tPresenter",  # 20
    "Ana Bauer\t3/15/24, 10:25:00 AM\t3/15/24, 10:50:30 AM\t25m 30s\tana@contoso.example\tPresenter",  # 21
    "Bo Li\t3/15/24, 10:02:00 AM\t3/15/24, 10:40:00 AM\t38m\t\tAttendee",  # 22
    "Guest Viewer (Unverified)\t3/15/24, 10:05:00 AM\t3/15/24, 10:06:00 AM\t1m\t\tAttendee",  # 23
    "Bo Li\t3/15/24, 10:41:00 AM\tnot a time\t4m\t\tAttendee",  # 24: bad time
    "Cut Off\t3/15/24, 10:50:00 AM",  # 25: truncated row
]


def attendance_report(lines=ATTENDANCE_LINES, newline: str = "\r\n") -> bytes:
    """UTF-16 LE with a BOM, as Teams downloads it."""
    return ("\ufeff" + newline.join(lines) + newline).encode("utf-16-le")


def test_attendance_report_is_detected_from_content_and_loads_one_row_per_session(exports):
    exports.sources(NY)
    exports.write("webinars/export.csv", attendance_report())
    report = exports.ingest()
    res = result_for(report, "webinars/export.csv")
    assert (res.format, res.source_kind, res.status, res.encoding) == (
        "teams_attendance",
        "webinar",
        "loaded",
        "utf-16-le-bom",
    )
    # 7 activity rows + Late Larry (no activity row) = 8 sessions read; 2 quarantined.
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined) == (8, 6, 2)
    assert exports.rows("SELECT rows_read, rows_loaded + rows_quarantined FROM ingest_files") == [(8, 8)]
    rows = exports.rows(
        "SELECT _source_line, record_level, role, name, email, participant_id, is_guest, joined_at, left_at, "
        "duration_minutes, extra->>'Role' FROM raw_webinar_attendance ORDER BY _source_line, record_level"
    )
    # 15 March 2024: New York is on EDT (UTC-4).
    assert [r[0] for r in rows] == [15, 19, 20, 21, 22, 23]
    assert rows[1] == (
        19,
        "session",
        "host",
        "Sam Patel",
        "sam@touchplan.example",
        "sam@touchplan.example",
        False,
        datetime(2024, 3, 15, 13, 58, 12),
        datetime(2024, 3, 15, 15, 3, 15),
        65.05,
        "Organizer",
    )
    ana = [r for r in rows if r[3] == "Ana Bauer"]
    assert [(r[0], r[2], r[9]) for r in ana] == [(20, "panelist", 20.0), (21, "panelist", 25.5)]
    assert all(r[6] is True and r[5].endswith("#EXT#@touchplan.onmicrosoft.com") for r in ana)  # guest
    bo = [r for r in rows if r[3] == "Bo Li"]
    assert [(r[0], r[4]) for r in bo] == [(22, "bo@fabrikam.example")]  # email from Registration Email
    guest = [r for r in rows if r[3] == "Guest Viewer (Unverified)"][0]
    assert (guest[2], guest[4], guest[6]) == ("attendee", None, True)
    larry = [r for r in rows if r[3] == "Late Larry"][0]
    assert (larry[0], larry[1], larry[4], larry[7], larry[9]) == (
        15,
        "participant",
        "larry@example.org",
        datetime(2024, 3, 15, 15, 0),
        3.25,
    )
    meta = exports.rows(
        "SELECT DISTINCT source_system, webinar_id, webinar_topic, webinar_start_at "
        "FROM raw_webinar_attendance"
    )
    assert len(meta) == 1 and meta[0][0] == "teams" and meta[0][1].startswith("teams-")
    assert meta[0][2:] == ("Touchplan Spring Launch Webinar", datetime(2024, 3, 15, 13, 58, 12))
    quarantine = exports.rows(
        "SELECT line_number, reason, format, target_table FROM ingest_quarantine ORDER BY line_number"
    )
    assert quarantine == [
        (24, "Leave Time: not a time is not a date and time", "teams_attendance", "raw_webinar_attendance"),
        (25, "malformed row: expected 6 fields, found 2", "teams_attendance", "raw_webinar_attendance"),
    ]
    assert (
        exports.one("SELECT raw_text FROM ingest_quarantine WHERE line_number = 25")
        == "Cut Off\t3/15/24, 10:50:00 AM"
    )


def iso_locale(line: str) -> str:
    """The same report as a 24-hour ISO locale writes it."""
    for us, iso in (
        ("3/15/24, 9:58:12 AM", "2024-03-15 09:58:12"),
        ("3/15/24, 11:03:15 AM", "2024-03-15 11:03:15"),
        ("3/15/24, 10:00:00 AM", "2024-03-15 10:00:00"),
        ("3/15/24, 10:20:00 AM", "2024-03-15 10:20:00"),
        ("3/15/24, 10:25:00 AM", "2024-03-15 10:25:00"),
        ("3/15/24, 10:50:30 AM", "2024-03-15 10:50:30"),
        ("3/15/24, 10:02:00 AM", "2024-03-15 10:02:00"),
        ("3/15/24, 10:40:00 AM", "2024-03-15 10:40:00"),
        ("3/15/24, 10:45:00 AM", "2024-03-15 10:45:00"),
        ("3/15/24, 10:05:00 AM", "2024-03-15 10:05:00"),
        ("3/15/24, 10:06:00 AM", "2024-03-15 10:06:00"),
        ("3/15/24, 11:00:00 AM", "2024-03-15 11:00:00"),
        ("3/15/24, 10:41:00 AM", "2024-03-15 10:41:00"),
        ("3/15/24, 10:50:00 AM", "2024-03-15 10:50:00"),
    ):
        line = line.replace(us, iso)
    return line


def test_iso_locale_and_utf8_variant_gives_identical_sessions(exports):
    exports.sources(NY)
    exports.write("a/report.csv", attendance_report())
    iso = [iso_locale(x) for x in ATTENDANCE_LINES]
    assert "AM" not in "".join(iso[10:])
    exports.write("b/report.csv", "\ufeff" + "\n".join(iso) + "\n", encoding="utf-8")
    report = exports.ingest()
    assert [(f.format, f.rows_loaded, f.rows_quarantined) for f in report.files] == [
        ("teams_attendance", 6, 2),
        ("teams_attendance", 6, 2),
    ]
    cols = "role, name, email, participant_id, is_guest, joined_at, left_at, duration_minutes, _source_line"
    diff = exports.one(
        f"SELECT count(*) FROM (SELECT {cols} FROM raw_webinar_attendance WHERE _source_file = "
        f"'a/report.csv' EXCEPT SELECT {cols} FROM raw_webinar_attendance WHERE _source_file = "
        "'b/report.csv')"
    )
    assert diff == 0
    starts = exports.rows("SELECT DISTINCT webinar_start_at FROM raw_webinar_attendance")
    assert starts == [(datetime(2024, 3, 15, 13, 58, 12),)]


def test_report_without_activities_loads_each_participant_row_as_a_session(exports):
    lines = ATTENDANCE_LINES[:15]  # summary and participants only
    exports.write("teams/participants.txt", attendance_report(lines))
    report = exports.ingest()
    res = result_for(report, "teams/participants.txt")
    assert (res.format, res.rows_read, res.rows_loaded, res.rows_quarantined) == ("teams_attendance", 5, 5, 0)
    rows = exports.rows(
        "SELECT name, email, role, joined_at, duration_minutes FROM raw_webinar_attendance "
        "ORDER BY _source_line"
    )
    assert rows[1] == ("Ana Bauer", "ana@contoso.example", "panelist", datetime(2024, 3, 15, 10, 0), 45.5)
    assert rows[2][1] == "bo@fabrikam.example"


def test_older_layout_meeting_summary_then_full_name_table(exports):
    lines = [
        "Meeting Summary",
        "Total Number of Participants\t2",
        "Meeting Title\tWeekly sync",
        "Meeting Start Time\t3/15/2024, 9:00:00 AM",
        "Meeting Id\t19:meeting_abc@thread.v2",
        "",
        "Full Name\tJoin Time\tLeave Time\tDuration\tEmail\tRole\tParticipant ID (UPN)",
        "Sam Patel\t3/15/2024, 9:00:00 AM\t3/15/2024, 9:30:00 AM\t30m\tsam@touchplan.example\tOrganizer\t"
        "sam@touchplan.example",
        "Ana Bauer\t3/15/2024, 9:05:00 AM\t3/15/2024, 9:25:00 AM\t20m\tana@contoso.example\tAttendee\t",
    ]
    exports.write("teams/weekly.csv", attendance_report(lines, newline="\n"))
    res = result_for(exports.ingest(), "teams/weekly.csv")
    assert (res.format, res.rows_loaded) == ("teams_attendance", 2)
    rows = exports.rows(
        "SELECT webinar_id, webinar_topic, role, name, joined_at FROM raw_webinar_attendance "
        "ORDER BY _source_line"
    )
    assert rows == [
        ("19:meeting_abc@thread.v2", "Weekly sync", "host", "Sam Patel", datetime(2024, 3, 15, 9)),
        ("19:meeting_abc@thread.v2", "Weekly sync", "attendee", "Ana Bauer", datetime(2024, 3, 15, 9, 5)),
    ]


def test_activities_without_join_time_reject_the_whole_file(exports):
    lines = list(ATTENDANCE_LINES)
    lines[17] = "Name\tLeave Time\tDuration\tEmail\tRole"
    exports.write("teams/broken.csv", attendance_report(lines))
    res = result_for(exports.ingest(), "teams/broken.csv")
    assert res.status == "rejected"
    assert res.error == (
        "teams/broken.csv: line 18 (section in-meeting activities): missing required column(s): Join Time"
    )
    assert exports.one("SELECT count(*) FROM raw_webinar_attendance") == 0
    assert exports.one("SELECT count(*) FROM ingest_quarantine") == 0


LIVE = [
    "Session Id,Participant Id,Full Name,UserAgent,UTC Event Timestamp,Action,Role",  # 1
    's1,ana@contoso.example,Ana Bauer,"Mozilla/5.0 (Windows NT 10.0; Win64; x64)",2024-03-15T14:00:05.123Z,Joined,'
    "Attendee",  # 2
    "s2,,Anonymous,Mozilla/5.0,3/15/2024 2:01:00 PM,Joined,Attendee",  # 3: anonymous viewer
    's1,ana@contoso.example,Ana Bauer,"Mozilla/5.0 (Windows NT 10.0; Win64; x64)",2024-03-15T14:30:05.123Z,Left,'
    "Attendee",  # 4
    "s3,bo@fabrikam.example,Bo Li,Teams desktop,2024-03-15T14:10:00Z,Joined,Attendee",  # 5: never leaves
    "s2,,Anonymous,Mozilla/5.0,3/15/2024 2:21:00 PM,Left,Attendee",  # 6
    "s1,ana@contoso.example,Ana Bauer,Teams mobile,2024-03-15T14:50:00Z,Left,Attendee",  # 7 (pairs with 8)
    "s1,ana@contoso.example,Ana Bauer,Teams mobile,2024-03-15T14:35:00Z,Joined,Attendee",  # 8
    "s4,carl@example.org,Carl Zeiss,Teams desktop,2024-03-15T14:20:00Z,Left,Attendee",  # 9: no Joined
    "s5,dee@example.org,Dee Dee,Teams desktop,yesterday,Joined,Attendee",  # 10: bad time
    "s6,pat@touchplan.example,Pat Presenter,Teams desktop,2024-03-15T13:55:00Z,Joined,Presenter",  # 11
    "s6,pat@touchplan.example,Pat Presenter,Teams desktop,2024-03-15T15:00:00Z,Left,Presenter",  # 12
]


def test_live_event_log_pairs_joined_and_left_into_sessions(exports):
    exports.sources(NY)  # "UTC Event Timestamp" is UTC whatever the configured zone
    exports.write("teams/AttendeeReport.csv", "\ufeff" + "\r\n".join(LIVE) + "\r\n")
    report = exports.ingest()
    res = result_for(report, "teams/AttendeeReport.csv")
    assert (res.format, res.source_kind, res.status) == ("teams_live_events", "webinar", "loaded")
    # 5 sessions (Ana twice, the anonymous viewer, Bo without a Left, Pat) + 2 quarantined events.
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined) == (7, 5, 2)
    rows = exports.rows(
        "SELECT _source_line, extra->>'Left line', name, email, participant_id, is_guest, role, joined_at, left_at, "
        "duration_minutes FROM raw_webinar_attendance ORDER BY _source_line"
    )
    assert rows == [
        (
            2,
            "4",
            "Ana Bauer",
            "ana@contoso.example",
            "ana@contoso.example",
            False,
            "attendee",
            datetime(2024, 3, 15, 14, 0, 5, 123000),
            datetime(2024, 3, 15, 14, 30, 5, 123000),
            30.0,
        ),
        (
            3,
            "6",
            "Anonymous",
            None,
            None,
            True,
            "attendee",
            datetime(2024, 3, 15, 14, 1),
            datetime(2024, 3, 15, 14, 21),
            20.0,
        ),
        (
            5,
            None,
            "Bo Li",
            "bo@fabrikam.example",
            "bo@fabrikam.example",
            False,
            "attendee",
            datetime(2024, 3, 15, 14, 10),
            None,
            None,
        ),
        (
            8,
            "7",
            "Ana Bauer",
            "ana@contoso.example",
            "ana@contoso.example",
            False,
            "attendee",
            datetime(2024, 3, 15, 14, 35),
            datetime(2024, 3, 15, 14, 50),
            15.0,
        ),
        (
            11,
            "12",
            "Pat Presenter",
            "pat@touchplan.example",
            "pat@touchplan.example",
            False,
            "panelist",
            datetime(2024, 3, 15, 13, 55),
            datetime(2024, 3, 15, 15, 0),
            65.0,
        ),
    ]
    assert exports.rows("SELECT line_number, reason FROM ingest_quarantine ORDER BY line_number") == [
        (9, "Left without a Joined before it (same Session Id and Participant Id)"),
        (10, "UTC Event Timestamp: yesterday is not a date and time"),
    ]
    # Every event line is in exactly one session or in the quarantine.
    paired = exports.one(
        "SELECT sum(CASE WHEN left_at IS NULL THEN 1 ELSE 2 END) FROM raw_webinar_attendance"
    )
    assert paired + res.rows_quarantined == len(LIVE) - 1
    assert any("1 Joined event(s) without a Left" in w for w in res.warnings)
    meta = exports.rows("SELECT DISTINCT webinar_id, webinar_start_at FROM raw_webinar_attendance")
    assert meta == [("teams/AttendeeReport", datetime(2024, 3, 15, 13, 55))]
    session = exports.rows("SELECT raw_text FROM ingest_quarantine WHERE line_number = 9")[0][0]
    assert session == LIVE[8]


def test_live_event_headers_without_spaces_are_detected(exports):
    lines = ["SessionId,ParticipantId,FullName,UserAgent,UTCEventTimeStamp,Action,Role", *LIVE[1:4]]
    exports.write("teams/events.csv", "\n".join(lines) + "\n", encoding="utf-16-le")
    res = result_for(exports.ingest(), "teams/events.csv")
    assert (res.format, res.rows_read, res.rows_loaded) == ("teams_live_events", 2, 2)


def test_rows_of_an_unknown_section_are_quarantined_not_lost(exports):
    lines = [
        *ATTENDANCE_LINES[:23],
        "",
        "4. Breakout Rooms",
        "Room\tName\tJoin Time",
        "Room 1\tAna Bauer\t3/15/24, 10:30:00 AM",
    ]
    exports.write("teams/with_rooms.csv", attendance_report(lines))
    res = result_for(exports.ingest(), "teams/with_rooms.csv")
    # 5 activity rows + Late Larry loaded; the two rows under "4. Breakout Rooms" quarantined.
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined) == (8, 6, 2)
    assert exports.rows("SELECT line_number, reason FROM ingest_quarantine ORDER BY line_number") == [
        (26, "row of a section that is not loaded"),
        (27, "row of a section that is not loaded"),
    ]
    assert any("section '4. Breakout Rooms' is not loaded" in w for w in res.warnings)
