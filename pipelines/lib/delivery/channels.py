"""Delivery of the contact plan per channel, recorded in the send ledger.

- email, webinar_invite: a SendGrid v3 `mail/send` body per send, written to `<outbox>/sendgrid/<send_id>.json`
  (plus `manifest.json`); in a real run each body is also posted with the official client;
- sales_task: `<outbox>/sales_tasks/<plan_run_id>.csv` in Salesforce's Task import shape, and
  `<outbox>/sales_tasks/<plan_run_id>_hubspot_tasks.csv` in HubSpot's task import shape for HubSpot-only customers;
- audience_file: `<outbox>/audiences/<campaign_id>/<plan_run_id>.csv` (customer_id and hashed or plain email).

Selection, joins and the file channels run in DuckDB; only the SendGrid bodies are built row by row (with the
`sendgrid` helpers). Logs carry counts and send ids, never addresses, names or the API key.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines.lib.csv_safe import copy_csv
from pipelines.lib.delivery import sender
from pipelines.lib.delivery.config import DeliveryConfig
from pipelines.lib.delivery.ledger import (
    LEDGER_TABLE,
    OUTCOME_COLUMNS,
    SENDABLE_STATUSES,
    ensure_ledger,
    record_outcomes,
    send_id_sql,
    utc_timestamp_sql,
)
from pipelines.lib.delivery.sendgrid_api import (  # noqa: F401 - re-exported: the SendGrid calls live there
    PostResult,
    post_with_retries,
    redact,
    sendgrid_client,
)
from pipelines.lib.sql import sql_literal

log = logging.getLogger("touchplan.delivery")

EMAIL_CHANNELS = sender.EMAIL_CHANNELS
SENDGRID_DIR = sender.SENDGRID_DIR
SALES_TASKS_DIR = "sales_tasks"
AUDIENCES_DIR = "audiences"
MANIFEST = sender.MANIFEST
PLANNED = "_delivery_planned"  # the plan being delivered, one row per send_id
PENDING = (
    "_delivery_pending"  # ... of which sendable (new, dry_run, failed_retryable), with address and names
)
# HubSpot's task import (Import > activities: tasks, associated with contacts): the contact's Record ID, then task
# properties by internal name.
HUBSPOT_TASK_COLUMNS = [
    "Contact Record ID",
    "hs_task_subject",
    "hs_timestamp",
    "hs_task_type",
    "hs_task_status",
    "hubspot_owner_id",
    "hs_task_body",
]
HUBSPOT_TASKS_SUFFIX = "_hubspot_tasks"

_EMAIL_RE = re.compile(r"[^\s\"'<>,;:]+@[^\s\"'<>,;:]+")


class DeliveryInputError(ValueError):
    """contact_plan or dim_customers is missing or lacks a column delivery needs."""


@dataclass
class ChannelResult:
    counts: Counter = field(default_factory=Counter)  # (channel, status) -> sends handled in this run
    files: list[str] = field(default_factory=list)
    waiting: int = 0  # planned beyond the provider's scheduling window: left for a later run
    stopped: bool = False  # the provider refused the key: remaining sends left for a later run
    requests: int = 0  # SendGrid mail/send requests built (posted in a real run)


# ------------------------------------------------------------------------------------------------ selection


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = ? AND table_schema = current_schema()",
        [table],
    ).fetchall()
    return {name: dtype for name, dtype in rows}


def _has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(_columns(con, table))


def select_pending(con: duckdb.DuckDBPyConnection) -> int:
    """Create the temp table `_delivery_pending`: every planned send that may be sent, one row per send_id.

    Not pending: `accepted` and `failed_permanent` (final), and `in_flight` (unresolved: never resent blindly).
    """
    plan_cols = _columns(con, "contact_plan")
    if not plan_cols:
        raise DeliveryInputError("table contact_plan not found: run the planning stage first")
    needed = ["plan_run_id", "customer_id", "campaign_id", "channel", "template_id", "scheduled_at"]
    missing = [c for c in needed if c not in plan_cols]
    if missing:
        raise DeliveryInputError(f"table contact_plan lacks column(s) {', '.join(missing)}")
    cust_cols = _columns(con, "dim_customers")
    if "customer_id" not in cust_cols:
        raise DeliveryInputError("table dim_customers not found (or has no customer_id): run the marts first")
    ensure_ledger(con)

    def plan(col: str, cast: str = "VARCHAR") -> str:
        return f"CAST(p.{col} AS {cast})" if col in plan_cols else f"CAST(NULL AS {cast})"

    def cust(col: str) -> str:
        return f"CAST(c.{col} AS VARCHAR)" if col in cust_cols else "CAST(NULL AS VARCHAR)"

    scheduled = utc_timestamp_sql("p.scheduled_at", plan_cols["scheduled_at"])
    run_filter = _latest_plan_run_filter(con, plan_cols)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {PLANNED} AS
        WITH planned AS (
            SELECT {send_id_sql("p.customer_id", "p.campaign_id", "p.channel", scheduled)} AS send_id,
                   CAST(p.plan_run_id AS VARCHAR) AS plan_run_id,
                   CAST(p.customer_id AS VARCHAR) AS customer_id,
                   CAST(p.campaign_id AS VARCHAR) AS campaign_id,
                   CAST(p.channel AS VARCHAR) AS channel,
                   CAST(p.template_id AS VARCHAR) AS template_id,
                   {plan("variant")} AS variant,
                   {scheduled} AS scheduled_at,
                   {plan("scheduled_local")} AS scheduled_local,
                   {plan("subscription_group")} AS subscription_group,
                   {plan("message_type")} AS message_type
            FROM contact_plan AS p
            WHERE p.customer_id IS NOT NULL AND p.scheduled_at IS NOT NULL {run_filter}
        ),
        one_per_send AS (
            SELECT * FROM planned
            QUALIFY row_number() OVER (PARTITION BY send_id ORDER BY plan_run_id DESC, scheduled_at,
                                       template_id) = 1
        )
        SELECT * FROM one_per_send
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {PENDING} AS
        SELECT s.*,
               nullif(trim({cust("email")}), '') AS email,
               {cust("first_name")} AS first_name,
               {cust("last_name")} AS last_name,
               {cust("company")} AS company
        FROM {PLANNED} AS s
        LEFT JOIN dim_customers AS c ON CAST(c.customer_id AS VARCHAR) = s.customer_id
        LEFT JOIN {LEDGER_TABLE} AS l ON l.send_id = s.send_id
        WHERE l.status IS NULL OR l.status IN ({", ".join(f"'{x}'" for x in SENDABLE_STATUSES)})
        """
    )
    return con.execute(f"SELECT count(*) FROM {PENDING}").fetchone()[0]


