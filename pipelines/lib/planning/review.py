"""Reading plans back: explain one customer, diff two plan runs, backtest proposed rules over history."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import duckdb

from pipelines.lib.planning.arbitration import arbitrate
from pipelines.lib.planning.audience import compile_audience
from pipelines.lib.planning.config import Strategy
from pipelines.lib.planning.engine import load_rule_tables
from pipelines.lib.planning.model import naive_utc, prepare_inputs, setup_connection
from pipelines.lib.sql import sql_literal

_SENTENCES = {
    "planned": "is planned",
    "suppressed": "is suppressed",
    "no_consent": "has no consent for this channel",
    "held_out": "is in the holdout",
    "cooldown": "is cooling down after a recent send of this campaign",
    "capped": "would exceed a frequency cap",
    "gap": "would be too close to another marketing contact",
    "lost_priority": "gave way to a higher-priority message",
    "over_capacity": "did not fit the channel's daily capacity",
    "deferred": "has no allowed send time left in the planning horizon",
}


def find_customer(con: duckdb.DuckDBPyConnection, key: str) -> dict | None:
    cur = con.execute(
        "SELECT * FROM dim_customers WHERE customer_id = ? OR lower(email) = lower(?) LIMIT 1",
        [key, key.strip()],
    )
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row, strict=True)) if row else None


def explain(con: duckdb.DuckDBPyConnection, strategy: Strategy, key: str) -> str:
    """Plain words: the golden record, segments and scores, and for each campaign why the customer is or is not in
    the latest plan."""
    customer = find_customer(con, key)
    if customer is None:
        raise ValueError(f"no customer with id or email {key!r} in dim_customers")
    cid = customer["customer_id"]
    run = con.execute(
        "SELECT plan_run_id, as_of, rules_version FROM plan_runs WHERE kind = 'plan' ORDER BY created_at DESC LIMIT 1"
    ).fetchone()
    lines = [f"Customer {cid}"]
    shown = [
        "full_name",
        "email",
        "company",
        "title",
        "country_code",
        "time_zone",
        "is_customer",
        "source_systems",
    ]
    for col in shown:
        if customer.get(col) not in (None, ""):
            lines.append(f"  {col}: {customer[col]}")
    as_of = run[1] if run else datetime.now()
    types = {c.id: c.message_type for c in strategy.campaigns.campaigns}
    prepare_inputs(con, strategy.rules, types, as_of, 0)
    cur = con.execute("SELECT * FROM _plan_customers WHERE customer_id = ?", [cid])
    model = dict(zip([d[0] for d in cur.description], cur.fetchone() or [], strict=False))
    facts = ["lifecycle_stage", "tenure_days", "rfv_segment", "recency_days", "persona", "lead_score", "is_mql",
             "is_sales_ready", "email_consent_state"]  # fmt: skip
    lines.append("Segments and scores: " + ", ".join(f"{k}={model.get(k)}" for k in facts if k in model))
    moments = con.execute(
        "SELECT moment, max(occurred_at) FROM _plan_moments WHERE customer_id = ? GROUP BY 1 ORDER BY 1",
        [cid],
    ).fetchall()
    if moments:
        lines.append("Moments: " + ", ".join(f"{m} ({at:%Y-%m-%d})" for m, at in moments))
    if run is None:
        lines.append("No plan run yet: run `touchplan plan` first.")
        return "\n".join(lines)
    lines.append(f"Plan run {run[0]} (as of {run[1]:%Y-%m-%d %H:%M} UTC, rules {run[2][:12]}):")
    decided = {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT d.campaign_id, d.outcome, d.reason_code, d.rule_id, d.evidence, p.scheduled_local, p.time_zone, "
            "p.template_id FROM contact_decisions d LEFT JOIN contact_plan p ON p.plan_run_id = d.plan_run_id "
            "AND p.customer_id = d.customer_id AND p.campaign_id = d.campaign_id "
            "WHERE d.plan_run_id = ? AND d.customer_id = ?",
            [run[0], cid],
        ).fetchall()
    }
    for i, campaign in enumerate(strategy.campaigns.campaigns):
        head = f"  - {campaign.id} ({campaign.channel}, priority {campaign.priority}): "
        if campaign.id in decided:
            outcome, reason, rule, evidence, local, tz, template = decided[campaign.id]
            if outcome == "planned":
                text = f"planned for {local:%a %Y-%m-%d %H:%M} {tz} with template {template} ({reason})"
            else:
                text = f"not planned: {_SENTENCES.get(outcome, outcome)} (reason {reason}, rule {rule})"
            lines.append(head + text)
            if evidence and outcome != "planned":
                lines.append(f"      evidence: {_evidence_words(evidence)}")
            continue
        where = compile_audience(campaign.audience, f"{strategy.campaigns_path}: campaigns[{i}].audience")
        in_audience = con.execute(
            f"SELECT count(*) FROM _plan_customers AS customer WHERE customer.customer_id = ? AND {where}",
            [cid],
        ).fetchone()[0]
        if not in_audience:
            lines.append(head + f"not in the audience ({campaign.audience})")
        elif campaign.trigger.moment:
            m = campaign.trigger.moment
            lines.append(
                head
                + f"in the audience, but no '{m.moment}' moment in the {m.within_days} days before the run"
            )
        else:
            lines.append(head + "in the audience, but no scheduled send day within the campaign's dates")
    return "\n".join(lines)


def _evidence_words(evidence: str) -> str:
    data = json.loads(evidence) if isinstance(evidence, str) else evidence
    touches = data.get("touches") if isinstance(data, dict) else None
    if touches:
        listed = "; ".join(
            f"{t.get('campaign_id') or t.get('source')} via {t.get('channel')} at {t.get('at')}"
            for t in touches
        )
        return f"{data.get('count')} of {data.get('limit')} allowed in the window already used by: {listed}"
    return json.dumps(data, default=str)


@dataclass
class PlanDiff:
    previous: str
    current: str
    added: list[tuple]
    removed: list[tuple]
    rescheduled: list[tuple]

    def render(self, limit: int = 50) -> str:
        lines = [
            f"Plan run {self.current} against {self.previous}: {len(self.added)} added, {len(self.removed)} removed, "
            f"{len(self.rescheduled)} rescheduled"
        ]
        for title, rows in (
            ("added", self.added),
            ("removed", self.removed),
            ("rescheduled", self.rescheduled),
        ):
            for row in rows[:limit]:
                lines.append(f"  {title}: " + " ".join(str(x) for x in row if x is not None))
            if len(rows) > limit:
                lines.append(f"  ... {len(rows) - limit} more {title}")
        return "\n".join(lines)


def diff_runs(con: duckdb.DuckDBPyConnection, previous: str, current: str) -> PlanDiff:
    """added / removed / rescheduled between two runs, with the current run's reason for each."""
    base = """
        WITH prev AS (SELECT * FROM contact_plan WHERE plan_run_id = $prev),
        cur AS (SELECT * FROM contact_plan WHERE plan_run_id = $cur),
        why AS (SELECT customer_id, campaign_id, outcome, reason_code, rule_id FROM contact_decisions
                WHERE plan_run_id = $cur)
    """
    params = {"prev": previous, "cur": current}
    added = con.execute(
        base
        + """SELECT c.customer_id, c.campaign_id, 'at ' || strftime(c.scheduled_at, '%Y-%m-%d %H:%M') || 'Z',
                  'because ' || w.reason_code FROM cur c
                  LEFT JOIN prev p USING (customer_id, campaign_id) LEFT JOIN why w USING (customer_id, campaign_id)
                  WHERE p.customer_id IS NULL ORDER BY 1, 2""",
        params,
    ).fetchall()
    removed = con.execute(
        base
        + """SELECT p.customer_id, p.campaign_id,
                  'now ' || coalesce(w.outcome, 'not a candidate'),
                  CASE WHEN w.reason_code IS NOT NULL THEN '(' || w.reason_code || coalesce(', rule ' || w.rule_id, '') || ')'
                       ELSE '(audience or trigger no longer matches)' END
                  FROM prev p LEFT JOIN cur c USING (customer_id, campaign_id)
                  LEFT JOIN why w USING (customer_id, campaign_id)
                  WHERE c.customer_id IS NULL ORDER BY 1, 2""",
        params,
    ).fetchall()
    rescheduled = con.execute(
        base
        + """SELECT c.customer_id, c.campaign_id, 'from ' || strftime(p.scheduled_at, '%Y-%m-%d %H:%M') || 'Z',
                  'to ' || strftime(c.scheduled_at, '%Y-%m-%d %H:%M') || 'Z', '(' || w.reason_code || ')'
                  FROM cur c JOIN prev p USING (customer_id, campaign_id) LEFT JOIN why w USING (customer_id, campaign_id)
                  WHERE c.scheduled_at <> p.scheduled_at ORDER BY 1, 2""",
        params,
    ).fetchall()
    return PlanDiff(previous, current, added, removed, rescheduled)


