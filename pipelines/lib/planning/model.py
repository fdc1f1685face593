"""Planning inputs read from the upstream tables into temporary tables of one DuckDB connection.

The customer model (`_plan_customers`) joins dim_customers with the insight tables; its columns are
audience.CUSTOMER_MODEL_COLUMNS. A missing upstream table is read as empty (the plan then says so in
plan_runs.missing_inputs) so planning works on a warehouse that is still being built.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb

from pipelines.lib.dbt_schema import documented_columns
from pipelines.lib.erasure import ERASED_REASON, erased_customers_sql
from pipelines.lib.planning.audience import CUSTOMER_MODEL_COLUMNS
from pipelines.lib.planning.config import ContactRulesConfig
from pipelines.lib.sql import quote_ident, sql_literal

UPSTREAM_TABLES = (
    "dim_customers",
    "customer_consent",
    "fct_touchpoints",
    "customer_rfv",
    "customer_personas",
    "customer_lifecycle",
    "lead_scores",
    "customer_moments",
    "send_ledger",
    "customer_id_lineage",
)
# Read when present, never reported missing: the ledger (no sends yet) and the id lineage (no merges yet).
OPTIONAL_TABLES = ("send_ledger", "customer_id_lineage")

# A missing upstream table is read as an empty stand-in with the columns and types its dbt YAML documents
# (pipelines.lib.dbt_schema; send_ledger, written by delivery, is documented as a dbt source). The customer model
# casts what it reads to its own types (audience.CUSTOMER_MODEL_COLUMNS).


def setup_connection(con: duckdb.DuckDBPyConnection, as_of: datetime) -> None:
    """ICU time zones, UTC session zone, and the as-of time as a variable the compiled audiences read."""
    con.execute("LOAD icu")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET VARIABLE touchplan_as_of = ?::TIMESTAMP", [naive_utc(as_of)])


def naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    ).fetchall()
    return {r[0] for r in rows}


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?",
        [table],
    ).fetchall()
    return {r[0] for r in rows}


def standin_columns(table: str) -> list[tuple[str, str]]:
    """The documented (column, type) of an upstream table: the schema of its empty stand-in."""
    return documented_columns(table)


def _source(con: duckdb.DuckDBPyConnection, table: str, present: set[str]) -> str:
    """The table's documented columns, or an empty typed stand-in; a documented column it lacks is read as NULL."""
    wanted = standin_columns(table)
    if table not in present:
        cols = ", ".join(f"NULL::{typ} AS {quote_ident(name)}" for name, typ in wanted)
        return f"(SELECT {cols} WHERE false)"
    have = table_columns(con, table)
    cols = ", ".join(
        quote_ident(name) if name in have else f"NULL::{typ} AS {quote_ident(name)}" for name, typ in wanted
    )
    return f"(SELECT {cols} FROM {quote_ident(table)})"


def history_lookback(rules: ContactRulesConfig, max_cooldown_days: int) -> timedelta:
    hours = [24 * 32]  # calendar month/week/day windows
    hours += [cap.window.hours for cap in rules.caps if cap.window.hours]
    if rules.min_gap:
        hours.append(rules.min_gap.hours)
    hours.append(24 * max_cooldown_days)
    return timedelta(hours=max(hours))


