"""The contact strategy engine: candidates, eligibility, arbitration, outputs. Set-based DuckDB SQL throughout.

Algorithm (see docs/contact_rules.md):
1. Candidates: every (customer, campaign) whose audience matches, whose trigger fires (schedule: every listed
   weekday in the horizon; moment: the moment happened in the last N days, sendable until N days after it) and
   whose start/end dates include the slot. Slots are computed per (campaign, time zone, local day) in a small
   grid: the campaign's local send time, moved out of quiet hours and disallowed days (DST-correct via ICU).
2. Eligibility, in waterfall order: consent -> suppression -> holdout -> cooldown; the first failing stage is the
   candidate's outcome.
3. Arbitration in priority order (arbitration.py): one round per campaign, by priority (highest first), then
   campaign id; in a round every candidate of that campaign takes its earliest slot that breaks no frequency cap
   (history + ledger + the plan of earlier rounds, windows checked on both sides of the slot) and no minimum gap;
   channel capacity per day is shared out inside the round by the earlier slot, then customer id, and a
   candidate without capacity tries its next feasible slot. Higher priority is placed first, so look-ahead holds
   by construction.
4. Outcomes: planned (in contact_plan), or the reason its first slot was refused (capped, gap, lost_priority,
   over_capacity), or deferred (no allowed time left in the horizon).
Ties break deterministically: priority, then campaign id; capacity within a campaign by slot, then customer id.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from pipelines.lib.planning.arbitration import arbitrate
from pipelines.lib.planning.audience import compile_audience
from pipelines.lib.planning.config import (
    WEEKDAYS,
    CampaignsConfig,
    ContactRulesConfig,
    Strategy,
    hhmm_to_time,
    rules_version,
)
from pipelines.lib.planning.model import naive_utc, prepare_inputs
from pipelines.lib.sql import sql_list, sql_literal

OUTCOMES = (
    "planned", "suppressed", "no_consent", "held_out", "cooldown", "capped", "gap",
    "lost_priority", "over_capacity", "deferred",
)  # fmt: skip

OUTPUT_DDL = {
    "plan_runs": """CREATE TABLE IF NOT EXISTS plan_runs (
        plan_run_id VARCHAR, created_at TIMESTAMP, as_of TIMESTAMP, rules_version VARCHAR, horizon_days INTEGER,
        candidates BIGINT, planned BIGINT, outcome_counts JSON, missing_inputs VARCHAR[], kind VARCHAR)""",
    "contact_decisions": """CREATE TABLE IF NOT EXISTS contact_decisions (
        plan_run_id VARCHAR, customer_id VARCHAR, campaign_id VARCHAR, channel VARCHAR, outcome VARCHAR,
        reason_code VARCHAR, rule_id VARCHAR, rules_version VARCHAR, evidence JSON, priority INTEGER,
        message_type VARCHAR, due_at TIMESTAMP, scheduled_at TIMESTAMP, created_at TIMESTAMP)""",
    "contact_plan": """CREATE TABLE IF NOT EXISTS contact_plan (
        plan_run_id VARCHAR, customer_id VARCHAR, campaign_id VARCHAR, channel VARCHAR, template_id VARCHAR,
        variant VARCHAR, scheduled_at TIMESTAMP, scheduled_local TIMESTAMP, time_zone VARCHAR,
        rules_version VARCHAR, message_type VARCHAR, subscription_group VARCHAR, priority INTEGER,
        objective VARCHAR, created_at TIMESTAMP)""",
    "campaign_waterfall": """CREATE TABLE IF NOT EXISTS campaign_waterfall (
        plan_run_id VARCHAR, campaign_id VARCHAR, eligible BIGINT, after_consent BIGINT,
        after_suppression BIGINT, after_holdout BIGINT, after_caps BIGINT, after_arbitration BIGINT,
        planned BIGINT, deferred BIGINT, rules_version VARCHAR)""",
}


@dataclass
class PlanResult:
    plan_run_id: str
    rules_version: str
    as_of: datetime
    candidates: int
    planned: int
    outcome_counts: dict[str, int]
    waterfall: list[dict]
    missing_inputs: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- rules into tables


def load_rule_tables(
    con: duckdb.DuckDBPyConnection,
    campaigns: CampaignsConfig,
    rules: ContactRulesConfig,
    campaign_ids: list[str],
) -> None:
    """Small tables describing campaigns and rules; `campaign_ids` gives the index of each campaign."""
    by_id = campaigns.by_id()
    rows = []
    for cidx, cid in enumerate(campaign_ids):
        c = by_id.get(cid)
        if (
            c is None
        ):  # backtest: a historical campaign not in campaigns.yaml (a marketing message, priority 0)
            continue
        trig = c.trigger
        sched = trig.schedule
        moment = trig.moment
        consent = rules.consent_for(c.channel)
        days = [WEEKDAYS.index(d) + 1 for d in (sched.days if sched else WEEKDAYS)]
        rows.append(
            f"({cidx}, {sql_literal(c.id)}, {sql_literal(c.channel)}, {c.priority}, {sql_literal(c.message_type)}, {sql_literal(c.subscription_group)}, "
            f"{sql_literal(c.template_id)}, {c.cooldown_days}, {c.holdout_share}, {sql_literal('moment' if moment else 'schedule')}, "
            f"{sql_literal(moment.moment) if moment else 'NULL'}, {moment.within_days if moment else 'NULL'}, "
            f"TIME '{hhmm_to_time((sched or moment).time)}', {days}, "
            f"{sql_literal(str(c.start_date)) + '::DATE' if c.start_date else 'NULL::DATE'}, "
            f"{sql_literal(str(c.end_date)) + '::DATE' if c.end_date else 'NULL::DATE'}, "
            f"{sql_literal(consent.consent_channel)}, {sql_list(consent.allowed_states)}, "
            f"{sql_list(consent.transactional_allowed_states)}, {sql_literal(c.objective)})"
        )
    # one row per campaign of the plan (cidx: its index in `campaign_ids`), its trigger and consent rule as columns
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _plan_campaigns (cidx INTEGER, campaign_id VARCHAR, channel VARCHAR, "
        "priority INTEGER, mtype VARCHAR, subscription_group VARCHAR, template_id VARCHAR, cooldown_days INTEGER, "
        "holdout_share DOUBLE, trigger_kind VARCHAR, moment VARCHAR, within_days INTEGER, send_time TIME, "
        "days INTEGER[], start_date DATE, end_date DATE, consent_channel VARCHAR, allowed_states VARCHAR[], "
        "trans_allowed_states VARCHAR[], objective VARCHAR)"
    )
    if rows:
        con.execute("INSERT INTO _plan_campaigns VALUES " + ", ".join(rows))
    var_rows = [
        f"({cidx}, {sql_literal(persona)}, {sql_literal(template)})"
        for cidx, cid in enumerate(campaign_ids)
        if cid in by_id
        for persona, template in by_id[cid].variants.items()
    ]
    # one row per (campaign, persona) with its own template
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _plan_campaign_variants (cidx INTEGER, persona VARCHAR, template_id VARCHAR)"
    )
    if var_rows:
        con.execute("INSERT INTO _plan_campaign_variants VALUES " + ", ".join(var_rows))

    # one row per frequency cap of contact_rules.yaml (ord: its bit in the cap masks)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _plan_frequency_caps (cap_id VARCHAR, ord INTEGER, channels VARCHAR[], max_count INTEGER, "
        "kind VARCHAR, hours INTEGER, count_m BOOLEAN, count_t BOOLEAN, exempt VARCHAR[], descr VARCHAR)"
    )
    cap_rows = [
        f"({sql_literal(cap.id)}, {i}, {sql_list(cap.channels) if cap.channels else 'NULL'}, {cap.max}, {sql_literal(cap.window.kind)}, "
        f"{cap.window.hours or 'NULL'}, {'marketing' in cap.counts}, {'transactional' in cap.counts}, "
        f"{sql_list(cap.exempt_campaigns)}, {sql_literal(cap.window.describe())})"
        for i, cap in enumerate(rules.caps)
    ]
    if cap_rows:
        con.execute("INSERT INTO _plan_frequency_caps VALUES " + ", ".join(cap_rows))
    # one row per (campaign, cap) where the cap applies (channel in scope, message type counted, not exempt)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _plan_campaign_caps AS
        SELECT campaign.cidx, cap.cap_id, cap.ord, cap.max_count, cap.kind, cap.hours, cap.count_m, cap.count_t,
               cap.channels
        FROM _plan_campaigns AS campaign JOIN _plan_frequency_caps AS cap
          ON (cap.channels IS NULL OR list_contains(cap.channels, campaign.channel))
         AND ((campaign.mtype = 'marketing' AND cap.count_m) OR (campaign.mtype = 'transactional' AND cap.count_t))
         AND NOT list_contains(cap.exempt, campaign.campaign_id)
    """)
    # one row per channel with a daily send capacity
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _plan_channel_capacity (channel VARCHAR, cap_id VARCHAR, daily_limit INTEGER)"
    )
    if rules.capacity:
        con.execute(
            "INSERT INTO _plan_channel_capacity VALUES "
            + ", ".join(
                f"({sql_literal(k.channel)}, {sql_literal(k.id)}, {k.daily_limit})" for k in rules.capacity
            )
        )


