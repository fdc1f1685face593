"""Issue #15, consent by group, end to end through the real parts: signed webhook POSTs and a one-click unsubscribe
to the receiver (`touchplan serve`'s app on uvicorn), `ingest_folder`, a real `dbt build` with the vars from
config/delivery.yaml, and the planner.

People (added to the core marts dataset, all subscribed in Mailchimp):
- g1, g2, g3 group-unsubscribed from ASM 10001, which config names `marketing` (the issue's case: before, the
  unsubscribe was stored under "10001" and a campaign checking `marketing` planned 2 of 3 of them again);
- n4 group-unsubscribed from ASM 10002 (`newsletter`);
- o5 clicked the one-click unsubscribe link of a newsletter send (receiver -> file -> ingest -> send_ledger);
- m6 did the same on a send made under an id that two merges have since carried to cust_m6 (customer_merge_log:
  cust_m6_older into cust_m6_before, later cust_m6_before into cust_m6): the request must reach cust_m6.
A campaign checking `marketing` must plan none of g1-g3 but n4 and o5; one checking `newsletter` must plan g1-g3
but neither n4 nor o5. The webhook's retries (the same body three times, the same event in another batch, and the
same event under a new sg_event_id a second later) count as ONE event after ingest + dbt.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from pipelines.lib.config.dbt_vars import collect_dbt_vars
from pipelines.lib.delivery import ledger
from pipelines.lib.identity import stable_ids
from pipelines.lib.ingest import ingest_folder
from pipelines.lib.planning.engine import ensure_output_tables, run_plan
from pipelines.lib.receiver.app import create_app
from pipelines.lib.receiver_contract import make_token
from pipelines.lib.settings import PROJECT_ROOT, Settings
from tests.integration import core_marts_dataset
from tests.integration.dbt_runner import run_dbt
from tests.receiver_helpers import UNSUBSCRIBE_SECRET, ServerThread, Signer, request
from tests.unit.planning.builders import campaign, strategy

pytestmark = pytest.mark.xdist_group("consent_by_group")

PEOPLE = {  # customer id -> (email, Mailchimp leid)
    "cust_g1": ("g1@example.com", "LG1"),
    "cust_g2": ("g2@example.com", "LG2"),
    "cust_g3": ("g3@example.com", "LG3"),
    "cust_n4": ("n4@example.com", "LN4"),
    "cust_o5": ("o5@example.com", "LO5"),
    "cust_m6": ("m6@example.com", "LM6"),
}
GROUP_UNSUBSCRIBED = ["cust_g1", "cust_g2", "cust_g3"]
AS_OF = datetime(2026, 4, 6, 6, 0, tzinfo=UTC)  # a Monday, after every event of the dataset
SENT_AT = datetime(2026, 3, 2, 10, 0)
T0 = 1_772_000_000  # 2026-02-25 06:13:20 UTC


def event(email: str, kind: str, sg_event_id: str, ts: int, **extra) -> dict:
    return {
        "email": email,
        "timestamp": ts,
        "smtp-id": f"<{sg_event_id}@ismtpd-1>",
        "event": kind,
        "category": ["touchplan"],
        "sg_event_id": sg_event_id,
        "sg_message_id": f"msg-{email}.filterdrecv-0",
        **extra,
    }


def post(port: int, signer: Signer, events: list[dict]) -> None:
    body = (json.dumps(events) + "\r\n").encode()
    resp = request(port, "POST", "/sendgrid/events", body, signer.headers(body))
    assert resp.status == 200, resp.body


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = tmp_path_factory.mktemp("consent_by_group")
    warehouse = work / "warehouse.duckdb"
    exports = work / "exports"
    exports.mkdir()
    core_marts_dataset.build(str(warehouse))
    con = duckdb.connect(str(warehouse))
    for cid, (email, leid) in PEOPLE.items():
        con.execute(
            "insert into raw_email_audience (source_system, source_record_id, list_status, email, leid, "
            "optin_at, confirm_at, last_changed_at, _ingested_at, _source_file, _source_line, _file_hash) "
            "values ('mailchimp', ?, 'subscribed', ?, ?, timestamp '2025-01-01 08:00', timestamp '2025-01-01 09:00', "
            "timestamp '2025-01-01 09:00', timestamp '2026-04-01 00:00', 'mc/more.csv', 2, 'h9')",
            [leid, email, leid],
        )
        for key in (f"mailchimp:{leid}", f"sendgrid:{email}"):
            con.execute("insert into identity_clusters values (?, ?, ?, 'email', null)", [key, cid, cid])
    # o5 was sent a newsletter email by an earlier run: its plan row and ledger row
    ensure_output_tables(con)
    ledger.ensure_ledger(con)
    send_id = ledger.send_id("cust_o5", "news", "email", SENT_AT)
    con.execute(
        "insert into contact_plan (plan_run_id, customer_id, campaign_id, channel, template_id, scheduled_at, "
        "message_type, subscription_group, created_at) values ('run-1', 'cust_o5', 'news', 'email', 'tpl_news', ?, "
        "'marketing', 'newsletter', ?)",
        [SENT_AT, SENT_AT],
    )
    status = "sent" if "sent" in ledger.STATUSES else ledger.STATUSES[0]
    con.execute(
        "insert into send_ledger (send_id, customer_id, campaign_id, channel, status, created_at, plan_run_id, "
        "scheduled_at, updated_at) values (?, 'cust_o5', 'news', 'email', ?, ?, 'run-1', ?, ?)",
        [send_id, status, SENT_AT, SENT_AT, SENT_AT],
    )
    # m6: the same newsletter sent under an id merged away twice since
    m6_send_id = ledger.send_id("cust_m6_older", "news", "email", SENT_AT)
    con.execute(
        "insert into contact_plan (plan_run_id, customer_id, campaign_id, channel, template_id, scheduled_at, "
        "message_type, subscription_group, created_at) values ('run-1', 'cust_m6_older', 'news', 'email', "
        "'tpl_news', ?, 'marketing', 'newsletter', ?)",
        [SENT_AT, SENT_AT],
    )
    con.execute(
        "insert into send_ledger (send_id, customer_id, campaign_id, channel, status, created_at, plan_run_id, "
        "scheduled_at, updated_at) values (?, 'cust_m6_older', 'news', 'email', ?, ?, 'run-1', ?, ?)",
        [m6_send_id, status, SENT_AT, SENT_AT, SENT_AT],
    )
    stable_ids.ensure_tables(con)
    for at, survivor, merged in (
        ("2026-03-10 06:00", "cust_m6_before", "cust_m6_older"),
        ("2026-03-20 06:00", "cust_m6", "cust_m6_before"),
    ):
        con.execute(
            "insert into customer_merge_log values (?::timestamp, 'merge', ?, [?], '2 customers joined', 'r', 2)",
            [at, survivor, merged],
        )
    con.close()

    signer = Signer()
    app = create_app(exports, signer.public_key, UNSUBSCRIBE_SECRET)
    g1_unsub = event("g1@example.com", "group_unsubscribe", "evG1", T0, asm_group_id=10001)
    with ServerThread(app) as srv:
        for _ in range(3):  # a retried POST: the same body three times
            post(srv.port, signer, [g1_unsub])
        # the same event again in another batch, and re-sent under a new sg_event_id one second later
        post(srv.port, signer, [g1_unsub, event("g1@example.com", "delivered", "evG1d", T0 - 600)])
        post(srv.port, signer, [{**g1_unsub, "sg_event_id": "evG1-new", "timestamp": T0 + 1}])
        post(
            srv.port,
            signer,
            [
                event("g2@example.com", "group_unsubscribe", "evG2", T0 + 60, asm_group_id=10001),
                event("g3@example.com", "group_unsubscribe", "evG3", T0 + 120, asm_group_id=10001),
                event("n4@example.com", "group_unsubscribe", "evN4", T0 + 180, asm_group_id=10002),
            ],
        )
        resp = request(
            srv.port,
            "POST",
            f"/unsubscribe/{make_token(send_id, UNSUBSCRIBE_SECRET)}",
            b"List-Unsubscribe=One-Click",
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert resp.status == 200
        resp = request(
            srv.port,
            "POST",
            f"/unsubscribe/{make_token(m6_send_id, UNSUBSCRIBE_SECRET)}",
            b"List-Unsubscribe=One-Click",
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert resp.status == 200

    con = duckdb.connect(str(warehouse))
    report = ingest_folder(con, exports)
    con.close()
    assert report.rejected == []
    settings = Settings.from_env(warehouse=warehouse, config_dir=PROJECT_ROOT / "config")
    dbt_vars = collect_dbt_vars(settings)
    result = run_dbt(
        warehouse,
        work,
        ["build", "--indirect-selection", "cautious", "--select", "+customer_consent", "+dim_customers"],
        dbt_vars,
    )
    return warehouse, result.stdout, send_id, m6_send_id


def query(warehouse, sql, params=None):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_webhook_retries_count_as_one_event(built):
    warehouse, *_ = built
    raw = query(warehouse, "select event_id from raw_email_events where email = 'g1@example.com' "
                "and event = 'group_unsubscribe' order by event_id")  # fmt: skip
    # ingest loads the distinct files (the three identical POSTs are one file): 2 copies of evG1 and the re-id'd one
    assert raw == [("evG1",), ("evG1",), ("evG1-new",)]
    staged = query(
        warehouse,
        "select event_id, subscription_group from stg_sendgrid__events "
        "where email = 'g1@example.com' and event_type = 'group_unsubscribe'",
    )
    assert staged == [("evG1", "marketing")]


def test_group_unsubscribe_is_stored_under_the_group_name(built):
    warehouse, *_ = built
    rows = dict(
        ((cid, group), (state, reason))
        for cid, group, state, reason in query(
            warehouse,
            "select customer_id, subscription_group, consent_state, reason from customer_consent "
            "where channel = 'email' and customer_id like 'cust\\_%' escape '\\' "
            "and customer_id in (select unnest(?))",
            [list(PEOPLE)],
        )
    )
    for cid in GROUP_UNSUBSCRIBED:
        assert rows[(cid, "marketing")] == ("unsubscribed", "group_unsubscribe")
        assert rows[(cid, "newsletter")] == ("subscribed", "mailchimp subscribed")
        assert (cid, "10001") not in rows
    assert rows[("cust_n4", "newsletter")] == ("unsubscribed", "group_unsubscribe")
    assert rows[("cust_n4", "marketing")][0] == "subscribed"
    assert rows[("cust_o5", "newsletter")] == ("unsubscribed", "one-click unsubscribe")
    assert rows[("cust_o5", "marketing")][0] == "subscribed"
    assert rows[("cust_o5", "webinars")][0] == "subscribed"
    assert rows[("cust_m6", "newsletter")] == ("unsubscribed", "one-click unsubscribe")
    assert rows[("cust_m6", "marketing")][0] == "subscribed"


def test_one_click_request_joins_the_ledger(built):
    warehouse, _, send_id, m6_send_id = built
    assert sorted(
        query(
            warehouse,
            "select send_id, customer_id, campaign_id, subscription_group, method, is_known_send "
            "from stg_touchplan__unsubscribe_requests",
        ),
        key=lambda r: r[1],
    ) == [
        # the ledger's customer of send time; customer_consent reads the current one from customer_id_lineage
        (m6_send_id, "cust_m6_older", "news", "newsletter", "one_click", True),
        (send_id, "cust_o5", "news", "newsletter", "one_click", True),
    ]


def test_merged_away_ids_follow_their_merges_to_the_current_id(built):
    warehouse, *_ = built
    assert query(
        warehouse,
        "select customer_id, current_customer_id, merge_hops, is_current from customer_id_lineage "
        "where customer_id like 'cust\\_m6%' escape '\\' order by merge_hops",
    ) == [
        ("cust_m6", "cust_m6", 0, True),
        ("cust_m6_before", "cust_m6", 1, True),
        ("cust_m6_older", "cust_m6", 2, True),
    ]
    # every current customer maps to itself, once
    assert query(
        warehouse,
        "select count(*) filter (where customer_id <> current_customer_id), count(*) - count(distinct customer_id) "
        "from customer_id_lineage where merge_hops = 0",
    ) == [(0, 0)]


def test_global_unsubscribe_withdraws_every_group(built):
    warehouse, *_ = built
    states = query(
        warehouse,
        "select subscription_group, consent_state from customer_consent "
        "where customer_id = 'cust_A' and channel = 'email' order by 1",
    )
    assert states == [
        ("marketing", "unsubscribed"),
        ("newsletter", "unsubscribed"),
        ("webinars", "unsubscribed"),
    ]


def test_unknown_asm_groups_are_kept_and_warned_with_a_count(built):
    warehouse, stdout, *_ = built
    # the core dataset's events for ASM groups 42 and 43 (not in config): kept under their numbers...
    assert query(
        warehouse,
        "select subscription_group, consent_state from customer_consent "
        "where customer_id = 'cust_B' and subscription_group in ('42', '43') order by 1",
    ) == [("42", "subscribed"), ("43", "unsubscribed")]
    # ...and counted by the warning test (4 events: unsubscribe + resubscribe of each)
    warned = [line for line in stdout.splitlines() if "known_asm_group_stg_sendgrid__events" in line]
    assert any("WARN 4" in line for line in warned), "\n".join(warned) or stdout[-3000:]


def test_planner_honours_group_unsubscribes(built):
    warehouse, *_ = built
    con = duckdb.connect(str(warehouse))
    try:
        planned = {}
        for group in ("marketing", "newsletter"):
            plan = strategy([campaign(f"c_{group}", subscription_group=group)])
            result = run_plan(
                con, plan, AS_OF, created_at=datetime.now(UTC) + timedelta(seconds=len(planned))
            )
            planned[group] = {
                r[0]
                for r in con.execute(
                    "select customer_id from contact_plan where plan_run_id = ?", [result.plan_run_id]
                ).fetchall()
            }
            time.sleep(0.01)
    finally:
        con.close()
    # the case: 0 of the 3 group-unsubscribed people planned for a campaign checking `marketing`
    assert planned["marketing"] & set(GROUP_UNSUBSCRIBED) == set()
    assert {"cust_n4", "cust_o5", "cust_m6"} <= planned["marketing"]
    # a group unsubscribe withdraws that group only
    assert set(GROUP_UNSUBSCRIBED) <= planned["newsletter"]
    # ... and a one-click unsubscribe made under a merged-away id withdraws the surviving customer
    assert planned["newsletter"] & {"cust_n4", "cust_o5", "cust_m6"} == set()
    # a global unsubscribe withdraws all marketing
    assert "cust_A" not in planned["marketing"] | planned["newsletter"]
