"""The backtest replays past touches through the same arbitration: earlier touches fill the caps, and within the
period a higher-priority touch keeps its place against a lower-priority one on the same day."""

from __future__ import annotations

from datetime import UTC, datetime

from pipelines.lib.planning.review import backtest
from tests.unit.planning.builders import campaign, make_warehouse, strategy


def test_backtest_keeps_the_higher_priority_touch_and_counts_touches_before_the_period():
    # Cap: one email per calendar day (UTC). Before the period: 'b' got x on 01 March 20:00, which fills 01 March
    # only. In the period: 'a' got x (priority 50) at 10:00 and y (priority 90) at 15:00 on 02 March, and x again
    # on 03 March; 'b' got x on 02 March 09:00. y is placed first, so a's x of 02 March is dropped; the rest is kept.
    con = make_warehouse(
        [{"customer_id": "a", "time_zone": "UTC"}, {"customer_id": "b", "time_zone": "UTC"}],
        touchpoints=[
            ("b", "email", "x", "2026-03-01 20:00"),
            ("a", "email", "x", "2026-03-02 10:00"),
            ("a", "email", "y", "2026-03-02 15:00"),
            ("a", "email", "x", "2026-03-03 10:00"),
            ("b", "email", "x", "2026-03-02 09:00"),
        ],
    )
    s = strategy(
        [campaign("x", 50), campaign("y", 90)],
        caps=[{"id": "day1", "channels": ["email"], "max": 1, "window": {"calendar": "day"}}],
    )
    result = backtest(con, s, datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC))
    assert (result.touches, result.kept) == (4, 3)
    assert result.dropped_by_rule == [("lost_priority", "day1", 1, 1)]
    assert (result.customers_contacted, result.customers_dropped_entirely) == (2, 0)
    assert "would have been dropped: 1" in result.render()
    dropped = con.execute(
        "SELECT c.customer_id, c.campaign_id, s.blk_reason, s.blk_evidence->>'kept_for_campaign' "
        "FROM _plan_candidates c JOIN _plan_arbitrated_evidence s USING (cand_id) WHERE s.status <> 'planned'"
    ).fetchall()
    assert dropped == [("a", "x", "look_ahead", "y")]
