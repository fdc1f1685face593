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
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _plan_campaign_variants (cidx INTEGER, persona VARCHAR, template_id VARCHAR)"
    )
    if var_rows:
        con.execute("INSERT INTO _plan_campaign_variants VALUES " + ", ".join(var_rows))

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
    # Which caps apply to which campaign (channel in scope, message type counted, campaign not exempt).
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _plan_campaign_caps AS
        SELECT c.cidx, k.cap_id, k.ord, k.max_count, k.kind, k.hours, k.count_m, k.count_t, k.channels
        FROM _plan_campaigns c JOIN _plan_frequency_caps k
          ON (k.channels IS NULL OR list_contains(k.channels, c.channel))
         AND ((c.mtype = 'marketing' AND k.count_m) OR (c.mtype = 'transactional' AND k.count_t))
         AND NOT list_contains(k.exempt, c.campaign_id)
    """)
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

    # Slot grid: per campaign x time zone x local day; all time-zone arithmetic happens on this small table.
    local_expr, moved_expr = _quiet_sql(rules, "g.due_local", "g.mtype", "g.channel")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _plan_slot_grid AS
        WITH zones AS (SELECT DISTINCT time_zone AS tz FROM _plan_customers),
        base AS (
            SELECT c.cidx, c.mtype, c.channel, c.trigger_kind, c.days, c.start_date, c.end_date, z.tz,
                   CAST(timezone(z.tz, CAST(getvariable('touchplan_as_of') AS TIMESTAMP) AT TIME ZONE 'UTC') AS DATE)
                       AS day0,
                   timezone(z.tz, CAST(getvariable('touchplan_as_of') AS TIMESTAMP) AT TIME ZONE 'UTC') AS now_local,
                   c.send_time, d.k
            FROM _plan_campaigns c CROSS JOIN zones z CROSS JOIN range(0, {horizon} + 1) d(k)
        ),
        g AS (
            SELECT *, (day0 + CAST(k AS INTEGER)) + send_time AS due_local FROM base
            WHERE list_contains(days, isodow(day0 + CAST(k AS INTEGER)))
        ),
        g2 AS (
            -- a moment trigger due today after its send time goes out at the next allowed time from now
            SELECT cidx, mtype, channel, tz, start_date, end_date, day0,
                   CASE WHEN due_local < now_local AND trigger_kind = 'moment' AND k = 0
                        THEN date_trunc('minute', now_local) + INTERVAL 1 MINUTE ELSE due_local END AS due_local
            FROM g
        ),
        moved AS (
            SELECT g.cidx, g.tz, g.day0, g.start_date, g.end_date, g.due_local,
                   {local_expr} AS local_ts, {moved_expr} AS was_moved
            FROM g2 g
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
    st_classes = sorted({(rules.consent_for(c.channel).consent_channel, c.subscription_group) for c in camps})
    sp_classes = sorted({(rules.consent_for(c.channel).consent_channel, c.message_type) for c in camps})
    moments = sorted({c.trigger.moment.moment for c in camps if c.trigger.moment})
    cools = [i for i, c in enumerate(camps) if c.cooldown_days > 0]
    sup_reasons, all_reasons = sql_list(sup.reasons), sql_list(sup.all_channel_reasons)
    cons_cols = [
        f"any_value(consent_state) FILTER (WHERE channel = {sql_literal(ch)} AND subscription_group = {sql_literal(g)}) AS st_{i}"
        for i, (ch, g) in enumerate(st_classes)
    ] + [
        f"""arg_min(coalesce(reason, consent_state), channel) FILTER (WHERE (channel = {sql_literal(ch)}
              AND (consent_state = 'suppressed' OR (reason IS NOT NULL AND list_contains({sup_reasons}, reason)
                   AND consent_state <> 'subscribed' AND {sql_literal(mt)} = 'marketing')))
              OR (reason IS NOT NULL AND list_contains({all_reasons}, reason))) AS sp_{i}"""
        for i, (ch, mt) in enumerate(sp_classes)
    ]
    joins = [
        f"LEFT JOIN (SELECT customer_id, {', '.join(cons_cols)} FROM _plan_consent GROUP BY ALL) k USING (customer_id)"
    ]
    cols = [f"k.st_{i}" for i in range(len(st_classes))] + [f"k.sp_{i}" for i in range(len(sp_classes))]
    if moments:
        m_cols = ", ".join(
            f"max(occurred_at) FILTER (WHERE moment = {sql_literal(m)}) AS m_{i}"
            for i, m in enumerate(moments)
        )
        joins.append(
            f"LEFT JOIN (SELECT customer_id, {m_cols} FROM _plan_moments "
            "WHERE occurred_at <= getvariable('touchplan_as_of') GROUP BY ALL) m USING (customer_id)"
        )
        cols += [f"m.m_{i}" for i in range(len(moments))]
    if cools:
        c_cols = ", ".join(
            f"max(occurred_at) FILTER (WHERE campaign_id = {sql_literal(camps[i].id)}) AS cool_{i}"
            for i in cools
        )
        joins.append(
            f"LEFT JOIN (SELECT customer_id, {c_cols} FROM _plan_contact_history GROUP BY ALL) h USING (customer_id)"
        )
        cols += [f"h.cool_{i}" for i in cools]
    hold_sql = (
        f"(('0x' || substr(md5(c.customer_id || ':' || {sql_literal(hold.salt)}), 1, 8))::UBIGINT % 10000) "
        f"< {round(hold.share * 10000)}"
        if hold and hold.share > 0
        else "false"
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _plan_customer_facts AS
        SELECT c.*, {hold_sql} AS global_held, {", ".join(cols)}
        FROM _plan_customers c {" ".join(joins)}
    """)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _plan_zone_slot_groups AS SELECT DISTINCT slot_group, cidx, tz FROM _plan_slot_grid"
    )
    selects = []
    for cidx, (c, where) in enumerate(zip(camps, wheres, strict=True)):
        consent = rules.consent_for(c.channel)
        marketing = c.message_type == "marketing"
        allowed = sql_list(consent.allowed_states if marketing else consent.transactional_allowed_states)
        state = (
            f"coalesce(c.st_{st_classes.index((consent.consent_channel, c.subscription_group))}, 'unknown')"
        )
        sup_reason = f"c.sp_{sp_classes.index((consent.consent_channel, c.message_type))}"
        camp_held = (
            f"((('0x' || substr(md5(c.customer_id || ':' || {sql_literal(salt)} || ':' || {sql_literal(c.id)}), 1, 8))::UBIGINT"
            f" % 10000) < {round(c.holdout_share * 10000)})"
            if c.holdout_share > 0
            else "false"
        )
        g_held = "c.global_held" if marketing else "false"
        c_held = camp_held if marketing else "false"
        cool = (
            f"(c.cool_{cidx} > getvariable('touchplan_as_of') - INTERVAL {c.cooldown_days} DAY)"
            if c.cooldown_days > 0
            else "false"
        )
        cool_ev = (
            f"WHEN {cool} THEN to_json({{'last_sent_at': c.cool_{cidx}, 'cooldown_days': {c.cooldown_days}}})"
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
            m_col = f"c.m_{moments.index(moment.moment)}"
            moment_at = f"CASE WHEN {m_col} >= getvariable('touchplan_as_of') - INTERVAL {moment.within_days} DAY THEN {m_col} END"
            trigger = f"AND {m_col} >= getvariable('touchplan_as_of') - INTERVAL {moment.within_days} DAY"
            deadline = f"({m_col} + INTERVAL {moment.within_days} DAY) AT TIME ZONE 'UTC'"
        else:
            moment_at, trigger, deadline = "NULL::TIMESTAMP", "", "NULL::TIMESTAMPTZ"
        selects.append(f"""
            SELECT (CAST({cidx} AS BIGINT) << 32) + c.cno AS cand_id, c.cno, {cidx} AS cidx, g.slot_group,
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
            FROM _plan_customer_facts c LEFT JOIN (SELECT tz, slot_group FROM _plan_zone_slot_groups WHERE cidx = {cidx}) g
              ON g.tz = c.time_zone
            WHERE {where} {trigger}""")
    # narrow table; the view adds the customer and campaign columns (not stored once per pair)
    con.execute("CREATE OR REPLACE TEMP TABLE _plan_candidate_keys AS " + " UNION ALL ".join(selects))
    if con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = '_plan_candidates'").fetchone()[
        0
    ]:
        con.execute("DROP TABLE _plan_candidates")  # a backtest on this connection left a table of that name
    con.execute("""
        CREATE OR REPLACE TEMP VIEW _plan_candidates AS
        SELECT c.*, cu.customer_id, cu.time_zone AS tz, k.mtype, k.priority, k.campaign_id, k.channel
        FROM _plan_candidate_keys c JOIN _plan_customers cu USING (cno) JOIN _plan_campaigns k USING (cidx)
    """)


