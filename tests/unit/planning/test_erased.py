"""A customer with an erased CRM record (erased_records, via customer_crosswalk) is suppressed on every channel with
reason `erased`, before any consent reason."""

from __future__ import annotations

from datetime import UTC, datetime

from pipelines.lib.erasure import ensure_tables
from pipelines.lib.planning.engine import run_plan
from tests.unit.planning.builders import campaign, decisions, make_warehouse, strategy


def test_an_erased_customer_is_suppressed_with_reason_erased_on_every_channel():
    con = make_warehouse(
        [{"customer_id": c, "time_zone": "UTC"} for c in ("ok", "gone", "gone_unknown")],
        consent=[("ok", "email", "marketing", "subscribed", None), ("gone", "email", "marketing", "subscribed", None),
                 ("gone_unknown", "email", "marketing", "unknown", None)],
    )  # fmt: skip
    ensure_tables(con)
    con.execute(
        "CREATE TABLE customer_crosswalk AS SELECT * FROM (VALUES ('salesforce', '003A', 'gone'), "
        "('hubspot', '501', 'gone_unknown'), ('salesforce', '003B', 'ok')) t(source_system, source_record_id, customer_id)"
    )
    con.execute(
        "INSERT INTO erased_records VALUES ('raw_crm_contacts', 'salesforce', '003A', 'h', NULL), "
        "('raw_crm_contacts', 'hubspot', '501', 'h', NULL)"
    )
    s = strategy([campaign("mail", 50), campaign("call", 60, channel="sales_task")])
    at = datetime(2026, 3, 2, 6, tzinfo=UTC)
    run = run_plan(con, s, at, created_at=at)
    d = decisions(con, run.plan_run_id)
    assert d[("ok", "mail")][0] == "planned"
    for customer in ("gone", "gone_unknown"):  # subscribed or not: the erasure is the reason
        for camp in ("mail", "call"):
            assert d[(customer, camp)][:2] == ("suppressed", "suppressed_erased"), (customer, camp)
    planned = con.execute(
        "SELECT DISTINCT customer_id FROM contact_plan WHERE plan_run_id = ?", [run.plan_run_id]
    ).fetchall()
    assert ("gone",) not in planned and ("gone_unknown",) not in planned