@dataclass(frozen=True)
class PlanRunChoice:
    """The plan run delivery sends (None: none may be sent) and, when it is not the latest, why."""

    plan_run_id: str | None
    latest_plan_run_id: str | None
    held_back: str | None = None  # why the latest plan run is not sent; None when it is


def choose_plan_run(con: duckdb.DuckDBPyConnection) -> PlanRunChoice | None:
    """The latest plan run that passed the blocking checks on contact_plan (plan_runs.checks_passed, written by
    pipelines/lib/planning/provenance.py), against the latest plan run. None when plan_runs does not carry
    `checks_passed` and `made_by` (no table, or a warehouse planned before they existed): the older rule applies,
    the latest plan run."""
    columns = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'plan_runs'"
        ).fetchall()
    }
    if not {"plan_run_id", "created_at", "checks_passed", "made_by"} <= columns:
        return None
    kind = "WHERE kind = 'plan'" if "kind" in columns else ""
    order = "ORDER BY created_at DESC, plan_run_id DESC LIMIT 1"
    latest = con.execute(
        f"SELECT plan_run_id, made_by, checks_passed FROM plan_runs {kind} {order}"
    ).fetchone()
    if latest is None:
        return None
    passed_only = f"{kind} {'AND' if kind else 'WHERE'} checks_passed"
    sendable = con.execute(f"SELECT plan_run_id FROM plan_runs {passed_only} {order}").fetchone()
    sendable_id = sendable[0] if sendable else None
    latest_id, made_by, checks_passed = latest
    if sendable_id == latest_id:
        return PlanRunChoice(sendable_id, latest_id)
    if made_by == "plan_command":
        why = "was made by `touchplan plan`, outside a full run and its quality checks"
    elif checks_passed is False:
        why = "failed the blocking quality checks on contact_plan"
    else:
        why = "has not passed the blocking quality checks on contact_plan (not checked)"
    instead = (
        f"sending plan run {sendable_id} instead"
        if sendable_id
        else "no plan run has passed them: nothing sent"
    )
    return PlanRunChoice(sendable_id, latest_id, f"the latest plan run {latest_id} {why}; {instead}")


