"""Fault tests of the sender against a loopback SendGrid that validates bodies against SendGrid's API description
(tests/sendgrid_loopback.py), with the real `sendgrid` client: SIGKILL at random moments, lost answers, 429, 5xx,
4xx, two runs at once, and reruns. "Delivered" counts, per send id, the requests the server took that were not in a
cancelled batch: 0 duplicates and 0 lost means exactly 1 for every planned send."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.delivery import deliver
from pipelines.lib.delivery.lock import DeliveryBusyError, sender_lock
from pipelines.lib.ingest.loader import ingest_folder
from pipelines.lib.settings import PROJECT_ROOT, Settings
from tests.sendgrid_loopback import LoopbackSendGrid

KEY = "SG.loopback-fault-test-key"


def make_plan(path: Path, sends: int) -> list[str]:
    """`sends` emails of one campaign scheduled tomorrow (so every request gets a cancellable batch id), between
    09:00 and 10:59 UTC: the send id keys on the scheduled day, so the spread must not cross midnight."""
    at = (datetime.now(UTC) + timedelta(days=1)).replace(
        tzinfo=None, hour=9, minute=0, second=0, microsecond=0
    )
    con = duckdb.connect(str(path))
    con.execute(f"""CREATE TABLE dim_customers AS SELECT 'cu_' || lpad(i::VARCHAR, 5, '0') AS customer_id,
        'person' || i || '@example.com' AS email, 'First' || i AS first_name, 'Last' AS last_name,
        NULL::VARCHAR AS company FROM range({sends}) t(i)""")
    con.execute(f"""CREATE TABLE contact_plan AS SELECT 'run_1' AS plan_run_id, customer_id,
        'welcome' AS campaign_id, 'email' AS channel, 'd-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' AS template_id,
        NULL::VARCHAR AS variant, TIMESTAMP '{at}' + INTERVAL (hash(customer_id) % 120) MINUTE AS scheduled_at,
        NULL::TIMESTAMP AS scheduled_local FROM dim_customers""")
    con.close()
    from pipelines.lib.delivery.ledger import send_id

    return [send_id(f"cu_{i:05d}", "welcome", "email", at) for i in range(sends)]


def config_for(folder: Path, url: str, per_request: int, timeout: float = 5.0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = (PROJECT_ROOT / "config" / "delivery.yaml").read_text()
    text = re.sub(r"host: \S+", f"host: {url}", text, count=1)
    text = re.sub(r"personalizations_per_request: \d+", f"personalizations_per_request: {per_request}", text)
    text = re.sub(r"backoff_seconds: \S+", "backoff_seconds: 0.01", text, count=1)
    text = re.sub(r"timeout_seconds: \S+", f"timeout_seconds: {timeout}", text, count=1)
    (folder / "delivery.yaml").write_text(text)
    return folder


@pytest.fixture(autouse=True)
def env(monkeypatch):
    monkeypatch.setenv("SENDGRID_API_KEY", KEY)
    monkeypatch.setenv("TOUCHPLAN_UNSUBSCRIBE_SECRET", "fault-test-unsubscribe-secret-0042")


@pytest.fixture
def server():
    with LoopbackSendGrid() as mock:
        yield mock


def settings_in(folder: Path, config_dir: Path) -> Settings:
    return Settings(
        warehouse=folder / "w.duckdb",
        exports=folder / "exports",
        config_dir=config_dir,
        output=folder / "out",
        send=True,
    )


def run(settings: Settings, **kw):
    """As the send_ledger asset does it: the sender lock, then the warehouse connection."""
    with sender_lock(settings.warehouse), duckdb.connect(str(settings.warehouse)) as con:
        return deliver(con, settings, send=True, **kw)


def _child(settings: Settings) -> None:
    run(settings)
    os._exit(0)


def ingest_events(settings: Settings, server: LoopbackSendGrid) -> int:
    """SendGrid's Event Webhook for every message it took (not cancelled), ingested like any export file."""
    events = []
    for taken in server.state.taken:
        if taken.batch_id in server.state.cancelled:
            continue
        for sid, email in zip(taken.send_ids, taken.emails, strict=True):
            events.append(
                {
                    "email": email,
                    "timestamp": int(time.time()),
                    "event": "processed",
                    "sg_event_id": f"ev-{taken.n}-{sid}",
                    "sg_message_id": f"msg{taken.n:06d}.filter",
                    "touchplan_send_id": sid,
                    "campaign_id": "welcome",
                }
            )
    folder = settings.exports / "sendgrid"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"events_{len(list(folder.iterdir()))}.json").write_text(json.dumps(events))
    with duckdb.connect(str(settings.warehouse)) as con:
        ingest_folder(con, settings.exports)
    return len(events)