def _quiet_sql(rules: ContactRulesConfig, local: str, mtype: str, channel: str) -> tuple[str, str]:
    """SQL for (moved local timestamp, was it moved) out of quiet hours and disallowed days."""
    qh = rules.quiet_hours
    if qh is None:
        return local, "false"
    start, end = hhmm_to_time(qh.start), hhmm_to_time(qh.end)
    applies = f"({mtype} = 'marketing'" + (
        f" AND list_contains({sql_list(qh.channels)}, {channel}))" if qh.channels else ")"
    )
    tod = f"CAST({local} AS TIME)"
    day = f"CAST({local} AS DATE)"
    if start > end:  # overnight quiet hours, e.g. 20:00-08:00
        moved = (
            f"CASE WHEN {tod} >= TIME '{start}' THEN ({day} + 1) + TIME '{end}' "
            f"WHEN {tod} < TIME '{end}' THEN {day} + TIME '{end}' ELSE {local} END"
        )
    elif start < end:  # daytime quiet hours, e.g. 12:00-14:00
        moved = f"CASE WHEN {tod} >= TIME '{start}' AND {tod} < TIME '{end}' THEN {day} + TIME '{end}' ELSE {local} END"
    else:
        moved = local
    allowed = [WEEKDAYS.index(d) + 1 for d in qh.allowed_days]
    # next allowed weekday, keeping the time of day (0..6 days later)
    shifted = (
        f"(({moved}) + INTERVAL 1 DAY * (SELECT min(n) FROM range(0, 7) r(n) "
        f"WHERE list_contains({allowed}, isodow(CAST(({moved}) AS DATE) + CAST(n AS INTEGER)))))"
    )
    expr = f"CASE WHEN {applies} THEN {shifted} ELSE {local} END"
    return expr, f"({expr}) <> {local}"