# ---------------------------------------------------------------- outputs


def _outcome_sql(c: str, s: str) -> str:
    return f"""CASE WHEN {c}.pre_outcome IS NOT NULL THEN {c}.pre_outcome
                    WHEN {s}.status = 'planned' THEN 'planned'
                    WHEN {s}.blk_outcome IS NOT NULL THEN {s}.blk_outcome
                    ELSE 'deferred' END"""


# contact_decisions is written from two sources with the same columns, so no join runs between the ~18M
# candidates and the ~16M arbitrated rows at 1M customers: the candidates decided before arbitration (consent,
# suppression, holdout, cooldown) or without a slot, and the arbitrated ones (_plan_arbitrated_evidence)
_DECISION_SOURCES = (
    """(SELECT c.*, NULL::VARCHAR AS status, NULL::TIMESTAMPTZ AS slot_at, NULL::TIMESTAMP AS local_ts,
               NULL::BOOLEAN AS was_moved, NULL::VARCHAR AS blk_outcome, NULL::VARCHAR AS blk_reason,
               NULL::VARCHAR AS blk_rule, NULL::JSON AS blk_evidence
        FROM _plan_candidates c WHERE c.pre_outcome IS NOT NULL OR c.slot_group IS NULL)""",
    """(SELECT s.*, cu.customer_id, cu.time_zone AS tz, k.campaign_id, k.channel, k.priority, k.mtype,
               NULL::VARCHAR AS pre_outcome, NULL::VARCHAR AS pre_reason, NULL::VARCHAR AS pre_rule,
               NULL::JSON AS pre_evidence
        FROM _plan_arbitrated_evidence s JOIN _plan_customers cu ON cu.cno = s.cno JOIN _plan_campaigns k ON k.cidx = s.cidx)""",
)


