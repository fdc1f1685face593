"""Email delivery exactly once: batched SendGrid requests, the in_flight ledger protocol, and reconciliation.

For each request (up to `personalizations_per_request` sends sharing template, ASM group, sender, subject, text and
categories; no address twice):

1. if it is scheduled ahead (earliest `send_at` at least `BATCH_LEAD` away): a fresh batch id (POST /v3/mail/batch);
2. the body is written to the outbox (`sendgrid/<request_id>.json`, the exact bytes the client posts);
3. its ledger rows become `in_flight` with the request id, batch id and attempt count, committed BEFORE the request
   leaves; every retry counts its attempt first;
4. SendGrid's answer settles the rows: `accepted`, `failed_permanent`, `failed_retryable`; no answer (timeout, lost
   connection) leaves them `in_flight`.

Before sending, `reconcile_in_flight` settles what an earlier run left `in_flight`: ingested SendGrid events that
carry a `touchplan_send_id` of the request prove SendGrid took it (a 202 covers every personalization of a request):
`accepted`. A request with a batch id whose `send_at` is still more than `CANCEL_MARGIN` away is cancelled
(POST /v3/user/scheduled_sends, status cancel) and becomes `failed_retryable`, so it is sent again under a new batch
id. Anything else stays `in_flight` (unresolved): never sent again silently; `touchplan deliveries --unresolved`
lists it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from python_http_client.exceptions import HTTPError as SendGridHTTPError

from pipelines.lib.delivery import sendgrid_api
from pipelines.lib.delivery.config import DeliveryConfig
from pipelines.lib.delivery.ledger import LEDGER_TABLE, OUTCOME_COLUMNS, record_outcomes
from pipelines.lib.delivery.sendgrid_mail import (
    MailLevel,
    PlannedEmail,
    UnsubscribeLinks,
    build_request,
    mail_level,
)
from pipelines.lib.receiver_contract import unsubscribe_secret
from pipelines.lib.sql import sql_literal

log = logging.getLogger("touchplan.delivery")

EMAIL_CHANNELS = ("email", "webinar_invite")
SENDGRID_DIR = "sendgrid"
MANIFEST = "manifest.json"
BATCH_LEAD = timedelta(minutes=15)  # requests due later than this get a batch id (cancellable)
CANCEL_MARGIN = timedelta(
    minutes=10
)  # SendGrid cancels a scheduled batch only up to 10 minutes before send_at
_ROWS = "_delivery_request_rows"


class DeliveryComplianceError(ValueError):
    """A real send of marketing mail lacks what the law or the mailbox providers require."""


@dataclass
class ReconcileResult:
    by_events: int = 0  # in_flight rows settled `accepted` from ingested events
    cancelled: int = 0  # in_flight rows whose batch was cancelled: `failed_retryable`, sent again
    unresolved: int = 0  # still in_flight after reconciliation


def _now_naive(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now


def _has_columns(con: duckdb.DuckDBPyConnection, table: str, columns: set[str]) -> bool:
    found = {
        name
        for (name,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "AND table_schema = current_schema()",
            [table],
        ).fetchall()
    }
    return columns <= found


# ------------------------------------------------------------------------------------------------ reconcile


def reconcile_in_flight(
    con: duckdb.DuckDBPyConnection,
    config: DeliveryConfig,
    *,
    now: datetime,
    client: Any = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ReconcileResult:
    """Settle `in_flight` rows from events, then (with a client) by cancelling their still-cancellable batch."""
    result = ReconcileResult()
    moment = _now_naive(now)
    if not con.execute(f"SELECT count(*) FROM {LEDGER_TABLE} WHERE status = 'in_flight'").fetchone()[0]:
        return result
    if _has_columns(con, "raw_email_events", {"touchplan_send_id"}):
        source = (
            "AND e.source_system = 'sendgrid'"
            if _has_columns(con, "raw_email_events", {"source_system"})
            else ""
        )
        proven = f"""
            SELECT DISTINCT l.request_id, l.send_id FROM {LEDGER_TABLE} AS l
            JOIN raw_email_events AS e ON e.touchplan_send_id = l.send_id {source}
            WHERE l.status = 'in_flight'"""
        result.by_events = con.execute(
            f"""
            UPDATE {LEDGER_TABLE} SET status = 'accepted', reconciled_by = 'events', error = NULL,
                   sent_at = coalesce(sent_at, $now), updated_at = $now
            WHERE status = 'in_flight'
              AND (request_id IN (SELECT request_id FROM ({proven}) WHERE request_id IS NOT NULL)
                   OR send_id IN (SELECT send_id FROM ({proven})))
            """,
            {"now": moment},
        ).fetchone()[0]
    if client is not None:
        batches = con.execute(
            f"""SELECT request_id, batch_id, min(scheduled_at) FROM {LEDGER_TABLE}
                WHERE status = 'in_flight' AND batch_id IS NOT NULL GROUP BY ALL ORDER BY 3, 1"""
        ).fetchall()
        for request_id, batch_id, first_send_at in batches:
            if first_send_at is None or first_send_at - moment <= CANCEL_MARGIN:
                continue
            if sendgrid_api.cancel_batch(client, batch_id, config, sleep):
                result.cancelled += con.execute(
                    f"""UPDATE {LEDGER_TABLE} SET status = 'failed_retryable', reconciled_by = 'batch_cancelled',
                           error = 'no answer for this request; its batch was cancelled before resending',
                           updated_at = $now
                        WHERE status = 'in_flight' AND request_id = $request AND batch_id = $batch""",
                    {"now": moment, "request": request_id, "batch": batch_id},
                ).fetchone()[0]
                log.warning("request %s: batch cancelled, its sends go out again", request_id)
    con.execute(
        f"""UPDATE {LEDGER_TABLE} SET updated_at = $now,
               error = CASE WHEN batch_id IS NULL
                   THEN 'unresolved: no SendGrid event for this send yet and no batch to cancel'
                   ELSE 'unresolved: no SendGrid event for this send yet and its batch can no longer be cancelled'
               END
            WHERE status = 'in_flight' AND (error IS NULL OR NOT starts_with(error, 'unresolved'))""",
        {"now": moment},
    )
    result.unresolved = con.execute(
        f"SELECT count(*) FROM {LEDGER_TABLE} WHERE status = 'in_flight'"
    ).fetchone()[0]
    if result.unresolved:
        log.warning(
            "%d sends are unresolved (in_flight without proof either way): not sent again; "
            "see `touchplan deliveries --unresolved`",
            result.unresolved,
        )
    return result


def unresolved_sends(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The `in_flight` rows: ids, request, batch and the reason only (no personal data)."""
    return con.execute(
        f"""SELECT send_id, campaign_id, channel, plan_run_id, request_id, batch_id, scheduled_at, attempts,
                   updated_at, error AS reason
            FROM {LEDGER_TABLE} WHERE status = 'in_flight' ORDER BY scheduled_at, request_id, send_id"""
    ).df()


