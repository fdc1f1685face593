"""Every real export in tests/fixtures/real_exports (files real tools wrote, with their licences) loads with
`touchplan ingest` as a user runs it, nothing rejected or quarantined, into the right raw tables with sensible
values; the staging models of those tables then build and pass their dbt tests (webinar_id not_null...)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.settings import PROJECT_ROOT
from tests.integration.dbt_runner import run_dbt

REAL_EXPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "real_exports" / "exports"
TOUCHPLAN = Path(sys.executable).parent / "touchplan"

EXPECTED = {  # file -> (format, raw table, rows)
    "sendgrid/event_webhook_sample.json": ("sendgrid_events", "raw_email_events", 11),
    "sendgrid/signed_webhook_payload.json": ("sendgrid_events", "raw_email_events", 1),
    "teams/meetingAttendanceList_2020.csv": ("teams_attendance_list", "raw_webinar_attendance", 19),
    "zoom/meeting_participants_report.csv": ("zoom_participants", "raw_webinar_attendance", 31),
    "zoom/meeting_participants_with_meeting_block.csv": ("zoom_participants", "raw_webinar_attendance", 31),
    "zoom/webinar_attendee_report_2020.csv": ("zoom_webinar_report", "raw_webinar_attendance", 1018),
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("real_exports")
    exports = work / "exports"
    shutil.copytree(REAL_EXPORTS, exports)
    result = subprocess.run(
        [
            str(TOUCHPLAN),
            "ingest",
            "--exports",
            str(exports),
            "--warehouse",
            str(work / "fx.duckdb"),
            "--config",  # relative paths (and the default config/) are relative to the working directory
            str(PROJECT_ROOT / "config"),
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return work / "fx.duckdb"


def test_every_real_export_loads_with_nothing_rejected_or_quarantined(warehouse: Path):
    assert sorted(
        p.relative_to(REAL_EXPORTS).as_posix() for p in REAL_EXPORTS.rglob("*") if p.is_file()
    ) == sorted(EXPECTED)
    con = duckdb.connect(str(warehouse), read_only=True)
    files = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT source_file, format, status, rows_read, rows_loaded, rows_quarantined FROM ingest_files"
        ).fetchall()
    }
    assert files == {name: (fmt, "loaded", n, n, 0) for name, (fmt, _, n) in EXPECTED.items()}
    assert con.execute("SELECT count(*) FROM ingest_quarantine").fetchone()[0] == 0
    for name, (_, table, n) in EXPECTED.items():
        assert con.execute(f"SELECT count(*) FROM {table} WHERE _source_file = ?", [name]).fetchone()[0] == n


def test_real_exports_have_sensible_values(warehouse: Path):
    con = duckdb.connect(str(warehouse), read_only=True)
    webinars = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT _source_file, count(*) FILTER (WHERE webinar_id IS NULL), min(joined_at), max(left_at), "
            "count(*) FILTER (WHERE left_at < joined_at OR duration_minutes < 0 OR duration_minutes > 30 * 60), "
            "count(*) FILTER (WHERE abs(duration_minutes - date_diff('second', joined_at, left_at) / 60.0) > 1.01) "
            "FROM raw_webinar_attendance GROUP BY ALL"
        ).fetchall()
    }
    # No null meeting ids, no session outside its meeting's day, no negative or impossible durations; every
    # duration agrees with its join and leave times (Zoom rounds up to the next minute).
    assert webinars == {
        "teams/meetingAttendanceList_2020.csv": (
            0,
            datetime(2020, 12, 11, 12, 27, 24),
            datetime(2020, 12, 11, 15, 59, 1),
            0,
            0,
        ),
        "zoom/meeting_participants_report.csv": (
            0,
            datetime(2021, 11, 19, 9, 54, 15),
            datetime(2021, 11, 19, 12, 1, 59),
            0,
            0,
        ),
        "zoom/meeting_participants_with_meeting_block.csv": (
            0,
            datetime(2021, 11, 19, 9, 54, 15),
            datetime(2021, 11, 19, 12, 1, 59),
            0,
            0,
        ),
        "zoom/webinar_attendee_report_2020.csv": (
            0,
            datetime(2020, 3, 28, 8, 7, 27),
            datetime(2020, 3, 28, 17, 14, 47),
            0,
            0,
        ),
    }
    roles = con.execute(
        "SELECT role, count(*) FROM raw_webinar_attendance WHERE _format = 'zoom_webinar_report' GROUP BY 1 "
        "ORDER BY 1"
    ).fetchall()
    assert roles == [("attendee", 940), ("host", 1), ("other", 4), ("panelist", 73)]
    assert con.execute(
        "SELECT DISTINCT webinar_id, webinar_topic FROM raw_webinar_attendance "
        "WHERE _source_file = 'zoom/meeting_participants_with_meeting_block.csv'"
    ).fetchall() == [("60245167821", "Heroes meeting")]
    assert (
        con.execute(
            "SELECT round(sum(duration_minutes), 2) FROM raw_webinar_attendance WHERE _format = 'teams_attendance_list'"
        ).fetchone()[0]
        == 137.25
    )
    events = con.execute(
        "SELECT count(*), count(email), min(year(occurred_at)), max(year(occurred_at)) FROM raw_email_events"
    ).fetchone()
    assert events == (12, 12, 2017, 2020)


def test_staging_models_of_the_real_exports_build_and_pass_their_tests(warehouse: Path, tmp_path: Path):
    copy = tmp_path / "fx.duckdb"
    shutil.copy(warehouse, copy)
    run_dbt(
        copy,
        tmp_path,
        [
            "build",
            "--select",
            "+stg_webinar__attendances",
            "+stg_sendgrid__events",
            "--indirect-selection",
            "cautious",
        ],
        None,
    )
    con = duckdb.connect(str(copy), read_only=True)
    assert (
        con.execute("SELECT count(*) FROM stg_webinar__attendances WHERE webinar_id IS NULL").fetchone()[0]
        == 0
    )
    zoom_webinars = (
        "SELECT count(DISTINCT webinar_id) FROM stg_webinar__attendances WHERE source_system = 'zoom'"
    )
    assert con.execute(zoom_webinars).fetchone()[0] == 3
    teams = "SELECT count(*) FROM stg_webinar__attendances WHERE source_system = 'teams'"
    assert con.execute(teams).fetchone()[0] == 19
