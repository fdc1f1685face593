"""Zoom webinar attendee reports (real 2020 sample and the newer padded layout), registration and participants."""

from __future__ import annotations

from datetime import datetime

from tests.unit.ingest.conftest import FIXTURES, result_for

SAMPLE_2020 = (FIXTURES / "zoom" / "webinar_attendee_report_2020.csv").read_bytes()
PARTICIPANTS = (FIXTURES / "zoom" / "meeting_participants_report.csv").read_bytes()


def test_shared_2020_sample_loads_host_panelists_attendees_and_the_other_attended_rows(exports):
    exports.write("zoom/webinar_attendee_report_2020.csv", SAMPLE_2020)
    report = exports.ingest()
    res = result_for(report, "zoom/webinar_attendee_report_2020.csv")
    assert (res.format, res.status) == ("zoom_webinar_report", "loaded")
    # 1030 lines: 12 are titles, headers and the summary; 1018 are sessions.
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined) == (1018, 1018, 0)
    counts = dict(exports.rows("SELECT role, count(*) FROM raw_webinar_attendance GROUP BY role"))
    assert counts == {"host": 1, "panelist": 73, "attendee": 940, "other": 4}
    others = exports.rows(
        "SELECT name, email, joined_at, left_at, duration_minutes, country FROM "
        "raw_webinar_attendance WHERE role = 'other' ORDER BY _source_line"
    )
    assert others[0] == (
        "userOther_1",
        None,
        datetime(2020, 3, 28, 14, 20),
        datetime(2020, 3, 28, 14, 21),
        1.0,
        "India",
    )
    assert len(others) == 4 and all(o[1] is None for o in others)
    meta = exports.rows(
        "SELECT DISTINCT webinar_id, webinar_topic, webinar_start_at FROM raw_webinar_attendance"
    )
    assert meta == [("328972509", "satRdays DC 2020", datetime(2020, 3, 28, 8, 7))]
    host = exports.rows(
        "SELECT email, joined_at, _source_line FROM raw_webinar_attendance WHERE role = 'host'"
    )
    assert host == [("hostName_1@email.com", datetime(2020, 3, 28, 8, 7, 27), 7)]
    # Registrants who did not attend: attended = false, no session times ("--").
    absent = exports.rows(
        "SELECT count(*), count(joined_at), count(registered_at) FROM raw_webinar_attendance "
        "WHERE attended = false"
    )
    assert absent == [(16, 0, 16)]
    assert (
        exports.one(
            "SELECT count(*) FROM raw_webinar_attendance WHERE role IN ('host', 'panelist', "
            "'attendee') AND email IS NULL"
        )
        == 0
    )


def test_zone_less_zoom_times_take_the_configured_zone_with_dst(exports):
    exports.sources("sources:\n  zoom:\n    time_zone: America/New_York\n")
    exports.write("zoom/webinar_attendee_report_2020.csv", SAMPLE_2020)
    exports.ingest()
    # 28 March 2020: New York is on EDT (UTC-4).
    host = exports.one("SELECT joined_at FROM raw_webinar_attendance WHERE role = 'host'")
    assert host == datetime(2020, 3, 28, 12, 7, 27)


def test_re_encoded_utf16_and_repadded_sample_gives_identical_rows(exports):
    text = SAMPLE_2020.decode("utf-8")
    padded = "\n".join(line + ",,,," if "," not in line.rstrip(",") else line for line in text.split("\n"))
    exports.write("a/report.csv", SAMPLE_2020)
    exports.write("b/report.csv", "\ufeff" + padded.replace("\n", "\r\n"), encoding="utf-16-le")
    report = exports.ingest()
    assert [f.rows_loaded for f in report.files] == [1018, 1018]
    diff = exports.one(
        "SELECT count(*) FROM (SELECT role, email, name, joined_at, left_at, duration_minutes, country, "
        "_source_line FROM raw_webinar_attendance WHERE _source_file = 'a/report.csv' EXCEPT SELECT role, email, "
        "name, joined_at, left_at, duration_minutes, country, _source_line FROM raw_webinar_attendance "
        "WHERE _source_file = 'b/report.csv')"
    )
    assert diff == 0