# ------------------------------------------------------------------------------------------------ ledger writes


def _mark_in_flight(
    con: duckdb.DuckDBPyConnection,
    rows: list[dict[str, Any]],
    request_id: str,
    batch_id: str | None,
    request_path: str,
    now: datetime,
) -> None:
    """Commit the request's rows as `in_flight` (attempt 1) before it leaves; refuse if any is no longer sendable."""
    frame = pd.DataFrame(
        {
            "send_id": [r["send_id"] for r in rows],
            "customer_id": [r["customer_id"] for r in rows],
            "campaign_id": [r["campaign_id"] for r in rows],
            "channel": [r["channel"] for r in rows],
            "plan_run_id": [r["plan_run_id"] for r in rows],
            "template_id": [r["template_id"] for r in rows],
            "scheduled_at": pd.to_datetime([r["scheduled_at"] for r in rows]),
        }
    )
    for column in ("send_id", "customer_id", "campaign_id", "channel", "plan_run_id", "template_id"):
        frame[column] = frame[column].astype("string")
    con.register("_in_flight_rows", frame)
    try:
        con.execute(
            f"""
            INSERT INTO {LEDGER_TABLE} AS l (send_id, customer_id, campaign_id, channel, status, request_path,
                created_at, plan_run_id, template_id, scheduled_at, attempts, updated_at, request_id, batch_id)
            SELECT send_id, customer_id, campaign_id, channel, 'in_flight', $path, $now, plan_run_id, template_id,
                   scheduled_at, 1, $now, $request, $batch
            FROM _in_flight_rows
            ON CONFLICT (send_id) DO UPDATE SET
                status = 'in_flight', request_path = excluded.request_path, plan_run_id = excluded.plan_run_id,
                template_id = excluded.template_id, scheduled_at = excluded.scheduled_at,
                attempts = l.attempts + 1, updated_at = excluded.updated_at, request_id = excluded.request_id,
                batch_id = excluded.batch_id, http_status = NULL, error = NULL, provider_message_id = NULL,
                reconciled_by = NULL
            WHERE l.status IN ('dry_run', 'failed_retryable')
            """,
            {"path": request_path, "now": now, "request": request_id, "batch": batch_id},
        )
    finally:
        con.unregister("_in_flight_rows")
    marked = con.execute(
        f"SELECT count(*) FROM {LEDGER_TABLE} WHERE request_id = ? AND status = 'in_flight'", [request_id]
    ).fetchone()[0]
    if marked != len(rows):
        raise RuntimeError(
            f"request {request_id}: {len(rows) - marked} of its sends are no longer sendable; nothing posted"
        )


