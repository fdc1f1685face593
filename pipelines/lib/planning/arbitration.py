"""Arbitration: set-based, day by day and round by round, over integer customer keys and append-only state.

Semantics (docs/contact_rules.md, "The algorithm", step 3): local day by local day, in rounds. A round takes, per
customer, the highest-priority pending candidate whose slot that day breaks no frequency cap (history + ledger +
plan so far, the window checked on both sides of the slot), no minimum gap, and does not take the last slot of a
cap window (or the gap) that a higher-priority pending candidate of the same customer is due to use later in that
window (look-ahead). Channel capacity per day is then shared out across customers by priority. Rounds repeat while
something was planned; a candidate blocked on one day is retried on its next slot and keeps its first reason.

How it stays fast at tens of millions of candidates:
- customers are dense integers (`cno`), not strings, in every hot join;
- nothing large is UPDATEd: plans and first blocks go to append-only tables (`_pl_planned`, `_pl_firstblk`), the
  day's working set (`_pl_day`, only the pending candidates with a slot that day) shrinks by DELETE, and the final
  `_pl_state` is assembled once at the end;
- calendar caps are equi-joins on (customer, cap, period key) against one row per counted touch (`_pl_tcap`);
  only rolling caps need a range join;
- look-ahead (plan mode) never joins a candidate with its customer's other candidates: a small table `_pl_la`
  lists, per slot (campaign x time zone x day) and rule, the higher-priority campaigns that have a slot later in
  that window; each customer keeps a bitmask of its pending campaigns (`_pl_pm`), so "is a higher-priority
  message due later in this window" is one AND of two integers. Candidates with a deadline (moment triggers) are
  kept out of the mask and checked exactly against `_pl_la`. Evidence (which campaign, when) is expanded only for
  candidates that the look-ahead actually blocks. The backtest (one slot group per candidate) uses the generic
  join instead (`lookahead="join"`).
- evidence JSON is built only for a candidate's first block.
"""

from __future__ import annotations

import duckdb

from pipelines.lib.planning.config import ContactRulesConfig

MAX_MASK_CAMPAIGNS = 63  # campaign index 0..62 fits a signed BIGINT bitmask
GAP_RULE = "__gap__"
_NO_KEY = "DATE '1970-01-01'"  # the period key of rolling windows (they use a time range instead)


def _list(values: list[str] | tuple[str, ...] | None) -> str:
    if not values:
        return "[]::VARCHAR[]"
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _pkey(kind: str, alias: str) -> str:
    """The period key of a touch/slot for a cap window kind column `kind`."""
    return (
        f"CASE {kind} WHEN 'day' THEN {alias}.day_key WHEN 'week' THEN {alias}.week_key "
        f"WHEN 'month' THEN {alias}.month_key ELSE {_NO_KEY} END"
    )