# ---------------------------------------------------------------- backtest


@dataclass
class BacktestResult:
    start: datetime
    end: datetime
    touches: int
    kept: int
    moved_by_quiet_hours: int
    dropped_by_rule: list[tuple[str, str, int, int]]  # outcome, rule, touches, customers
    customers_contacted: int
    customers_dropped_entirely: int

    def render(self) -> str:
        lines = [
            f"Backtest {self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}: {self.touches} historical marketing touches replayed",
            f"  would have been sent: {self.kept} ({self.moved_by_quiet_hours} moved out of quiet hours / "
            f"disallowed days), to {self.customers_contacted} customers",
            f"  would have been dropped: {self.touches - self.kept}; customers no longer contacted at all: "
            f"{self.customers_dropped_entirely}",
        ]
        for outcome, rule, n, customers in self.dropped_by_rule:
            lines.append(f"  dropped by {rule or '-'} ({outcome}): {n} touches, {customers} customers")
        return "\n".join(lines)


def backtest(
    con: duckdb.DuckDBPyConnection, strategy: Strategy, start: datetime, end: datetime
) -> BacktestResult:
    """Replay the marketing touches of [start, end) under `strategy.rules`, through the planning arbitration.

    Each historical touch is a candidate with one slot, the time it happened (moved out of quiet hours if the
    proposed rules say so); touches before `start` fill the caps; higher priority is placed first (rounds by
    priority, campaign id and occurrence), so a kept touch counts against every other one in its windows.
    Consent and suppression are today's states (history of consent is not kept), holdout uses the proposed
    salt/share.
    """
    rules = strategy.rules
    days = max(1, (naive_utc(end).date() - naive_utc(start).date()).days)
    types = {c.id: c.message_type for c in strategy.campaigns.campaigns}
    max_cool = max((c.cooldown_days for c in strategy.campaigns.campaigns), default=0)
    prepare_inputs(con, rules, types, end, max_cool + days)
    setup_connection(con, start)
    known = [c.id for c in strategy.campaigns.campaigns]
    seen = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT coalesce(campaign_id, '(none)') FROM _plan_contact_history WHERE occurred_at >= ? AND occurred_at < ?"
            " ORDER BY 1",
            [naive_utc(start), naive_utc(end)],
        ).fetchall()
    ]
    campaign_ids = known + [c for c in seen if c not in known]
    load_rule_tables(con, strategy.campaigns, rules, campaign_ids)
    for cidx, cid in enumerate(campaign_ids):
        if cid not in known:  # a campaign that is not in campaigns.yaml: a marketing email at priority 0
            con.execute(
                "INSERT INTO _plan_campaigns (cidx, campaign_id, channel, priority, mtype, subscription_group, "
                "template_id, cooldown_days, holdout_share, trigger_kind, send_time, days, consent_channel, "
                "allowed_states, trans_allowed_states, objective) VALUES (?, ?, 'email', 0, 'marketing', 'marketing', "
                "NULL, 0, 0, 'schedule', TIME '10:00', [1,2,3,4,5,6,7], 'email', ?, ?, 'unknown')",
                [
                    cidx,
                    cid,
                    rules.consent_for("email").allowed_states,
                    rules.consent_for("email").transactional_allowed_states,
                ],
            )
    # caps for the campaigns added above (not in campaigns.yaml)
    con.execute("""
        INSERT INTO _plan_campaign_caps
        SELECT campaign.cidx, cap.cap_id, cap.ord, cap.max_count, cap.kind, cap.hours, cap.count_m, cap.count_t,
               cap.channels
        FROM _plan_campaigns AS campaign JOIN _plan_frequency_caps AS cap
          ON (cap.channels IS NULL OR list_contains(cap.channels, campaign.channel))
         AND ((campaign.mtype = 'marketing' AND cap.count_m) OR (campaign.mtype = 'transactional' AND cap.count_t))
        WHERE campaign.objective = 'unknown'
    """)
    from pipelines.lib.planning.engine import _quiet_sql  # the same deferral as planning

    local_expr, moved_expr = _quiet_sql(rules, "touch.due_local", "touch.mtype", "touch.channel")
    hold = rules.holdout
    hold_sql = (
        f"(('0x' || substr(md5(hist.customer_id || ':' || {sql_literal(hold.salt)}), 1, 8))::UBIGINT % 10000) < {round(hold.share * 10000)}"
        if hold and hold.share > 0
        else "false"
    )
    con.execute(f"""
        -- one row per historical marketing touch of [start, end): a backtest candidate with its one slot
        CREATE OR REPLACE TEMP TABLE _backtest_touches AS
        SELECT row_number() OVER (ORDER BY hist.occurred_at, hist.customer_id, hist.ref) AS cand_id, hist.customer_id, customer.cno,
               campaign.cidx,
               customer.time_zone AS tz, campaign.mtype, campaign.priority, campaign.campaign_id, hist.channel, campaign.consent_channel,
               campaign.subscription_group, campaign.allowed_states, campaign.trans_allowed_states,
               hist.occurred_at AT TIME ZONE 'UTC' AS due_at,
               timezone(customer.time_zone, hist.occurred_at AT TIME ZONE 'UTC') AS due_local,
               CAST(timezone(customer.time_zone, $start::TIMESTAMP AT TIME ZONE 'UTC') AS DATE) AS day0,
               {hold_sql} AS held
        FROM _plan_contact_history AS hist JOIN _plan_customers AS customer USING (customer_id)
        JOIN _plan_campaigns AS campaign ON campaign.campaign_id = coalesce(hist.campaign_id, '(none)')
        WHERE hist.occurred_at >= $start AND hist.occurred_at < $end
    """, {"start": naive_utc(start), "end": naive_utc(end)})  # fmt: skip
    con.execute("DELETE FROM _plan_contact_history WHERE occurred_at >= ?", [naive_utc(start)])
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _plan_slot_grid AS
        WITH moved AS (SELECT touch.*, {local_expr} AS local_ts, {moved_expr} AS was_moved FROM _backtest_touches AS touch)
        SELECT cand_id AS slot_group, cidx, tz, date_diff('day', day0, CAST(local_ts AS DATE)) AS slot_day,
               due_at, timezone(tz, local_ts) AS slot_at, local_ts, was_moved,
               CAST(local_ts AS DATE) AS day_key, CAST(date_trunc('week', local_ts) AS DATE) AS week_key,
               CAST(date_trunc('month', local_ts) AS DATE) AS month_key,
               CAST(timezone({sql_literal(rules.default_time_zone)}, timezone(tz, local_ts)) AS DATE) AS cap_day
        FROM moved
    """)
    if con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = '_plan_candidates'").fetchone()[0]:
        con.execute("DROP VIEW _plan_candidates")  # a plan run on this connection left a view of that name
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _plan_candidates AS
        WITH touch_consent AS (
            SELECT touch.cand_id, any_value(consent.consent_state) AS state,
                   bool_or(consent.consent_state = 'suppressed') AS suppressed
            FROM _backtest_touches AS touch JOIN _plan_consent AS consent
              ON consent.customer_id = touch.customer_id AND consent.channel = touch.consent_channel
             AND consent.subscription_group = touch.subscription_group GROUP BY touch.cand_id
        )
        SELECT touch.cand_id, touch.customer_id, touch.cno, touch.cidx, touch.tz, touch.cand_id AS slot_group, touch.mtype, touch.priority, touch.campaign_id,
               touch.channel, NULL::TIMESTAMPTZ AS deadline,
               CASE WHEN coalesce(touch_consent.suppressed, false) THEN 'suppressed'
                    WHEN NOT list_contains(CASE WHEN touch.mtype = 'transactional' THEN touch.trans_allowed_states
                                           ELSE touch.allowed_states END, coalesce(touch_consent.state, 'unknown')) THEN 'no_consent'
                    WHEN touch.mtype = 'marketing' AND touch.held THEN 'held_out' END AS pre_outcome,
               CASE WHEN coalesce(touch_consent.suppressed, false) THEN 'suppression'
                    WHEN NOT list_contains(CASE WHEN touch.mtype = 'transactional' THEN touch.trans_allowed_states
                                           ELSE touch.allowed_states END, coalesce(touch_consent.state, 'unknown'))
                        THEN 'consent.' || touch.channel
                    WHEN touch.mtype = 'marketing' AND touch.held THEN 'global_holdout' END AS pre_rule
        FROM _backtest_touches AS touch LEFT JOIN touch_consent USING (cand_id)
    """)
    arbitrate(con, rules, repeated=True)
    con.execute("""
        -- one row per backtest candidate: kept or the outcome and rule that dropped it
        CREATE OR REPLACE TEMP TABLE _backtest_results AS
        SELECT coalesce(cand.pre_outcome, CASE WHEN arbitrated.status = 'planned' THEN 'kept' ELSE coalesce(arbitrated.blk_outcome, 'deferred') END)
                   AS outcome,
               coalesce(cand.pre_rule, CASE WHEN arbitrated.status = 'planned' THEN NULL ELSE coalesce(arbitrated.blk_rule, 'horizon') END) AS rule,
               cand.customer_id, coalesce(arbitrated.was_moved, false) AS moved
        FROM _plan_candidates AS cand LEFT JOIN _plan_arbitrated_evidence AS arbitrated USING (cand_id)
    """)
    total = con.execute("SELECT count(*) FROM _backtest_results").fetchone()[0]
    dropped = con.execute("""
        SELECT outcome, rule, count(*), count(DISTINCT customer_id) FROM _backtest_results WHERE outcome <> 'kept'
        GROUP BY ALL ORDER BY 3 DESC, 2
    """).fetchall()
    kept, moved, contacted = con.execute(
        "SELECT count(*) FILTER (WHERE outcome = 'kept'), count(*) FILTER (WHERE outcome = 'kept' AND moved), "
        "count(DISTINCT customer_id) FILTER (WHERE outcome = 'kept') FROM _backtest_results"
    ).fetchone()
    lost = con.execute("""
        SELECT count(*) FROM (SELECT customer_id FROM _backtest_results GROUP BY 1 HAVING bool_and(outcome <> 'kept'))
    """).fetchone()[0]
    return BacktestResult(start, end, total, kept, moved, dropped, contacted, lost)