def _count_attempt(con: duckdb.DuckDBPyConnection, request_id: str, now: datetime) -> None:
    con.execute(
        f"""UPDATE {LEDGER_TABLE} SET attempts = attempts + 1, updated_at = $now
            WHERE request_id = $request AND status = 'in_flight'""",
        {"now": now, "request": request_id},
    )


def _settle(
    con: duckdb.DuckDBPyConnection, request_id: str, posted: sendgrid_api.PostResult, now: datetime
) -> None:
    con.execute(
        f"""UPDATE {LEDGER_TABLE} SET status = $status, http_status = $http, error = $error,
               provider_message_id = $message, updated_at = $now,
               sent_at = CASE WHEN $status = 'accepted' THEN $now ELSE sent_at END
            WHERE request_id = $request AND status = 'in_flight'""",
        {
            "status": posted.status,
            "http": posted.http_status,
            "error": posted.error,
            "message": posted.message_id,
            "now": now,
            "request": request_id,
        },
    )


# ------------------------------------------------------------------------------------------------ requests


def _levels(con: duckdb.DuckDBPyConnection, config: DeliveryConfig) -> dict[int, MailLevel]:
    """Mail-level fields per distinct (campaign, template, group, type, channel), as `_delivery_levels`."""
    combos = con.execute(
        """SELECT DISTINCT campaign_id, template_id, subscription_group, message_type, channel
           FROM _delivery_emails ORDER BY ALL"""
    ).fetchall()
    levels = [mail_level(config, c, t, g, m, ch) for c, t, g, m, ch in combos]
    distinct: dict[MailLevel, int] = {}
    for level in levels:
        distinct.setdefault(level, len(distinct))
    frame = pd.DataFrame(
        [(*combo, distinct[level]) for combo, level in zip(combos, levels, strict=True)],
        columns=["campaign_id", "template_id", "subscription_group", "message_type", "channel", "level_n"],
    ).astype({"level_n": "int64"})
    for column in ("campaign_id", "template_id", "subscription_group", "message_type", "channel"):
        frame[column] = frame[column].astype("string")
    con.execute("DROP TABLE IF EXISTS _delivery_levels")
    con.register("_delivery_levels_df", frame)
    try:
        con.execute("CREATE TEMP TABLE _delivery_levels AS SELECT * FROM _delivery_levels_df")
    finally:
        con.unregister("_delivery_levels_df")
    return {n: level for level, n in distinct.items()}


