"""The send ledger (`send_ledger` in DuckDB): one row per send (per recipient), so nothing is ever sent twice.

`send_id` is a hash of (customer_id, campaign_id, channel, scheduled UTC day), independent of the plan run: the same
planned contact re-planned by a later run keeps its id. States of a row (docs/delivery.md):

- `dry_run`: the body was written to the outbox but nothing left the building; a later real send replaces it;
- `in_flight`: written and committed BEFORE the request leaves, with the request id, the SendGrid batch id (sends
  scheduled ahead) and the attempt count. A row still `in_flight` after a run means "SendGrid may or may not have it":
  it is never posted again until it is reconciled (events carrying its `touchplan_send_id`, or its batch cancelled);
- `accepted`: SendGrid answered 202 (or, for file channels, handed off in a real run); final, never touched again;
- `failed_permanent`: SendGrid refused the request (a 4xx other than 401/403/429); not retried automatically;
- `failed_retryable`: nothing went out (5xx / 429 after the retries, refused key, no address, no CRM record, or a
  cancelled batch); the next run tries again.

Ledgers written before these states (`sent`, `failed`) are migrated in place by `ensure_ledger`: `sent` becomes
`accepted`, `failed` becomes `failed_retryable`.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import duckdb
import pandas as pd

LEDGER_TABLE = "send_ledger"
STATUSES = ("dry_run", "in_flight", "accepted", "failed_permanent", "failed_retryable")
FINAL_STATUSES = ("accepted", "failed_permanent")  # a run never sends these again
# Statuses a run may (re)send: nothing went out yet, or nothing went out for sure.
SENDABLE_STATUSES = ("dry_run", "failed_retryable")
LEGACY_STATUS_MAP = {"sent": "accepted", "failed": "failed_retryable"}

LEDGER_DDL = f"""
CREATE TABLE IF NOT EXISTS {LEDGER_TABLE} (
    send_id VARCHAR PRIMARY KEY,
    customer_id VARCHAR NOT NULL,
    campaign_id VARCHAR NOT NULL,
    channel VARCHAR NOT NULL,
    status VARCHAR NOT NULL CHECK (status IN ({", ".join(f"'{x}'" for x in STATUSES)})),
    request_path VARCHAR,
    provider_message_id VARCHAR,
    created_at TIMESTAMP NOT NULL,
    plan_run_id VARCHAR,
    template_id VARCHAR,
    scheduled_at TIMESTAMP,
    http_status INTEGER,
    error VARCHAR,
    attempts INTEGER NOT NULL DEFAULT 0,
    updated_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    request_id VARCHAR,
    batch_id VARCHAR,
    reconciled_by VARCHAR
)
"""
LEDGER_COLUMNS = [
    "send_id", "customer_id", "campaign_id", "channel", "status", "request_path", "provider_message_id",
    "created_at", "plan_run_id", "template_id", "scheduled_at", "http_status", "error", "attempts",
    "updated_at", "sent_at", "request_id", "batch_id", "reconciled_by",
]  # fmt: skip

# Columns a batch of outcomes carries into `record_outcomes`.
OUTCOME_COLUMNS = [
    "send_id",
    "customer_id",
    "campaign_id",
    "channel",
    "status",
    "request_path",
    "provider_message_id",
    "plan_run_id",
    "template_id",
    "scheduled_at",
    "http_status",
    "error",
    "attempted",
]


def send_id(customer_id: str, campaign_id: str, channel: str, scheduled_at: datetime | date) -> str:
    """The plan-run independent key of a send; equal to `send_id_sql` computed in DuckDB."""
    if isinstance(scheduled_at, datetime):
        if scheduled_at.tzinfo is not None:
            scheduled_at = scheduled_at.astimezone(UTC)
        scheduled_at = scheduled_at.date()
    key = "|".join([str(customer_id), str(campaign_id), str(channel), scheduled_at.isoformat()])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def utc_timestamp_sql(column: str, column_type: str) -> str:
    """A UTC `TIMESTAMP` expression for a TIMESTAMP (already UTC by convention) or TIMESTAMPTZ column."""
    if "TIME ZONE" in column_type.upper() or column_type.upper() == "TIMESTAMPTZ":
        return f"timezone('UTC', {column})"
    return f"CAST({column} AS TIMESTAMP)"


def send_id_sql(customer: str, campaign: str, channel: str, scheduled_utc: str) -> str:
    return (
        f"left(sha256(concat_ws('|', CAST({customer} AS VARCHAR), CAST({campaign} AS VARCHAR), "
        f"CAST({channel} AS VARCHAR), strftime(CAST({scheduled_utc} AS DATE), '%Y-%m-%d'))), 32)"
    )


def ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ledger, or migrate a ledger written before the in_flight / accepted states, in place."""
    con.execute(LEDGER_DDL)
    check = con.execute(
        "SELECT expression FROM duckdb_constraints() WHERE table_name = ? AND constraint_type = 'CHECK' "
        "AND schema_name = current_schema()",
        [LEDGER_TABLE],
    ).fetchall()
    if any("in_flight" in (expression or "") for (expression,) in check):
        return
    _migrate_legacy_ledger(con)