def ledger_states(settings: Settings) -> dict[str, int]:
    with duckdb.connect(str(settings.warehouse)) as con:
        return dict(con.execute("SELECT status, count(*) FROM send_ledger GROUP BY ALL").fetchall())


def test_sigkill_at_random_moments_then_rerun_gives_exactly_once(tmp_path: Path, server: LoopbackSendGrid):
    sends, per_request = 24, 4  # six requests (plus six batch ids) per run: small, CI-cheap
    template = tmp_path / "template.duckdb"
    planned = make_plan(template, sends)
    config_dir = config_for(tmp_path / "config", server.url, per_request)
    rng = random.Random(20261207)
    fork = multiprocessing.get_context("fork")
    killed = 0
    for trial in range(20):
        folder = tmp_path / f"trial{trial}"
        folder.mkdir()
        shutil.copy(template, folder / "w.duckdb")
        settings = settings_in(folder, config_dir)
        server.state.taken.clear()
        server.state.send_posts = 0
        target = rng.randint(1, sends // per_request)
        when = rng.choice(["before", "after"])
        delay = rng.uniform(0, 0.03)
        child_pid: list[int] = []
        server.state.fault = lambda n, body, t=target, w=when, d=delay: ("kill", w, d) if n == t else None
        server.state.on_kill = lambda pids=child_pid: os.kill(pids[0], signal.SIGKILL)
        process = fork.Process(target=_child, args=(settings,))
        process.start()
        child_pid.append(process.pid)
        process.join(60)
        killed += process.exitcode == -signal.SIGKILL
        server.reset_faults()

        if trial % 2 == 0:  # half the trials: the events of what SendGrid took are ingested before the rerun
            ingest_events(settings, server)
        report = run(settings)
        delivered = server.delivered()
        assert {sid: delivered[sid] for sid in planned} == dict.fromkeys(planned, 1), (trial, target, when)
        assert report.unresolved == 0
        assert ledger_states(settings) == {"accepted": sends}
        if trial % 2 == 0:  # settled from events: nothing taken twice, no batch cancelled
            assert max(server.received()[sid] for sid in planned) == 1, (trial, target, when)
        if trial % 5 == 0:  # finished: a rerun makes 0 calls (checked on some trials to keep CI time down)
            calls = server.calls()
            assert run(settings).requests == 0 and server.calls() == calls
    assert killed == 20


def test_lost_answers_are_never_resent_before_reconciliation(tmp_path: Path, server: LoopbackSendGrid):
    sends, per_request = 200, 5
    planned = make_plan(tmp_path / "w.duckdb", sends)
    settings = settings_in(tmp_path, config_for(tmp_path / "config", server.url, per_request, timeout=0.5))
    rng = random.Random(5)
    dropped = {n for n in range(1, 41) if rng.random() < 0.05} | {3}
    server._server.hang_seconds = 1.5
    server.state.fault = lambda n, body: ("hang" if n == 7 else "drop") if n in dropped | {7} else None
    first = run(settings)
    lost = len(dropped | {7}) * per_request
    assert max(server.received().values()) == 1  # nothing sent twice while unresolved
    assert first.unresolved == lost and ledger_states(settings)["in_flight"] == lost
    server.reset_faults()

    second = run(settings)  # reconciles: each lost request's batch is cancelled, then it is sent again
    assert second.reconciled_by_cancel == lost and second.unresolved == 0
    assert {sid: server.delivered()[sid] for sid in planned} == dict.fromkeys(planned, 1)
    assert len(server.state.cancelled) == len(dropped | {7})
    assert ledger_states(settings) == {"accepted": sends}


def test_429_with_ratelimit_reset_three_times_then_accepted(tmp_path: Path, server: LoopbackSendGrid):
    planned = make_plan(tmp_path / "w.duckdb", 3)
    settings = settings_in(tmp_path, config_for(tmp_path / "config", server.url, 10))
    reset = str(int(time.time()) + 30)
    server.state.fault = lambda n, body: ("status", 429, {"X-RateLimit-Reset": reset}) if n <= 3 else None
    sleeps: list[float] = []
    run(settings, sleep=sleeps.append)
    assert server.state.send_posts == 4 and len(sleeps) == 3
    assert all(25 <= s <= 31 for s in sleeps)  # waited until the reset time, not the 0.01 s backoff
    with duckdb.connect(str(settings.warehouse)) as con:
        assert con.execute("SELECT DISTINCT status, attempts FROM send_ledger").fetchall() == [
            ("accepted", 4)
        ]
    assert {sid: server.delivered()[sid] for sid in planned} == dict.fromkeys(planned, 1)


def test_5xx_then_202_is_sent_once(tmp_path: Path, server: LoopbackSendGrid):
    planned = make_plan(tmp_path / "w.duckdb", 3)
    settings = settings_in(tmp_path, config_for(tmp_path / "config", server.url, 10))
    server.state.fault = lambda n, body: ("status", 503, {}) if n == 1 else None
    run(settings, sleep=lambda _: None)
    with duckdb.connect(str(settings.warehouse)) as con:
        assert con.execute("SELECT DISTINCT status, attempts, http_status FROM send_ledger").fetchall() == [
            ("accepted", 2, 202)
        ]
    assert {sid: server.delivered()[sid] for sid in planned} == dict.fromkeys(planned, 1)


def test_4xx_is_recorded_and_never_retried(tmp_path: Path, server: LoopbackSendGrid):
    make_plan(tmp_path / "w.duckdb", 3)
    settings = settings_in(tmp_path, config_for(tmp_path / "config", server.url, 10))
    server.state.fault = lambda n, body: ("status", 400, {})
    run(settings, sleep=lambda _: pytest.fail("a 4xx must not be retried"))
    assert server.state.send_posts == 1
    assert ledger_states(settings) == {"failed_permanent": 3}
    calls = server.calls()
    again = run(settings)
    assert server.calls() == calls and again.skipped_failed_permanent == 3


def test_invalid_body_is_refused_by_the_schema_check(tmp_path: Path, server: LoopbackSendGrid):
    """The loopback server is a real check: a body that breaks SendGrid's API description gets 400."""
    from python_http_client.exceptions import BadRequestsError
    from sendgrid import SendGridAPIClient

    client = SendGridAPIClient(api_key=KEY, host=server.url).client
    with pytest.raises(BadRequestsError):
        client.mail.send.post(request_body={"personalizations": [{"to": [{"email": "x@example.com"}]}]})
    assert server.state.invalid and server.state.taken == []


def test_two_runs_at_once_one_is_refused(tmp_path: Path):
    with LoopbackSendGrid(latency=0.15) as server:
        planned = make_plan(tmp_path / "w.duckdb", 12)
        settings = settings_in(tmp_path, config_for(tmp_path / "config", server.url, 2))
        process = multiprocessing.get_context("fork").Process(target=_child, args=(settings,))
        process.start()
        deadline = time.monotonic() + 30
        while server.calls() == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        with pytest.raises(DeliveryBusyError, match=r"another delivery run \(pid \d+\)"):
            run(settings)
        process.join(60)
        assert process.exitcode == 0
        assert {sid: server.delivered()[sid] for sid in planned} == dict.fromkeys(planned, 1)
        calls = server.calls()
        assert run(settings).requests == 0 and server.calls() == calls
