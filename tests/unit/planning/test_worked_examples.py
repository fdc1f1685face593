"""Hand-computed plans: rolling vs calendar windows across time zones and DST, look-ahead, transactional
exemption, holdout stability across runs, consent, suppression and capacity."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from pipelines.lib.planning.engine import run_plan
from tests.unit.planning.builders import campaign, decisions, make_warehouse, plan_rows, strategy

DAILY = {"schedule": {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "time": "10:00"}}


def _at(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=UTC)


def test_calendar_day_is_the_customers_local_day_and_rolling_window_is_hours():
    # As of 2026-03-03 12:00 UTC. Sydney (UTC+11) received a touch at 2026-03-03 13:30 UTC = 04 March 00:30 local:
    # a calendar-day cap of 1 blocks its 04 March 10:00 local slot; London (UTC+0) got the same UTC touch on
    # 03 March, so its 04 March slot is free.
    con = make_warehouse(
        [
            {"customer_id": "syd", "time_zone": "Australia/Sydney"},
            {"customer_id": "lon", "time_zone": "Europe/London"},
        ],
        touchpoints=[("syd", "email", "x", "2026-03-02 13:30"), ("lon", "email", "x", "2026-03-02 13:30")],
    )
    s = strategy(
        [campaign("k", 50)],
        caps=[{"id": "day1", "channels": ["email"], "max": 1, "window": {"calendar": "day"}}],
    )
    run = run_plan(con, s, _at("2026-03-02T14:00"), created_at=_at("2026-03-02T14:00"))
    rows = {r[0]: r for r in plan_rows(con, run.plan_run_id)}
    # Sydney: 03 March local already has the touch (00:30 local), so the 03 March 10:00 slot (23:00 UTC on 02 March)
    # is capped; 04 March 10:00 local = 03 March 23:00 UTC.
    assert rows["syd"][2] == datetime(2026, 3, 3, 23, 0)
    assert rows["lon"][2] == datetime(2026, 3, 3, 10, 0)  # 02 March 10:00 London has passed; 03 March is free
    d = decisions(con, run.plan_run_id)
    assert d[("syd", "k")][1] == "retried_after_capped"

    # A rolling 24h window instead: Sydney's touch at 02 March 13:30 UTC blocks until 03 March 13:30 UTC; the slot
    # 02 March 23:00 UTC is inside it, the next one (03 March 23:00 UTC) is not.
    s2 = strategy([campaign("k", 50)], caps=[{"id": "r24", "max": 1, "window": {"rolling_hours": 24}}])
    run2 = run_plan(con, s2, _at("2026-03-02T14:00"), created_at=_at("2026-03-02T14:01"))
    rows2 = {r[0]: r for r in plan_rows(con, run2.plan_run_id)}
    assert rows2["syd"][2] == datetime(2026, 3, 3, 23, 0)
    # London's 03 March 10:00 slot is 20.5 hours after its touch: inside the rolling window (the calendar-day
    # cap allowed it), so it goes on 04 March.
    assert rows2["lon"][2] == datetime(2026, 3, 4, 10, 0)


def test_local_send_time_is_kept_across_the_dst_change():
    # Europe moves to summer time on Sunday 29 March 2026: 10:00 London is 10:00 UTC before, 09:00 UTC after.
    con = make_warehouse([{"customer_id": "lon", "time_zone": "Europe/London"}])
    sched = {"schedule": {"days": ["sat", "mon"], "time": "10:00"}}
    s = strategy([campaign("a", 50, trigger=sched), campaign("b", 40, trigger=sched)],
                 caps=[{"id": "d", "max": 1, "window": {"calendar": "day"}}])  # fmt: skip
    run = run_plan(con, s, _at("2026-03-27T12:00"), created_at=_at("2026-03-27T12:00"))
    rows = plan_rows(con, run.plan_run_id)
    assert [(r[1], r[2], r[3]) for r in rows] == [
        ("a", datetime(2026, 3, 28, 10, 0), datetime(2026, 3, 28, 10, 0)),
        ("b", datetime(2026, 3, 30, 9, 0), datetime(2026, 3, 30, 10, 0)),
    ]


def test_quiet_hours_defer_to_the_next_allowed_local_time():
    # A 21:00 send in New York is moved to 08:00 the next allowed day; Friday 21:00 goes to Monday 08:00 (EDT).
    con = make_warehouse([{"customer_id": "ny", "time_zone": "America/New_York"}])
    s = strategy(
        [campaign("late", 50, trigger={"schedule": {"days": ["fri"], "time": "21:00"}})],
        quiet_hours={"start": "20:00", "end": "08:00", "allowed_days": ["mon", "tue", "wed", "thu", "fri"]},
    )
    run = run_plan(con, s, _at("2026-03-25T12:00"), created_at=_at("2026-03-25T12:00"))
    [(_, _, at, local, tz)] = plan_rows(con, run.plan_run_id)
    assert (local, at, tz) == (datetime(2026, 3, 30, 8, 0), datetime(2026, 3, 30, 12, 0), "America/New_York")
    assert decisions(con, run.plan_run_id)[("ny", "late")][1] == "quiet_hours"


def test_look_ahead_keeps_the_last_slot_for_a_higher_priority_message_due_later():
    # Cap 2 per rolling 7 days, one touch already. Low-priority 'nurture' is due Monday, high-priority 'offer'
    # Wednesday: nurture must not take the last slot. Without look-ahead, nurture would go Monday and block offer.
    con = make_warehouse(
        [{"customer_id": "a", "time_zone": "UTC"}], touchpoints=[("a", "email", "x", "2026-03-01 09:00")]
    )
    s = strategy(
        [campaign("nurture", 10, trigger={"schedule": {"days": ["mon"], "time": "10:00"}}),
         campaign("offer", 90, trigger={"schedule": {"days": ["wed"], "time": "10:00"}})],
        caps=[{"id": "email_7d", "channels": ["email"], "max": 2, "window": {"rolling_days": 7}}],
    )  # fmt: skip
    run = run_plan(con, s, _at("2026-03-02T08:00"), created_at=_at("2026-03-02T08:00"))  # Monday
    assert [(r[1], r[2]) for r in plan_rows(con, run.plan_run_id)] == [("offer", datetime(2026, 3, 4, 10, 0))]
    outcome, reason, rule, evidence = decisions(con, run.plan_run_id)[("a", "nurture")]
    assert (outcome, reason, rule) == ("lost_priority", "look_ahead", "email_7d")
    assert json.loads(evidence)["kept_for_campaign"] == "offer"


def test_capped_evidence_lists_the_prior_touches_and_transactional_is_exempt():
    con = make_warehouse(
        [{"customer_id": "a", "time_zone": "UTC"}],
        touchpoints=[("a", "email", "old1", "2026-03-01 09:00"), ("a", "email", "old2", "2026-03-01 12:00")],
        ledger=[
            ("a", "old3", "email", "sent", "2026-03-01 15:00"),
            ("a", "old4", "email", "failed", "2026-03-01 16:00"),
        ],
    )
    s = strategy(
        [campaign("promo", 50), campaign("receipt", 10, transactional=True)],
        caps=[{"id": "email_7d", "channels": ["email"], "max": 3, "window": {"rolling_days": 7}}],
        min_gap={"hours": 48},
    )
    run = run_plan(con, s, _at("2026-03-02T08:00"), created_at=_at("2026-03-02T08:00"))
    d = decisions(con, run.plan_run_id)
    outcome, reason, rule, evidence = d[("a", "promo")]
    # capped on 02 March 10:00 (three touches within 7 days); on 08 March 10:00 old1 (01 March 09:00) has left the
    # window, so the promo goes then
    assert (outcome, reason, rule) == ("planned", "retried_after_capped", "email_7d")
    ev = json.loads(evidence)["first_block"]
    assert (ev["count"], ev["limit"]) == (3, 3)  # the failed ledger row does not count
    assert [t["campaign_id"] for t in ev["touches"]] == ["old1", "old2", "old3"]
    assert d[("a", "receipt")][:2] == ("planned", "due")  # exempt from caps and the gap
    assert [(r[1], r[2]) for r in plan_rows(con, run.plan_run_id)] == [
        ("receipt", datetime(2026, 3, 2, 10, 0)),
        ("promo", datetime(2026, 3, 8, 10, 0)),
    ]


def test_holdout_is_a_stable_hash_identical_across_runs_and_campaigns():
    customers = [{"customer_id": f"c{i:03d}", "time_zone": "UTC"} for i in range(200)]
    con = make_warehouse(customers)
    s = strategy([campaign("a", 50), campaign("b", 40, channel="webinar_invite")],
                 holdout={"salt": "pepper", "share": 0.25})  # fmt: skip
    runs = [
        run_plan(con, s, _at(f"2026-03-0{d}T06:00"), created_at=_at(f"2026-03-0{d}T06:00")) for d in (2, 3)
    ]
    held = [
        {(r[0], r[1]) for r in con.execute(
            "SELECT customer_id, campaign_id FROM contact_decisions WHERE plan_run_id = ? AND outcome = 'held_out'",
            [run.plan_run_id]).fetchall()}
        for run in runs
    ]  # fmt: skip
    assert held[0] == held[1]
    by_campaign = {k: {c for c, kk in held[0] if kk == k} for k in ("a", "b")}
    assert by_campaign["a"] == by_campaign["b"]  # the same customers on every channel
    expected = {c["customer_id"] for c in customers
                if int(hashlib.md5(f"{c['customer_id']}:pepper".encode()).hexdigest()[:8], 16) % 10000 < 2500}  # fmt: skip
    assert by_campaign["a"] == expected
    assert 30 < len(expected) < 70


def test_consent_suppression_and_capacity_outcomes():
    con = make_warehouse(
        [{"customer_id": c, "time_zone": "UTC"} for c in ("ok", "unsub", "bounced", "erased", "unknown")],
        consent=[("ok", "email", "marketing", "subscribed", None), ("unsub", "email", "marketing", "unsubscribed", None),
                 ("bounced", "email", "marketing", "suppressed", "hard_bounce"),
                 ("erased", "email", "marketing", "subscribed", None), ("erased", "phone", "marketing", "unknown", "erased"),
                 ("unknown", "email", "marketing", "unknown", None)],
    )  # fmt: skip
    s = strategy([campaign("mail", 50), campaign("call", 60, channel="sales_task")],
                 capacity=[{"id": "reps", "channel": "sales_task", "reps": 1, "per_rep_per_day": 1}])  # fmt: skip
    run = run_plan(con, s, _at("2026-03-02T06:00"), created_at=_at("2026-03-02T06:00"))
    d = decisions(con, run.plan_run_id)
    assert d[("ok", "mail")][0] == "planned"
    assert d[("unsub", "mail")][:2] == ("no_consent", "consent_unsubscribed")
    assert d[("unknown", "mail")][:2] == ("no_consent", "consent_unknown")
    assert d[("bounced", "mail")][:2] == ("suppressed", "suppressed_hard_bounce")
    assert d[("erased", "mail")][0] == "suppressed" and d[("erased", "call")][0] == "suppressed"
    # one sales task per day, 4 callable customers (phone consent unknown is allowed for sales tasks): one per day
    calls = con.execute(
        "SELECT CAST(scheduled_at AS DATE), count(*) FROM contact_plan WHERE plan_run_id = ? AND channel = 'sales_task' "
        "GROUP BY 1 ORDER BY 1", [run.plan_run_id]).fetchall()  # fmt: skip
    assert [n for _, n in calls] == [1, 1, 1, 1]
    wf = {w["campaign_id"]: w for w in run.waterfall}
    assert (wf["mail"]["eligible"], wf["mail"]["after_consent"], wf["mail"]["after_suppression"]) == (5, 3, 1)


def test_runs_append_and_diff_reports_rescheduled():
    from pipelines.lib.planning.review import diff_runs

    con = make_warehouse([{"customer_id": "a", "time_zone": "UTC"}])
    s = strategy([campaign("k", 50, trigger={"schedule": {"days": ["mon", "wed"], "time": "10:00"}})])
    r1 = run_plan(con, s, _at("2026-03-02T06:00"), created_at=_at("2026-03-02T06:00"))
    r2 = run_plan(con, s, _at("2026-03-02T11:00"), created_at=_at("2026-03-02T11:00"))
    assert con.execute("SELECT count(*) FROM plan_runs").fetchone()[0] == 2
    diff = diff_runs(con, r1.plan_run_id, r2.plan_run_id)
    assert diff.rescheduled and diff.rescheduled[0][:2] == ("a", "k")
    assert not diff.added and not diff.removed


def test_a_send_time_skipped_by_the_dst_change_goes_at_the_same_instant_local_wall_clock():
    # London skips 01:00-02:00 on Sunday 29 March 2026. A 01:30 send that day is the instant 01:30 UTC, which is
    # 02:30 on London's clocks: scheduled_local shows the real wall-clock time, never the non-existent 01:30.
    con = make_warehouse([{"customer_id": "lon", "time_zone": "Europe/London"}])
    s = strategy([campaign("night", 50, transactional=True,
                           trigger={"schedule": {"days": ["sun"], "time": "01:30"}})])  # fmt: skip
    run = run_plan(con, s, _at("2026-03-27T12:00"), created_at=_at("2026-03-27T12:00"))
    [(_, _, at, local, tz)] = plan_rows(con, run.plan_run_id)
    assert (at, local, tz) == (datetime(2026, 3, 29, 1, 30), datetime(2026, 3, 29, 2, 30), "Europe/London")


def test_a_send_made_before_a_merge_counts_towards_the_surviving_customers_caps():
    """send_ledger keeps the customer id of send time; after that id is merged into another (customer_id_lineage),
    the send still counts for the person: capped, and listed as a prior touch."""
    rows = [("a_before", "old1", "email", "accepted", "2026-03-01 09:00")]
    caps = [{"id": "email_7d", "channels": ["email"], "max": 1, "window": {"rolling_days": 7}}]
    merged = make_warehouse(
        [{"customer_id": "a", "time_zone": "UTC"}],
        ledger=rows,
        lineage=[("a", "a"), ("a_older", "a"), ("a_before", "a")],
    )
    run = run_plan(
        merged,
        strategy([campaign("promo", 50)], caps=caps),
        _at("2026-03-02T08:00"),
        created_at=_at("2026-03-02T08:00"),
    )
    outcome, reason, rule, evidence = decisions(merged, run.plan_run_id)[("a", "promo")]
    assert (outcome, reason, rule) == ("planned", "retried_after_capped", "email_7d")
    assert [t["campaign_id"] for t in json.loads(evidence)["first_block"]["touches"]] == ["old1"]
    assert [(r[1], r[2]) for r in plan_rows(merged, run.plan_run_id)] == [
        ("promo", datetime(2026, 3, 8, 10, 0))
    ]
    # without the lineage the old id's send is someone else's: planned at once
    unmerged = make_warehouse([{"customer_id": "a", "time_zone": "UTC"}], ledger=rows)
    run = run_plan(
        unmerged,
        strategy([campaign("promo", 50)], caps=caps),
        _at("2026-03-02T08:00"),
        created_at=_at("2026-03-02T08:00"),
    )
    assert [(r[1], r[2]) for r in plan_rows(unmerged, run.plan_run_id)] == [
        ("promo", datetime(2026, 3, 2, 10, 0))
    ]