def _group_requests(con: duckdb.DuckDBPyConnection, per_request: int, lead_until: datetime) -> int:
    """Assign every sendable email a request: same level, same 'scheduled ahead' flag, each address once."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {_ROWS} AS
        WITH base AS (
            SELECT e.*, lv.level_n, e.scheduled_at >= $lead AS ahead
            FROM _delivery_emails AS e
            JOIN _delivery_levels AS lv
              ON lv.campaign_id IS NOT DISTINCT FROM e.campaign_id
             AND lv.template_id IS NOT DISTINCT FROM e.template_id
             AND lv.subscription_group IS NOT DISTINCT FROM e.subscription_group
             AND lv.message_type IS NOT DISTINCT FROM e.message_type
             AND lv.channel IS NOT DISTINCT FROM e.channel
        ),
        occurrence AS (  -- the k-th send to the same address in this level goes to the k-th round of requests
            SELECT *, row_number() OVER (PARTITION BY level_n, ahead, lower(trim(email))
                                         ORDER BY scheduled_at, send_id) AS round_n
            FROM base
        ),
        positioned AS (
            SELECT *, (row_number() OVER (PARTITION BY level_n, ahead, round_n ORDER BY scheduled_at, send_id)
                       - 1) // {int(per_request)} AS chunk_n
            FROM occurrence
        ),
        requests AS (
            SELECT level_n, ahead, round_n, chunk_n,
                   'r' || left(sha256(string_agg(send_id, ',' ORDER BY send_id)), 31) AS request_id,
                   min(scheduled_at) AS first_at
            FROM positioned GROUP BY ALL
        )
        SELECT p.*, r.request_id, dense_rank() OVER (ORDER BY r.first_at, r.request_id) AS request_n
        FROM positioned AS p JOIN requests AS r USING (level_n, ahead, round_n, chunk_n)
        """,
        {"lead": lead_until},
    )
    return con.execute(f"SELECT coalesce(max(request_n), 0) FROM {_ROWS}").fetchone()[0]


def _request_rows(con: duckdb.DuckDBPyConnection, request_n: int) -> list[dict[str, Any]]:
    cursor = con.execute(
        f"SELECT * FROM {_ROWS} WHERE request_n = ? ORDER BY scheduled_at, send_id", [request_n]
    )
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]


