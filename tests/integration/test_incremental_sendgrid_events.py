"""Issue #17: `stg_sendgrid__event_rows` is incremental by export file and gives, with `stg_sendgrid__events`'s
de-duplication over it, the same rows as a full build, day after day.

SendGrid event files (Event Webhook JSON, shaped like the generated and webhook-dump exports) arrive over three
days in one exports folder; each day the real ingest loads them and `dbt build` builds the two models on warehouse
A (incremental). Then a copy of A is rebuilt with `--full-refresh` and every row of both models must be equal.
The days hold what makes the increment hard: copies of an event across files (a webhook retry with the same
sg_event_id, a re-send under a new id within the 2-second window), and on day 3 a new version of day 1's file
without some events, so that rows staged on day 1 must disappear and copies in other files take their place.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from benchmarks.compare_warehouses import compare
from pipelines.lib.ingest.loader import ingest_folder
from pipelines.lib.settings import DBT_PROJECT_DIR
from tests.integration.dbt_runner import run_dbt

pytestmark = pytest.mark.slow

MODELS = ["stg_sendgrid__event_rows", "stg_sendgrid__events"]
T0 = 1793000000  # 2026-10-25


def _event(n: int, event: str, seconds: int, sg_event_id: str, message: str = "m1") -> dict:
    return {
        "email": f"person{n}@example.com",
        "timestamp": T0 + seconds,
        "smtp-id": f"<{message}.{n}@ismtpd-555>",
        "event": event,
        "category": "webinar_invite",
        "sg_event_id": sg_event_id,
        "sg_message_id": f"{message}.{n}.filterdrecv-472",
    }


def _write(path: Path, events: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[\n" + ",\n".join(json.dumps(e) for e in events) + "\n]\n", encoding="utf-8")


DAY1 = [_event(n, "delivered", n * 60, f"d1-{n}") for n in range(1, 9)] + [
    # a click chain of one fingerprint: t, t+2 s, t+4 s (each within 2 s of the previous copy: one event)
    _event(1, "click", 1000, "c-0"),
    _event(1, "click", 1002, "c-2"),
    _event(1, "click", 1004, "c-4"),
]
DAY2 = [_event(n, "delivered", n * 60, f"d1-{n}") for n in range(1, 5)] + [  # webhook retries: same ids
    _event(n, "open", n * 60 + 3600, f"o-{n}") for n in range(1, 9)
]
# a new version of day 1's file: delivered events 1-2 and the middle click gone (so the t+4 s click is no longer
# within 2 s of the copy before it: it counts again), delivered 9 added
DAY1_V2 = [e for e in DAY1 if e["sg_event_id"] not in ("d1-1", "d1-2", "c-2")] + [
    _event(9, "delivered", 540, "d1-9")
]
DAY3 = [_event(n, "open", n * 60 + 3601, f"o-retry-{n}") for n in range(1, 4)]  # re-sent under new ids, +1 s


def _ingest(warehouse: Path, exports: Path, day: int) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        report = ingest_folder(con, exports, now=datetime(2026, 11, day, 7, tzinfo=UTC))
        assert not [f for f in report.files if f.status == "rejected"], report.files
    finally:
        con.close()


def _rows(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental_sendgrid")
    exports, a, b = root / "exports", root / "a.duckdb", root / "b.duckdb"
    days = [
        lambda: _write(exports / "sendgrid" / "day1.json", DAY1),
        lambda: _write(exports / "sendgrid" / "day2.json", DAY2),
        lambda: (
            _write(exports / "sendgrid" / "day1.json", DAY1_V2),
            _write(exports / "sendgrid" / "day3.json", DAY3),
        ),
    ]
    counts = []
    for number, deliver in enumerate(days, start=1):
        deliver()
        _ingest(a, exports, number)
        run_dbt(a, root / f"dbt{number}", ["build", "--select", *MODELS], {})
        counts.append(_rows(a, "select count(*) from stg_sendgrid__event_rows")[0][0])
    shutil.copy2(a, b)
    run_dbt(b, root / "dbt_full", ["build", "--full-refresh", "--select", *MODELS], {})
    return {"a": a, "b": b, "counts": counts}


def test_each_day_stages_only_the_current_files_rows(built):
    # day 1: 11 rows; day 2: + 12; day 3: day 1's file replaced (11 -> 9 rows: 3 gone, 1 added) and 3 new
    assert built["counts"] == [11, 23, 24]
    files = _rows(
        built["a"], "select _source_file, count(distinct _file_hash) from stg_sendgrid__event_rows group by 1"
    )
    assert all(hashes == 1 for _, hashes in files)


def test_incremental_build_equals_the_full_refresh(built):
    results = {r["table"]: r for r in compare(built["a"], built["b"])}
    for model in MODELS:
        assert results[model]["status"] == "same", results[model]


def test_the_deduplicated_events_follow_the_replaced_file(built):
    events = dict(
        _rows(
            built["a"],
            "select event_id, _source_file from stg_sendgrid__events where event_type = 'delivered'",
        )
    )
    # The copy ingested first counts. d1-1 and d1-2 left day1.json: their retry copies in day2.json count. d1-3
    # and d1-4 are in both files, and day1.json's new version was ingested after day2.json: day2.json's copy.
    # d1-5 and d1-9 are only in day1.json.
    assert {k: v for k, v in events.items() if v == "sendgrid/day2.json"} == {
        f"d1-{n}": "sendgrid/day2.json" for n in range(1, 5)
    }
    assert events["d1-5"] == "sendgrid/day1.json" and events["d1-9"] == "sendgrid/day1.json"
    clicks = _rows(
        built["a"], "select event_id from stg_sendgrid__events where event_type = 'click' order by 1"
    )
    assert clicks == [("c-0",), ("c-4",)]
    opens = _rows(built["a"], "select count(*) from stg_sendgrid__events where event_type = 'open'")
    assert opens == [(8,)]  # the re-sends under new ids a second later count once


def test_the_project_declares_the_increment():
    sql = (DBT_PROJECT_DIR / "models" / "staging" / "sendgrid" / "stg_sendgrid__event_rows.sql").read_text()
    assert "materialized='incremental'" in sql


def _emails(warehouse: Path) -> list[tuple]:
    return _rows(warehouse, "select _source_line, email from stg_sendgrid__event_rows order by 1")


def test_a_changed_email_rule_restages_the_rows_already_staged(tmp_path):
    """Rows staged under one email rule are staged again when the rule changes (var email_provider_rules), with no
    --full-refresh: an incremental build under the new rule equals a full build under it."""
    exports, a, b = tmp_path / "exports", tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    events = [_event(1, "delivered", 60, "g-1"), _event(2, "delivered", 120, "g-2")]
    events[0]["email"] = "First.Last+news@gmail.com"
    _write(exports / "sendgrid" / "day1.json", events)
    _ingest(a, exports, 1)
    run_dbt(a, tmp_path / "dbt1", ["build", "--select", *MODELS], {})
    assert _emails(a)[0][1] == "first.last+news@gmail.com"

    provider_rules = {"email_provider_rules": True}
    run_dbt(a, tmp_path / "dbt2", ["build", "--select", *MODELS], provider_rules)
    assert [email for _, email in _emails(a)] == ["firstlast@gmail.com", "person2@example.com"]
    shutil.copy2(a, b)
    run_dbt(b, tmp_path / "dbt_full", ["build", "--full-refresh", "--select", *MODELS], provider_rules)
    results = {r["table"]: r for r in compare(a, b)}
    for model in MODELS:
        assert results[model]["status"] == "same", results[model]


def test_a_table_staged_before_the_version_column_gets_it_and_is_restaged(tmp_path):
    """A warehouse whose stg_sendgrid__event_rows predates _staging_version (and holds a stale row) needs no
    --full-refresh: the next incremental build adds the column and stages every row again."""
    exports, a = tmp_path / "exports", tmp_path / "a.duckdb"
    _write(exports / "sendgrid" / "day1.json", DAY1)
    _ingest(a, exports, 1)
    run_dbt(a, tmp_path / "dbt1", ["build", "--select", *MODELS], {})
    with duckdb.connect(str(a)) as con:
        con.execute("alter table stg_sendgrid__event_rows drop column _staging_version")
        con.execute("update stg_sendgrid__event_rows set email = 'stale@example.com'")
    run_dbt(a, tmp_path / "dbt2", ["build", "--select", *MODELS], {})
    rows = _rows(
        a,
        "select count(*), count(distinct _staging_version), count(*) filter (email = 'stale@example.com') "
        "from stg_sendgrid__event_rows",
    )
    assert rows == [(len(DAY1), 1, 0)]


# Issue #17: stg_sendgrid__events incremental by de-duplication group. Five builds on one warehouse; after each, a
# copy rebuilt with --full-refresh must hold the same rows in every table. Each step holds a case where re-deriving
# only the new rows goes wrong: a new copy one second EARLIER than a kept event (the kept one must go), a retry
# within the window of a copy that was itself dropped (not in the table), a superseded file that loses such a
# dropped copy (the chain after it changes), and a changed window (var), under which the next day is incremental.
S1 = (
    [_event(n, "delivered", n * 60, f"d-{n}") for n in range(1, 7)]
    + [_event(1, "click", 1000, "k-0"), _event(1, "click", 1002, "k-2"), _event(1, "click", 1004, "k-4")]
    + [_event(2, "open", 2000, "o-2a"), _event(3, "open", 3000, "o-3a")]
)
S0 = [_event(n, "delivered", n * 60, f"x-{n}", message="m2") for n in range(10, 30)]  # no later copies
S2 = [
    _event(1, "delivered", 60, "d-1"),  # webhook retries: same sg_event_id
    _event(2, "delivered", 120, "d-2"),
    _event(2, "open", 2001, "o-2b"),  # re-sent under a new id a second later: dropped
    _event(3, "open", 2999, "o-3b"),  # a copy a second EARLIER than day 1's: it counts, o-3a no longer does
    _event(2, "open", 2600, "o-2c"),  # a genuine second open ten minutes later
    _event(1, "click", 1006, "k-6"),  # within 2 s of k-4, which was dropped (within 2 s of k-2)
]
S1_V2 = [e for e in S1 if e["sg_event_id"] not in ("d-1", "k-2")]  # k-2 gone: k-4 is 4 s after k-0, it counts
S3 = [_event(7, "delivered", 420, "d-7"), _event(2, "open", 2000, "o-2a")]
S4 = [_event(1, "click", 1020, "k-20"), _event(3, "open", 3001, "o-3c")]
WINDOW_5 = {"event_duplicate_window_seconds": 5}
STEPS = [
    # (files to write, dbt vars, build expected, click ids, open ids, delivered id -> file)
    (
        {"s0.json": S0, "s1.json": S1},
        {},
        "full",
        ["k-0"],
        ["o-2a", "o-3a"],
        {f"d-{n}": "s1" for n in range(1, 7)},
    ),
    (
        {"s2.json": S2},
        {},
        "incremental",
        ["k-0"],
        ["o-2a", "o-2c", "o-3b"],
        {f"d-{n}": "s1" for n in range(1, 7)},
    ),
    (
        {"s1.json": S1_V2, "s3.json": S3},
        {},
        "incremental",
        ["k-0", "k-4"],
        ["o-2a", "o-2c", "o-3b"],
        {"d-1": "s2", "d-2": "s2", **{f"d-{n}": "s1" for n in range(3, 7)}, "d-7": "s3"},
    ),
    ({}, WINDOW_5, "rebuilt in full", ["k-0"], ["o-2a", "o-2c", "o-3b"], None),
    ({"s4.json": S4}, WINDOW_5, "incremental", ["k-0", "k-20"], ["o-2a", "o-2c", "o-3b"], None),
]


def _events_by_type(warehouse: Path) -> dict[str, list[str]]:
    rows = _rows(
        warehouse,
        "select event_type, event_id, _source_file from stg_sendgrid__events order by event_type, event_id",
    )
    out: dict = {}
    for event_type, event_id, source in rows:
        out.setdefault(event_type, []).append((event_id, Path(source).stem))
    return out


@pytest.fixture(scope="module")
def stepped(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental_sendgrid_groups")
    exports, a = root / "exports", root / "a.duckdb"
    steps = []
    for number, (files, dbt_vars, _, _, _, _) in enumerate(STEPS, start=1):
        for name, events in files.items():
            _write(exports / "sendgrid" / name, events)
        _ingest(a, exports, number)
        built = run_dbt(a, root / f"dbt{number}", ["build", "--select", *MODELS], dbt_vars)
        b = root / f"full{number}.duckdb"
        shutil.copy2(a, b)
        run_dbt(b, root / f"full{number}", ["run", "--full-refresh", "--select", *MODELS], dbt_vars)
        steps.append(
            {
                "log": built.stdout,
                "compare": compare(a, b),
                "events": _events_by_type(a),
                "full": _events_by_type(b),
                "keys": _rows(a, "select count(*) from stg_sendgrid__events__survivors")[0][0],
            }
        )
    return steps


@pytest.mark.parametrize("step", range(len(STEPS)), ids=[f"step{n}" for n in range(1, len(STEPS) + 1)])
def test_each_incremental_build_equals_a_full_refresh(stepped, step):
    """Every table (the two models and the bookkeeping of the increment) equals the full refresh's, row for row."""
    differing = [r for r in stepped[step]["compare"] if r["status"] != "same"]
    assert not differing, differing
    tables = {r["table"] for r in stepped[step]["compare"]}
    assert {"stg_sendgrid__events__survivors", "stg_sendgrid__events__files"} <= tables


