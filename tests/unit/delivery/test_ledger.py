from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.delivery import deliver, send_id
from pipelines.lib.delivery.ledger import send_id_sql
from pipelines.lib.settings import Settings

from .conftest import PLAN, SCHEDULED, make_warehouse
from .fakes import ScriptedSendGrid

KEY = "SG.unit-test-key-7f3a9c"


def ledger(con) -> list[tuple]:
    return con.execute(
        "SELECT send_id, channel, status, http_status, attempts FROM send_ledger ORDER BY send_id"
    ).fetchall()


def outbox_files(settings: Settings) -> dict[str, bytes]:
    return {
        str(p.relative_to(settings.outbox)): p.read_bytes()
        for p in sorted(settings.outbox.rglob("*"))
        if p.is_file()
    }


def test_send_id_is_deterministic_plan_run_independent_and_per_day():
    a = send_id("cu_001", "welcome", "email", datetime(2026, 11, 23, 9, 30))
    assert a == send_id("cu_001", "welcome", "email", datetime(2026, 11, 23, 17, 0))  # same day, other slot
    assert a == send_id("cu_001", "welcome", "email", datetime(2026, 11, 23, 10, 30, tzinfo=UTC))
    assert a != send_id("cu_001", "welcome", "email", datetime(2026, 11, 24, 9, 30))
    assert a != send_id("cu_001", "welcome", "sales_task", datetime(2026, 11, 23, 9, 30))
    assert a != send_id("cu_002", "welcome", "email", datetime(2026, 11, 23, 9, 30))
    assert len(a) == 32


def test_send_id_in_duckdb_equals_python():
    sql = send_id_sql("'cu_001'", "'welcome'", "'email'", "TIMESTAMP '2026-11-23 09:30:00'")
    assert duckdb.connect().execute(f"SELECT {sql}").fetchone()[0] == send_id(
        "cu_001", "welcome", "email", datetime(2026, 11, 23, 9, 30)
    )


def test_dry_run_twice_writes_the_same_files_and_no_duplicate_rows(settings: Settings):
    with duckdb.connect(str(settings.warehouse)) as con:
        first = deliver(con, settings, send=False)
        files_first, rows_first = outbox_files(settings), ledger(con)
        second = deliver(con, settings, send=False)
        files_second, rows_second = outbox_files(settings), ledger(con)

    assert first.mode == second.mode == "dry_run"
    assert files_first == files_second
    assert rows_first == rows_second
    assert len(rows_first) == len(PLAN)
    assert sum(1 for f in files_first if f.startswith("sendgrid/") and f != "sendgrid/manifest.json") == 3
    assert first.counts == second.counts


def test_replanning_under_a_new_plan_run_keeps_send_ids(settings: Settings):
    with duckdb.connect(str(settings.warehouse)) as con:
        deliver(con, settings, send=False)
        before = {row[0] for row in ledger(con)}
    make_warehouse(settings.warehouse, plan_run_id="run_002")
    with duckdb.connect(str(settings.warehouse)) as con:
        deliver(con, settings, send=False)
        after = con.execute("SELECT send_id, plan_run_id FROM send_ledger").fetchall()
    assert {s for s, _ in after} == before
    assert {run for _, run in after} == {"run_002"}


def sent_ids(body: dict) -> list[str]:
    return [p["custom_args"]["touchplan_send_id"] for p in body["personalizations"]]


def test_dry_run_does_not_block_a_later_real_send_and_accepted_is_never_resent(settings, monkeypatch):
    monkeypatch.setenv("SENDGRID_API_KEY", KEY)
    real = replace(settings, send=True)
    client = ScriptedSendGrid()
    with duckdb.connect(str(settings.warehouse)) as con:
        deliver(con, settings, send=False)
        report = deliver(con, real, send=True, client=client)
        assert report.mode == "send"
        # two welcome emails with different templates and one webinar invite: three requests
        assert len(client.posts) == 3
        statuses = dict(con.execute("SELECT send_id, status FROM send_ledger").fetchall())
        posted_ids = {s for body in client.posts for s in sent_ids(body)}
        assert len(posted_ids) == 3 and {statuses[s] for s in posted_ids} == {"accepted"}
        message_ids = con.execute(
            "SELECT provider_message_id FROM send_ledger WHERE status = 'accepted' "
            "AND channel IN ('email', 'webinar_invite')"
        ).fetchall()
        assert all(m[0].startswith("msg-") for m in message_ids)
        # The outbox file holds exactly the bytes the client posted.
        paths = dict(con.execute("SELECT send_id, request_path FROM send_ledger").fetchall())
        for body in client.posts:
            path = settings.outbox / paths[sent_ids(body)[0]]
            assert path.read_bytes() == json.dumps(body).encode("utf-8")

        again = deliver(con, real, send=True, client=client)
        assert len(client.posts) == 3  # nothing posted twice
        assert again.already_sent == 3 + 1 + 2  # emails, the sales task with a record, the audience rows
        assert again.count("email", "accepted") == 0

        dry_after = deliver(con, settings, send=False)  # a dry run never downgrades an accepted row
        assert dry_after.count(status="dry_run") == 0
        assert {statuses[s] for s in posted_ids} == {
            st
            for s, st in con.execute("SELECT send_id, status FROM send_ledger").fetchall()
            if s in posted_ids
        }


def test_without_the_key_send_is_a_dry_run(settings: Settings):
    client = ScriptedSendGrid()
    with duckdb.connect(str(settings.warehouse)) as con:
        report = deliver(con, replace(settings, send=True), send=True, client=client)
    assert report.mode == "dry_run" and client.posts == []


