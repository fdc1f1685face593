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
    """Is touch `t` inside the window of slot `s` (both have e, day_key, week_key, month_key)?"""
    if kind == "rolling":
        return f"{t}.e > {s}.e - {hours * 3600} AND {t}.e < {s}.e + {hours * 3600}"
    return f"{t}.{kind}_key = {s}.{kind}_key"


def arbitrate(
    con: duckdb.DuckDBPyConnection,
    rules: ContactRulesConfig,
    *,
    candidates: str = "_pl_cand",
    repeated: bool = False,
) -> None:
    """Plan the eligible candidates of `candidates` (cand_id, cno, cidx, slot_group, deadline, pre_outcome) over
    _pl_grid; fills _pl_st (one narrow row per eligible candidate) and the view _pl_state (with evidence JSON).

    repeated: a customer may have several candidates of one campaign (the backtest); rounds then follow the
    occurrence order too."""
    if len(rules.caps) > MAX_CAPS:
        raise ValueError(f"at most {MAX_CAPS} frequency caps are supported, got {len(rules.caps)}")
    gap = rules.min_gap
    gap_secs = gap.hours * 3600 if gap and gap.hours > 0 else 0
    gap_id = gap.id if gap else "min_gap"
    _setup(con, rules, candidates, repeated)
    rounds = con.execute("""
        SELECT r.rnd, k.campaign_id, k.channel, k.cm, k.gm FROM (SELECT DISTINCT rnd, cidx FROM _pl_elig) r
        JOIN _pl_ck k USING (cidx) ORDER BY r.rnd
    """).fetchall()
    capacity = {k.channel: (k.id, k.daily_limit) for k in rules.capacity}
    used: dict[tuple[str, object], int] = {}
    for rnd, campaign_id, channel, cm, gm in rounds:
        # the caps that count this campaign's touches and do not exempt it
        caps = [
            (i, cap)
            for i, cap in enumerate(rules.caps)
            if (cm >> i) & 1 and campaign_id not in cap.exempt_campaigns
        ]
        _round(con, rnd, caps, gap_secs if gm else 0, gap_id, capacity.get(channel), channel, used)
    _finish(con, rules, gap_secs, gap_id)