def _planned(row: dict[str, Any]) -> PlannedEmail:
    return PlannedEmail(
        send_id=row["send_id"],
        customer_id=row["customer_id"],
        campaign_id=row["campaign_id"],
        plan_run_id=row["plan_run_id"],
        channel=row["channel"],
        template_id=row["template_id"],
        variant=row["variant"],
        scheduled_at=row["scheduled_at"].replace(tzinfo=UTC),
        email=row["email"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        company=row["company"],
        subscription_group=row["subscription_group"],
        message_type=row["message_type"],
    )


def _unsubscribe_links(
    config: DeliveryConfig, levels: dict[int, MailLevel], send: bool
) -> UnsubscribeLinks | None:
    """The List-Unsubscribe builder; a real send of marketing mail without what it needs stops with one line."""
    if not any(level.marketing for level in levels.values()):
        return None
    base = config.unsubscribe.base_url
    if send:
        if not base:
            raise DeliveryComplianceError(
                "delivery.yaml: unsubscribe.base_url is not set: marketing mail needs a one-click unsubscribe URL"
            )
        if not config.postal_address:
            raise DeliveryComplianceError(
                "delivery.yaml: postal_address is not set: marketing mail must carry a physical postal address"
            )
        return UnsubscribeLinks(base, config.unsubscribe.mailto, unsubscribe_secret())
    if not base:
        log.warning(
            "unsubscribe.base_url is not set: the dry run's marketing bodies have no List-Unsubscribe"
        )
        return None
    if not config.postal_address:
        log.warning("postal_address is not set: a real send of marketing mail will refuse to start")
    try:
        secret: bytes | None = unsubscribe_secret()
    except Exception:  # noqa: BLE001 - MissingSecretError: a dry run writes a visibly fake token instead
        secret = None
    return UnsubscribeLinks(base, config.unsubscribe.mailto, secret)


@dataclass
class EmailResult:
    counts: Counter
    files: list[str]
    waiting: int = 0
    stopped: bool = False
    requests: int = 0
    in_flight: int = 0  # sends left in_flight by this run (no answer)


def deliver_emails(
    con: duckdb.DuckDBPyConnection,
    outbox: Path,
    config: DeliveryConfig,
    *,
    pending_table: str,
    send: bool,
    now: datetime,
    client: Any = None,
    sleep: Callable[[float], None] = time.sleep,
) -> EmailResult:
    """Email and webinar invites: batch, write every body; in a real run post each request exactly once."""
    result = EmailResult(counts=Counter(), files=[])
    folder = outbox / SENDGRID_DIR
    folder.mkdir(parents=True, exist_ok=True)
    moment = _now_naive(now)
    horizon = moment + timedelta(hours=config.sendgrid.max_schedule_ahead_hours)
    channels = ", ".join(f"'{c}'" for c in EMAIL_CHANNELS)
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW _delivery_emails_all AS
            SELECT * FROM {pending_table} WHERE channel IN ({channels})"""
    )
    # No address: nothing to post; recorded failed_retryable (the address may come with the next export).
    no_address = con.execute(
        """SELECT send_id, customer_id, campaign_id, channel, 'failed_retryable' AS status,
                  CAST(NULL AS VARCHAR) AS request_path, CAST(NULL AS VARCHAR) AS provider_message_id,
                  plan_run_id, template_id, scheduled_at, CAST(NULL AS INTEGER) AS http_status,
                  'no email address in dim_customers' AS error, false AS attempted
           FROM _delivery_emails_all WHERE email IS NULL ORDER BY send_id"""
    ).df()
    if not no_address.empty:
        record_outcomes(con, no_address[OUTCOME_COLUMNS])
        result.counts.update(
            {(c, "failed_retryable"): int(n) for c, n in no_address.groupby("channel").size().items()}
        )
    # Views, not copies: only the grouped request rows are materialized (memory grows with the plan).
    window = f"AND scheduled_at <= TIMESTAMP '{horizon.isoformat(sep=' ')}'" if send else ""
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW _delivery_emails AS
            SELECT * FROM _delivery_emails_all WHERE email IS NOT NULL {window}"""
    )
    if send:  # SendGrid refuses send_at beyond 72 h: a later run sends them
        result.waiting = con.execute(
            "SELECT count(*) FROM _delivery_emails_all WHERE email IS NOT NULL AND scheduled_at > $horizon",
            {"horizon": horizon},
        ).fetchone()[0]
    levels = _levels(con, config)
    links = _unsubscribe_links(config, levels, send)
    n_requests = _group_requests(con, config.sendgrid.personalizations_per_request, moment + BATCH_LEAD)
    if send and n_requests and client is None:
        client = sendgrid_api.sendgrid_client(config)
    secrets = [os.environ.get("SENDGRID_API_KEY", "")]
    last_request = 0
    dry_outcomes: list[dict[str, Any]] = []

    for request_n in range(1, n_requests + 1):
        rows = _request_rows(con, request_n)
        request_id, level = rows[0]["request_id"], levels[rows[0]["level_n"]]
        try:
            batch_id = (
                sendgrid_api.create_batch_id(client, config, sleep) if send and rows[0]["ahead"] else None
            )
        except SendGridHTTPError as exc:
            if int(exc.status_code) not in (401, 403):
                raise RuntimeError(f"SendGrid refused a batch id (HTTP {exc.status_code})") from None
            # Nothing of this request left: its sends stay pending for the next run, like the rest.
            log.error("SendGrid refused the API key (HTTP %s): stopping this run's sends", exc.status_code)
            result.stopped = True
            break
        body = build_request([_planned(r) for r in rows], level, config, unsubscribe=links, batch_id=batch_id)
        relative = f"{SENDGRID_DIR}/{request_id}.json"
        # The bytes the client posts: python_http_client sends json.dumps(request_body).encode("utf-8").
        (outbox / relative).write_bytes(json.dumps(body).encode("utf-8"))
        result.files.append(relative)
        result.requests += 1
        if send:
            stamp = _now_naive(datetime.now(UTC))
            _mark_in_flight(con, rows, request_id, batch_id, relative, stamp)
            posted = sendgrid_api.post_with_retries(
                client,
                body,
                config,
                sleep=sleep,
                secrets=secrets,
                before_attempt=lambda n, rid=request_id: (
                    _count_attempt(con, rid, _now_naive(datetime.now(UTC))) if n > 1 else None
                ),
            )
            _settle(con, request_id, posted, _now_naive(datetime.now(UTC)))
            status = posted.status
            if status == "in_flight":
                result.in_flight += len(rows)
                log.warning("request %s: %s", request_id, posted.error)
            elif status != "accepted":
                log.warning("request %s (%d sends) %s: %s", request_id, len(rows), status, posted.error)
            if posted.http_status in (401, 403):
                log.error(
                    "SendGrid refused the API key (HTTP %s): stopping this run's sends", posted.http_status
                )
                result.stopped = True
        else:
            status = "dry_run"
            dry_outcomes.extend(
                {
                    "send_id": r["send_id"],
                    "customer_id": r["customer_id"],
                    "campaign_id": r["campaign_id"],
                    "channel": r["channel"],
                    "status": "dry_run",
                    "request_path": relative,
                    "provider_message_id": None,
                    "plan_run_id": r["plan_run_id"],
                    "template_id": r["template_id"],
                    "scheduled_at": r["scheduled_at"],
                    "http_status": None,
                    "error": None,
                    "attempted": False,
                }
                for r in rows
            )
            if len(dry_outcomes) >= config.sendgrid.batch_size:
                record_outcomes(con, pd.DataFrame(dry_outcomes, columns=OUTCOME_COLUMNS))
                dry_outcomes = []
        result.counts.update((r["channel"], status) for r in rows)
        last_request = request_n
        if result.stopped:
            break
        if send and request_n % 50 == 0:
            log.info("SendGrid: %d of %d requests posted", request_n, n_requests)
    if dry_outcomes:
        record_outcomes(con, pd.DataFrame(dry_outcomes, columns=OUTCOME_COLUMNS))
    _write_manifest(con, folder / MANIFEST, send=send, requests=result.requests, last_request=last_request)
    return result


