"""Arbitration: set-based, in priority order, one round per campaign, over integer customer keys.

Semantics (docs/contact_rules.md, "The algorithm", step 3): rounds are the campaigns sorted by priority (highest
first), then campaign id. In a round, every eligible candidate of that campaign, for all customers at once, takes
its EARLIEST slot that breaks no frequency cap and no minimum gap given the touches fixed so far (history, ledger
and the plan of the earlier rounds; cap windows are checked on both sides of the slot). Because higher-priority
messages are placed first, a lower-priority message can never take the last room of a window that a
higher-priority message uses later (look-ahead holds by construction). Channel capacity per day is shared out
inside the round by the earlier slot, then customer id; a candidate that does not get capacity on its day tries
its next feasible slot. A candidate that fits no slot keeps the reason of its first slot: `capped` when history
and ledger alone fill a cap, `gap` when a past touch is inside the minimum gap, `lost_priority` (look_ahead) when a
planned higher-priority touch fills the cap or breaks the gap, `over_capacity` when the channel was full. A
candidate planned on a later slot keeps the reason its first slot was refused (`retried_after_<reason>`).

The backtest has several candidates per customer and campaign (one per historical touch, each with one slot):
its rounds are (priority, campaign id, occurrence), so a round still holds at most one candidate per customer.

How it stays fast:
- one round is two or three statements; the heavy one joins the round's candidates x their slots with their
  customer's counted touches (a handful per customer) and counts, per cap, the touches in each slot's window
  (calendar caps compare local period keys, rolling caps and the gap compare epoch seconds, each touch carries a
  bitmask of the caps that count it);
- customers are dense integers (`cno`, in customer id order), touches are append-only, nothing large is UPDATEd;
- capacity iterates only over the days of a capacity-bound campaign (top-N per day);
- evidence (which touches filled the cap, which planned campaign took the room, the nearest past touch) is built
  once at the end, for first blocks only, from the touches of the rounds before the candidate's own.
"""

from __future__ import annotations

import duckdb

from pipelines.lib.planning.config import ContactRulesConfig
from pipelines.lib.sql import sql_list, sql_literal

MAX_CAPS = 62  # cap bits in a BIGINT
# the longest calendar period of each kind, in seconds, with a day of margin for DST and time-zone offsets
_PERIOD_SECS = {"day": 2 * 86400, "week": 8 * 86400, "month": 32 * 86400}


def _cap_bits_sql(rules: ContactRulesConfig, channel: str, mtype: str) -> str:
    """BIGINT bitmask (bit = cap order) of the caps that count a touch on `channel` of message type `mtype`."""
    parts = []
    for i, cap in enumerate(rules.caps):
        scope = f"list_contains({sql_list(cap.channels)}, {channel})" if cap.channels else "true"
        kinds = sql_list(list(cap.counts))
        parts.append(f"(CASE WHEN {scope} AND list_contains({kinds}, {mtype}) THEN {1 << i} ELSE 0 END)")
    return "CAST(" + (" + ".join(parts) or "0") + " AS BIGINT)"


def _gap_sql(rules: ContactRulesConfig, channel: str, mtype: str) -> str:
    gap = rules.min_gap
    if not gap or gap.hours <= 0:
        return "false"
    scope = f"list_contains({sql_list(gap.channels)}, {channel})" if gap.channels else "true"
    return f"({mtype} = 'marketing' AND {scope})"


def _window(kind: str, hours: int | None, t: str, s: str) -> str:
    """Is touch `t` inside the window of slot `s` (both have epoch_s, day_key, week_key, month_key)?"""
    if kind == "rolling":
        return f"{t}.epoch_s > {s}.epoch_s - {hours * 3600} AND {t}.epoch_s < {s}.epoch_s + {hours * 3600}"
    return f"{t}.{kind}_key = {s}.{kind}_key"