@pytest.mark.parametrize("step", range(len(STEPS)), ids=[f"step{n}" for n in range(1, len(STEPS) + 1)])
def test_each_build_keeps_the_copy_the_rules_keep(stepped, step):
    _, _, _, clicks, opens, delivered = STEPS[step]
    events = stepped[step]["events"]
    assert [e for e, _ in events["click"]] == clicks
    assert [e for e, _ in events["open"]] == opens
    if delivered is not None:
        assert {k: v for k, v in events["delivered"] if k.startswith("d-")} == delivered
    assert events == stepped[step]["full"]


@pytest.mark.parametrize("step", range(len(STEPS)), ids=[f"step{n}" for n in range(1, len(STEPS) + 1)])
def test_a_daily_build_re_derives_only_the_affected_groups(stepped, step):
    """Builds after the first are incremental (a few keys re-derived), except after the window changed."""
    expected = STEPS[step][2]
    lines = [line for line in stepped[step]["log"].splitlines() if "stg_sendgrid__events: " in line]
    if expected == "full":
        assert not lines
    else:
        assert len(lines) == 1 and expected in lines[0], lines
    if expected == "incremental":
        derived = int(lines[0].split("incremental, ")[1].split(" event keys")[0])
        assert 0 < derived < stepped[step]["keys"] / 2
