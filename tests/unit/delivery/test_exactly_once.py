"""Exactly once across crashes and lost answers: the in_flight protocol, reconciliation, the lock, the guard,
batching and the one-click unsubscribe headers, on a real DuckDB with a scripted SendGrid client."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.lib.delivery import deliver
from pipelines.lib.delivery.guard import SendingBlockedError
from pipelines.lib.delivery.ledger import ensure_ledger
from pipelines.lib.delivery.lock import DeliveryBusyError, sender_lock
from pipelines.lib.receiver_contract import MissingSecretError, verify_token
from pipelines.lib.settings import Settings

from .conftest import UNSUBSCRIBE_SECRET, make_warehouse
from .fakes import ScriptedSendGrid

KEY = "SG.unit-test-key-exactly-once"
EMAIL_ROWS = "SELECT send_id, status, attempts, request_id, batch_id FROM send_ledger WHERE channel = 'email'"


class LostAnswer(ScriptedSendGrid):
    """SendGrid takes the request (it is recorded) but the answer never arrives: the client times out."""

    def __init__(self, lose: set[int] | None = None, **kw):
        super().__init__(**kw)
        self.lose = lose or set()

    def _post(self, request_body=None, timeout=None, **kw):
        response = super()._post(request_body=request_body, timeout=timeout, **kw)
        if len(self.posts) in self.lose:
            raise TimeoutError("timed out")
        return response


def ids(body: dict) -> list[str]:
    return [p["custom_args"]["touchplan_send_id"] for p in body["personalizations"]]


def real(settings: Settings) -> Settings:
    return replace(settings, send=True)


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("SENDGRID_API_KEY", KEY)


def test_legacy_ledger_is_migrated_in_place(tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("""CREATE TABLE send_ledger (send_id VARCHAR PRIMARY KEY, customer_id VARCHAR NOT NULL,
        campaign_id VARCHAR NOT NULL, channel VARCHAR NOT NULL,
        status VARCHAR NOT NULL CHECK (status IN ('dry_run', 'sent', 'failed')), request_path VARCHAR,
        provider_message_id VARCHAR, created_at TIMESTAMP NOT NULL, plan_run_id VARCHAR, template_id VARCHAR,
        scheduled_at TIMESTAMP, http_status INTEGER, error VARCHAR, attempts INTEGER NOT NULL DEFAULT 0,
        updated_at TIMESTAMP NOT NULL, sent_at TIMESTAMP)""")
    con.execute("""INSERT INTO send_ledger VALUES
        ('a', 'cu1', 'c', 'email', 'sent', 'sendgrid/a.json', 'm1', '2026-01-01', 'r', NULL, NULL, 202, NULL, 1,
         '2026-01-01', '2026-01-01'),
        ('b', 'cu2', 'c', 'email', 'failed', NULL, NULL, '2026-01-01', 'r', NULL, NULL, 500, 'HTTP 500', 2,
         '2026-01-01', NULL),
        ('c', 'cu3', 'c', 'email', 'dry_run', NULL, NULL, '2026-01-01', 'r', NULL, NULL, NULL, NULL, 0,
         '2026-01-01', NULL)""")
    ensure_ledger(con)
    ensure_ledger(con)  # idempotent
    rows = con.execute(
        "SELECT send_id, status, attempts, provider_message_id, request_id FROM send_ledger ORDER BY 1"
    ).fetchall()
    assert rows == [
        ("a", "accepted", 1, "m1", None),
        ("b", "failed_retryable", 2, None, None),
        ("c", "dry_run", 0, None, None),
    ]
    con.execute(
        "UPDATE send_ledger SET status = 'in_flight' WHERE send_id = 'c'"
    )  # the new states are allowed
    with pytest.raises(duckdb.ConstraintException):
        con.execute("UPDATE send_ledger SET status = 'sent' WHERE send_id = 'c'")


def test_ledger_row_is_in_flight_with_batch_and_attempt_before_the_request_leaves(settings):
    seen: list[list[tuple]] = []

    class Watching(ScriptedSendGrid):
        def _post(self, request_body=None, **kw):
            with duckdb.connect(str(settings.warehouse)) as other:  # what a crash right now would leave
                seen.append(
                    other.execute(
                        "SELECT status, attempts, request_id IS NOT NULL, batch_id FROM send_ledger "
                        "WHERE send_id IN (SELECT unnest($ids))",
                        {"ids": ids(request_body)},
                    ).fetchall()
                )
            return super()._post(request_body=request_body, **kw)

    client = Watching(statuses=[503, 202])
    with duckdb.connect(str(settings.warehouse)) as con:
        deliver(con, real(settings), send=True, client=client, sleep=lambda _: None)
    assert len(seen) == 4  # three requests, the first one twice (503 then 202)
    batches = client.batches
    assert seen[0] == [("in_flight", 1, True, batches[0])]
    assert seen[1] == [("in_flight", 2, True, batches[0])]  # the retry is counted before it leaves
    assert all(rows[0][0] == "in_flight" for rows in seen)


def test_lost_answer_is_not_resent_before_reconciliation_then_cancelled_and_resent(settings):
    client = LostAnswer(lose={1})
    with duckdb.connect(str(settings.warehouse)) as con:
        first = deliver(con, real(settings), send=True, client=client)
        lost_ids = ids(client.posts[0])
        assert len(client.posts) == 3  # no retry of the lost one in the same run
        assert first.unresolved == 1
        status = dict(con.execute("SELECT send_id, status FROM send_ledger").fetchall())
        assert status[lost_ids[0]] == "in_flight"

        second = deliver(con, real(settings), send=True, client=client)
        # its batch (scheduled tomorrow) is cancelled first, then it is sent again under a new batch id
        assert client.cancelled == [client.batches[0]]
        assert len(client.posts) == 4 and ids(client.posts[3]) == lost_ids
        assert client.posts[3]["batch_id"] != client.posts[0]["batch_id"]
        assert second.reconciled_by_cancel == 1 and second.unresolved == 0
        assert con.execute(
            "SELECT status, attempts, reconciled_by FROM send_ledger WHERE send_id = ?", [lost_ids[0]]
        ).fetchone() == ("accepted", 2, None)

        third = deliver(con, real(settings), send=True, client=client)
        assert len(client.posts) == 4 and third.requests == 0  # a finished campaign makes no calls


def test_events_for_an_in_flight_send_settle_it_accepted_without_a_call(settings):
    client = LostAnswer(lose={1})
    with duckdb.connect(str(settings.warehouse)) as con:
        deliver(con, real(settings), send=True, client=client)
        lost = ids(client.posts[0])[0]
        # the SendGrid event of that message, as ingest writes it (raw_email_events.touchplan_send_id)
        con.execute("""CREATE TABLE raw_email_events (source_system VARCHAR, event_id VARCHAR, event VARCHAR,
                       touchplan_send_id VARCHAR, occurred_at TIMESTAMP, payload JSON)""")
        con.execute(
            "INSERT INTO raw_email_events VALUES ('sendgrid', 'ev1', 'processed', ?, now()::TIMESTAMP, '{}')",
            [lost],
        )
        report = deliver(con, real(settings), send=True, client=client)
        assert report.reconciled_by_events == 1 and client.cancelled == []
        assert len(client.posts) == 3  # no call at all for it
        assert con.execute(
            "SELECT status, reconciled_by FROM send_ledger WHERE send_id = ?", [lost]
        ).fetchone() == ("accepted", "events")


def test_unresolved_send_is_listed_never_resent_and_released_by_the_operator(
    tmp_path: Path, config_dir: Path, capsys
):
    warehouse = tmp_path / "w.duckdb"
    due_now = datetime.now(UTC).replace(tzinfo=None, microsecond=0) + timedelta(minutes=5)  # no batch id
    make_warehouse(warehouse, scheduled=due_now)
    settings = Settings(
        warehouse=warehouse, exports=tmp_path, config_dir=config_dir, output=tmp_path / "out", send=True
    )
    client = LostAnswer(lose={1})
    with duckdb.connect(str(warehouse)) as con:
        deliver(con, settings, send=True, client=client)
        lost = ids(client.posts[0])[0]
        again = deliver(con, settings, send=True, client=client)
        assert len(client.posts) == 3 and client.batches == [] and again.unresolved == 1
    assert main(["deliveries", "--warehouse", str(warehouse), "--unresolved"]) == 0
    out = capsys.readouterr().out
    assert "1 unresolved sends" in out and lost in out and "no batch to cancel" in out
    assert "@" not in out  # ids only
    assert main(["deliveries", "--warehouse", str(warehouse), "--release", lost]) == 0
    with duckdb.connect(str(warehouse)) as con:
        deliver(con, settings, send=True, client=client)
    assert ids(client.posts[-1]) == [lost] and len(client.posts) == 4
    assert main(["deliveries", "--warehouse", str(warehouse), "--release", lost]) == 1  # accepted now


def _hold_lock(warehouse: Path, held, release) -> None:
    with sender_lock(warehouse):
        held.set()
        release.wait(30)


def test_second_sender_gets_a_one_line_error_and_sends_nothing(settings):
    import multiprocessing

    fork = multiprocessing.get_context("fork")
    held, release = fork.Event(), fork.Event()
    other = fork.Process(target=_hold_lock, args=(settings.warehouse, held, release))  # the first sender
    other.start()
    try:
        assert held.wait(30)
        client = ScriptedSendGrid()
        with pytest.raises(DeliveryBusyError) as busy, duckdb.connect(str(settings.warehouse)) as con:
            deliver(con, real(settings), send=True, client=client)
    finally:
        release.set()
        other.join(30)
    message = str(busy.value)
    assert "\n" not in message and f"another delivery run (pid {other.pid})" in message
    assert "nothing was sent" in message and client.posts == []
    with duckdb.connect(str(settings.warehouse)) as con:  # released when the other process ends
        deliver(con, real(settings), send=True, client=client)
    assert len(client.posts) == 3


def _events(con, delivered: int, spam: int, bounces: int, days_ago: float = 1) -> None:
    con.execute("""CREATE OR REPLACE TABLE raw_email_events (source_system VARCHAR, event_id VARCHAR,
                   event VARCHAR, touchplan_send_id VARCHAR, occurred_at TIMESTAMP, payload JSON)""")
    at = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=days_ago)
    rows = (
        [("delivered", i) for i in range(delivered)]
        + [("spamreport", i) for i in range(spam)]
        + [("bounce", i) for i in range(bounces)]
    )
    con.executemany(
        "INSERT INTO raw_email_events VALUES ('sendgrid', ?, ?, NULL, ?, '{}')",
        [(f"{e}-{i}", e, at) for e, i in rows],
    )


@pytest.mark.parametrize(
    ("delivered", "spam", "bounces", "days_ago", "blocked"),
    [
        (1000, 3, 0, 1, "spam-complaint rate 0.30%"),  # at the 0.3% limit: blocked
        (1000, 2, 0, 1, None),
        (949, 0, 51, 1, "bounce rate 5.10%"),
        (1000, 30, 0, 8, None),  # outside the 7-day window
    ],
)
def test_sending_guard_blocks_the_whole_send(settings, delivered, spam, bounces, days_ago, blocked):
    client = ScriptedSendGrid()
    with duckdb.connect(str(settings.warehouse)) as con:
        _events(con, delivered, spam, bounces, days_ago)
        if blocked:
            with pytest.raises(SendingBlockedError) as error:
                deliver(con, real(settings), send=True, client=client)
            assert blocked in str(error.value) and "--force-send" in str(error.value)
            assert client.posts == []
            assert con.execute("SELECT count(*) FROM send_ledger").fetchone()[0] == 0
        else:
            deliver(con, real(settings), send=True, client=client)
            assert len(client.posts) == 3


def test_force_send_overrides_the_guard_and_is_logged(settings, caplog):
    client = ScriptedSendGrid()
    with duckdb.connect(str(settings.warehouse)) as con:
        _events(con, 100, 5, 0)
        deliver(con, real(settings), send=True, client=client, force_send=True)
    assert len(client.posts) == 3
    assert "sending guard overridden by --force-send: spam-complaint rate 5.00%" in caplog.text


def _many(path: Path, customers: int, duplicate_address: bool = False) -> None:
    con = duckdb.connect(str(path))
    at = (datetime.now(UTC) + timedelta(days=1)).replace(
        tzinfo=None, hour=9, minute=0, second=0, microsecond=0
    )
    con.execute(f"""CREATE TABLE dim_customers AS SELECT 'cu_' || i AS customer_id,
        CASE WHEN {duplicate_address} AND i < 3 THEN 'same@example.com' ELSE 'p' || i || '@example.com' END
            AS email, 'First' || i AS first_name, 'Last' AS last_name, NULL::VARCHAR AS company
        FROM range({customers}) t(i)""")
    con.execute(f"""CREATE TABLE contact_plan AS SELECT 'run_1' AS plan_run_id, customer_id,
        'welcome' AS campaign_id, 'email' AS channel, 'd-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' AS template_id,
        NULL::VARCHAR AS variant, TIMESTAMP '{at}' + INTERVAL (row_number() OVER (ORDER BY customer_id) % 60) MINUTE
            AS scheduled_at, NULL::TIMESTAMP AS scheduled_local FROM dim_customers""")
    con.close()


def test_batches_of_up_to_1000_personalizations_one_ledger_row_per_recipient(tmp_path, config_dir):
    warehouse = tmp_path / "w.duckdb"
    _many(warehouse, 2500, duplicate_address=True)
    settings = Settings(
        warehouse=warehouse, exports=tmp_path, config_dir=config_dir, output=tmp_path / "out", send=True
    )
    client = ScriptedSendGrid()
    with duckdb.connect(str(warehouse)) as con:
        report = deliver(con, settings, send=True, client=client)
        rows = con.execute(
            "SELECT count(*), count(DISTINCT send_id), count(DISTINCT request_id) FROM send_ledger "
            "WHERE status = 'accepted'"
        ).fetchone()
    sizes = sorted(len(b["personalizations"]) for b in client.posts)
    # customers 0, 1 and 2 share one address: the 2nd and 3rd send to it go in requests of their own
    assert sizes == [1, 1, 498, 1000, 1000] and report.requests == 5
    assert rows == (2500, 2500, 5)
    for body in client.posts:
        addresses = [p["to"][0]["email"] for p in body["personalizations"]]
        assert len(addresses) == len(set(addresses))  # no address twice in a request
        if len(addresses) > 100:
            assert len({p["send_at"] for p in body["personalizations"]}) > 1  # each its own send_at


def test_personalizations_per_request_is_configurable(tmp_path, config_dir):
    path = config_dir / "delivery.yaml"
    path.write_text(
        path.read_text().replace("personalizations_per_request: 1000", "personalizations_per_request: 7")
    )
    warehouse = tmp_path / "w.duckdb"
    _many(warehouse, 20)
    settings = Settings(warehouse=warehouse, exports=tmp_path, config_dir=config_dir, output=tmp_path / "out")
    with duckdb.connect(str(warehouse)) as con:
        report = deliver(con, settings, send=False)
    assert report.requests == 3 and report.count("email", "dry_run") == 20


def test_marketing_mail_has_one_click_unsubscribe_and_transactional_none(settings):
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("ALTER TABLE contact_plan ADD COLUMN message_type VARCHAR")
        con.execute(
            "UPDATE contact_plan SET message_type = 'transactional' WHERE campaign_id = 'webinar_nov'"
        )
        client = ScriptedSendGrid()
        deliver(con, real(settings), send=True, client=client)
    by_category = {("webinar_invite" in b["categories"]): b for b in client.posts}
    marketing = [b for b in client.posts if "webinar_invite" not in b["categories"]]
    assert len(marketing) == 2
    for body in marketing:
        assert body["asm"]["group_id"] == 10001
        person = body["personalizations"][0]
        headers = person["headers"]
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = headers["List-Unsubscribe"].strip("<>")
        assert url.startswith("https://touchplan.example/unsubscribe/")
        assert verify_token(url.rsplit("/", 1)[1], UNSUBSCRIBE_SECRET.encode()) == ids(body)[0]
        assert person["dynamic_template_data"]["postal_address"].startswith("Touchplan Ltd")
    transactional = by_category[True]
    assert "asm" not in transactional
    assert "headers" not in transactional["personalizations"][0]
    assert "postal_address" not in transactional["personalizations"][0]["dynamic_template_data"]


def test_without_the_secret_a_dry_run_writes_a_fake_token_and_a_real_send_refuses(
    settings, monkeypatch, caplog
):
    monkeypatch.delenv("TOUCHPLAN_UNSUBSCRIBE_SECRET")
    caplog.set_level(logging.WARNING)
    with duckdb.connect(str(settings.warehouse)) as con:
        deliver(con, settings, send=False)
        bodies = [json.loads(p.read_text()) for p in (settings.outbox / "sendgrid").glob("r*.json")]
        headers = [p["headers"]["List-Unsubscribe"] for b in bodies for p in b["personalizations"]]
        assert headers and all("DRY-RUN-FAKE-TOKEN-NO-SECRET" in h for h in headers)
        assert caplog.text.count("TOUCHPLAN_UNSUBSCRIBE_SECRET is not set") == 1  # warned once
        client = ScriptedSendGrid()
        with pytest.raises(MissingSecretError) as error:
            deliver(con, real(settings), send=True, client=client)
        assert "\n" not in str(error.value) and client.posts == []


def test_a_refused_key_at_the_batch_id_stops_cleanly_and_sends_nothing(settings):
    class RefusedKey(ScriptedSendGrid):
        def _new_batch(self, timeout=None, **_):
            from python_http_client.exceptions import UnauthorizedError

            raise UnauthorizedError(401, "unauthorized", b'{"errors": []}', {})

    client = RefusedKey()
    with duckdb.connect(str(settings.warehouse)) as con:
        report = deliver(con, real(settings), send=True, client=client)
        assert report.stopped_on_auth_error and client.posts == []
        assert (
            con.execute(
                "SELECT count(*) FROM send_ledger WHERE channel IN ('email', 'webinar_invite') AND status <> "
                "'failed_retryable'"
            ).fetchone()[0]
            == 0
        )  # nothing in_flight: the next run sends them
