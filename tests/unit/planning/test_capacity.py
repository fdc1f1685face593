"""Capacity in the priority-order engine: a candidate that does not get capacity on its day moves to its next slot.

Without caps or gaps every slot is feasible, so the rules reduce to: per (channel, company day) at most the
capacity; higher priority takes capacity first; a candidate is planned on its first slot whose day still had room
when its round ran, and is over capacity only if every one of its days was full."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.lib.planning.engine import run_plan
from tests.unit.planning.builders import campaign, make_warehouse, strategy
from tests.unit.planning.test_properties import AS_OF, WEEKDAYS, ZONES


@st.composite
def capacity_scenarios(draw):
    customers = [
        {"customer_id": f"c{i}", "time_zone": draw(st.sampled_from(ZONES))}
        for i in range(draw(st.integers(2, 8)))
    ]
    campaigns = [
        campaign(
            f"k{j}", draw(st.integers(0, 3)) * 10 + j, channel="sales_task",
            trigger={"schedule": {"days": draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True)),
                                  "time": f"{draw(st.integers(6, 18)):02d}:00"}},
        )
        for j in range(draw(st.integers(1, 3)))
    ]  # fmt: skip
    per_day = draw(st.integers(0, 3))
    default_tz = draw(st.sampled_from(ZONES))
    return customers, campaigns, per_day, default_tz


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(capacity_scenarios())
def test_capacity_overflow_moves_to_the_next_slot_and_priority_takes_capacity_first(scenario):
    customers, campaigns, per_day, default_tz = scenario
    con = make_warehouse(customers)
    s = strategy(campaigns, default_time_zone=default_tz,
                 capacity=[{"id": "reps", "channel": "sales_task", "per_day": per_day}])  # fmt: skip
    run = run_plan(con, s, AS_OF, created_at=AS_OF)
    tz = ZoneInfo(default_tz)

    def day(at):  # the company day of a UTC instant
        return at.replace(tzinfo=UTC).astimezone(tz).date()

    prio = {c["id"]: c["priority"] for c in campaigns}
    rows = con.execute(
        "SELECT d.customer_id, d.campaign_id, d.outcome, d.reason_code, d.scheduled_at, c.slot_group "
        "FROM contact_decisions d JOIN _plan_candidates c USING (customer_id, campaign_id) WHERE d.plan_run_id = ?",
        [run.plan_run_id],
    ).fetchall()
    slots = {
        g: sorted(at.astimezone(UTC).replace(tzinfo=None) for (at,) in con.execute(
            "SELECT slot_at FROM _plan_slot_grid WHERE slot_group = ?", [g]).fetchall())
        for g in {r[5] for r in rows}
    }  # fmt: skip
    planned = [r for r in rows if r[2] == "planned"]
    used: dict = {}
    for r in planned:
        used[day(r[4])] = used.get(day(r[4]), 0) + 1
    assert all(n <= per_day for n in used.values())
    for cid, k, outcome, reason, at, group in rows:
        assert outcome in ("planned", "over_capacity", "deferred"), (outcome, reason)
        earlier = [x for x in slots[group] if at is None or x < at]
        # every earlier day of this candidate was full when its round ran: full with messages of at least its
        # priority (lower-priority rounds run later and cannot have taken the room)
        for x in earlier:
            taken = sum(
                1 for r in planned if day(r[4]) == day(x) and prio[r[1]] >= prio[k] and r[:2] != (cid, k)
            )
            assert taken >= per_day, (cid, k, x, taken)
        if outcome == "planned":
            assert at in slots[group]
            assert reason == ("retried_after_over_capacity" if earlier else "due")
        elif outcome == "over_capacity":
            assert slots[group] and reason == "capacity_full"