def _migrate_legacy_ledger(con: duckdb.DuckDBPyConnection) -> None:
    """`sent` -> `accepted`, `failed` -> `failed_retryable`, new columns empty; one transaction."""
    old = {
        name
        for (name,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "AND table_schema = current_schema()",
            [LEDGER_TABLE],
        ).fetchall()
    }
    mapping = " ".join(f"WHEN '{a}' THEN '{b}'" for a, b in LEGACY_STATUS_MAP.items())
    select = ", ".join(
        f"CASE status {mapping} ELSE status END"
        if column == "status"
        else (column if column in old else "NULL")
        for column in LEDGER_COLUMNS
    )
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DROP TABLE IF EXISTS {LEDGER_TABLE}__migrating")
        con.execute(LEDGER_DDL.replace(f"EXISTS {LEDGER_TABLE} ", f"EXISTS {LEDGER_TABLE}__migrating "))
        con.execute(
            f"INSERT INTO {LEDGER_TABLE}__migrating ({', '.join(LEDGER_COLUMNS)}) "
            f"SELECT {select} FROM {LEDGER_TABLE}"
        )
        con.execute(f"DROP TABLE {LEDGER_TABLE}")
        con.execute(f"ALTER TABLE {LEDGER_TABLE}__migrating RENAME TO {LEDGER_TABLE}")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def record_outcomes(con: duckdb.DuckDBPyConnection, outcomes: pd.DataFrame) -> None:
    """Upsert a batch of outcomes (columns `OUTCOME_COLUMNS`, one row per send_id) in one statement.

    - a row shows the latest outcome of its send, except that `accepted`, `failed_permanent` and `in_flight` rows
      are never changed here (the sender moves `in_flight` rows with `mark_in_flight` / `settle_request`);
    - `attempts` counts real attempts (`attempted`: a post to the provider or a hand-off in a real run); `created_at` is the first time seen.
    """
    if outcomes.empty:
        return
    missing = [c for c in OUTCOME_COLUMNS if c not in outcomes.columns]
    if missing:
        raise ValueError(f"outcomes lack columns {missing}")
    bad = set(outcomes["status"]) - set(STATUSES)
    if bad:
        raise ValueError(f"unknown ledger status {sorted(bad)}")
    if outcomes["send_id"].duplicated().any():
        raise ValueError("outcomes repeat a send_id; record one outcome per send")
    ensure_ledger(con)
    frame = outcomes[OUTCOME_COLUMNS].copy()
    frame["scheduled_at"] = pd.to_datetime(frame["scheduled_at"], utc=True).dt.tz_localize(None)
    frame["http_status"] = frame["http_status"].astype("Int64")
    frame["attempted"] = frame["attempted"].fillna(False).astype(bool)
    for column in (
        "send_id",
        "customer_id",
        "campaign_id",
        "channel",
        "status",
        "request_path",
        "provider_message_id",
        "plan_run_id",
        "template_id",
        "error",
    ):
        frame[column] = frame[column].astype("string")
    now = _now()
    con.register("_ledger_outcomes", frame)
    try:
        con.execute(
            f"""
            INSERT INTO {LEDGER_TABLE} AS l (send_id, customer_id, campaign_id, channel, status, request_path,
                provider_message_id, created_at, plan_run_id, template_id, scheduled_at, http_status, error,
                attempts, updated_at, sent_at)
            SELECT send_id, customer_id, campaign_id, channel, status, request_path, provider_message_id,
                   $now AS created_at, plan_run_id, template_id, scheduled_at, http_status, error,
                   CASE WHEN attempted THEN 1 ELSE 0 END AS attempts, $now AS updated_at,
                   CASE WHEN status = 'accepted' THEN $now END AS sent_at
            FROM _ledger_outcomes
            ON CONFLICT (send_id) DO UPDATE SET
                status = excluded.status,
                request_path = coalesce(excluded.request_path, l.request_path),
                provider_message_id = excluded.provider_message_id,
                plan_run_id = excluded.plan_run_id,
                template_id = excluded.template_id,
                scheduled_at = excluded.scheduled_at,
                http_status = excluded.http_status,
                error = excluded.error,
                attempts = l.attempts + excluded.attempts,
                updated_at = excluded.updated_at,
                sent_at = excluded.sent_at
            WHERE l.status NOT IN ('accepted', 'failed_permanent', 'in_flight')
            """,
            {"now": now},
        )
    finally:
        con.unregister("_ledger_outcomes")
