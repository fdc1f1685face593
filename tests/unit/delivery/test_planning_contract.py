"""Delivery reads contact_plan and plan_runs exactly as the planning engine creates them."""

from __future__ import annotations

import json

import duckdb

from pipelines.lib.delivery import deliver
from pipelines.lib.planning.engine import ensure_output_tables
from pipelines.lib.settings import Settings

from .conftest import SCHEDULED


def test_delivers_the_latest_run_of_the_planning_engines_tables(settings: Settings):
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("DROP TABLE contact_plan")
        ensure_output_tables(con)  # planning's own DDL: contact_plan keeps every plan run
        rows = [
            # plan_run_id, created_at, customer, campaign, message_type, subscription_group
            (
                "20261120T060000-aaaa",
                "2026-11-20 06:00",
                "cu_001",
                "old_newsletter",
                "marketing",
                "newsletter",
            ),
            ("20261122T060000-bbbb", "2026-11-22 06:00", "cu_001", "newsletter", "marketing", "newsletter"),
            ("20261122T060000-bbbb", "2026-11-22 06:00", "cu_002", "receipt", "transactional", None),
        ]
        for run, created, customer, campaign, message_type, group in rows:
            con.execute(
                "INSERT INTO contact_plan BY NAME SELECT ? AS plan_run_id, ? AS customer_id, ? AS campaign_id, "
                "'email' AS channel, 'd-template' AS template_id, 'a' AS variant, ? AS scheduled_at, "
                "? AS scheduled_local, 'Europe/London' AS time_zone, 'rv' AS rules_version, ? AS message_type, "
                "? AS subscription_group, 1 AS priority, 'retention' AS objective, ? AS created_at",
                [run, customer, campaign, SCHEDULED, SCHEDULED, message_type, group, created],
            )
        for run, created in {(r[0], r[1]) for r in rows}:
            con.execute(
                "INSERT INTO plan_runs BY NAME SELECT ? AS plan_run_id, ? AS created_at, 'plan' AS kind",
                [run, created],
            )
        report = deliver(con, settings, send=False)
        ledger = con.execute(
            "SELECT campaign_id, request_path FROM send_ledger ORDER BY campaign_id"
        ).fetchall()

    assert report.count("email", "dry_run") == 2
    assert [c for c, _ in ledger] == ["newsletter", "receipt"]
    bodies = {c: json.loads((settings.outbox / path).read_text()) for c, path in ledger}
    assert bodies["newsletter"]["asm"] == {"group_id": 10002}  # the plan row's subscription group
    assert "asm" not in bodies["receipt"]  # transactional