def arbitrate(
    con: duckdb.DuckDBPyConnection, rules: ContactRulesConfig, days: int, *, lookahead: str = "join"
) -> None:
    """Plan the eligible candidates of _pl_cand over _pl_grid; fills _pl_state.

    lookahead: "mask" (plan mode, slot groups are campaign x time zone, at most 63 campaigns) or "join" (generic).
    """
    if lookahead == "mask":
        n_camp = con.execute("SELECT coalesce(max(cidx), 0) FROM _pl_campaigns").fetchone()[0]
        if n_camp >= MAX_MASK_CAMPAIGNS:
            lookahead = "join"
    gap = rules.min_gap
    gap_secs = gap.hours * 3600 if gap and gap.hours > 0 else 0
    gap_scope = f"list_contains({_list(gap.channels)}, {{ch}})" if gap and gap.channels else "true"
    gap_id = gap.id if gap else "min_gap"
    has_capacity = bool(rules.capacity)

    _setup(con, lookahead, gap_secs, gap_scope)
    for day in range(days):
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _pl_day AS
            SELECT s.cand_id, s.cno, s.cidx, s.slot_group, s.deadline, s.channel, k.mtype, k.priority,
                   k.campaign_id, g.slot_at, g.local_ts, g.was_moved, g.day_key, g.week_key, g.month_key, g.cap_day
            FROM _pl_elig s JOIN _pl_grid g ON g.slot_group = s.slot_group AND g.slot_day = {day}
            JOIN _pl_campaigns k ON k.cidx = s.cidx
            WHERE (s.deadline IS NULL OR g.slot_at <= s.deadline)
              AND s.cand_id NOT IN (SELECT cand_id FROM _pl_planned)
        """)
        first_round = True
        while True:
            if first_round:
                con.execute("CREATE OR REPLACE TEMP TABLE _pl_try AS SELECT * FROM _pl_day")
            else:
                con.execute("""
                    CREATE OR REPLACE TEMP TABLE _pl_try AS
                    SELECT * FROM _pl_day WHERE cno IN (SELECT cno FROM _pl_active)
                """)
            first_round = False
            if con.execute("SELECT count(*) FROM _pl_try").fetchone()[0] == 0:
                break
            _round(con, day, lookahead, gap_secs, gap_scope, gap_id)
            if con.execute("SELECT count(*) FROM _pl_active").fetchone()[0] == 0:
                break
            if (
                not has_capacity
                and con.execute("SELECT count(*) FROM _pl_pick WHERE accepted").fetchone()[0] == 0
            ):
                break
    _finish(con)


def _setup(con: duckdb.DuckDBPyConnection, lookahead: str, gap_secs: int, gap_scope: str) -> None:
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _pl_cno AS
        SELECT customer_id, CAST(row_number() OVER () AS INTEGER) AS cno
        FROM (SELECT DISTINCT customer_id FROM _pl_cand WHERE pre_outcome IS NULL AND slot_group IS NOT NULL)
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _pl_elig AS
        SELECT c.cand_id, n.cno, c.cidx, c.slot_group, c.deadline, c.channel
        FROM _pl_cand c JOIN _pl_cno n USING (customer_id)
        WHERE c.pre_outcome IS NULL AND c.slot_group IS NOT NULL
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _pl_planned (cand_id BIGINT, cno INTEGER, cidx INTEGER, slot_at TIMESTAMPTZ,
            local_ts TIMESTAMP, was_moved BOOLEAN)
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _pl_firstblk (cand_id BIGINT, blocked VARCHAR, reason VARCHAR,
            rule_id VARCHAR, evidence JSON)
    """)
    con.execute("CREATE OR REPLACE TEMP TABLE _pl_used (channel VARCHAR, cap_day DATE, n BIGINT)")
    # every counted touch: history and ledger first, plan touches are added round by round
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _pl_touch AS
        SELECT CAST(-row_number() OVER () AS BIGINT) AS tid, n.cno, h.channel, h.mtype, h.campaign_id,
               h.occurred_at AT TIME ZONE 'UTC' AS at,
               CAST(timezone(cu.time_zone, h.occurred_at AT TIME ZONE 'UTC') AS DATE) AS day_key,
               CAST(date_trunc('week', timezone(cu.time_zone, h.occurred_at AT TIME ZONE 'UTC')) AS DATE) AS week_key,
               CAST(date_trunc('month', timezone(cu.time_zone, h.occurred_at AT TIME ZONE 'UTC')) AS DATE) AS month_key,
               h.source, h.ref
        FROM _pl_history h JOIN _pl_cno n USING (customer_id) JOIN _pl_customers cu USING (customer_id)
    """)
    # one row per (touch, cap that counts it), keyed by the cap's period (rolling windows: a constant key)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _pl_tcap (cno INTEGER, cap_id VARCHAR, pkey DATE, "at" TIMESTAMPTZ, tid BIGINT)
    """)
    _add_tcap(con, "_pl_touch")
    if lookahead == "mask":
        _build_lookahead_tables(con, gap_secs, gap_scope)