# ---------------------------------------------------------------- candidates for a plan


def build_plan_candidates(
    con: duckdb.DuckDBPyConnection, strategy: Strategy, as_of: datetime, campaign_ids: list[str]
) -> None:
    """Create _plan_slot_grid (slots per campaign/time zone/day) and _plan_candidates (one row per candidate)."""
    rules = strategy.rules
    horizon = rules.horizon_days
    by_id = strategy.campaigns.by_id()
    wheres = [
        compile_audience(
            by_id[cid].audience, f"{strategy.campaigns_path}: campaigns[{cidx}].audience ({cid})"
        )
        for cidx, cid in enumerate(campaign_ids)
    ]

    # Slot grid, one row per slot (campaign x time zone x local day); all time-zone arithmetic happens on this
    # small table.
    local_expr, moved_expr = _quiet_sql(rules, "due.due_local", "due.mtype", "due.channel")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _plan_slot_grid AS
        WITH zones AS (SELECT DISTINCT time_zone AS tz FROM _plan_customers),
        campaign_zone_days AS (
            SELECT campaign.cidx, campaign.mtype, campaign.channel, campaign.trigger_kind, campaign.days,
                   campaign.start_date, campaign.end_date, zones.tz,
                   CAST(timezone(zones.tz, CAST(getvariable('touchplan_as_of') AS TIMESTAMP) AT TIME ZONE 'UTC') AS DATE)
                       AS day0,
                   timezone(zones.tz, CAST(getvariable('touchplan_as_of') AS TIMESTAMP) AT TIME ZONE 'UTC') AS now_local,
                   campaign.send_time, horizon.day_offset
            FROM _plan_campaigns AS campaign CROSS JOIN zones
            CROSS JOIN range(0, {horizon} + 1) AS horizon(day_offset)
        ),
        scheduled_days AS (
            SELECT *, (day0 + CAST(day_offset AS INTEGER)) + send_time AS due_local FROM campaign_zone_days
            WHERE list_contains(days, isodow(day0 + CAST(day_offset AS INTEGER)))
        ),
        due_times AS (
            -- a moment trigger due today after its send time goes out at the next allowed time from now
            SELECT cidx, mtype, channel, tz, start_date, end_date, day0,
                   CASE WHEN due_local < now_local AND trigger_kind = 'moment' AND day_offset = 0
                        THEN date_trunc('minute', now_local) + INTERVAL 1 MINUTE ELSE due_local END AS due_local
            FROM scheduled_days
        ),
        moved AS (
            SELECT due.cidx, due.tz, due.day0, due.start_date, due.end_date, due.due_local,
                   {local_expr} AS local_ts, {moved_expr} AS was_moved
            FROM due_times AS due
        ),
        slots AS (
            -- a local time that does not exist (the hour skipped at a DST change) is the wall-clock time of
            -- the same instant: 01:30 on the night clocks go 01:00 -> 02:00 is sent at 02:30 local
            SELECT cidx, tz, day0, due_local, timezone(tz, timezone(tz, local_ts)) AS local_ts, was_moved,
                   timezone(tz, due_local) AS due_at, timezone(tz, local_ts) AS slot_at
            FROM moved
            WHERE (start_date IS NULL OR CAST(local_ts AS DATE) >= start_date)
              AND (end_date IS NULL OR CAST(local_ts AS DATE) <= end_date)
        )
        SELECT cidx, tz,
               date_diff('day', day0, CAST(local_ts AS DATE)) AS slot_day,
               min(due_at) AS due_at, slot_at, local_ts, bool_and(was_moved) AS was_moved,
               CAST(local_ts AS DATE) AS day_key, CAST(date_trunc('week', local_ts) AS DATE) AS week_key,
               CAST(date_trunc('month', local_ts) AS DATE) AS month_key,
               CAST(timezone({sql_literal(rules.default_time_zone)}, slot_at) AS DATE) AS cap_day
        FROM slots
        WHERE slot_at >= CAST(getvariable('touchplan_as_of') AS TIMESTAMP) AT TIME ZONE 'UTC'
          AND slot_at < (CAST(getvariable('touchplan_as_of') AS TIMESTAMP) + INTERVAL {horizon} DAY) AT TIME ZONE 'UTC'
        GROUP BY ALL
    """)
    # keep one slot per candidate and local day (the earliest)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _plan_slot_grid AS
        SELECT dense_rank() OVER (ORDER BY cidx, tz) AS slot_group, * FROM _plan_slot_grid
        QUALIFY row_number() OVER (PARTITION BY cidx, tz, slot_day ORDER BY slot_at) = 1
    """)
    _build_candidates(con, strategy, campaign_ids, wheres)