def _latest_plan_run_filter(con: duckdb.DuckDBPyConnection, plan_cols: dict[str, str]) -> str:
    """contact_plan keeps every plan run: deliver only the latest that passed the blocking checks
    (`choose_plan_run`); on plan_runs without those columns, the latest (by plan_runs, else contact_plan.created_at)."""
    choice = choose_plan_run(con)
    if choice is not None:
        return "AND p.plan_run_id = " + sql_literal(choice.plan_run_id) if choice.plan_run_id else "AND FALSE"
    runs_cols = _columns(con, "plan_runs")
    if {"plan_run_id", "created_at"} <= set(runs_cols):
        kind = "WHERE kind = 'plan'" if "kind" in runs_cols else ""
        latest = con.execute(
            f"SELECT plan_run_id FROM plan_runs {kind} ORDER BY created_at DESC, plan_run_id DESC LIMIT 1"
        ).fetchone()
        if (
            latest
            and con.execute(
                "SELECT count(*) FROM contact_plan WHERE plan_run_id = ?", [latest[0]]
            ).fetchone()[0]
        ):
            return "AND p.plan_run_id = " + sql_literal(str(latest[0]))
    if "created_at" in plan_cols:
        return (
            "AND p.plan_run_id = (SELECT plan_run_id FROM contact_plan "
            "ORDER BY created_at DESC, plan_run_id DESC LIMIT 1)"
        )
    return ""  # one plan run per table, or no way to tell: every row, one per send_id


def already_sent_count(con: duckdb.DuckDBPyConnection) -> int:
    """Sends of the plan being delivered that are skipped because the ledger has them as `accepted`."""
    return con.execute(
        f"SELECT count(*) FROM {PLANNED} AS s JOIN {LEDGER_TABLE} AS l USING (send_id) "
        "WHERE l.status = 'accepted'"
    ).fetchone()[0]


def skipped_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Planned sends not attempted because of their ledger state: in_flight (unresolved), failed_permanent."""
    rows = con.execute(
        f"SELECT l.status, count(*) FROM {PLANNED} AS s JOIN {LEDGER_TABLE} AS l USING (send_id) "
        "WHERE l.status IN ('in_flight', 'failed_permanent') GROUP BY ALL"
    ).fetchall()
    return {status: n for status, n in rows}


def _outcome(
    row: dict[str, Any],
    status: str,
    request_path: str | None,
    *,
    message_id: str | None = None,
    http_status: int | None = None,
    error: str | None = None,
    attempted: bool = False,
) -> dict[str, Any]:
    return {
        "send_id": row["send_id"],
        "customer_id": row["customer_id"],
        "campaign_id": row["campaign_id"],
        "channel": row["channel"],
        "status": status,
        "request_path": request_path,
        "provider_message_id": message_id,
        "plan_run_id": row["plan_run_id"],
        "template_id": row.get("template_id"),
        "scheduled_at": row["scheduled_at"],
        "http_status": http_status,
        "error": error,
        "attempted": attempted,
    }


def _record(con: duckdb.DuckDBPyConnection, outcomes: list[dict[str, Any]]) -> None:
    if outcomes:
        record_outcomes(con, pd.DataFrame(outcomes, columns=OUTCOME_COLUMNS))


def deliver_emails(
    con: duckdb.DuckDBPyConnection,
    outbox: Path,
    config: DeliveryConfig,
    *,
    send: bool,
    now: datetime,
    client: Any = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ChannelResult:
    """Email and webinar invites in batched requests, exactly once (pipelines/lib/delivery/sender.py)."""
    emails = sender.deliver_emails(
        con, outbox, config, pending_table=PENDING, send=send, now=now, client=client, sleep=sleep
    )
    return ChannelResult(
        counts=emails.counts,
        files=emails.files,
        waiting=emails.waiting,
        stopped=emails.stopped,
        requests=emails.requests,
    )


# ------------------------------------------------------------------------------------------------ file channels


def _copy_csv(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    """A file a person opens in a spreadsheet: text cells escaped against formula injection (csv_safe)."""
    copy_csv(con, query, path)


def _record_file_outcomes(con: duckdb.DuckDBPyConnection, query: str, result: ChannelResult) -> None:
    """Record the outcomes `query` selects (columnar, no per-row Python) and count them."""
    frame = con.execute(query).df()
    if not frame.empty:
        record_outcomes(con, frame)
        result.counts.update(
            {(c, s): int(n) for (c, s), n in frame.groupby(["channel", "status"]).size().items()}
        )


def _crm_records_sql(con: duckdb.DuckDBPyConnection, system: str) -> str:
    """customer_id -> the customer's record in `system` (a Salesforce Contact before a Lead, then the most
    recently updated) and that record's owner in raw_crm_contacts."""
    if not _has_table(con, "customer_crosswalk"):
        return (
            "SELECT CAST(NULL AS VARCHAR) AS customer_id, CAST(NULL AS VARCHAR) AS record_id, "
            "CAST(NULL AS VARCHAR) AS owner_id WHERE false"
        )
    crm_cols = _columns(con, "raw_crm_contacts")
    has_owner = {"source_system", "source_record_id", "owner_id"} <= set(crm_cols)
    order = (
        [
            "CASE WHEN crm.record_type = 'contact' THEN 0 ELSE 1 END" if "record_type" in crm_cols else "0",
            "crm.updated_at DESC NULLS LAST" if "updated_at" in crm_cols else "0",
        ]
        if has_owner
        else ["0"]
    )
    owner_join = (
        f"LEFT JOIN (SELECT * FROM raw_crm_contacts WHERE source_system = '{system}' "
        "QUALIFY row_number() OVER (PARTITION BY source_record_id ORDER BY "
        + ("updated_at DESC NULLS LAST" if "updated_at" in crm_cols else "source_record_id")
        + ") = 1) AS crm ON crm.source_record_id = x.source_record_id"
        if has_owner
        else ""
    )
    owner_expr = "CAST(crm.owner_id AS VARCHAR)" if has_owner else "CAST(NULL AS VARCHAR)"
    return f"""
        SELECT x.customer_id, CAST(x.source_record_id AS VARCHAR) AS record_id, {owner_expr} AS owner_id
        FROM customer_crosswalk AS x {owner_join}
        WHERE x.source_system = '{system}'
        QUALIFY row_number() OVER (PARTITION BY x.customer_id ORDER BY {", ".join(order)}, x.source_record_id) = 1
        """


