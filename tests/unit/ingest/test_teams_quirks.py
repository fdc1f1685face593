"""Microsoft Teams quirks: the 2020 attendance list (`Full Name, User Action, Timestamp`, UTF-16 LE with BOM,
tab-separated, no final newline), and the attendance report's guests, registration columns, repeated rows,
implausible sessions and live-event `Event Team Member` role."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tests.unit.ingest.conftest import result_for
from tests.unit.ingest.test_teams import ATTENDANCE_LINES, LIVE, attendance_report

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "real_exports" / "exports"
LIST_2020 = REAL / "teams" / "meetingAttendanceList_2020.csv"
BERLIN = "sources:\n  teams:\n    time_zone: Europe/Berlin\n"


def attendance_list(lines: list[str]) -> bytes:
    """As Teams downloaded it in 2020: UTF-16 LE with BOM, tabs, LF, no newline after the last row."""
    return ("\ufeff" + "\n".join(lines)).encode("utf-16-le")


def test_real_2020_attendance_list_is_detected_and_paired_into_sessions(exports):
    exports.sources(BERLIN)
    data = LIST_2020.read_bytes()
    assert data.startswith(b"\xff\xfe") and not data.endswith(b"\n\x00")  # the real shape
    exports.write("teams/meetingAttendanceList.csv", data)
    res = result_for(exports.ingest(), "teams/meetingAttendanceList.csv")
    # 38 Joined/Left lines -> 19 sessions.
    assert (res.format, res.encoding, res.status) == ("teams_attendance_list", "utf-16-le-bom", "loaded")
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined) == (19, 19, 0)
    rows = exports.rows(
        "SELECT _source_line, extra->>'Left line', name, joined_at, left_at, duration_minutes, role "
        "FROM raw_webinar_attendance ORDER BY _source_line"
    )
    # 11/12/2020 is 11 December (24-hour, day-first); Berlin is UTC+1 in December.
    assert rows[0] == (
        2,
        "3",
        "Mustermann Max",
        datetime(2020, 12, 11, 11, 27, 24),
        datetime(2020, 12, 11, 11, 45, 18),
        17.9,
        "attendee",
    )
    assert rows[-1][:3] == (38, "39", "Müller Hans")
    assert round(sum(r[5] for r in rows), 2) == 137.25
    meta = exports.rows("SELECT DISTINCT webinar_id, webinar_start_at FROM raw_webinar_attendance")
    assert len(meta) == 1 and meta[0][0].startswith("teams-list-")
    assert meta[0][1] == datetime(2020, 12, 11, 11, 27, 24)


def test_2020_list_same_meeting_under_another_name_gets_the_same_webinar_id(exports):
    data = LIST_2020.read_bytes()
    exports.write("a/meetingAttendanceList.csv", data)
    # The same meeting downloaded a minute later (one more line): a different file, the same meeting.
    exports.write(
        "b/meetingAttendanceList (1).csv",
        data + "\nMüller Hans\tJoined\t11/12/2020, 16:00:00".encode("utf-16-le"),
    )
    exports.ingest()
    assert exports.rows(
        "SELECT count(DISTINCT webinar_id), count(DISTINCT _source_file) FROM raw_webinar_attendance"
    ) == [(1, 2)]


def test_2020_list_unpaired_and_implausible_events_follow_the_stated_rule(exports):
    lines = [
        "Full Name\tUser Action\tTimestamp",  # 1
        "Left First\tLeft\t11/12/2020, 12:00:00",  # 2: no Joined before it -> quarantined
        "Left First\tJoined\t11/12/2020, 12:05:00",  # 3
        "Left First\tLeft\t11/12/2020, 12:35:00",  # 4 -> session 3-4 (30 min)
        "Still Here\tJoined\t11/12/2020, 12:10:00",  # 5: never leaves -> loaded, no left_at
        "Days Later\tJoined\t11/12/2020, 09:00:00",  # 6
        "Days Later\tLeft\t15/12/2020, 11:00:00",  # 7 -> 5,880 minutes: quarantined (6 and 7 together)
        "Twice\tJoined\t11/12/2020, 12:00:00",  # 8: a second Joined before any Left
        "Twice\tJoined\t11/12/2020, 12:20:00",  # 9
        "Twice\tLeft\t11/12/2020, 12:50:00",  # 10 -> session 9-10; 8 has no left_at
        "Bad Time\tJoined\tyesterday",  # 11
        "Odd Action\tMuted\t11/12/2020, 12:00:00",  # 12
    ]
    exports.write("teams/meetingAttendanceList.csv", attendance_list(lines))
    res = result_for(exports.ingest(), "teams/meetingAttendanceList.csv")
    assert (res.rows_loaded, res.rows_quarantined) == (4, 4)
    assert any("2 Joined event(s) without a Left" in w for w in res.warnings)
    assert exports.rows(
        "SELECT _source_line, name, left_at IS NULL, duration_minutes FROM raw_webinar_attendance ORDER BY 1"
    ) == [
        (3, "Left First", False, 30.0),
        (5, "Still Here", True, None),
        (8, "Twice", True, None),
        (9, "Twice", False, 30.0),
    ]
    assert exports.rows("SELECT line_number, reason FROM ingest_quarantine ORDER BY 1") == [
        (2, "Left without a Joined before it (same Full Name)"),
        (
            6,
            "session of 5880 minutes is longer than 30 hours, the longest a Teams meeting runs (a join paired "
            "with a leave of another day) (Joined line 6, Left line 7)",
        ),
        (11, "Timestamp: yesterday is not a date and time"),
        (12, "User Action: Muted is not Joined or Left"),
    ]
    assert exports.one("SELECT raw_text FROM ingest_quarantine WHERE line_number = 6") == "\n".join(
        lines[5:7]
    )


def test_webinar_report_guests_registration_repeats_and_long_sessions(exports):
    lines = list(ATTENDANCE_LINES[:25])
    lines[9] += "\tRegistration Time\tRegistration Status"
    lines[10] += "\t\t"  # the organiser did not register
    lines[11] += "\t\t"
    lines[12] += "\t3/1/24, 4:05:00 PM\tApproved"  # Bo Li registered
    lines[13] += "\t\t"
    lines[14] += "\t3/2/24, 8:00:00 AM\tApproved"
    lines[23] = "Bo Li\t3/11/24, 10:41:00 AM\t3/15/24, 10:41:00 AM\t5760m\t\tAttendee"  # 24: 4 days long
    lines += [
        "Leaver Lou\t\t3/15/24, 10:30:00 AM\t\tlou@example.org\tAttendee",  # 26: leave-only row
        "Leaver Lou\t\t3/15/24, 10:30:00 AM\t\tlou@example.org\tAttendee",  # 27: the same row again
    ]
    exports.write("teams/webinar.csv", attendance_report(lines))
    res = result_for(exports.ingest(), "teams/webinar.csv")
    assert (res.status, res.rows_loaded, res.rows_quarantined) == ("loaded", 7, 3)
    rows = {
        r[0]: r[1:]
        for r in exports.rows(
            "SELECT _source_line, name, is_guest, registered_at, approval_status FROM raw_webinar_attendance"
        )
    }
    assert rows[22] == (
        "Bo Li",
        True,
        datetime(2024, 3, 1, 16, 5),
        "Approved",
    )  # external registrant: a guest
    assert rows[19] == ("Sam Patel", False, None, None)  # tenant member (UPN)
    assert rows[23][1] is True  # anonymous guest
    assert rows[15] == ("Late Larry", True, datetime(2024, 3, 2, 8, 0), "Approved")  # from Participants
    assert rows[26] == ("Leaver Lou", True, None, None)
    assert exports.rows("SELECT line_number, reason FROM ingest_quarantine ORDER BY 1") == [
        (
            24,
            "session of 5760 minutes is longer than 30 hours, the longest a Teams meeting runs (a join paired "
            "with a leave of another day)",
        ),
        (25, "malformed row: expected 6 fields, found 2"),
        (27, "identical to line 26: the same row is loaded once"),
    ]


def test_live_event_team_members_are_the_organiser_side(exports):
    lines = [
        LIVE[0],
        "s7,org@touchplan.example,Olga Organiser,Teams desktop,2024-03-15T13:50:00Z,Joined,Event Team Member",
        "s7,org@touchplan.example,Olga Organiser,Teams desktop,2024-03-15T15:05:00Z,Left,Event Team Member",
        "s8,viewer@example.org,Vic Viewer,Teams web,2024-03-15T14:00:00Z,Joined,Attendee",
        "s8,viewer@example.org,Vic Viewer,Teams web,2024-03-18T14:00:00Z,Left,Attendee",  # 3 days later
    ]
    exports.write("teams/AttendeeReport.csv", "\ufeff" + "\r\n".join(lines) + "\r\n")
    res = result_for(exports.ingest(), "teams/AttendeeReport.csv")
    assert (res.rows_loaded, res.rows_quarantined) == (1, 1)
    assert exports.rows(
        "SELECT name, role, extra->>'Role', duration_minutes FROM raw_webinar_attendance"
    ) == [("Olga Organiser", "host", "Event Team Member", 75.0)]
    assert exports.one("SELECT reason FROM ingest_quarantine").startswith("session of 4320 minutes")


def test_2020_list_named_as_teams_attendance_in_sources_yaml_still_loads(exports):
    # The issue: naming the list in config/sources.yaml gave "no Participants or In-Meeting Activities table".
    exports.sources('files:\n  - glob: "teams/*.csv"\n    format: teams_attendance\n')
    exports.write("teams/meetingAttendanceList.csv", LIST_2020.read_bytes())
    res = result_for(exports.ingest(), "teams/meetingAttendanceList.csv")
    assert (res.status, res.rows_loaded, res.rows_quarantined) == ("loaded", 19, 0)