def _decisions_sql(plan_run_id: str, version: str, created_at: datetime, source: str) -> str:
    return f"""
        SELECT {sql_literal(plan_run_id)} AS plan_run_id, d.customer_id, d.campaign_id, d.channel,
               {_outcome_sql("d", "d")} AS outcome,
               CASE WHEN d.pre_outcome IS NOT NULL THEN d.pre_reason
                    WHEN d.status = 'planned' AND d.blk_outcome IS NOT NULL THEN 'retried_after_' || d.blk_outcome
                    WHEN d.status = 'planned' AND d.was_moved THEN 'quiet_hours'
                    WHEN d.status = 'planned' THEN 'due'
                    WHEN d.blk_outcome IS NOT NULL THEN d.blk_reason
                    ELSE 'no_allowed_time_in_horizon' END AS reason_code,
               CASE WHEN d.pre_outcome IS NOT NULL THEN d.pre_rule
                    WHEN d.status = 'planned' AND d.blk_outcome IS NOT NULL THEN d.blk_rule
                    WHEN d.status = 'planned' AND d.was_moved THEN 'quiet_hours'
                    WHEN d.status = 'planned' THEN NULL
                    WHEN d.blk_outcome IS NOT NULL THEN d.blk_rule
                    ELSE 'horizon' END AS rule_id,
               {sql_literal(version)} AS rules_version,
               CASE WHEN d.pre_outcome IS NOT NULL THEN d.pre_evidence
                    WHEN d.status = 'planned' THEN to_json({{'scheduled_at': d.slot_at, 'local': d.local_ts,
                         'time_zone': d.tz, 'first_block': d.blk_evidence}})
                    WHEN d.blk_outcome IS NOT NULL THEN d.blk_evidence
                    ELSE to_json({{'time_zone': d.tz, 'deadline': d.deadline}}) END AS evidence,
               d.priority, d.mtype AS message_type,
               timezone('UTC', due.due_at) AS due_at,
               timezone('UTC', d.slot_at) AS scheduled_at, TIMESTAMP '{naive_utc(created_at)}' AS created_at
        FROM {source} d
        LEFT JOIN (SELECT slot_group, min(due_at) AS due_at FROM _plan_slot_grid GROUP BY slot_group) due
          ON due.slot_group = d.slot_group
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
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _plan_outcome_counts AS
        SELECT k.campaign_id, {_outcome_sql("c", "s")} AS outcome, count(*) AS n
        FROM _plan_candidate_keys c LEFT JOIN _plan_arbitrated s USING (cand_id) JOIN _plan_campaigns k ON k.cidx = c.cidx GROUP BY ALL
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _plan_planned_contacts AS
        SELECT {sql_literal(plan_run_id)} AS plan_run_id, c.customer_id, c.campaign_id, c.channel,
               coalesce(v.template_id, k.template_id) AS template_id,
               CASE WHEN v.template_id IS NOT NULL THEN v.persona ELSE 'default' END AS variant,
               timezone('UTC', s.slot_at) AS scheduled_at, s.local_ts AS scheduled_local, c.tz AS time_zone,
               {sql_literal(version)} AS rules_version, c.mtype AS message_type, k.subscription_group, c.priority,
               k.objective, TIMESTAMP '{naive_utc(created_at)}' AS created_at
        FROM _plan_candidates c JOIN _plan_arbitrated s USING (cand_id) JOIN _plan_campaigns k ON k.cidx = c.cidx
        JOIN _plan_customers cu ON cu.cno = c.cno
        LEFT JOIN _plan_campaign_variants v ON v.cidx = c.cidx AND v.persona = cu.persona
        WHERE s.status = 'planned'
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _plan_waterfall AS
        WITH d AS (SELECT campaign_id, outcome, n FROM _plan_outcome_counts),
        p AS (SELECT campaign_id,
                sum(n) AS eligible,
                sum(n) FILTER (WHERE outcome = 'no_consent') AS no_consent,
                sum(n) FILTER (WHERE outcome = 'suppressed') AS suppressed,
                sum(n) FILTER (WHERE outcome = 'held_out') AS held_out,
                sum(n) FILTER (WHERE outcome IN ('cooldown', 'capped', 'gap')) AS caps,
                sum(n) FILTER (WHERE outcome IN ('lost_priority', 'over_capacity', 'deferred')) AS arbitration,
                sum(n) FILTER (WHERE outcome = 'planned') AS planned,
                sum(n) FILTER (WHERE outcome = 'deferred') AS deferred
              FROM d GROUP BY campaign_id)
        SELECT {sql_literal(plan_run_id)} AS plan_run_id, k.campaign_id,
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
        FROM _plan_campaigns k LEFT JOIN p USING (campaign_id) ORDER BY k.cidx
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
