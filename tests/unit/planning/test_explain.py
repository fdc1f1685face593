"""`touchplan explain` reads the latest plan run back in plain words, with the evidence of a block."""

from __future__ import annotations

from datetime import UTC, datetime

from pipelines.lib.planning.engine import run_plan
from pipelines.lib.planning.review import explain
from tests.unit.planning.builders import campaign, make_warehouse, strategy


def test_explain_says_why_each_campaign_is_or_is_not_planned_with_the_touches_that_filled_the_cap():
    # Cap 1 email per calendar day; 'a' got old1 this morning. 'offer' (priority 90) is due today only: capped by
    # old1 (history, not a planned message). 'news' (priority 10) is due tomorrow, a free day: planned.
    con = make_warehouse(
        [{"customer_id": "a", "time_zone": "UTC", "email": "a@example.com"}],
        touchpoints=[("a", "email", "old1", "2026-03-02 07:00")],
    )
    s = strategy(
        [campaign("offer", 90, trigger={"schedule": {"days": ["mon"], "time": "10:00"}}),
         campaign("news", 10, trigger={"schedule": {"days": ["tue"], "time": "10:00"}})],
        caps=[{"id": "day1", "channels": ["email"], "max": 1, "window": {"calendar": "day"}}],
    )  # fmt: skip
    at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday
    run_plan(con, s, at, created_at=at)
    text = explain(con, s, "A@example.com")
    assert text.splitlines()[0] == "Customer a"
    lines = {
        line.split(":")[0].strip("- ").split(" ")[0]: line
        for line in text.splitlines()
        if line.startswith("  - ")
    }
    assert "not planned: would exceed a frequency cap (reason cap_day1, rule day1)" in lines["offer"]
    assert "planned for Tue 2026-03-03 10:00 UTC" in lines["news"]
    assert "1 of 1 allowed in the window already used by: old1 via email at 2026-03-02 07:00:00" in text