def _add_tcap(con: duckdb.DuckDBPyConnection, touches: str) -> None:
    con.execute(f"""
        INSERT INTO _pl_tcap
        SELECT u.cno, k.cap_id, {_pkey("k.kind", "u")}, u.at, u.tid
        FROM {touches} u JOIN _pl_caps k
          ON (k.channels IS NULL OR list_contains(k.channels, u.channel))
         AND ((u.mtype = 'marketing' AND k.count_m) OR (u.mtype = 'transactional' AND k.count_t))
    """)


def _build_lookahead_tables(con: duckdb.DuckDBPyConnection, gap_secs: int, gap_scope: str) -> None:
    """_pl_la: per slot (group, day) and rule, each higher-priority campaign of the same time zone with a slot
    later in that rule's window, and its first such slot; _pl_lam: the same as a bitmask; _pl_pm / _pl_pdl: the
    pending campaigns of each customer (bitmask, and the candidates with a deadline)."""
    window = """CASE a.kind WHEN 'rolling' THEN q.slot_at > t.slot_at - INTERVAL 1 HOUR * a.hours
                                              AND q.slot_at < t.slot_at + INTERVAL 1 HOUR * a.hours
                 WHEN 'day' THEN q.day_key = t.day_key WHEN 'week' THEN q.week_key = t.week_key
                 ELSE q.month_key = t.month_key END"""
    gap_part = ""
    if gap_secs:
        gap_part = f"""
        UNION ALL
        SELECT t.slot_group, t.slot_day, '{GAP_RULE}' AS rule_id, -1 AS ord, q.cidx AS q_cidx,
               q.campaign_id AS q_campaign, min(q.slot_at) AS first_after
        FROM g t JOIN g q ON q.tz = t.tz AND q.priority > t.priority AND q.slot_at > t.slot_at
          AND epoch(q.slot_at) - epoch(t.slot_at) < {gap_secs}
        WHERE t.mtype = 'marketing' AND {gap_scope.format(ch="t.channel")}
          AND q.mtype = 'marketing' AND {gap_scope.format(ch="q.channel")}
        GROUP BY ALL"""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _pl_la AS
        WITH g AS (
            SELECT g.slot_group, g.cidx, g.tz, g.slot_day, g.slot_at, g.day_key, g.week_key, g.month_key,
                   k.priority, k.mtype, k.channel, k.campaign_id
            FROM _pl_grid g JOIN _pl_campaigns k USING (cidx)
        )
        SELECT t.slot_group, t.slot_day, a.cap_id AS rule_id, a.ord, q.cidx AS q_cidx,
               q.campaign_id AS q_campaign, min(q.slot_at) AS first_after
        FROM g t JOIN _pl_cap_applies a ON a.cidx = t.cidx
        JOIN g q ON q.tz = t.tz AND q.priority > t.priority AND q.slot_at > t.slot_at
        JOIN _pl_cap_applies qa ON qa.cidx = q.cidx AND qa.cap_id = a.cap_id
        WHERE {window}
        GROUP BY ALL
        {gap_part}
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _pl_lam AS
        SELECT slot_group, slot_day, rule_id, bit_or(CAST(1 AS BIGINT) << q_cidx) AS mask
        FROM _pl_la GROUP BY ALL
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _pl_pm AS
        SELECT cno, bit_or(CAST(1 AS BIGINT) << cidx) AS pm FROM _pl_elig WHERE deadline IS NULL GROUP BY cno
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _pl_pdl AS
        SELECT cand_id, cno, cidx, deadline FROM _pl_elig WHERE deadline IS NOT NULL
    """)


def _lookahead_hits_sql(lookahead: str, day: int, edge: str) -> str:
    """Rows (cand_id, rule_id, ord, q_campaign, first_after) for the tried candidates in `edge` (cand_id, cno,
    slot_group, slot_at, day/week/month keys, priority, rule_id, ord, kind, hours) that a higher-priority pending
    candidate of the same customer is due after, inside the rule's window."""
    if lookahead == "mask":
        return f"""
            hit AS (
                SELECT e.* FROM {edge} e JOIN _pl_lam m ON m.slot_group = e.slot_group AND m.slot_day = {day}
                  AND m.rule_id = e.rule_id
                JOIN _pl_pm p ON p.cno = e.cno
                WHERE (p.pm & m.mask) <> 0
            ),
            la_rows AS (
                SELECT h.cand_id, h.rule_id, h.ord, l.q_campaign, l.first_after
                FROM hit h JOIN _pl_pm p ON p.cno = h.cno
                JOIN _pl_la l ON l.slot_group = h.slot_group AND l.slot_day = {day} AND l.rule_id = h.rule_id
                WHERE (p.pm >> l.q_cidx) & 1 = 1
                UNION ALL
                SELECT e.cand_id, e.rule_id, e.ord, l.q_campaign, l.first_after
                FROM {edge} e JOIN _pl_pdl d ON d.cno = e.cno
                JOIN _pl_la l ON l.slot_group = e.slot_group AND l.slot_day = {day} AND l.rule_id = e.rule_id
                  AND l.q_cidx = d.cidx AND l.first_after <= d.deadline
            )"""
    # generic: join each candidate with its customer's pending candidates and their slots
    return f"""
            pend AS (
                SELECT s.cand_id, s.cno, s.cidx, s.slot_group, s.deadline, s.channel, k.priority, k.mtype,
                       k.campaign_id
                FROM _pl_elig s JOIN _pl_campaigns k ON k.cidx = s.cidx
                WHERE s.cand_id NOT IN (SELECT cand_id FROM _pl_planned)
            ),
            la_rows AS (
                SELECT e.cand_id, e.rule_id, e.ord, q.campaign_id AS q_campaign, min(gq.slot_at) AS first_after
                FROM {edge} e JOIN pend q ON q.cno = e.cno AND q.priority > e.priority AND q.cand_id <> e.cand_id
                JOIN _pl_grid gq ON gq.slot_group = q.slot_group AND gq.slot_at > e.slot_at
                  AND (q.deadline IS NULL OR gq.slot_at <= q.deadline)
                LEFT JOIN _pl_cap_applies qa ON qa.cidx = q.cidx AND qa.cap_id = e.rule_id
                WHERE CASE WHEN e.rule_id = '{GAP_RULE}'
                           THEN q.mtype = 'marketing' AND e.gap_q_scope(q.channel)
                             AND epoch(gq.slot_at) - epoch(e.slot_at) < e.hours * 3600
                           ELSE qa.cap_id IS NOT NULL AND CASE e.kind
                             WHEN 'rolling' THEN gq.slot_at > e.slot_at - INTERVAL 1 HOUR * e.hours
                                             AND gq.slot_at < e.slot_at + INTERVAL 1 HOUR * e.hours
                             WHEN 'day' THEN gq.day_key = e.day_key WHEN 'week' THEN gq.week_key = e.week_key
                             ELSE gq.month_key = e.month_key END END
                GROUP BY ALL
            )"""