def arbitrate(
    con: duckdb.DuckDBPyConnection,
    rules: ContactRulesConfig,
    *,
    candidates: str = "_plan_candidates",
    repeated: bool = False,
) -> None:
    """Plan the eligible candidates of `candidates` (cand_id, cno, cidx, slot_group, deadline, pre_outcome) over
    _plan_slot_grid; fills _plan_arbitrated (one narrow row per eligible candidate) and the view
    _plan_arbitrated_evidence (the same rows with evidence JSON).

    repeated: a customer may have several candidates of one campaign (the backtest); rounds then follow the
    occurrence order too."""
    if len(rules.caps) > MAX_CAPS:
        raise ValueError(f"at most {MAX_CAPS} frequency caps are supported, got {len(rules.caps)}")
    gap = rules.min_gap
    gap_secs = gap.hours * 3600 if gap and gap.hours > 0 else 0
    gap_id = gap.id if gap else "min_gap"
    _setup(con, rules, candidates, repeated)
    rounds = con.execute("""
        SELECT round_campaigns.rnd, campaign.campaign_id, campaign.channel, campaign.cap_mask, campaign.gap_applies
        FROM (SELECT DISTINCT rnd, cidx FROM _plan_eligible_candidates) AS round_campaigns
        JOIN _plan_campaign_rounds AS campaign USING (cidx) ORDER BY round_campaigns.rnd
    """).fetchall()
    capacity = {k.channel: (k.id, k.daily_limit) for k in rules.capacity}
    used: dict[tuple[str, object], int] = {}
    for rnd, campaign_id, channel, cap_mask, gap_applies in rounds:
        # the caps that count this campaign's touches and do not exempt it
        caps = [
            (i, cap)
            for i, cap in enumerate(rules.caps)
            if (cap_mask >> i) & 1 and campaign_id not in cap.exempt_campaigns
        ]
        _round(con, rnd, caps, gap_secs if gap_applies else 0, gap_id, capacity.get(channel), channel, used)
    _finish(con, rules, gap_secs, gap_id)


def _setup(
    con: duckdb.DuckDBPyConnection, rules: ContactRulesConfig, candidates: str, repeated: bool
) -> None:
    # one row per campaign: its round order, the caps that count its touches (bit mask), whether the gap applies
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _plan_campaign_rounds AS
        SELECT cidx, campaign_id, priority, channel, mtype,
               CAST(row_number() OVER (ORDER BY priority DESC, campaign_id) AS INTEGER) AS campaign_rank,
               {_cap_bits_sql(rules, "channel", "mtype")} AS cap_mask, {_gap_sql(rules, "channel", "mtype")} AS gap_applies
        FROM _plan_campaigns
    """)
    occ = (
        "row_number() OVER (PARTITION BY cand.cno, cand.cidx ORDER BY cand.slot_group, cand.cand_id)"
        if repeated
        else "1"
    )
    # one row per candidate that arbitration places (passed eligibility, has slots), with its round number
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _plan_eligible_candidates AS
        WITH eligible AS (
            SELECT cand.cand_id, cand.cno, cand.cidx, cand.slot_group, cand.deadline, campaign.campaign_rank,
                   {occ} AS occ
            FROM {candidates} AS cand JOIN _plan_campaign_rounds AS campaign ON campaign.cidx = cand.cidx
            WHERE cand.pre_outcome IS NULL AND cand.slot_group IS NOT NULL
        )
        SELECT cand_id, cno, cidx, slot_group, deadline,
               CAST({"dense_rank() OVER (ORDER BY campaign_rank, occ)" if repeated else "campaign_rank"} AS INTEGER) AS rnd
        FROM eligible
    """)
    # one row per slot of a slot group, numbered in time order, with epoch seconds
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _plan_numbered_slots AS
        SELECT slot_group, CAST(row_number() OVER (PARTITION BY slot_group ORDER BY slot_at) AS INTEGER) AS slot_no,
               slot_at, CAST(epoch(slot_at) AS BIGINT) AS epoch_s, local_ts, was_moved, day_key, week_key, month_key,
               cap_day
        FROM _plan_slot_grid
    """)
    # one row per counted touch of a customer in arbitration (history and ledger: rnd 0; the plan adds its
    # touches round by round)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _plan_counted_touches AS
        WITH history AS (
            SELECT cust.cno, hist.channel, hist.mtype, hist.campaign_id, hist.occurred_at AT TIME ZONE 'UTC' AS at,
                   timezone(cust.time_zone, hist.occurred_at AT TIME ZONE 'UTC') AS local, hist.source
            FROM _plan_contact_history AS hist JOIN _plan_customers AS cust USING (customer_id)
            WHERE cust.cno IN (SELECT cno FROM _plan_eligible_candidates)
        )
        SELECT CAST(-row_number() OVER () AS BIGINT) AS tid, cno, 0 AS rnd, CAST(epoch(history.at) AS BIGINT) AS epoch_s,
               {_cap_bits_sql(rules, "channel", "mtype")} AS cap_mask, {_gap_sql(rules, "channel", "mtype")} AS gap_applies,
               CAST(local AS DATE) AS day_key, CAST(date_trunc('week', local) AS DATE) AS week_key,
               CAST(date_trunc('month', local) AS DATE) AS month_key, history.at, channel, campaign_id, source
        FROM history
    """)
    # one row per planned candidate: the slot it took in its round
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _plan_picked_slots (cand_id BIGINT, rnd INTEGER, slot_no INTEGER)
    """)
    # one row per candidate whose first slot was refused: why (capped, gap, lost_priority, over_capacity)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _plan_first_blocks (cand_id BIGINT, cno INTEGER, rnd INTEGER, slot_no INTEGER,
            blocked VARCHAR, rule_id VARCHAR, via VARCHAR, n BIGINT, lim BIGINT)
    """)


