"""Look-ahead in the priority-order engine: a higher-priority message placed first keeps its room, and a moment
campaign only counts where its deadline lets it go."""

from __future__ import annotations

from pipelines.lib.planning.engine import run_plan
from tests.unit.planning.builders import campaign, make_warehouse, strategy
from tests.unit.planning.test_properties import AS_OF


def _decisions(con, run_id):
    return con.execute(
        "SELECT customer_id, campaign_id, outcome, reason_code, rule_id, evidence, scheduled_at "
        "FROM contact_decisions WHERE plan_run_id = ? ORDER BY customer_id, campaign_id",
        [run_id],
    ).fetchall()


def test_look_ahead_for_a_moment_campaign_respects_its_deadline():
    # 'webinar' (priority 90) may go until 2 days after the moment; a cap of 1 per calendar week. Customer 'a'
    # had the moment on Thursday, so webinar is due within the window and 'promo' gives way; customer 'b' had it
    # long ago (no candidate), so promo goes.
    customers = [{"customer_id": c, "time_zone": "UTC"} for c in ("a", "b")]
    campaigns = [
        campaign("promo", 10, trigger={"schedule": {"days": ["thu"], "time": "09:00"}}),
        campaign("webinar", 90, trigger={"moment": {"moment": "webinar", "within_days": 2, "time": "10:00"}}),
    ]
    rules = {"caps": [{"id": "week1", "max": 1, "window": {"calendar": "week"}}]}
    moments = [("a", "webinar", "2026-03-26 07:00"), ("b", "webinar", "2026-03-01 07:00")]
    con = make_warehouse(customers, moments=moments)
    run = run_plan(con, strategy(campaigns, **rules), AS_OF, created_at=AS_OF)
    by = {(r[0], r[1]): r for r in _decisions(con, run.plan_run_id)}
    assert by[("a", "promo")][2:5] == ("lost_priority", "look_ahead", "week1")
    assert by[("a", "webinar")][2] == "planned"
    assert by[("b", "promo")][2] == "planned"