def deliver_sales_tasks(
    con: duckdb.DuckDBPyConnection, outbox: Path, config: DeliveryConfig, *, send: bool
) -> ChannelResult:
    """Sales hand-offs, one file per plan run and CRM: a Salesforce Task import file (WhoId, Subject,
    ActivityDate, OwnerId, Description) for customers with a Salesforce record, else a HubSpot task import file
    (HUBSPOT_TASK_COLUMNS, the task associated with the contact's Record ID) for customers known only in HubSpot."""
    result = ChannelResult()
    if con.execute(f"SELECT count(*) FROM {PENDING} WHERE channel = 'sales_task'").fetchone()[0] == 0:
        return result
    prefix = sql_literal(config.sales_tasks.subject_prefix + ": ")
    default_owner = sql_literal(config.sales_tasks.default_owner_id or "")
    default_hs_owner = sql_literal(config.sales_tasks.default_hubspot_owner_id or "")
    run_file = "regexp_replace(p.plan_run_id, '[^A-Za-z0-9_.-]+', '_', 'g')"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _delivery_sales_tasks AS
        SELECT p.*,
               CASE WHEN sf.record_id IS NOT NULL THEN 'salesforce'
                    WHEN hs.record_id IS NOT NULL THEN 'hubspot' END AS crm,
               coalesce(sf.record_id, hs.record_id) AS who_id,
               CASE WHEN sf.record_id IS NOT NULL
                    THEN coalesce(nullif(sf.owner_id, ''), nullif({default_owner}, ''))
                    ELSE coalesce(nullif(hs.owner_id, ''), nullif({default_hs_owner}, '')) END AS owner_id,
               '{SALES_TASKS_DIR}/' || {run_file}
                   || CASE WHEN sf.record_id IS NULL AND hs.record_id IS NOT NULL THEN '{HUBSPOT_TASKS_SUFFIX}'
                           ELSE '' END || '.csv' AS request_path
        FROM {PENDING} AS p
        LEFT JOIN ({_crm_records_sql(con, "salesforce")}) AS sf ON sf.customer_id = p.customer_id
        LEFT JOIN ({_crm_records_sql(con, "hubspot")}) AS hs ON hs.customer_id = p.customer_id
        WHERE p.channel = 'sales_task'
        """
    )
    activity_date = """strftime(coalesce(CAST(try_cast(scheduled_local AS TIMESTAMP) AS DATE),
                                         CAST(scheduled_at AS DATE)), '%Y-%m-%d')"""
    description = """'Touchplan send ' || send_id || '; campaign ' || campaign_id
                       || coalesce('; template ' || template_id, '') || coalesce('; variant ' || variant, '')
                       || '; plan run ' || plan_run_id"""
    for relative, crm in con.execute(
        "SELECT DISTINCT request_path, crm FROM _delivery_sales_tasks WHERE who_id IS NOT NULL ORDER BY 1"
    ).fetchall():
        rel = sql_literal(relative)
        if crm == "salesforce":
            select = f"""SELECT who_id AS WhoId, {prefix} || campaign_id AS Subject,
                   {activity_date} AS ActivityDate, owner_id AS OwnerId, {description} AS Description"""
        else:
            # HubSpot's import of tasks (an activity associated with a contact): the contact by its Record ID,
            # the task by its internal property names (hs_timestamp is the due date).
            select = f"""SELECT who_id AS "Contact Record ID", {prefix} || campaign_id AS hs_task_subject,
                   {activity_date} AS hs_timestamp, 'CALL' AS hs_task_type, 'NOT_STARTED' AS hs_task_status,
                   owner_id AS hubspot_owner_id, {description} AS hs_task_body"""
        _copy_csv(
            con,
            f"""{select}
            FROM _delivery_sales_tasks WHERE request_path = {rel} AND who_id IS NOT NULL
            ORDER BY scheduled_at, send_id""",
            outbox / relative,
        )
        result.files.append(relative)
    status = "accepted" if send else "dry_run"
    _record_file_outcomes(
        con,
        f"""
        SELECT send_id, customer_id, campaign_id, channel, plan_run_id, template_id, scheduled_at,
               CASE WHEN who_id IS NULL THEN 'failed_retryable' ELSE '{status}' END AS status,
               CASE WHEN who_id IS NULL THEN NULL ELSE request_path END AS request_path,
               CAST(NULL AS VARCHAR) AS provider_message_id, CAST(NULL AS INTEGER) AS http_status,
               CASE WHEN who_id IS NULL
                    THEN 'no Salesforce or HubSpot record for this customer in customer_crosswalk' END AS error,
               who_id IS NOT NULL AND {send} AS attempted
        FROM _delivery_sales_tasks ORDER BY send_id""",
        result,
    )
    return result


def deliver_audience_files(
    con: duckdb.DuckDBPyConnection, outbox: Path, config: DeliveryConfig, *, send: bool
) -> ChannelResult:
    """Ad-platform audience files, one per campaign and plan run: customer_id and the (hashed) email."""
    result = ChannelResult()
    hashed = config.audience_files.email == "sha256"
    email_col = "email_sha256" if hashed else "email"
    email_expr = "sha256(lower(trim(email)))" if hashed else "lower(trim(email))"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _delivery_audiences AS
        SELECT p.*, '{AUDIENCES_DIR}/' || regexp_replace(campaign_id, '[^A-Za-z0-9_.-]+', '_', 'g') || '/'
                   || regexp_replace(plan_run_id, '[^A-Za-z0-9_.-]+', '_', 'g') || '.csv' AS request_path
        FROM {PENDING} AS p WHERE p.channel = 'audience_file'
        """
    )
    for (relative,) in con.execute(
        "SELECT DISTINCT request_path FROM _delivery_audiences WHERE email IS NOT NULL ORDER BY 1"
    ).fetchall():
        rel = sql_literal(relative)
        _copy_csv(
            con,
            f"""
            SELECT customer_id, {email_expr} AS {email_col} FROM _delivery_audiences
            WHERE request_path = {rel} AND email IS NOT NULL ORDER BY customer_id""",
            outbox / relative,
        )
        result.files.append(relative)
    status = "accepted" if send else "dry_run"
    _record_file_outcomes(
        con,
        f"""
        SELECT send_id, customer_id, campaign_id, channel, plan_run_id, template_id, scheduled_at,
               CASE WHEN email IS NULL THEN 'failed_retryable' ELSE '{status}' END AS status,
               CASE WHEN email IS NULL THEN NULL ELSE request_path END AS request_path,
               CAST(NULL AS VARCHAR) AS provider_message_id, CAST(NULL AS INTEGER) AS http_status,
               CASE WHEN email IS NULL THEN 'no email address in dim_customers' END AS error,
               email IS NOT NULL AND {send} AS attempted
        FROM _delivery_audiences ORDER BY send_id""",
        result,
    )
    return result


def unknown_channels(con: duckdb.DuckDBPyConnection) -> Counter:
    known = ", ".join(f"'{c}'" for c in (*EMAIL_CHANNELS, "sales_task", "audience_file"))
    rows = con.execute(
        f"SELECT channel, count(*) FROM {PENDING} WHERE channel NOT IN ({known}) GROUP BY ALL"
    ).fetchall()
    return Counter({channel: n for channel, n in rows})