def test_truncated_report_quarantines_the_cut_row_and_loads_the_rest(exports):
    lines = SAMPLE_2020.decode("utf-8").split("\n")
    cut = "\n".join(lines[:50]) + "\n" + lines[50][:40]  # line 51 is cut in the middle
    exports.write("zoom/cut.csv", cut)
    report = exports.ingest()
    res = result_for(report, "zoom/cut.csv")
    assert (res.rows_read, res.rows_quarantined) == (res.rows_loaded + 1, 1)
    reason, line = exports.rows("SELECT reason, line_number FROM ingest_quarantine")[0]
    assert line == 51 and "expected 7 fields" in reason


NEW_LAYOUT = """Attendee Report,,,,,,,,,,,,,
Report Generated:,"11/03/2026 06:01:32 PM",,,,,,,,,,,,
Topic,Webinar ID,Actual Start Time,Actual Duration (minutes),# Registered,# Cancelled registrations,Unique Viewers,Total Users,Max Concurrent Views
Product Demo,895 7090 7918,11/02/2026 03:51:32 PM,103,15,1,11,18,8
Host Details,,,,,,,
Attended,User Name (Original Name),Email,Join Time,Leave Time,Time in Session (minutes),Is Guest,Country/Region Name
Yes,Sam Patel,sam@touchplan.example,11/02/2026 03:51:32 PM,11/02/2026 05:34:32 PM,103,No,United States
Panelist Details,,,,,,,
Attended,User Name (Original Name),Email,Join Time,Leave Time,Time in Session (minutes),Is Guest,Country/Region Name
Attendee Details,,,,,,,,,,,,,
Attended,User Name (Original Name),First Name,Last Name,Email,Phone,Registration Time,Approval Status,Join Time,Leave Time,Time in Session (minutes),Is Guest,Country/Region Name,Source Name
Yes,Ana (Ana B),Ana,Bauer,ana@example.de,,10/20/2026 09:00:00 AM,approved,11/02/2026 04:00:00 PM,11/02/2026 04:30:00 PM,30,Yes,Germany,LinkedIn
Yes,Ana (Ana B),Ana,Bauer,ana@example.de,,10/20/2026 09:00:00 AM,approved,11/02/2026 04:40:00 PM,not a time,10,Yes,Germany,LinkedIn
No,Bo,Bo,Li,bo@example.com,,10/21/2026 09:00:00 AM,approved,--,--,--,,,
Other Attended,,,,,,
User Name (Original Name),Join Time,Leave Time,Time in Session (minutes),Is Guest,Country/Region Name
Guest 1,11/02/2026 04:00:00 PM,11/02/2026 04:05:00 PM,5,Yes,France
"""


def test_newer_padded_layout_with_us_times_loads_and_quarantines_a_bad_time(exports):
    exports.sources("sources:\n  zoom:\n    time_zone: Europe/Berlin\n")
    exports.write("zoom/89570907918_attendee_report.csv", NEW_LAYOUT)
    report = exports.ingest()
    res = result_for(report, "zoom/89570907918_attendee_report.csv")
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined) == (5, 4, 1)
    assert (
        exports.one("SELECT reason FROM ingest_quarantine") == "Leave Time: not a time is not a date and time"
    )
    rows = exports.rows(
        "SELECT role, email, joined_at, is_guest, extra->>'Source Name' FROM raw_webinar_attendance "
        "ORDER BY _source_line"
    )
    # 2 November 2026: Berlin is back on CET (UTC+1).
    assert rows[0] == ("host", "sam@touchplan.example", datetime(2026, 11, 2, 14, 51, 32), False, None)
    assert rows[1] == ("attendee", "ana@example.de", datetime(2026, 11, 2, 15, 0), True, "LinkedIn")
    assert rows[3][0:2] == ("other", None)
    assert exports.one("SELECT DISTINCT webinar_id FROM raw_webinar_attendance") == "89570907918"


REGISTRATION = """Registration Report
Report Generated:,"Mar 20, 2026 10:00 AM"
Topic,Webinar ID,Scheduled Time,# Registered
Spring launch,123 456 7890,"Mar 25, 2026 4:00 PM",2
Registrant Details
First Name,Last Name,Email,Country/Region,Organization,Job Title,Registration Time,Approval Status
Ana,Bauer,ana@example.de,Germany,Bauer GmbH,CTO,"Mar 10, 2026 08:15:00",approved
Bo,Li,bo@example.com,,,,"Mar 11, 2026 09:00:00",pending
"""