def _round(
    con: duckdb.DuckDBPyConnection,
    rnd: int,
    caps: list,
    gap_secs: int,
    gap_id: str,
    capacity: tuple[str, int] | None,
    channel: str,
    used: dict,
) -> None:
    """One round: the candidates of one campaign (round `rnd`) take their earliest feasible slot."""
    counts, blocks_hist, blocks_plan = [], [], []
    for i, cap in caps:
        w = _window(cap.window.kind, cap.window.hours, "touch", "slot")
        counts.append(
            f"count(*) FILTER (WHERE (touch.cap_mask >> {i}) & 1 = 1 AND {w}) AS window_touches_{i}"
        )
        counts.append(
            f"count(*) FILTER (WHERE (touch.cap_mask >> {i}) & 1 = 1 AND {w} AND touch.rnd = 0)"
            f" AS past_window_touches_{i}"
        )
        blocks_hist.append(
            f"WHEN coalesce(past_window_touches_{i}, 0) >= {cap.max} THEN {{'blocked': 'capped', 'rule_id': {sql_literal(cap.id)}, "
            f"'via': 'cap', 'n': coalesce(window_touches_{i}, 0), 'lim': {cap.max}}}"
        )
        blocks_plan.append(
            f"WHEN coalesce(window_touches_{i}, 0) >= {cap.max} THEN {{'blocked': 'lost_priority', 'rule_id': {sql_literal(cap.id)}, "
            f"'via': 'cap', 'n': coalesce(window_touches_{i}, 0), 'lim': {cap.max}}}"
        )
    gap_hist = gap_plan = ""
    if gap_secs:
        w = f"touch.gap_applies AND abs(touch.epoch_s - slot.epoch_s) < {gap_secs}"
        counts.append(f"count(*) FILTER (WHERE {w}) AS gap_touches")
        counts.append(f"count(*) FILTER (WHERE {w} AND touch.rnd = 0) AS past_gap_touches")
        gap_hist = (
            f"WHEN coalesce(past_gap_touches, 0) > 0 THEN {{'blocked': 'gap', 'rule_id': {sql_literal(gap_id)}, 'via': 'gap', "
            f"'n': past_gap_touches, 'lim': 0}}"
        )
        gap_plan = (
            f"WHEN coalesce(gap_touches, 0) > 0 THEN {{'blocked': 'lost_priority', 'rule_id': {sql_literal(gap_id)}, "
            f"'via': 'gap', 'n': gap_touches, 'lim': 0}}"
        )
    whens = " ".join(blocks_hist + [gap_hist] + blocks_plan + [gap_plan]).strip()
    block = (
        f"CASE {whens} END"
        if whens
        else "NULL::STRUCT(blocked VARCHAR, rule_id VARCHAR, via VARCHAR, n BIGINT, lim BIGINT)"
    )
    # only touches this close can be in a window of the slot (calendar windows: their longest period)
    spans = [gap_secs] + [
        cap.window.hours * 3600 if cap.window.kind == "rolling" else _PERIOD_SECS[cap.window.kind]
        for _, cap in caps
    ]
    span = max(spans)
    slots = f"""
        round_slots AS (
            SELECT elig.cand_id, elig.cno, (CAST(elig.cno AS BIGINT) << 6) | slot.slot_no AS slot_key, slot.slot_no,
                   slot.slot_at, slot.epoch_s, slot.day_key, slot.week_key, slot.month_key, slot.cap_day
            FROM _plan_eligible_candidates AS elig JOIN _plan_numbered_slots AS slot ON slot.slot_group = elig.slot_group
            WHERE elig.rnd = {rnd} AND (elig.deadline IS NULL OR slot.slot_at <= elig.deadline)
        )"""
    if counts:
        verdict = f"""
        window_counts AS (
            SELECT slot.slot_key, {", ".join(counts)}
            FROM round_slots AS slot JOIN _plan_counted_touches AS touch
              ON touch.cno = slot.cno AND touch.epoch_s > slot.epoch_s - {span} AND touch.epoch_s < slot.epoch_s + {span}
            GROUP BY slot.slot_key
        ),
        slot_verdicts AS (
            SELECT slot.cand_id, slot.cno, slot.slot_no, slot.slot_at, slot.cap_day, {block} AS blk
            FROM round_slots AS slot LEFT JOIN window_counts USING (slot_key)
        )"""
    else:
        verdict = f"""
        slot_verdicts AS (SELECT cand_id, cno, slot_no, slot_at, cap_day, {block} AS blk FROM round_slots)"""
    if capacity is None:
        # the earliest feasible slot; the first slot's block (NULL when the first slot was free)
        con.execute(f"""
            -- one row per candidate of the round: the slot it takes (NULL: none) and its first slot's block
            CREATE OR REPLACE TEMP TABLE _plan_round_picks AS
            WITH {slots}, {verdict}
            SELECT any_value(cand_id) AS cand_id, cno, min(slot_no) FILTER (WHERE blk IS NULL) AS pick_no,
                   min(slot_no) AS first_no, arg_min_null(blk, slot_no) AS first_blk
            FROM slot_verdicts GROUP BY cno
        """)
    else:
        cap_id, limit = capacity
        # one row per (candidate, slot) of the round: the block of that slot (NULL: feasible)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _plan_round_slot_verdicts AS WITH {slots}, {verdict} SELECT * FROM slot_verdicts"
        )
        # one row per candidate that won capacity on a day: the slot it won
        con.execute("CREATE OR REPLACE TEMP TABLE _plan_capacity_winners (cand_id BIGINT, slot_no INTEGER)")
        days = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT cap_day FROM _plan_round_slot_verdicts WHERE blk IS NULL ORDER BY 1"
            ).fetchall()
        ]
        for day in days:
            left = limit - used.get((channel, day), 0)
            if left <= 0:
                continue
            # capacity by the earlier slot, then customer id; a loser tries its next feasible slot
            won = con.execute(
                """
                INSERT INTO _plan_capacity_winners
                SELECT cand_id, slot_no FROM _plan_round_slot_verdicts
                WHERE blk IS NULL AND cap_day = $day AND cand_id NOT IN (SELECT cand_id FROM _plan_capacity_winners)
                QUALIFY row_number() OVER (PARTITION BY cand_id ORDER BY slot_no) = 1
                ORDER BY slot_at, cno LIMIT $left
                """,
                {"day": day, "left": left},
            ).fetchone()[0]
            used[(channel, day)] = used.get((channel, day), 0) + won
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _plan_round_picks AS
            WITH first_slots AS (
                SELECT any_value(cand_id) AS cand_id, cno, min(slot_no) AS first_no,
                       arg_min_null(blk, slot_no) AS first_blk
                FROM _plan_round_slot_verdicts GROUP BY cno
            )
            SELECT first.cand_id, first.cno, won.slot_no AS pick_no, first.first_no,
                   CASE WHEN first.first_blk IS NULL AND won.slot_no IS DISTINCT FROM first.first_no
                        THEN {{'blocked': 'over_capacity', 'rule_id': {sql_literal(cap_id)}, 'via': 'capacity',
                              'n': {limit}, 'lim': {limit}}}
                        ELSE first.first_blk END AS first_blk
            FROM first_slots AS first LEFT JOIN _plan_capacity_winners AS won USING (cand_id)
        """)
    con.execute(f"""
        INSERT INTO _plan_first_blocks
        SELECT cand_id, cno, {rnd}, first_no, first_blk.blocked, first_blk.rule_id, first_blk.via, first_blk.n,
               first_blk.lim
        FROM _plan_round_picks WHERE first_blk IS NOT NULL
    """)
    con.execute(
        f"INSERT INTO _plan_picked_slots SELECT cand_id, {rnd}, pick_no FROM _plan_round_picks WHERE pick_no IS NOT NULL"
    )
    con.execute(f"""
        INSERT INTO _plan_counted_touches
        SELECT pick.cand_id, pick.cno, {rnd}, slot.epoch_s, campaign.cap_mask, campaign.gap_applies, slot.day_key,
               slot.week_key, slot.month_key, slot.slot_at, campaign.channel, campaign.campaign_id, 'plan'
        FROM _plan_round_picks AS pick JOIN _plan_eligible_candidates AS elig USING (cand_id)
        JOIN _plan_campaign_rounds AS campaign ON campaign.cidx = elig.cidx
        JOIN _plan_numbered_slots AS slot ON slot.slot_group = elig.slot_group AND slot.slot_no = pick.pick_no
        WHERE pick.pick_no IS NOT NULL
    """)


def _finish(con: duckdb.DuckDBPyConnection, rules: ContactRulesConfig, gap_secs: int, gap_id: str) -> None:
    """_plan_arbitrated_evidence: one row per eligible candidate with its status, planned slot and first block (with evidence).

    Evidence looks only at the touches fixed when the candidate's round ran (history and earlier rounds): the
    touches that filled the cap (capped), the first planned touch that took the room (lost_priority), the nearest
    past touch (gap). It is aggregated as touch ids and turned into JSON once, here."""
    caps = list(enumerate(rules.caps))
    in_window = " ".join(
        f"WHEN {sql_literal(cap.id)} THEN (touch.cap_mask >> {i}) & 1 = 1 AND {_window(cap.window.kind, cap.window.hours, 'touch', 'block')}"
        for i, cap in caps
    )
    cap_window = f"(block.via = 'cap' AND CASE block.rule_id {in_window} ELSE false END)" if caps else "false"
    gap_window = (
        f"(block.via = 'gap' AND touch.gap_applies AND abs(touch.epoch_s - block.epoch_s) < {gap_secs})"
        if gap_secs
        else "false"
    )
    cap_kind = " ".join(
        f"WHEN {sql_literal(cap.id)} THEN {sql_literal(cap.window.kind)}" for cap in rules.caps
    )
    cap_hours = " ".join(
        f"WHEN {sql_literal(cap.id)} THEN {cap.window.hours or 'NULL'}" for cap in rules.caps
    )
    cap_kind = f"CASE block.rule_id {cap_kind} END" if caps else "NULL"
    cap_hours = f"CASE block.rule_id {cap_hours} END" if caps else "NULL"
    # one row per first block, with the refused slot's time and period keys
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _plan_first_block_slots AS
        SELECT first_block.*, slot.slot_at, slot.epoch_s, slot.day_key, slot.week_key, slot.month_key, slot.cap_day
        FROM _plan_first_blocks AS first_block JOIN _plan_eligible_candidates AS elig USING (cand_id)
        JOIN _plan_numbered_slots AS slot ON slot.slot_group = elig.slot_group AND slot.slot_no = first_block.slot_no
    """)
    # one row per lost_priority / gap block: the touch that took the room, the nearest past touch
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _plan_block_evidence_touches AS
        SELECT block.cand_id,
               arg_min(touch.tid, touch.epoch_s) FILTER (WHERE block.blocked = 'lost_priority' AND touch.rnd > 0) AS taken_tid,
               arg_min(touch.tid, abs(touch.epoch_s - block.epoch_s)) FILTER (WHERE block.blocked = 'gap' AND touch.rnd = 0) AS nearest_tid
        FROM _plan_first_block_slots AS block JOIN _plan_counted_touches AS touch ON touch.cno = block.cno AND touch.rnd < block.rnd
        WHERE block.blocked IN ('lost_priority', 'gap') AND ({cap_window} OR {gap_window})
        GROUP BY block.cand_id
    """)
    # one row per capped block: the touches that filled the cap
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _plan_capped_touch_lists AS
        SELECT block.cand_id, list({{'source': touch.source, 'campaign_id': touch.campaign_id, 'channel': touch.channel,
                                 'at': touch.at}} ORDER BY touch.at) AS touches
        FROM _plan_first_block_slots AS block JOIN _plan_counted_touches AS touch ON touch.cno = block.cno AND touch.rnd < block.rnd
        WHERE block.blocked = 'capped' AND {cap_window}
        GROUP BY block.cand_id
    """)
    # one row per eligible candidate, narrow (no JSON): status, planned slot, first block; what the counts, the
    # plan and the waterfall need
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _plan_arbitrated AS
        SELECT elig.cand_id, elig.cno, elig.cidx, elig.slot_group, elig.deadline,
               CASE WHEN pick.cand_id IS NOT NULL THEN 'planned' ELSE 'pending' END AS status,
               slot.slot_at, slot.local_ts, slot.was_moved,
               block.blocked AS blk_outcome,
               CASE block.blocked WHEN 'capped' THEN 'cap_' || block.rule_id WHEN 'gap' THEN 'min_gap'
                              WHEN 'lost_priority' THEN 'look_ahead' WHEN 'over_capacity' THEN 'capacity_full'
               END AS blk_reason,
               block.rule_id AS blk_rule, block.slot_at AS blk_slot_at, block.cap_day AS blk_cap_day, block.n AS blk_n,
               block.lim AS blk_lim, evidence.taken_tid, evidence.nearest_tid
        FROM _plan_eligible_candidates AS elig LEFT JOIN _plan_picked_slots AS pick USING (cand_id)
        LEFT JOIN _plan_numbered_slots AS slot ON slot.slot_group = elig.slot_group AND slot.slot_no = pick.slot_no
        LEFT JOIN _plan_first_block_slots AS block USING (cand_id)
        LEFT JOIN _plan_block_evidence_touches AS evidence USING (cand_id)
    """)
    # the evidence JSON is computed when read (contact_decisions is written from this view once)
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW _plan_arbitrated_evidence AS
        SELECT state.*,
               CASE state.blk_outcome
                 WHEN 'capped' THEN to_json({{'slot_at': state.blk_slot_at, 'cap': state.blk_rule, 'limit': state.blk_lim,
                     'count': state.blk_n, 'window': {cap_kind.replace("block.rule_id", "state.blk_rule")},
                     'window_hours': {cap_hours.replace("block.rule_id", "state.blk_rule")}, 'touches': capped.touches}})
                 WHEN 'over_capacity' THEN to_json({{'slot_at': state.blk_slot_at, 'capacity': state.blk_rule,
                     'day': state.blk_cap_day}})
                 WHEN 'gap' THEN to_json({{'slot_at': state.blk_slot_at, 'nearest_touch': {{'source': nearest_touch.source,
                     'campaign_id': nearest_touch.campaign_id, 'channel': nearest_touch.channel, 'at': nearest_touch.at}}}})
                 WHEN 'lost_priority' THEN to_json({{'slot_at': state.blk_slot_at, 'kept_for_campaign': taken_touch.campaign_id,
                     'due_at': CAST(taken_touch.at AS VARCHAR), 'rule': state.blk_rule}})
               END AS blk_evidence
        FROM _plan_arbitrated AS state
        LEFT JOIN _plan_capped_touch_lists AS capped USING (cand_id)
        LEFT JOIN _plan_counted_touches AS taken_touch ON taken_touch.tid = state.taken_tid
        LEFT JOIN _plan_counted_touches AS nearest_touch ON nearest_touch.tid = state.nearest_tid
    """)
    for t in (
        "_plan_round_picks",
        "_plan_round_slot_verdicts",
        "_plan_capacity_winners",
        "_plan_first_block_slots",
        "_plan_block_evidence_touches",
    ):
        con.execute(f"DROP TABLE IF EXISTS {t}")