def _round(
    con: duckdb.DuckDBPyConnection, day: int, lookahead: str, gap_secs: int, gap_scope: str, gap_id: str
) -> None:
    # frequency caps: counted touches (history, ledger, plan so far) in the slot's window
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _pl_capchk AS
        WITH ta AS (
            SELECT t.cand_id, t.cno, t.slot_at, a.cap_id, a.ord, a.max_count, a.kind, a.hours,
                   {_pkey("a.kind", "t")} AS pkey
            FROM _pl_try t JOIN _pl_cap_applies a ON a.cidx = t.cidx
        )
        SELECT ta.cand_id, ta.cap_id, any_value(ta.ord) AS ord, any_value(ta.max_count) AS max_count,
               any_value(ta.kind) AS kind, any_value(ta.hours) AS hours, count(u.at) AS n
        FROM ta LEFT JOIN _pl_tcap u ON u.cno = ta.cno AND u.cap_id = ta.cap_id AND u.pkey = ta.pkey
          AND (ta.kind <> 'rolling' OR (u.at > ta.slot_at - INTERVAL 1 HOUR * ta.hours
                                        AND u.at < ta.slot_at + INTERVAL 1 HOUR * ta.hours))
        GROUP BY ta.cand_id, ta.cap_id
    """)
    # minimum gap to an actual touch
    if gap_secs:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _pl_gapchk AS
            SELECT t.cand_id, arg_min({{'source': u.source, 'campaign_id': u.campaign_id, 'channel': u.channel,
                       'at': u.at}}, abs(epoch(u.at) - epoch(t.slot_at))) AS nearest
            FROM _pl_try t JOIN _pl_touch u ON u.cno = t.cno AND u.mtype = 'marketing'
              AND {gap_scope.format(ch="u.channel")}
              AND abs(epoch(u.at) - epoch(t.slot_at)) < {gap_secs}
            WHERE t.mtype = 'marketing' AND {gap_scope.format(ch="t.channel")}
            GROUP BY t.cand_id
        """)
    # look-ahead: the last slot of a cap window (or the gap) is kept for a higher-priority candidate due later in it
    gap_edge = ""
    if gap_secs:
        gap_edge = f"""
                UNION ALL
                SELECT t.cand_id, t.cno, t.slot_group, t.slot_at, t.day_key, t.week_key, t.month_key, t.priority,
                       '{GAP_RULE}' AS rule_id, -1 AS ord, 'gap' AS kind, {gap_secs // 3600} AS hours
                FROM _pl_try t WHERE t.mtype = 'marketing' AND {gap_scope.format(ch="t.channel")}"""
    edge_sql = f"""
            edge AS (
                SELECT t.cand_id, t.cno, t.slot_group, t.slot_at, t.day_key, t.week_key, t.month_key, t.priority,
                       c.cap_id AS rule_id, c.ord, c.kind, c.hours
                FROM _pl_capchk c JOIN _pl_try t USING (cand_id) WHERE c.n = c.max_count - 1
                {gap_edge}
            ),"""
    hits = _lookahead_hits_sql(lookahead, day, "edge").replace(
        "e.gap_q_scope(q.channel)", gap_scope.format(ch="q.channel")
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _pl_look AS
        WITH {edge_sql} {hits}
        SELECT cand_id,
               arg_min(rule_id, ord) FILTER (WHERE rule_id <> '{GAP_RULE}') AS rule_id,
               arg_min(q_campaign, ord) FILTER (WHERE rule_id <> '{GAP_RULE}') AS by_campaign,
               min(first_after) FILTER (WHERE rule_id <> '{GAP_RULE}') AS by_at,
               arg_min(q_campaign, first_after) FILTER (WHERE rule_id = '{GAP_RULE}') AS gap_campaign,
               min(first_after) FILTER (WHERE rule_id = '{GAP_RULE}') AS gap_at
        FROM la_rows GROUP BY cand_id
    """)
    gap_join = "LEFT JOIN _pl_gapchk gd USING (cand_id)" if gap_secs else ""
    gap_nearest = "gd.nearest" if gap_secs else "NULL"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _pl_verdict AS
        WITH capped AS (
            SELECT cand_id, arg_min(cap_id, ord) AS cap_id FROM _pl_capchk WHERE n >= max_count GROUP BY cand_id
        ),
        used AS (SELECT channel, cap_day, sum(n) AS n FROM _pl_used GROUP BY ALL)
        SELECT t.cand_id, t.cno, t.cidx, t.priority, t.campaign_id, t.channel, t.deadline, t.slot_at, t.local_ts,
               t.was_moved, t.day_key, t.week_key, t.month_key, t.cap_day,
               k.cap_id AS capped_by, {gap_nearest} AS gap_nearest, l.rule_id AS look_rule,
               l.by_campaign AS look_campaign, l.by_at AS look_at, l.gap_campaign, l.gap_at,
               cap.cap_id AS capacity_id, cap.daily_limit - coalesce(us.n, 0) AS capacity_left,
               CASE WHEN k.cap_id IS NOT NULL THEN 'capped'
                    WHEN {gap_nearest} IS NOT NULL THEN 'gap'
                    WHEN l.gap_at IS NOT NULL OR l.rule_id IS NOT NULL THEN 'lost_priority'
                    WHEN cap.cap_id IS NOT NULL AND cap.daily_limit - coalesce(us.n, 0) <= 0 THEN 'over_capacity'
               END AS blocked
        FROM _pl_try t
        LEFT JOIN capped k USING (cand_id) {gap_join} LEFT JOIN _pl_look l USING (cand_id)
        LEFT JOIN _pl_capacity cap ON cap.channel = t.channel
        LEFT JOIN used us ON us.channel = t.channel AND us.cap_day = t.cap_day
    """)
    # per customer, the best feasible candidate; then capacity shared out by priority
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _pl_pick AS
        WITH pick AS (
            SELECT * FROM _pl_verdict WHERE blocked IS NULL
            QUALIFY row_number() OVER (PARTITION BY cno ORDER BY priority DESC, slot_at, campaign_id, cand_id) = 1
        )
        SELECT p.*, CASE WHEN capacity_id IS NULL THEN true
                       ELSE row_number() OVER (PARTITION BY channel, cap_day
                                ORDER BY priority DESC, slot_at, campaign_id, n.customer_id) <= capacity_left
                  END AS accepted
        FROM pick p JOIN _pl_cno n USING (cno)
    """)
    # the first reason a candidate was blocked, with evidence (built only for first blocks)
    con.execute(
        f"""
        INSERT INTO _pl_firstblk
        WITH v AS (
            SELECT * FROM _pl_verdict
            WHERE blocked IS NOT NULL AND cand_id NOT IN (SELECT cand_id FROM _pl_firstblk)
        ),
        cap_touches AS (
            SELECT v.cand_id, list({{'source': u.source, 'campaign_id': u.campaign_id, 'channel': u.channel,
                                     'at': u.at}} ORDER BY u.at) AS touches
            FROM v JOIN _pl_capchk c ON c.cand_id = v.cand_id AND c.cap_id = v.capped_by
            JOIN _pl_tcap x ON x.cno = v.cno AND x.cap_id = c.cap_id
             AND x.pkey = {_pkey("c.kind", "v")}
             AND (c.kind <> 'rolling' OR (x.at > v.slot_at - INTERVAL 1 HOUR * c.hours
                                          AND x.at < v.slot_at + INTERVAL 1 HOUR * c.hours))
            JOIN _pl_touch u ON u.tid = x.tid
            WHERE v.blocked = 'capped'
            GROUP BY v.cand_id
        )
        SELECT v.cand_id, v.blocked,
               CASE v.blocked WHEN 'capped' THEN 'cap_' || v.capped_by
                              WHEN 'gap' THEN 'min_gap'
                              WHEN 'lost_priority' THEN 'look_ahead'
                              ELSE 'capacity_full' END AS reason,
               CASE v.blocked WHEN 'capped' THEN v.capped_by WHEN 'gap' THEN $gap_id
                              WHEN 'lost_priority' THEN coalesce(v.look_rule, $gap_id)
                              ELSE v.capacity_id END AS rule_id,
               CASE v.blocked
                 WHEN 'capped' THEN to_json({{'slot_at': v.slot_at, 'cap': v.capped_by,
                     'limit': c.max_count, 'count': c.n, 'window': c.kind, 'window_hours': c.hours,
                     'touches': ct.touches}})
                 WHEN 'over_capacity' THEN to_json({{'slot_at': v.slot_at, 'capacity': v.capacity_id,
                     'day': v.cap_day}})
                 WHEN 'gap' THEN to_json({{'slot_at': v.slot_at, 'nearest_touch': v.gap_nearest}})
                 ELSE to_json({{'slot_at': v.slot_at, 'kept_for_campaign': coalesce(v.look_campaign, v.gap_campaign),
                     'due_at': CAST(coalesce(v.look_at, v.gap_at) AS VARCHAR),
                     'rule': coalesce(v.look_rule, $gap_id)}})
               END AS evidence
        FROM v LEFT JOIN _pl_capchk c ON c.cand_id = v.cand_id AND c.cap_id = v.capped_by
        LEFT JOIN cap_touches ct ON ct.cand_id = v.cand_id
        UNION ALL
        SELECT p.cand_id, 'over_capacity', 'capacity_full', p.capacity_id,
               to_json({{'slot_at': p.slot_at, 'capacity': p.capacity_id, 'day': p.cap_day, 'outranked': true}})
        FROM _pl_pick p WHERE NOT p.accepted AND p.cand_id NOT IN (SELECT cand_id FROM _pl_firstblk)
        """,
        {"gap_id": gap_id},
    )
    # record the plan, its touches, capacity used; blocked or planned candidates leave today's working set
    con.execute("""
        INSERT INTO _pl_planned
        SELECT cand_id, cno, cidx, slot_at, local_ts, was_moved FROM _pl_pick WHERE accepted
    """)
    start_tid = con.execute("SELECT coalesce(max(tid), 0) FROM _pl_touch").fetchone()[0]
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _pl_newtouch AS
        SELECT {max(start_tid, 0)} + row_number() OVER () AS tid, p.cno, p.channel, k.mtype, p.campaign_id,
               p.slot_at AS at, p.day_key, p.week_key, p.month_key, 'plan' AS source,
               CAST(p.cand_id AS VARCHAR) AS ref
        FROM _pl_pick p JOIN _pl_campaigns k ON k.cidx = p.cidx WHERE p.accepted
    """)
    con.execute("INSERT INTO _pl_touch SELECT * FROM _pl_newtouch")
    _add_tcap(con, "_pl_newtouch")
    con.execute("""
        INSERT INTO _pl_used
        SELECT p.channel, p.cap_day, count(*) FROM _pl_pick p JOIN _pl_capacity c ON c.channel = p.channel
        WHERE p.accepted GROUP BY ALL
    """)
    if lookahead == "mask":
        con.execute("""
            UPDATE _pl_pm SET pm = _pl_pm.pm & ~b.bits
            FROM (SELECT cno, bit_or(CAST(1 AS BIGINT) << cidx) AS bits FROM _pl_pick
                  WHERE accepted AND deadline IS NULL GROUP BY cno) b
            WHERE _pl_pm.cno = b.cno
        """)
        con.execute("DELETE FROM _pl_pdl WHERE cand_id IN (SELECT cand_id FROM _pl_pick WHERE accepted)")
    con.execute("""
        DELETE FROM _pl_day WHERE cand_id IN (
            SELECT cand_id FROM _pl_verdict WHERE blocked IS NOT NULL UNION ALL SELECT cand_id FROM _pl_pick)
    """)
    con.execute("CREATE OR REPLACE TEMP TABLE _pl_active AS SELECT DISTINCT cno FROM _pl_pick")


def _finish(con: duckdb.DuckDBPyConnection) -> None:
    """_pl_state: one row per eligible candidate with its status, planned slot and first block."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _pl_state AS
        SELECT e.cand_id, e.cidx, e.slot_group, e.channel, e.deadline,
               CASE WHEN p.cand_id IS NOT NULL THEN 'planned' ELSE 'pending' END AS status,
               p.slot_at, p.local_ts, p.was_moved,
               b.blocked AS blk_outcome, b.reason AS blk_reason, b.rule_id AS blk_rule, b.evidence AS blk_evidence
        FROM _pl_elig e LEFT JOIN _pl_planned p USING (cand_id) LEFT JOIN _pl_firstblk b USING (cand_id)
    """)
    for t in ("_pl_day", "_pl_try", "_pl_capchk", "_pl_verdict", "_pl_look", "_pl_newtouch"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