def _setup(
    con: duckdb.DuckDBPyConnection, rules: ContactRulesConfig, candidates: str, repeated: bool
) -> None:
    # per campaign: its round order, the caps that count its touches, whether the gap applies
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _pl_ck AS
        SELECT cidx, campaign_id, priority, channel, mtype,
               CAST(row_number() OVER (ORDER BY priority DESC, campaign_id) AS INTEGER) AS crank,
               {_cap_bits_sql(rules, "channel", "mtype")} AS cm, {_gap_sql(rules, "channel", "mtype")} AS gm
        FROM _pl_campaigns
    """)
    occ = (
        "row_number() OVER (PARTITION BY c.cno, c.cidx ORDER BY c.slot_group, c.cand_id)" if repeated else "1"
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _pl_elig AS
        WITH e AS (
            SELECT c.cand_id, c.cno, c.cidx, c.slot_group, c.deadline, k.crank, {occ} AS occ
            FROM {candidates} c JOIN _pl_ck k ON k.cidx = c.cidx
            WHERE c.pre_outcome IS NULL AND c.slot_group IS NOT NULL
        )
        SELECT cand_id, cno, cidx, slot_group, deadline,
               CAST({"dense_rank() OVER (ORDER BY crank, occ)" if repeated else "crank"} AS INTEGER) AS rnd
        FROM e
    """)
    # the slots of each slot group, numbered in time order, with epoch seconds
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _pl_slots AS
        SELECT slot_group, CAST(row_number() OVER (PARTITION BY slot_group ORDER BY slot_at) AS INTEGER) AS slot_no,
               slot_at, CAST(epoch(slot_at) AS BIGINT) AS e, local_ts, was_moved, day_key, week_key, month_key,
               cap_day
        FROM _pl_grid
    """)
    # every counted touch (history and ledger: rnd 0; the plan adds its touches round by round)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _pl_touch AS
        WITH h AS (
            SELECT cu.cno, h.channel, h.mtype, h.campaign_id, h.occurred_at AT TIME ZONE 'UTC' AS at,
                   timezone(cu.time_zone, h.occurred_at AT TIME ZONE 'UTC') AS local, h.source
            FROM _pl_history h JOIN _pl_customers cu USING (customer_id)
            WHERE cu.cno IN (SELECT cno FROM _pl_elig)
        )
        SELECT CAST(-row_number() OVER () AS BIGINT) AS tid, cno, 0 AS rnd, CAST(epoch(h.at) AS BIGINT) AS e,
               {_cap_bits_sql(rules, "channel", "mtype")} AS cm, {_gap_sql(rules, "channel", "mtype")} AS gm,
               CAST(local AS DATE) AS day_key, CAST(date_trunc('week', local) AS DATE) AS week_key,
               CAST(date_trunc('month', local) AS DATE) AS month_key, h.at, channel, campaign_id, source
        FROM h
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _pl_planned (cand_id BIGINT, rnd INTEGER, slot_no INTEGER)
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _pl_firstblk (cand_id BIGINT, cno INTEGER, rnd INTEGER, slot_no INTEGER,
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
        w = _window(cap.window.kind, cap.window.hours, "t", "s")
        counts.append(f"count(*) FILTER (WHERE (t.cm >> {i}) & 1 = 1 AND {w}) AS n{i}")
        counts.append(f"count(*) FILTER (WHERE (t.cm >> {i}) & 1 = 1 AND {w} AND t.rnd = 0) AS h{i}")
        blocks_hist.append(
            f"WHEN coalesce(h{i}, 0) >= {cap.max} THEN {{'blocked': 'capped', 'rule_id': {sql_literal(cap.id)}, "
            f"'via': 'cap', 'n': coalesce(n{i}, 0), 'lim': {cap.max}}}"
        )
        blocks_plan.append(
            f"WHEN coalesce(n{i}, 0) >= {cap.max} THEN {{'blocked': 'lost_priority', 'rule_id': {sql_literal(cap.id)}, "
            f"'via': 'cap', 'n': coalesce(n{i}, 0), 'lim': {cap.max}}}"
        )
    gap_hist = gap_plan = ""
    if gap_secs:
        w = f"t.gm AND abs(t.e - s.e) < {gap_secs}"
        counts.append(f"count(*) FILTER (WHERE {w}) AS ng")
        counts.append(f"count(*) FILTER (WHERE {w} AND t.rnd = 0) AS hg")
        gap_hist = (
            f"WHEN coalesce(hg, 0) > 0 THEN {{'blocked': 'gap', 'rule_id': {sql_literal(gap_id)}, 'via': 'gap', "
            f"'n': hg, 'lim': 0}}"
        )
        gap_plan = (
            f"WHEN coalesce(ng, 0) > 0 THEN {{'blocked': 'lost_priority', 'rule_id': {sql_literal(gap_id)}, "
            f"'via': 'gap', 'n': ng, 'lim': 0}}"
        )
    whens = " ".join(blocks_hist + [gap_hist] + blocks_plan + [gap_plan]).strip()
    blk = (
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
        s AS (
            SELECT e.cand_id, e.cno, (CAST(e.cno AS BIGINT) << 6) | g.slot_no AS k, g.slot_no, g.slot_at, g.e,
                   g.day_key, g.week_key, g.month_key, g.cap_day
            FROM _pl_elig e JOIN _pl_slots g ON g.slot_group = e.slot_group
            WHERE e.rnd = {rnd} AND (e.deadline IS NULL OR g.slot_at <= e.deadline)
        )"""
    if counts:
        verdict = f"""
        n AS (
            SELECT s.k, {", ".join(counts)}
            FROM s JOIN _pl_touch t ON t.cno = s.cno AND t.e > s.e - {span} AND t.e < s.e + {span}
            GROUP BY s.k
        ),
        v AS (
            SELECT s.cand_id, s.cno, s.slot_no, s.slot_at, s.cap_day, {blk} AS blk
            FROM s LEFT JOIN n USING (k)
        )"""
    else:
        verdict = f"""
        v AS (SELECT s.cand_id, s.cno, s.slot_no, s.slot_at, s.cap_day, {blk} AS blk FROM s)"""
    if capacity is None:
        # the earliest feasible slot; the first slot's block (NULL when the first slot was free)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _pl_rr AS
            WITH {slots}, {verdict}
            SELECT any_value(cand_id) AS cand_id, cno, min(slot_no) FILTER (WHERE blk IS NULL) AS pick_no,
                   min(slot_no) AS first_no, arg_min_null(blk, slot_no) AS first_blk
            FROM v GROUP BY cno
        """)
    else:
        cap_id, limit = capacity
        con.execute(f"CREATE OR REPLACE TEMP TABLE _pl_rv AS WITH {slots}, {verdict} SELECT * FROM v")
        con.execute("CREATE OR REPLACE TEMP TABLE _pl_cw (cand_id BIGINT, slot_no INTEGER)")
        days = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT cap_day FROM _pl_rv WHERE blk IS NULL ORDER BY 1"
            ).fetchall()
        ]
        for day in days:
            left = limit - used.get((channel, day), 0)
            if left <= 0:
                continue
            # capacity by the earlier slot, then customer id; a loser tries its next feasible slot
            won = con.execute(
                """
                INSERT INTO _pl_cw
                SELECT cand_id, slot_no FROM _pl_rv
                WHERE blk IS NULL AND cap_day = $day AND cand_id NOT IN (SELECT cand_id FROM _pl_cw)
                QUALIFY row_number() OVER (PARTITION BY cand_id ORDER BY slot_no) = 1
                ORDER BY slot_at, cno LIMIT $left
                """,
                {"day": day, "left": left},
            ).fetchone()[0]
            used[(channel, day)] = used.get((channel, day), 0) + won
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _pl_rr AS
            WITH r AS (
                SELECT any_value(cand_id) AS cand_id, cno, min(slot_no) AS first_no,
                       arg_min_null(blk, slot_no) AS first_blk
                FROM _pl_rv GROUP BY cno
            )
            SELECT r.cand_id, r.cno, w.slot_no AS pick_no, r.first_no,
                   CASE WHEN r.first_blk IS NULL AND w.slot_no IS DISTINCT FROM r.first_no
                        THEN {{'blocked': 'over_capacity', 'rule_id': {sql_literal(cap_id)}, 'via': 'capacity',
                              'n': {limit}, 'lim': {limit}}}
                        ELSE r.first_blk END AS first_blk
            FROM r LEFT JOIN _pl_cw w USING (cand_id)
        """)
    con.execute(f"""
        INSERT INTO _pl_firstblk
        SELECT cand_id, cno, {rnd}, first_no, first_blk.blocked, first_blk.rule_id, first_blk.via, first_blk.n,
               first_blk.lim
        FROM _pl_rr WHERE first_blk IS NOT NULL
    """)
    con.execute(
        f"INSERT INTO _pl_planned SELECT cand_id, {rnd}, pick_no FROM _pl_rr WHERE pick_no IS NOT NULL"
    )
    con.execute(f"""
        INSERT INTO _pl_touch
        SELECT r.cand_id, r.cno, {rnd}, g.e, k.cm, k.gm, g.day_key, g.week_key, g.month_key, g.slot_at, k.channel,
               k.campaign_id, 'plan'
        FROM _pl_rr r JOIN _pl_elig e USING (cand_id) JOIN _pl_ck k ON k.cidx = e.cidx
        JOIN _pl_slots g ON g.slot_group = e.slot_group AND g.slot_no = r.pick_no
        WHERE r.pick_no IS NOT NULL
    """)