def test_4xx_is_permanent_and_never_retried_5xx_retried_and_resent_next_run(settings, monkeypatch):
    monkeypatch.setenv("SENDGRID_API_KEY", KEY)
    real = replace(settings, send=True)
    sleeps: list[float] = []
    # 1st request: 400 (no retry); 2nd: 500 on every attempt (1 + 3 retries); 3rd: 202.
    client = ScriptedSendGrid(statuses=[400, 500, 500, 500, 500, 202])
    with duckdb.connect(str(settings.warehouse)) as con:
        report = deliver(con, real, send=True, client=client, sleep=sleeps.append)
        assert len(client.posts) == 6
        assert len(sleeps) == 3 and sleeps == sorted(sleeps)  # bounded, growing backoff
        failed = con.execute(
            "SELECT status, http_status, attempts, error FROM send_ledger WHERE http_status >= 400 "
            "ORDER BY http_status"
        ).fetchall()
        # every attempt is counted in the ledger before it leaves
        assert [(st, h, a) for st, h, a, _ in failed] == [
            ("failed_permanent", 400, 1),
            ("failed_retryable", 500, 4),
        ]
        assert "personalizations: bad" in failed[0][3]
        assert report.count("email", "accepted") + report.count("webinar_invite", "accepted") == 1
        permanent_id = sent_ids(client.posts[0])[0]

        retry = deliver(con, real, send=True, client=client, sleep=sleeps.append)
        assert len(client.posts) == 7  # only the request that got 500s again; the 400 is never retried
        assert permanent_id not in sent_ids(client.posts[-1])
        assert retry.skipped_failed_permanent == 1
        assert retry.count("email", "accepted") + retry.count("webinar_invite", "accepted") == 1
        rows = con.execute(
            "SELECT status, http_status, attempts FROM send_ledger WHERE http_status IS NOT NULL ORDER BY ALL"
        ).fetchall()
        assert rows == [("accepted", 202, 1), ("accepted", 202, 5), ("failed_permanent", 400, 1)]


def test_rate_limit_honours_retry_after(settings, monkeypatch):
    monkeypatch.setenv("SENDGRID_API_KEY", KEY)
    sleeps: list[float] = []
    client = ScriptedSendGrid(statuses=[429, 202], headers={"Retry-After": "7"})
    with duckdb.connect(str(settings.warehouse)) as con:
        report = deliver(con, replace(settings, send=True), send=True, client=client, sleep=sleeps.append)
    assert sleeps == [7.0]
    # the first body is retried after the 429 and then sent, like the two others: PLAN's three bodies with an
    # address (two welcome emails, one webinar invite) in four posts; cu_003 has no address
    assert len(client.posts) == 4
    assert report.count("email", "accepted") == 2 and report.count("webinar_invite", "accepted") == 1
    assert report.count("email", "failed_retryable") == 1  # cu_003: no address
    assert report.count("webinar_invite", "failed_retryable") == 0


@pytest.mark.parametrize("days_ahead", [5])
def test_real_send_leaves_sends_beyond_72_hours_for_a_later_run(
    tmp_path: Path, config_dir: Path, monkeypatch, days_ahead
):
    from datetime import timedelta

    monkeypatch.setenv("SENDGRID_API_KEY", KEY)
    warehouse = tmp_path / "w.duckdb"
    make_warehouse(warehouse, scheduled=SCHEDULED + timedelta(days=days_ahead))
    settings = Settings(
        warehouse=warehouse, exports=tmp_path, config_dir=config_dir, output=tmp_path / "out", send=True
    )
    client = ScriptedSendGrid()
    with duckdb.connect(str(warehouse)) as con:
        report = deliver(con, settings, send=True, client=client)
        assert client.posts == []
        assert report.waiting == 3
        assert (
            con.execute("SELECT count(*) FROM send_ledger WHERE channel = 'webinar_invite'").fetchone()[0]
            == 0
        )


def test_only_the_latest_plan_run_is_delivered(settings: Settings):
    with duckdb.connect(str(settings.warehouse)) as con:
        # An older plan run that planned a different campaign, recorded in plan_runs as planning does.
        con.execute("CREATE TABLE plan_runs (plan_run_id VARCHAR, created_at TIMESTAMP, kind VARCHAR)")
        con.execute(
            "INSERT INTO plan_runs VALUES ('run_000', '2026-01-01', 'plan'), ('run_001', '2026-01-02', 'plan')"
        )
        con.execute(
            "INSERT INTO contact_plan SELECT 'run_000', customer_id, 'old_campaign', channel, template_id, "
            "variant, scheduled_at, scheduled_local, time_zone, rules_version FROM contact_plan"
        )
        deliver(con, settings, send=False)
        runs = con.execute(
            "SELECT DISTINCT plan_run_id, campaign_id = 'old_campaign' FROM send_ledger"
        ).fetchall()
    assert runs == [("run_001", False)]


def test_a_refused_key_stops_the_run_and_leaves_the_rest_for_later(settings, monkeypatch):
    monkeypatch.setenv("SENDGRID_API_KEY", KEY)
    client = ScriptedSendGrid(statuses=[401])
    with duckdb.connect(str(settings.warehouse)) as con:
        report = deliver(con, replace(settings, send=True), send=True, client=client)
        assert len(client.posts) == 1  # no hammering with a bad key
        assert report.stopped_on_auth_error and report.as_metadata()["stopped_on_auth_error"] is True
        assert (
            con.execute(
                "SELECT count(*) FROM send_ledger WHERE http_status = 401 AND status = 'failed_retryable'"
            ).fetchone()[0]
            == 1
        )
        retry = deliver(con, replace(settings, send=True), send=True, client=client)
        # the next run sends all three bodies with an address (two welcome emails, one webinar invite)
        assert len(client.posts) == 1 + 3
        assert retry.count("email", "accepted") == 2 and retry.count("webinar_invite", "accepted") == 1