def prepare_inputs(
    con: duckdb.DuckDBPyConnection,
    rules: ContactRulesConfig,
    campaign_message_types: dict[str, str],
    as_of: datetime,
    max_cooldown_days: int,
) -> list[str]:
    """Create _plan_customers, _plan_moments, _plan_consent and _plan_contact_history; return the missing upstream tables."""
    setup_connection(con, as_of)
    present = existing_tables(con)
    missing = [t for t in UPSTREAM_TABLES if t not in present and t not in OPTIONAL_TABLES]
    src = {t: _source(con, t, present) for t in UPSTREAM_TABLES}
    default_tz = rules.default_time_zone

    model_cols = ", ".join(
        f"CAST(model.{name} AS {typ}) AS {name}"
        for name, typ in CUSTOMER_MODEL_COLUMNS.items()
        if name != "time_zone"
    )
    # one row per customer: the customer model the audiences read (audience.CUSTOMER_MODEL_COLUMNS) and `cno`
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _plan_customers AS
        WITH zones AS (SELECT name FROM pg_timezone_names()),
        customers AS (SELECT * FROM {src["dim_customers"]} QUALIFY row_number() OVER (PARTITION BY customer_id) = 1),
        lifecycle AS (
            SELECT * FROM {src["customer_lifecycle"]} QUALIFY row_number() OVER (PARTITION BY customer_id) = 1
        ),
        scores AS (SELECT * FROM {src["lead_scores"]} QUALIFY row_number() OVER (PARTITION BY customer_id) = 1),
        rfv AS (SELECT * FROM {src["customer_rfv"]} QUALIFY row_number() OVER (PARTITION BY customer_id) = 1),
        personas AS (SELECT * FROM {src["customer_personas"]}
               QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY persona) = 1),
        email_consent AS (
            SELECT customer_id, any_value(consent_state) AS email_consent_state FROM {src["customer_consent"]}
            WHERE channel = 'email' AND subscription_group = 'marketing' GROUP BY customer_id
        ),
        model AS (
            SELECT customers.customer_id, customers.title, customers.seniority, customers.company,
                   customers.industry, customers.employees, customers.country_code,
                   customers.time_zone AS raw_time_zone, customers.is_customer, customers.first_seen_at,
                   customers.last_seen_at, customers.source_record_count,
                   lifecycle.lifecycle_stage, lifecycle.stage_entered_at, lifecycle.tenure_days,
                   scores.lead_score, scores.fit_score, scores.engagement_score, scores.budget_score,
                   scores.authority_score, scores.need_score, scores.timeframe_score, scores.is_mql,
                   scores.is_sales_ready,
                   rfv.recency_days, rfv.frequency, rfv.value, rfv.r_score, rfv.f_score, rfv.v_score,
                   rfv.rfv_segment, personas.persona,
                   coalesce(email_consent.email_consent_state, 'unknown') AS email_consent_state
            FROM customers
            LEFT JOIN lifecycle USING (customer_id) LEFT JOIN scores USING (customer_id)
            LEFT JOIN rfv USING (customer_id) LEFT JOIN personas USING (customer_id)
            LEFT JOIN email_consent USING (customer_id)
            WHERE customers.customer_id IS NOT NULL
        )
        SELECT {model_cols},
               coalesce(zones.name, {sql_literal(default_tz)}) AS time_zone,
               -- a dense integer key in customer id order: the planning joins use it instead of the string id
               CAST(row_number() OVER (ORDER BY model.customer_id) AS INTEGER) AS cno
        FROM model LEFT JOIN zones ON zones.name = model.raw_time_zone
    """)
    # one row per customer moment (customer_moments)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _plan_moments AS
        SELECT customer_id, moment, occurred_at FROM {src["customer_moments"]} WHERE customer_id IS NOT NULL
    """)
    # Erased people (`touchplan erase`; their re-imported CRM records in erased_records): a suppression on every
    # channel with reason `erased` (an all-channel reason of contact_rules.yaml). Channel '*' sorts before every
    # channel name, so it wins the per-class pick of the suppression reason. One row per (customer, channel,
    # subscription group) consent statement.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _plan_consent AS
        SELECT customer_id, channel, coalesce(subscription_group, 'marketing') AS subscription_group,
               coalesce(consent_state, 'unknown') AS consent_state, reason
        FROM {src["customer_consent"]} WHERE customer_id IS NOT NULL
        UNION ALL
        SELECT customer_id, '*' AS channel, 'marketing' AS subscription_group, 'suppressed' AS consent_state,
               '{ERASED_REASON}' AS reason
        FROM ({erased_customers_sql(con)})
    """)
    since = naive_utc(as_of) - history_lookback(rules, max_cooldown_days)
    chan_map = rules.history_channels
    chan_case = " ".join(f"WHEN {sql_literal(k)} THEN {sql_literal(v)}" for k, v in chan_map.items())
    transactional = [k for k, v in campaign_message_types.items() if v == "transactional"]
    trans_list = ", ".join(sql_literal(c) for c in transactional) or "NULL"
    # one row per counted past contact (touchpoint or ledger send) inside the look-back window
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _plan_contact_history AS
        WITH touchpoints AS (
            SELECT customer_id, CASE channel {chan_case} ELSE channel END AS channel,
                   CASE WHEN campaign_id IN ({trans_list}) THEN 'transactional' ELSE 'marketing' END AS mtype,
                   campaign_id, occurred_at, message_id, 'touchpoint' AS source, touchpoint_id AS ref
            FROM {src["fct_touchpoints"]}
            WHERE is_marketing_contact AND occurred_at >= $since AND occurred_at <= $as_of
        ),
        ledger AS (
            -- the ledger keeps the customer id of send time: a merge since then counts the send for the survivor
            SELECT coalesce(lineage.current_customer_id, sends.customer_id) AS customer_id, sends.channel,
                   CASE WHEN sends.campaign_id IN ({trans_list}) THEN 'transactional' ELSE 'marketing' END AS mtype,
                   sends.campaign_id, coalesce(sends.sent_at, sends.created_at) AS occurred_at,
                   sends.provider_message_id AS message_id, 'send_ledger' AS source, sends.send_id AS ref
            FROM {src["send_ledger"]} AS sends
            LEFT JOIN {src["customer_id_lineage"]} AS lineage ON lineage.customer_id = sends.customer_id
            -- accepted by SendGrid, or in_flight (it may have gone out); 'sent' in a ledger not yet migrated
            WHERE sends.status IN ('accepted', 'in_flight', 'sent') AND coalesce(sends.sent_at, sends.created_at) >= $since
              AND coalesce(sends.sent_at, sends.created_at) <= $as_of
        )
        SELECT customer_id, channel, mtype, campaign_id, occurred_at, source, ref FROM touchpoints
        UNION ALL
        -- a ledger send that already came back as a touchpoint (same provider message id) counts once
        SELECT customer_id, channel, mtype, campaign_id, occurred_at, source, ref FROM ledger
        WHERE message_id IS NULL OR message_id NOT IN (SELECT message_id FROM touchpoints WHERE message_id IS NOT NULL)
        """,
        {"since": since, "as_of": naive_utc(as_of)},
    )
    return missing
