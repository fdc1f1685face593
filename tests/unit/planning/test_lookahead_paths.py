"""The fast look-ahead (a bitmask of each customer's pending campaigns against a small per-slot table) decides
exactly as the generic one (joining every candidate with its customer's pending candidates and their slots)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from pipelines.lib.planning.engine import run_plan
from tests.unit.planning.builders import campaign, make_warehouse, strategy
from tests.unit.planning.test_properties import AS_OF, scenarios


def _decisions(con, run_id):
    return con.execute(
        "SELECT customer_id, campaign_id, outcome, reason_code, rule_id, evidence, scheduled_at "
        "FROM contact_decisions WHERE plan_run_id = ? ORDER BY customer_id, campaign_id",
        [run_id],
    ).fetchall()


def _both(customers, campaigns, rules, **warehouse):
    out = []
    for lookahead in ("mask", "join"):
        con = make_warehouse(customers, **warehouse)
        run = run_plan(con, strategy(campaigns, **rules), AS_OF, created_at=AS_OF, lookahead=lookahead)
        out.append(_decisions(con, run.plan_run_id))
    return out


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_mask_and_join_look_ahead_give_the_same_decisions(scenario):
    customers, consent_states, history, campaigns, rules = scenario
    consent = [(cid, ch, "marketing", state, "hard_bounce" if state == "suppressed" else None)
               for cid, state in consent_states.items() for ch in ("email", "phone")]  # fmt: skip
    mask, join = _both(customers, campaigns, rules, consent=consent, touchpoints=history)
    assert mask == join


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
    mask, join = _both(customers, campaigns, rules, moments=moments)
    assert mask == join
    by = {(r[0], r[1]): r for r in mask}
    assert by[("a", "promo")][2:5] == ("lost_priority", "look_ahead", "week1")
    assert by[("a", "webinar")][2] == "planned"
    assert by[("b", "promo")][2] == "planned"