def test_registration_report_loads_registrations(exports):
    exports.write("zoom/registration.csv", REGISTRATION)
    report = exports.ingest()
    assert result_for(report, "zoom/registration.csv").rows_loaded == 2
    rows = exports.rows(
        "SELECT webinar_id, email, company, title, registered_at, approval_status FROM "
        "raw_webinar_registrations ORDER BY email"
    )
    assert rows[0] == (
        "1234567890",
        "ana@example.de",
        "Bauer GmbH",
        "CTO",
        datetime(2026, 3, 10, 8, 15),
        "approved",
    )


def test_real_meeting_participants_report_loads_every_session(exports):
    exports.write("zoom/participants_85558097210.csv", PARTICIPANTS)
    report = exports.ingest()
    res = result_for(report, "zoom/participants_85558097210.csv")
    # 31 sessions; the last row lacks its trailing Recording Consent field and still loads.
    assert (res.format, res.rows_read, res.rows_loaded) == ("zoom_participants", 31, 31)
    first = exports.rows(
        "SELECT name, email, joined_at, duration_minutes, is_guest, webinar_id FROM "
        "raw_webinar_attendance ORDER BY _source_line LIMIT 1"
    )[0]
    assert first == (
        "015_Loki (Loki Laufeyson)",
        "loki_asgardian@marvel.com",
        datetime(2021, 11, 19, 9, 54, 15),
        128.0,
        True,
        "85558097210",
    )


REAL = FIXTURES / "real_exports" / "exports" / "zoom"


def test_meeting_participants_report_gets_a_meeting_id_with_or_without_its_meeting_block(exports):
    # As downloaded: the block names the meeting; without it (and without the id in the file name) the id is
    # derived from the earliest join, so it is never NULL (stg_webinar__attendances tests webinar_id not_null).
    exports.write("zoom/with_block.csv", (REAL / "meeting_participants_with_meeting_block.csv").read_bytes())
    exports.write(
        "zoom/meeting_participants_report.csv", (REAL / "meeting_participants_report.csv").read_bytes()
    )
    report = exports.ingest()
    for name in ("zoom/with_block.csv", "zoom/meeting_participants_report.csv"):
        res = result_for(report, name)
        assert (res.format, res.status, res.rows_read, res.rows_loaded) == (
            "zoom_participants",
            "loaded",
            31,
            31,
        )
    rows = exports.rows(
        "SELECT _source_file, webinar_id, webinar_topic, webinar_start_at, count(*), "
        "count(*) FILTER (WHERE webinar_id IS NULL), min(joined_at) FROM raw_webinar_attendance "
        "GROUP BY ALL ORDER BY 1"
    )
    assert rows[0][0] == "zoom/meeting_participants_report.csv"
    assert rows[0][1].startswith("zoom-meeting-") and len(rows[0][1]) == len("zoom-meeting-") + 16
    assert rows[0][2:] == (None, None, 31, 0, datetime(2021, 11, 19, 9, 54, 15))
    assert rows[1] == (
        "zoom/with_block.csv",
        "60245167821",
        "Heroes meeting",
        datetime(2021, 11, 19, 10, 0),
        31,
        0,
        datetime(2021, 11, 19, 9, 54, 15),
    )


def test_derived_meeting_id_is_stable_across_file_names(exports):
    data = (REAL / "meeting_participants_report.csv").read_bytes()
    exports.write("zoom/a.csv", data)
    exports.write(
        "zoom/b.csv",
        data + b"Late Joiner,late@example.com,11/19/2021 11:00:00 AM,11/19/2021 11:30:00 AM,30,Yes,Y\n",
    )
    exports.ingest()
    assert exports.rows(
        "SELECT count(DISTINCT _source_file), count(DISTINCT webinar_id) FROM raw_webinar_attendance"
    ) == [(2, 1)]


def test_webinar_report_without_an_id_gets_a_stable_one_from_topic_and_start(exports):
    data = (REAL / "webinar_attendee_report_2020.csv").read_bytes()
    assert b"satRdays DC 2020,328-972-509," in data
    exports.write(
        "zoom/attendees.csv", data.replace(b"satRdays DC 2020,328-972-509,", b"satRdays DC 2020,,", 1)
    )
    res = result_for(exports.ingest(), "zoom/attendees.csv")
    assert (res.status, res.rows_loaded, res.rows_quarantined) == ("loaded", 1018, 0)
    ids = exports.rows("SELECT DISTINCT webinar_id FROM raw_webinar_attendance")
    assert len(ids) == 1 and ids[0][0].startswith("zoom-webinar-")