def _write_manifest(
    con: duckdb.DuckDBPyConnection, path: Path, *, send: bool, requests: int, last_request: int
) -> None:
    """`manifest.json`: one entry per send of this run (ids, file, ledger state; no personal data), written by
    DuckDB so that a run of 200,000 sends does not hold them all as Python objects."""
    count = con.execute(f"SELECT count(*) FROM {_ROWS} WHERE request_n <= ?", [last_request]).fetchone()[0]
    sends = path.with_name(path.name + ".sends.tmp")
    target = sql_literal(str(sends))
    con.execute(
        f"""COPY (
            SELECT r.send_id, r.request_id || '.json' AS file, r.request_id, r.customer_id, r.campaign_id,
                   r.channel, strftime(r.scheduled_at, '%Y-%m-%dT%H:%M:%SZ') AS scheduled_at, l.status
            FROM {_ROWS} AS r LEFT JOIN {LEDGER_TABLE} AS l USING (send_id)
            WHERE r.request_n <= {int(last_request)}
            ORDER BY r.request_n, r.scheduled_at, r.send_id
        ) TO {target} (FORMAT json, ARRAY true)"""
    )
    head = {
        "mode": "send" if send else "dry_run",
        "endpoint": "POST /v3/mail/send",
        "requests": requests,
        "count": count,
    }
    with path.open("w", encoding="utf-8") as out, sends.open(encoding="utf-8") as body:
        out.write(json.dumps(head)[:-1] + ', "sends": ')
        shutil.copyfileobj(body, out)
        out.write("}\n")
    sends.unlink()
