"""Property-based: over random start times, time zones, histories, rules and campaigns the plan never breaks a
rule (safety), arbitration keeps the highest priority that fits, every candidate gets exactly one of the
documented outcomes, and a candidate with consent, no suppression, no holdout and a free slot is planned
(liveness). Every check is recomputed here in Python from the inputs and the plan."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.lib.planning.engine import run_plan
from tests.unit.planning.builders import campaign, make_warehouse, strategy

# whole-hour, half-hour and 45-minute offsets; northern and southern DST, and zones without DST
ZONES = [
    "Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC", "America/St_Johns",
    "Asia/Kathmandu", "Pacific/Auckland", "America/Sao_Paulo",
]  # fmt: skip
# weeks of DST changes (Europe 29 March and 25 October 2026, US 8 March and 1 November 2026, Australia and New
# Zealand 5 April and 4 October 2026), besides start times drawn from the whole of 2026-2027
DST_WEEKS = [datetime(2026, 3, 26), datetime(2026, 10, 22), datetime(2026, 3, 5), datetime(2026, 10, 29),
             datetime(2026, 4, 2), datetime(2026, 10, 1)]  # fmt: skip
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
AS_OF = datetime(
    2026, 3, 26, 7, 30, tzinfo=UTC
)  # a fixed start (the European DST week) for other planning tests
# docs/contact_rules.md "The algorithm": eligibility (no_consent, suppressed, held_out, cooldown), arbitration
# (capped, gap, lost_priority, over_capacity), planned; docs/architecture.md adds deferred
DOCUMENTED_OUTCOMES = {
    "planned", "no_consent", "suppressed", "held_out", "cooldown", "capped", "gap", "lost_priority",
    "over_capacity", "deferred",
}  # fmt: skip
HOLDOUT_SALT = "prop-salt"


@st.composite
def start_times(draw) -> datetime:
    day = draw(
        st.one_of(st.sampled_from(DST_WEEKS), st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31)))
    )
    at = day.replace(hour=draw(st.integers(0, 23)), minute=draw(st.sampled_from([0, 15, 30, 59])), second=0,
                     microsecond=0) + timedelta(days=draw(st.integers(0, 6)))  # fmt: skip
    return at.replace(tzinfo=UTC)


@st.composite
def scenarios(draw):
    as_of = draw(start_times())
    n_customers = draw(st.integers(1, 4))
    customers = [
        {"customer_id": f"c{i}", "time_zone": draw(st.sampled_from(ZONES + [None]))}
        for i in range(n_customers)
    ]
    consent_states = {c["customer_id"]: draw(st.sampled_from(["subscribed"] * 4 + ["unsubscribed", "unknown", "suppressed"]))
                      for c in customers}  # fmt: skip
    history = [
        (f"c{draw(st.integers(0, n_customers - 1))}", "email", draw(st.sampled_from(["old_a", "old_b", None])),
         (as_of - timedelta(hours=draw(st.integers(1, 24 * 9)))).replace(tzinfo=None))
        for _ in range(draw(st.integers(0, 6)))
    ]  # fmt: skip
    n_campaigns = draw(st.integers(1, 4))
    campaigns = []
    for j in range(n_campaigns):
        channel = draw(st.sampled_from(["email", "email", "sales_task", "webinar_invite"]))
        days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True))
        hour = draw(st.integers(0, 23))
        campaigns.append(
            campaign(
                f"k{j}", draw(st.integers(0, 5)) * 10 + j, channel=channel,
                transactional=channel == "email" and draw(st.integers(0, 5)) == 0,
                trigger={"schedule": {"days": days, "time": f"{hour:02d}:{draw(st.sampled_from([0, 30])):02d}"}},
            )
        )  # fmt: skip
    caps = []
    for i in range(draw(st.integers(0, 3))):
        window = draw(st.sampled_from([{"rolling_days": 7}, {"rolling_hours": 36}, {"calendar": "day"},
                                       {"calendar": "week"}, {"calendar": "month"}]))  # fmt: skip
        caps.append({"id": f"cap{i}", "channels": draw(st.sampled_from([None, ["email"], ["email", "webinar_invite"]])),
                     "max": draw(st.integers(0, 3)), "window": window})  # fmt: skip
    rules = {"caps": caps, "default_time_zone": draw(st.sampled_from(ZONES))}
    if draw(st.booleans()):
        rules["min_gap"] = {"hours": draw(st.sampled_from([12, 24, 48]))}
    if draw(st.booleans()):
        rules["quiet_hours"] = {"start": "20:00", "end": "08:00",
                                "allowed_days": draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, unique=True))}  # fmt: skip
    if draw(st.booleans()):
        rules["capacity"] = [{"id": "reps", "channel": "sales_task", "per_day": draw(st.integers(0, 2))}]
    if draw(st.booleans()):
        rules["holdout"] = {"salt": HOLDOUT_SALT, "share": draw(st.sampled_from([0.2, 0.5]))}
    return as_of, customers, consent_states, history, campaigns, rules


def _held_out(customer_id: str, share: float) -> bool:
    """docs/contact_rules.md: int(md5(customer_id || ':' || salt)[0:8], 16) % 10000 < share * 10000."""
    digest = hashlib.md5(f"{customer_id}:{HOLDOUT_SALT}".encode()).hexdigest()
    return int(digest[:8], 16) % 10000 < share * 10000


def _local(at: datetime, tz: str) -> datetime:
    return at.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def _period(local: datetime, kind: str):
    if kind == "day":
        return local.date()
    if kind == "week":
        return local.date() - timedelta(days=local.weekday())
    return (local.year, local.month)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_plan_never_breaks_a_rule_keeps_the_highest_priority_and_plans_every_candidate_that_fits(scenario):
    as_of, customers, consent_states, history, campaigns, rules = scenario
    consent = [(cid, ch, "marketing", state, "hard_bounce" if state == "suppressed" else None)
               for cid, state in consent_states.items() for ch in ("email", "phone")]  # fmt: skip
    con = make_warehouse(customers, consent=consent, touchpoints=history)
    strat = strategy(campaigns, **rules)
    result = run_plan(con, strat, as_of, created_at=as_of)
    r = strat.rules
    tz_of = {c["customer_id"]: c["time_zone"] or r.default_time_zone for c in customers}
    camp = {c.id: c for c in strat.campaigns.campaigns}
    plan = con.execute(
        "SELECT customer_id, campaign_id, channel, scheduled_at, scheduled_local, time_zone FROM contact_plan"
    ).fetchall()
    assert result.planned == len(plan)
    # touches: (customer, channel, message type, at UTC naive, is_plan, campaign)
    touches = [
        (cid, ch, "marketing", at, False, k) for cid, ch, k, at in history if at <= as_of.replace(tzinfo=None)
    ]
    touches += [(c, ch, camp[k].message_type, at, True, k) for c, k, ch, at, _, _ in plan]

    def counted(cap, t):
        return (cap.channels is None or t[1] in cap.channels) and t[2] in cap.counts

    def violations(all_touches, only=None):
        """Rule breaks caused by plan touches (history alone may already exceed a cap)."""
        bad = []
        for p in all_touches:
            if not p[4] or (only is not None and p is not only):
                continue
            cid, ch, mtype, at, _, k = p
            mine = [t for t in all_touches if t[0] == cid]
            for cap in r.caps:
                if not counted(cap, p) or k in cap.exempt_campaigns:
                    continue
                same = [t for t in mine if counted(cap, t)]
                if cap.window.kind == "rolling":
                    span = timedelta(hours=cap.window.hours)
                    for start in [t[3] for t in same if p[3] - span < t[3] <= p[3]]:
                        n = sum(1 for t in same if start <= t[3] < start + span)
                        if n > cap.max:
                            bad.append(("cap", cap.id, p))
                else:
                    key = _period(_local(at, tz_of[cid]), cap.window.kind)
                    if (
                        sum(1 for t in same if _period(_local(t[3], tz_of[cid]), cap.window.kind) == key)
                        > cap.max
                    ):
                        bad.append(("cap", cap.id, p))
            if r.min_gap and r.min_gap.hours and mtype == "marketing":
                gap = timedelta(hours=r.min_gap.hours)
                if any(t is not p and t[2] == "marketing" and abs(t[3] - at) < gap for t in mine):
                    bad.append(("gap", p))
        if r.capacity:
            limit = r.capacity[0].daily_limit
            days: dict = {}
            for t in all_touches:
                if t[4] and t[1] == "sales_task":
                    d = _local(t[3], r.default_time_zone).date()
                    days[d] = days.get(d, 0) + 1
            bad += [("capacity", d) for d, n in days.items() if n > limit]
        return bad

    assert violations(touches) == []
    for cid, k, ch, at, local, tz in plan:
        assert tz == tz_of[cid]
        assert local == _local(at, tz)  # scheduled_local is the UTC time in the customer's zone (DST-correct)
        assert (
            as_of.replace(tzinfo=None) <= at < (as_of + timedelta(days=r.horizon_days)).replace(tzinfo=None)
        )
        consent_channel = "phone" if ch == "sales_task" else "email"
        state = consent_states[cid]
        assert state != "suppressed"
        allowed = (
            r.consent_for(ch).transactional_allowed_states
            if camp[k].transactional
            else r.consent_for(ch).allowed_states
        )
        assert state in allowed, (cid, k, consent_channel, state)
        if r.quiet_hours and not camp[k].transactional:
            assert 8 <= local.hour < 20
            assert ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][
                local.weekday()
            ] in r.quiet_hours.allowed_days

    # arbitration: an unplanned higher-priority candidate could not take a lower-priority planned one's place
    blocked = con.execute(
        "SELECT d.customer_id, d.campaign_id, d.channel, c.slot_group FROM contact_decisions d "
        "JOIN _plan_candidates c USING (customer_id, campaign_id) WHERE d.outcome IN ('capped', 'gap', 'lost_priority')"
    ).fetchall()
    for cid, k, ch, group in blocked:
        slots = [s[0].astimezone(UTC).replace(tzinfo=None)
                 for s in con.execute("SELECT slot_at FROM _plan_slot_grid WHERE slot_group = ?", [group]).fetchall()]  # fmt: skip
        for p in [t for t in touches if t[4] and t[0] == cid and camp[t[5]].priority < camp[k].priority]:
            rest = [t for t in touches if t is not p]
            for slot in slots:
                q = (cid, ch, camp[k].message_type, slot, True, k)
                assert violations(rest + [q], only=q), (
                    f"{k} (priority {camp[k].priority}) could replace {p[5]} at {slot}"
                )

    # every candidate (each audience is every customer, each schedule fires in the 7-day horizon) has exactly one
    # decision, with one of the documented outcomes
    outcomes = con.execute("SELECT customer_id, campaign_id, outcome FROM contact_decisions").fetchall()
    assert sorted((c, k) for c, k, _ in outcomes) == sorted(
        (c["customer_id"], k) for c in customers for k in camp
    )
    assert {o for _, _, o in outcomes} <= DOCUMENTED_OUTCOMES, outcomes
    outcome_of = {(c, k): o for c, k, o in outcomes}
    planned = {(c, k) for c, k, *_ in plan}
    assert planned == {key for key, o in outcome_of.items() if o == "planned"}

    # liveness: consent, no suppression (the scenario's suppressed rows fail consent too), no holdout and a slot
    # where one more touch breaks no rule given everything planned: then it is planned
    end = (as_of + timedelta(days=r.horizon_days)).replace(tzinfo=None)
    for c in customers:
        cid = c["customer_id"]
        for k, cp in camp.items():
            consent = r.consent_for(cp.channel)
            allowed = consent.transactional_allowed_states if cp.transactional else consent.allowed_states
            eligible = consent_states[cid] in allowed and consent_states[cid] != "suppressed"
            if not eligible:
                assert outcome_of[(cid, k)] in {"no_consent", "suppressed"}, (cid, k, consent_states[cid])
                continue
            if r.holdout and not cp.transactional and _held_out(cid, r.holdout.share):
                assert outcome_of[(cid, k)] == "held_out", (cid, k, outcome_of[(cid, k)])
                continue
            if (cid, k) in planned:
                continue
            group = con.execute(
                "SELECT slot_group FROM _plan_candidates WHERE customer_id = ? AND campaign_id = ?", [cid, k]
            ).fetchone()
            assert group is not None, f"{k} for {cid}: eligible but no candidate"
            slots = [s[0].astimezone(UTC).replace(tzinfo=None)
                     for s in con.execute("SELECT slot_at FROM _plan_slot_grid WHERE slot_group = ?", [group[0]]).fetchall()]  # fmt: skip
            slots = [s for s in slots if as_of.replace(tzinfo=None) <= s < end]
            if not r.quiet_hours or cp.transactional:  # (quiet hours may defer a slot past the horizon)
                assert slots, f"{k} for {cid}: a weekly schedule has a slot in a {r.horizon_days}-day horizon"
            for slot in slots:
                q = (cid, cp.channel, cp.message_type, slot, True, k)
                assert violations(touches + [q], only=q), (
                    f"{k} for {cid} ({outcome_of[(cid, k)]}) is not planned, yet {slot} is free"
                )
