"""Small upstream tables in a real DuckDB, and strategies built in code, for the planning tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines.lib.planning.config import CampaignsConfig, ContactRulesConfig, Strategy

CUSTOMER_COLS = (
    "customer_id VARCHAR, email VARCHAR, time_zone VARCHAR, country_code VARCHAR, is_customer BOOLEAN"
)


def make_warehouse(
    customers: list[dict[str, Any]],
    *,
    consent: list[tuple] | None = None,
    touchpoints: list[tuple] | None = None,
    moments: list[tuple] | None = None,
    lifecycle: list[tuple] | None = None,
    scores: list[tuple] | None = None,
    personas: list[tuple] | None = None,
    ledger: list[tuple] | None = None,
    lineage: list[tuple] | None = None,
    default_consent: str | None = "subscribed",
) -> duckdb.DuckDBPyConnection:
    """customers: dicts with customer_id and optional time_zone/is_customer; every customer gets email marketing
    consent `default_consent` unless `consent` rows (customer_id, channel, group, state, reason) are given."""
    con = duckdb.connect()
    con.execute(f"CREATE TABLE dim_customers ({CUSTOMER_COLS})")
    for c in customers:
        con.execute(
            "INSERT INTO dim_customers VALUES (?, ?, ?, ?, ?)",
            [
                c["customer_id"],
                c.get("email"),
                c.get("time_zone"),
                c.get("country_code"),
                c.get("is_customer", False),
            ],
        )
    con.execute(
        "CREATE TABLE customer_consent (customer_id VARCHAR, channel VARCHAR, subscription_group VARCHAR, "
        "consent_state VARCHAR, reason VARCHAR, asserted_at TIMESTAMP)"
    )
    rows = consent
    if rows is None and default_consent:
        rows = [(c["customer_id"], "email", "marketing", default_consent, None) for c in customers]
        rows += [(c["customer_id"], "phone", "marketing", default_consent, None) for c in customers]
    for r in rows or []:
        con.execute("INSERT INTO customer_consent VALUES (?, ?, ?, ?, ?, NULL)", list(r))
    con.execute(
        "CREATE TABLE fct_touchpoints (touchpoint_id VARCHAR, customer_id VARCHAR, source_system VARCHAR, "
        "channel VARCHAR, touchpoint_type VARCHAR, is_marketing_contact BOOLEAN, campaign_id VARCHAR, "
        "message_id VARCHAR, value DOUBLE, occurred_at TIMESTAMP)"
    )
    for i, (cid, channel, campaign, at) in enumerate(touchpoints or []):
        con.execute(
            "INSERT INTO fct_touchpoints VALUES (?, ?, 'sendgrid', ?, 'delivered', true, ?, NULL, NULL, ?)",
            [f"t{i}", cid, channel, campaign, at],
        )
    con.execute(
        "CREATE TABLE customer_moments (customer_id VARCHAR, moment VARCHAR, occurred_at TIMESTAMP, evidence VARCHAR)"
    )
    for r in moments or []:
        con.execute("INSERT INTO customer_moments VALUES (?, ?, ?, NULL)", list(r))
    con.execute(
        "CREATE TABLE customer_lifecycle (customer_id VARCHAR, lifecycle_stage VARCHAR, stage_entered_at TIMESTAMP, "
        "tenure_days INTEGER, as_of_at TIMESTAMP)"
    )
    for r in lifecycle or []:
        con.execute("INSERT INTO customer_lifecycle VALUES (?, ?, ?, ?, NULL)", list(r))
    con.execute(
        "CREATE TABLE lead_scores (customer_id VARCHAR, lead_score DOUBLE, is_mql BOOLEAN, is_sales_ready BOOLEAN)"
    )
    for r in scores or []:
        con.execute("INSERT INTO lead_scores VALUES (?, ?, ?, ?)", list(r))
    con.execute("CREATE TABLE customer_personas (customer_id VARCHAR, persona VARCHAR, matched_rule VARCHAR)")
    for r in personas or []:
        con.execute("INSERT INTO customer_personas VALUES (?, ?, NULL)", list(r))
    con.execute("CREATE TABLE customer_rfv (customer_id VARCHAR, recency_days INTEGER, rfv_segment VARCHAR)")
    if ledger is not None:
        con.execute(
            "CREATE TABLE send_ledger (send_id VARCHAR, customer_id VARCHAR, campaign_id VARCHAR, channel VARCHAR, "
            "status VARCHAR, request_path VARCHAR, provider_message_id VARCHAR, created_at TIMESTAMP)"
        )
        for i, (cid, campaign, channel, status, at) in enumerate(ledger):
            con.execute(
                "INSERT INTO send_ledger VALUES (?, ?, ?, ?, ?, NULL, NULL, ?)",
                [f"s{i}", cid, campaign, channel, status, at],
            )
    if (
        lineage is not None
    ):  # (customer_id, current_customer_id) as the dbt model customer_id_lineage has them
        con.execute("CREATE TABLE customer_id_lineage (customer_id VARCHAR, current_customer_id VARCHAR)")
        con.executemany("INSERT INTO customer_id_lineage VALUES (?, ?)", [list(r) for r in lineage])
    return con


def campaign(id: str, priority: int = 50, **kw: Any) -> dict[str, Any]:
    base = {
        "id": id,
        "objective": "conversion",
        "kpi": "conversion_rate",
        "audience": "customer_id is not null",
        "trigger": {"schedule": {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "time": "10:00"}},
        "channel": "email",
        "priority": priority,
        "template_id": f"tpl_{id}",
    }
    base.update(kw)
    return base


def strategy(campaigns: list[dict[str, Any]], **rules: Any) -> Strategy:
    rules.setdefault("default_time_zone", "UTC")
    rules.setdefault(
        "consent", {"sales_task": {"consent_channel": "phone", "allowed_states": ["subscribed", "unknown"]}}
    )
    return Strategy(
        campaigns=CampaignsConfig.model_validate({"campaigns": campaigns}),
        rules=ContactRulesConfig.model_validate(rules),
        campaigns_path=Path("campaigns.yaml"),
        rules_path=Path("contact_rules.yaml"),
    )


def plan_rows(con: duckdb.DuckDBPyConnection, run_id: str | None = None) -> list[tuple]:
    where = "WHERE plan_run_id = ?" if run_id else ""
    return con.execute(
        f"SELECT customer_id, campaign_id, scheduled_at, scheduled_local, time_zone FROM contact_plan {where} "
        "ORDER BY customer_id, scheduled_at, campaign_id",
        [run_id] if run_id else [],
    ).fetchall()


def decisions(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[tuple[str, str], tuple]:
    rows = con.execute(
        "SELECT customer_id, campaign_id, outcome, reason_code, rule_id, evidence FROM contact_decisions "
        "WHERE plan_run_id = ?",
        [run_id],
    ).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def dt(value: str) -> datetime:
    return datetime.fromisoformat(value)