def _finish(con: duckdb.DuckDBPyConnection, rules: ContactRulesConfig, gap_secs: int, gap_id: str) -> None:
    """_pl_state: one row per eligible candidate with its status, planned slot and first block (with evidence).

    Evidence looks only at the touches fixed when the candidate's round ran (history and earlier rounds): the
    touches that filled the cap (capped), the first planned touch that took the room (lost_priority), the nearest
    past touch (gap). It is aggregated as touch ids and turned into JSON once, here."""
    caps = list(enumerate(rules.caps))
    in_window = " ".join(
        f"WHEN {sql_literal(cap.id)} THEN (t.cm >> {i}) & 1 = 1 AND {_window(cap.window.kind, cap.window.hours, 't', 'b')}"
        for i, cap in caps
    )
    cap_window = f"(b.via = 'cap' AND CASE b.rule_id {in_window} ELSE false END)" if caps else "false"
    gap_window = f"(b.via = 'gap' AND t.gm AND abs(t.e - b.e) < {gap_secs})" if gap_secs else "false"
    cap_kind = " ".join(f"WHEN {sql_literal(c.id)} THEN {sql_literal(c.window.kind)}" for c in rules.caps)
    cap_hours = " ".join(f"WHEN {sql_literal(c.id)} THEN {c.window.hours or 'NULL'}" for c in rules.caps)
    cap_kind = f"CASE b.rule_id {cap_kind} END" if caps else "NULL"
    cap_hours = f"CASE b.rule_id {cap_hours} END" if caps else "NULL"
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _pl_fb AS
        SELECT f.*, g.slot_at, g.e, g.day_key, g.week_key, g.month_key, g.cap_day
        FROM _pl_firstblk f JOIN _pl_elig e USING (cand_id)
        JOIN _pl_slots g ON g.slot_group = e.slot_group AND g.slot_no = f.slot_no
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _pl_ev AS
        SELECT b.cand_id,
               arg_min(t.tid, t.e) FILTER (WHERE b.blocked = 'lost_priority' AND t.rnd > 0) AS taken_tid,
               arg_min(t.tid, abs(t.e - b.e)) FILTER (WHERE b.blocked = 'gap' AND t.rnd = 0) AS nearest_tid
        FROM _pl_fb b JOIN _pl_touch t ON t.cno = b.cno AND t.rnd < b.rnd
        WHERE b.blocked IN ('lost_priority', 'gap') AND ({cap_window} OR {gap_window})
        GROUP BY b.cand_id
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _pl_evc AS
        SELECT b.cand_id, list({{'source': t.source, 'campaign_id': t.campaign_id, 'channel': t.channel,
                                 'at': t.at}} ORDER BY t.at) AS touches
        FROM _pl_fb b JOIN _pl_touch t ON t.cno = b.cno AND t.rnd < b.rnd
        WHERE b.blocked = 'capped' AND {cap_window}
        GROUP BY b.cand_id
    """)
    # narrow state (no JSON): what the counts, the plan and the waterfall need
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _pl_st AS
        SELECT e.cand_id, e.cno, e.cidx, e.slot_group, e.deadline,
               CASE WHEN p.cand_id IS NOT NULL THEN 'planned' ELSE 'pending' END AS status,
               g.slot_at, g.local_ts, g.was_moved,
               b.blocked AS blk_outcome,
               CASE b.blocked WHEN 'capped' THEN 'cap_' || b.rule_id WHEN 'gap' THEN 'min_gap'
                              WHEN 'lost_priority' THEN 'look_ahead' WHEN 'over_capacity' THEN 'capacity_full'
               END AS blk_reason,
               b.rule_id AS blk_rule, b.slot_at AS blk_slot_at, b.cap_day AS blk_cap_day, b.n AS blk_n,
               b.lim AS blk_lim, v.taken_tid, v.nearest_tid
        FROM _pl_elig e LEFT JOIN _pl_planned p USING (cand_id)
        LEFT JOIN _pl_slots g ON g.slot_group = e.slot_group AND g.slot_no = p.slot_no
        LEFT JOIN _pl_fb b USING (cand_id)
        LEFT JOIN _pl_ev v USING (cand_id)
    """)
    # the evidence JSON is computed when read (contact_decisions is written from this view once)
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW _pl_state AS
        SELECT s.*,
               CASE s.blk_outcome
                 WHEN 'capped' THEN to_json({{'slot_at': s.blk_slot_at, 'cap': s.blk_rule, 'limit': s.blk_lim,
                     'count': s.blk_n, 'window': {cap_kind.replace("b.rule_id", "s.blk_rule")},
                     'window_hours': {cap_hours.replace("b.rule_id", "s.blk_rule")}, 'touches': c.touches}})
                 WHEN 'over_capacity' THEN to_json({{'slot_at': s.blk_slot_at, 'capacity': s.blk_rule,
                     'day': s.blk_cap_day}})
                 WHEN 'gap' THEN to_json({{'slot_at': s.blk_slot_at, 'nearest_touch': {{'source': tn.source,
                     'campaign_id': tn.campaign_id, 'channel': tn.channel, 'at': tn.at}}}})
                 WHEN 'lost_priority' THEN to_json({{'slot_at': s.blk_slot_at, 'kept_for_campaign': tt.campaign_id,
                     'due_at': CAST(tt.at AS VARCHAR), 'rule': s.blk_rule}})
               END AS blk_evidence
        FROM _pl_st s
        LEFT JOIN _pl_evc c USING (cand_id)
        LEFT JOIN _pl_touch tt ON tt.tid = s.taken_tid
        LEFT JOIN _pl_touch tn ON tn.tid = s.nearest_tid
    """)
    for t in ("_pl_rr", "_pl_rv", "_pl_cw", "_pl_fb", "_pl_ev"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