def _build_candidates(
    con: duckdb.DuckDBPyConnection, strategy: Strategy, campaign_ids: list[str], wheres: list[str]
) -> None:
    """_plan_candidates: one row per (customer, campaign) whose audience and trigger match, with the eligibility outcome.

    Everything per customer is computed once into one wide row (`_plan_customer_facts`: the customer model plus consent state
    per consent class, suppression reason per class, latest moment per moment, last send per cooldown campaign,
    global holdout); each campaign is then one filtered scan of it, with the campaign's attributes as literals.
    No join runs over the (customer x campaign) pairs except the tiny (time zone -> slot group) lookup."""
    rules = strategy.rules
    by_id = strategy.campaigns.by_id()
    camps = [by_id[cid] for cid in campaign_ids]
    hold = rules.holdout
    salt = hold.salt if hold else "touchplan"
    sup = rules.suppression
    consent_classes = sorted(
        {(rules.consent_for(c.channel).consent_channel, c.subscription_group) for c in camps}
    )
    suppression_classes = sorted(
        {(rules.consent_for(c.channel).consent_channel, c.message_type) for c in camps}
    )
    moments = sorted({c.trigger.moment.moment for c in camps if c.trigger.moment})
    cools = [i for i, c in enumerate(camps) if c.cooldown_days > 0]
    sup_reasons, all_reasons = sql_list(sup.reasons), sql_list(sup.all_channel_reasons)
    cons_cols = [
        f"any_value(consent_state) FILTER (WHERE channel = {sql_literal(ch)} AND subscription_group = {sql_literal(g)}) AS consent_state_{i}"
        for i, (ch, g) in enumerate(consent_classes)
    ] + [
        f"""arg_min(coalesce(reason, consent_state), channel) FILTER (WHERE (channel = {sql_literal(ch)}
              AND (consent_state = 'suppressed' OR (reason IS NOT NULL AND list_contains({sup_reasons}, reason)
                   AND consent_state <> 'subscribed' AND {sql_literal(mt)} = 'marketing')))
              OR (reason IS NOT NULL AND list_contains({all_reasons}, reason))) AS suppression_reason_{i}"""
        for i, (ch, mt) in enumerate(suppression_classes)
    ]
    joins = [
        f"LEFT JOIN (SELECT customer_id, {', '.join(cons_cols)} FROM _plan_consent GROUP BY ALL) AS consent"
        " USING (customer_id)"
    ]
    cols = [f"consent.consent_state_{i}" for i in range(len(consent_classes))] + [
        f"consent.suppression_reason_{i}" for i in range(len(suppression_classes))
    ]
    if moments:
        m_cols = ", ".join(
            f"max(occurred_at) FILTER (WHERE moment = {sql_literal(m)}) AS last_moment_{i}"
            for i, m in enumerate(moments)
        )
        joins.append(
            f"LEFT JOIN (SELECT customer_id, {m_cols} FROM _plan_moments "
            "WHERE occurred_at <= getvariable('touchplan_as_of') GROUP BY ALL) AS moments USING (customer_id)"
        )
        cols += [f"moments.last_moment_{i}" for i in range(len(moments))]
    if cools:
        c_cols = ", ".join(
            f"max(occurred_at) FILTER (WHERE campaign_id = {sql_literal(camps[i].id)}) AS last_sent_{i}"
            for i in cools
        )
        joins.append(
            f"LEFT JOIN (SELECT customer_id, {c_cols} FROM _plan_contact_history GROUP BY ALL) AS sends"
            " USING (customer_id)"
        )
        cols += [f"sends.last_sent_{i}" for i in cools]
    hold_sql = (
        f"(('0x' || substr(md5(customer.customer_id || ':' || {sql_literal(hold.salt)}), 1, 8))::UBIGINT % 10000) "
        f"< {round(hold.share * 10000)}"
        if hold and hold.share > 0
        else "false"
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _plan_customer_facts AS
        SELECT customer.*, {hold_sql} AS global_held, {", ".join(cols)}
        FROM _plan_customers AS customer {" ".join(joins)}
    """)
    # one row per (campaign, time zone): its slot group
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _plan_zone_slot_groups AS SELECT DISTINCT slot_group, cidx, tz FROM _plan_slot_grid"
    )
    selects = []
    for cidx, (c, where) in enumerate(zip(camps, wheres, strict=True)):
        consent = rules.consent_for(c.channel)
        marketing = c.message_type == "marketing"
        allowed = sql_list(consent.allowed_states if marketing else consent.transactional_allowed_states)
        state = f"coalesce(customer.consent_state_{consent_classes.index((consent.consent_channel, c.subscription_group))}, 'unknown')"
        sup_reason = f"customer.suppression_reason_{suppression_classes.index((consent.consent_channel, c.message_type))}"
        camp_held = (
            f"((('0x' || substr(md5(customer.customer_id || ':' || {sql_literal(salt)} || ':' || {sql_literal(c.id)}), 1, 8))::UBIGINT"
            f" % 10000) < {round(c.holdout_share * 10000)})"
            if c.holdout_share > 0
            else "false"
        )
        g_held = "customer.global_held" if marketing else "false"
        c_held = camp_held if marketing else "false"
        cool = (
            f"(customer.last_sent_{cidx} > getvariable('touchplan_as_of') - INTERVAL {c.cooldown_days} DAY)"
            if c.cooldown_days > 0
            else "false"
        )
        cool_ev = (
            f"WHEN {cool} THEN to_json({{'last_sent_at': customer.last_sent_{cidx}, 'cooldown_days': {c.cooldown_days}}})"
            if c.cooldown_days > 0
            else ""
        )
        # an all-channel suppression (erased, do_not_contact) comes before consent: whatever the person's consent
        # on this channel, the reason shown is the suppression
        no_consent = (
            f"(NOT list_contains({allowed}, {state}) AND {state} <> 'suppressed'"
            f" AND NOT coalesce(list_contains({all_reasons}, {sup_reason}), false))"
        )
        moment = c.trigger.moment
        if moment:
            m_col = f"customer.last_moment_{moments.index(moment.moment)}"
            moment_at = f"CASE WHEN {m_col} >= getvariable('touchplan_as_of') - INTERVAL {moment.within_days} DAY THEN {m_col} END"
            trigger = f"AND {m_col} >= getvariable('touchplan_as_of') - INTERVAL {moment.within_days} DAY"
            deadline = f"({m_col} + INTERVAL {moment.within_days} DAY) AT TIME ZONE 'UTC'"
        else:
            moment_at, trigger, deadline = "NULL::TIMESTAMP", "", "NULL::TIMESTAMPTZ"
        selects.append(f"""
            SELECT (CAST({cidx} AS BIGINT) << 32) + customer.cno AS cand_id, customer.cno, {cidx} AS cidx,
                   zone_group.slot_group,
                   {deadline} AS deadline,
                   CASE WHEN {no_consent} THEN 'no_consent' WHEN {sup_reason} IS NOT NULL THEN 'suppressed'
                        WHEN {g_held} OR {c_held} THEN 'held_out' WHEN {cool} THEN 'cooldown' END AS pre_outcome,
                   CASE WHEN {no_consent} THEN 'consent_' || {state}
                        WHEN {sup_reason} IS NOT NULL THEN 'suppressed_' || {sup_reason}
                        WHEN {g_held} THEN 'global_holdout' WHEN {c_held} THEN 'campaign_holdout'
                        WHEN {cool} THEN 'cooldown_{c.cooldown_days}d' END AS pre_reason,
                   CASE WHEN {no_consent} THEN {sql_literal("consent." + c.channel)}
                        WHEN {sup_reason} IS NOT NULL THEN {sql_literal(sup.id)}
                        WHEN {g_held} THEN {sql_literal(hold.id if hold else "global_holdout")}
                        WHEN {c_held} THEN {sql_literal("holdout." + c.id)}
                        WHEN {cool} THEN {sql_literal("cooldown." + c.id)} END AS pre_rule,
                   CASE WHEN {no_consent} THEN to_json({{'consent_state': {state}, 'allowed': {allowed}}})
                        WHEN {sup_reason} IS NOT NULL THEN to_json({{'suppression_reason': {sup_reason}}})
                        WHEN {g_held} OR {c_held} THEN to_json({{'global': {g_held}, 'campaign': {c_held}}})
                        {cool_ev}
                   END AS pre_evidence,
                   {moment_at} AS moment_at
            FROM _plan_customer_facts AS customer
            LEFT JOIN (SELECT tz, slot_group FROM _plan_zone_slot_groups WHERE cidx = {cidx}) AS zone_group
              ON zone_group.tz = customer.time_zone
            WHERE {where} {trigger}""")
    # one row per candidate (customer, campaign), narrow: keys, slot group, eligibility outcome; the view adds the
    # customer and campaign columns (not stored once per pair)
    con.execute("CREATE OR REPLACE TEMP TABLE _plan_candidate_keys AS " + " UNION ALL ".join(selects))
    if con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = '_plan_candidates'").fetchone()[
        0
    ]:
        con.execute("DROP TABLE _plan_candidates")  # a backtest on this connection left a table of that name
    con.execute("""
        CREATE OR REPLACE TEMP VIEW _plan_candidates AS
        SELECT cand.*, customer.customer_id, customer.time_zone AS tz, campaign.mtype, campaign.priority,
               campaign.campaign_id, campaign.channel
        FROM _plan_candidate_keys AS cand JOIN _plan_customers AS customer USING (cno)
        JOIN _plan_campaigns AS campaign USING (cidx)
    """)


# ---------------------------------------------------------------- outputs


def _outcome_sql(candidate: str, arbitrated: str) -> str:
    """The outcome of a candidate (alias `candidate`) given its arbitration row (alias `arbitrated`)."""
    return f"""CASE WHEN {candidate}.pre_outcome IS NOT NULL THEN {candidate}.pre_outcome
                    WHEN {arbitrated}.status = 'planned' THEN 'planned'
                    WHEN {arbitrated}.blk_outcome IS NOT NULL THEN {arbitrated}.blk_outcome
                    ELSE 'deferred' END"""


# contact_decisions is written from two sources with the same columns, so no join runs between the ~18M
# candidates and the ~16M arbitrated rows at 1M customers: the candidates decided before arbitration (consent,
# suppression, holdout, cooldown) or without a slot, and the arbitrated ones (_plan_arbitrated_evidence)
_DECISION_SOURCES = (
    """(SELECT cand.*, NULL::VARCHAR AS status, NULL::TIMESTAMPTZ AS slot_at, NULL::TIMESTAMP AS local_ts,
               NULL::BOOLEAN AS was_moved, NULL::VARCHAR AS blk_outcome, NULL::VARCHAR AS blk_reason,
               NULL::VARCHAR AS blk_rule, NULL::JSON AS blk_evidence
        FROM _plan_candidates AS cand WHERE cand.pre_outcome IS NOT NULL OR cand.slot_group IS NULL)""",
    """(SELECT arbitrated.*, customer.customer_id, customer.time_zone AS tz, campaign.campaign_id, campaign.channel,
               campaign.priority, campaign.mtype,
               NULL::VARCHAR AS pre_outcome, NULL::VARCHAR AS pre_reason, NULL::VARCHAR AS pre_rule,
               NULL::JSON AS pre_evidence
        FROM _plan_arbitrated_evidence AS arbitrated JOIN _plan_customers AS customer ON customer.cno = arbitrated.cno
        JOIN _plan_campaigns AS campaign ON campaign.cidx = arbitrated.cidx)""",
)


def _decisions_sql(plan_run_id: str, version: str, created_at: datetime, source: str) -> str:
    return f"""
        SELECT {sql_literal(plan_run_id)} AS plan_run_id, decision.customer_id, decision.campaign_id, decision.channel,
               {_outcome_sql("decision", "decision")} AS outcome,
               CASE WHEN decision.pre_outcome IS NOT NULL THEN decision.pre_reason
                    WHEN decision.status = 'planned' AND decision.blk_outcome IS NOT NULL THEN 'retried_after_' || decision.blk_outcome
                    WHEN decision.status = 'planned' AND decision.was_moved THEN 'quiet_hours'
                    WHEN decision.status = 'planned' THEN 'due'
                    WHEN decision.blk_outcome IS NOT NULL THEN decision.blk_reason
                    ELSE 'no_allowed_time_in_horizon' END AS reason_code,
               CASE WHEN decision.pre_outcome IS NOT NULL THEN decision.pre_rule
                    WHEN decision.status = 'planned' AND decision.blk_outcome IS NOT NULL THEN decision.blk_rule
                    WHEN decision.status = 'planned' AND decision.was_moved THEN 'quiet_hours'
                    WHEN decision.status = 'planned' THEN NULL
                    WHEN decision.blk_outcome IS NOT NULL THEN decision.blk_rule
                    ELSE 'horizon' END AS rule_id,
               {sql_literal(version)} AS rules_version,
               CASE WHEN decision.pre_outcome IS NOT NULL THEN decision.pre_evidence
                    WHEN decision.status = 'planned' THEN to_json({{'scheduled_at': decision.slot_at, 'local': decision.local_ts,
                         'time_zone': decision.tz, 'first_block': decision.blk_evidence}})
                    WHEN decision.blk_outcome IS NOT NULL THEN decision.blk_evidence
                    ELSE to_json({{'time_zone': decision.tz, 'deadline': decision.deadline}}) END AS evidence,
               decision.priority, decision.mtype AS message_type,
               timezone('UTC', first_due.due_at) AS due_at,
               timezone('UTC', decision.slot_at) AS scheduled_at, TIMESTAMP '{naive_utc(created_at)}' AS created_at
        FROM {source} AS decision
        LEFT JOIN (SELECT slot_group, min(due_at) AS due_at FROM _plan_slot_grid GROUP BY slot_group) AS first_due
          ON first_due.slot_group = decision.slot_group
    """


def plan_run_id_for(as_of: datetime, version: str, created_at: datetime) -> str:
    digest = hashlib.sha256(f"{naive_utc(as_of)}|{version}|{naive_utc(created_at)}".encode()).hexdigest()[:10]
    return f"{naive_utc(created_at):%Y%m%dT%H%M%S}-{digest}"


def ensure_output_tables(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in OUTPUT_DDL.values():
        con.execute(ddl)


def run_plan(
    con: duckdb.DuckDBPyConnection,
    strategy: Strategy,
    as_of: datetime,
    *,
    created_at: datetime | None = None,
    write: bool = True,
) -> PlanResult:
    """Plan the horizon after `as_of` and append the run to the output tables (unless write=False: then the
    decisions stay in the temporary table _plan_decisions)."""
    created_at = created_at or datetime.now(UTC)
    version = strategy.rules_version
    plan_run_id = plan_run_id_for(as_of, version, created_at)
    campaign_ids = [c.id for c in strategy.campaigns.campaigns]
    max_cool = max((c.cooldown_days for c in strategy.campaigns.campaigns), default=0)
    types = {c.id: c.message_type for c in strategy.campaigns.campaigns}
    missing = prepare_inputs(con, strategy.rules, types, as_of, max_cool)
    load_rule_tables(con, strategy.campaigns, strategy.rules, campaign_ids)
    build_plan_candidates(con, strategy, as_of, campaign_ids)
    arbitrate(con, strategy.rules, candidates="_plan_candidate_keys")
    # outcome counts from the narrow columns; the decisions (with their evidence JSON) are written once, below
    # one row per (campaign, outcome): how many candidates
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _plan_outcome_counts AS
        SELECT campaign.campaign_id, {_outcome_sql("cand", "arbitrated")} AS outcome, count(*) AS n
        FROM _plan_candidate_keys AS cand LEFT JOIN _plan_arbitrated AS arbitrated USING (cand_id)
        JOIN _plan_campaigns AS campaign ON campaign.cidx = cand.cidx GROUP BY ALL
    """)
    # one row per planned contact: the rows of contact_plan
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _plan_planned_contacts AS
        SELECT {sql_literal(plan_run_id)} AS plan_run_id, cand.customer_id, cand.campaign_id, cand.channel,
               coalesce(variant.template_id, campaign.template_id) AS template_id,
               CASE WHEN variant.template_id IS NOT NULL THEN variant.persona ELSE 'default' END AS variant,
               timezone('UTC', arbitrated.slot_at) AS scheduled_at, arbitrated.local_ts AS scheduled_local,
               cand.tz AS time_zone, {sql_literal(version)} AS rules_version, cand.mtype AS message_type,
               campaign.subscription_group, cand.priority, campaign.objective,
               TIMESTAMP '{naive_utc(created_at)}' AS created_at
        FROM _plan_candidates AS cand JOIN _plan_arbitrated AS arbitrated USING (cand_id)
        JOIN _plan_campaigns AS campaign ON campaign.cidx = cand.cidx
        JOIN _plan_customers AS customer ON customer.cno = cand.cno
        LEFT JOIN _plan_campaign_variants AS variant
          ON variant.cidx = cand.cidx AND variant.persona = customer.persona
        WHERE arbitrated.status = 'planned'
    """)
    # one row per campaign: the candidates left after each stage (the rows of campaign_waterfall)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _plan_waterfall AS
        WITH stage_counts AS (SELECT campaign_id,
                sum(n) AS eligible,
                sum(n) FILTER (WHERE outcome = 'no_consent') AS no_consent,
                sum(n) FILTER (WHERE outcome = 'suppressed') AS suppressed,
                sum(n) FILTER (WHERE outcome = 'held_out') AS held_out,
                sum(n) FILTER (WHERE outcome IN ('cooldown', 'capped', 'gap')) AS caps,
                sum(n) FILTER (WHERE outcome IN ('lost_priority', 'over_capacity', 'deferred')) AS arbitration,
                sum(n) FILTER (WHERE outcome = 'planned') AS planned,
                sum(n) FILTER (WHERE outcome = 'deferred') AS deferred
              FROM _plan_outcome_counts GROUP BY campaign_id)
        SELECT {sql_literal(plan_run_id)} AS plan_run_id, campaign.campaign_id,
               coalesce(eligible, 0) AS eligible,
               coalesce(eligible, 0) - coalesce(no_consent, 0) AS after_consent,
               coalesce(eligible, 0) - coalesce(no_consent, 0) - coalesce(suppressed, 0) AS after_suppression,
               coalesce(eligible, 0) - coalesce(no_consent, 0) - coalesce(suppressed, 0) - coalesce(held_out, 0)
                   AS after_holdout,
               coalesce(eligible, 0) - coalesce(no_consent, 0) - coalesce(suppressed, 0) - coalesce(held_out, 0)
                   - coalesce(caps, 0) AS after_caps,
               coalesce(eligible, 0) - coalesce(no_consent, 0) - coalesce(suppressed, 0) - coalesce(held_out, 0)
                   - coalesce(caps, 0) - coalesce(arbitration, 0) AS after_arbitration,
               coalesce(planned, 0) AS planned, coalesce(deferred, 0) AS deferred, {sql_literal(version)} AS rules_version
        FROM _plan_campaigns AS campaign LEFT JOIN stage_counts USING (campaign_id) ORDER BY campaign.cidx
    """)
    counts = dict(con.execute("SELECT outcome, sum(n) FROM _plan_outcome_counts GROUP BY outcome").fetchall())
    total = sum(counts.values())
    planned = con.execute("SELECT count(*) FROM _plan_planned_contacts").fetchone()[0]
    cols = [d[0] for d in con.execute("SELECT * FROM _plan_waterfall").description]
    waterfall = [
        dict(zip(cols, row, strict=True)) for row in con.execute("SELECT * FROM _plan_waterfall").fetchall()
    ]
    result = PlanResult(
        plan_run_id=plan_run_id,
        rules_version=version,
        as_of=as_of,
        candidates=total,
        planned=planned,
        outcome_counts={k: int(counts.get(k, 0)) for k in OUTCOMES},
        waterfall=waterfall,
        missing_inputs=missing,
    )
    decisions = [_decisions_sql(plan_run_id, version, created_at, src) for src in _DECISION_SOURCES]
    if not write:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _plan_decisions AS {' UNION ALL '.join(decisions)}")
    else:
        ensure_output_tables(con)
        for sql in decisions:
            con.execute(f"INSERT INTO contact_decisions BY NAME {sql}")
        con.execute("INSERT INTO contact_plan BY NAME SELECT * FROM _plan_planned_contacts")
        con.execute("INSERT INTO campaign_waterfall BY NAME SELECT * FROM _plan_waterfall")
        con.execute(
            "INSERT INTO plan_runs BY NAME SELECT ? AS plan_run_id, ? AS created_at, ? AS as_of, ? AS rules_version, "
            "? AS horizon_days, ? AS candidates, ? AS planned, ? AS outcome_counts, ? AS missing_inputs, 'plan' AS kind",
            [
                plan_run_id, naive_utc(created_at), naive_utc(as_of), version, strategy.rules.horizon_days,
                total, planned, json.dumps(result.outcome_counts), missing,
            ],
        )  # fmt: skip
    return result


def latest_runs(con: duckdb.DuckDBPyConnection, n: int = 2) -> list[str]:
    rows = con.execute(
        "SELECT plan_run_id FROM plan_runs WHERE kind = 'plan' ORDER BY created_at DESC, plan_run_id DESC LIMIT ?",
        [n],
    ).fetchall()
    return [r[0] for r in rows]


__all__ = ["OUTCOMES", "PlanResult", "arbitrate", "run_plan", "latest_runs", "rules_version"]
