"""The planning multi-asset materialises on a small real warehouse and writes its four tables."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.defs.planning.assets import contact_plan_assets
from pipelines.defs.resources import TouchplanResource
from tests.unit.planning.builders import make_warehouse

ROOT = Path(__file__).resolve().parents[2]


def test_planning_assets_write_plan_tables_and_metadata(tmp_path, monkeypatch):
    config = tmp_path / "config"
    config.mkdir()
    for name in ("campaigns.yaml", "contact_rules.yaml"):
        shutil.copy(ROOT / "config" / name, config / name)
    src = make_warehouse(
        [{"customer_id": f"c{i}", "time_zone": "Europe/London"} for i in range(30)],
        lifecycle=[(f"c{i}", "lead", "2026-03-20", 5) for i in range(30)],
    )
    warehouse = tmp_path / "w.duckdb"
    src.execute(f"ATTACH '{warehouse}' AS w")
    for (table,) in src.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'memory'"
    ).fetchall():
        src.execute(f"CREATE TABLE w.{table} AS SELECT * FROM memory.{table}")
    src.close()
    monkeypatch.setenv("TOUCHPLAN_AS_OF", "2026-03-23T06:00:00")
    result = dg.materialize(
        [contact_plan_assets],
        resources={"touchplan": TouchplanResource(warehouse=str(warehouse), config_dir=str(config))},
    )
    assert result.success
    mats = {m.asset_key.path[-1]: m for m in result.get_asset_materialization_events()}
    assert set(mats) == {"contact_decisions", "contact_plan", "campaign_waterfall", "plan_runs"}
    con = duckdb.connect(str(warehouse), read_only=True)
    planned = con.execute("SELECT count(*) FROM contact_plan").fetchone()[0]
    # 30 subscribed leads in London, tenure 5 days, as of Monday 2026-03-23 06:00 (horizon to Monday 30th):
    # welcome_new_lead (tenure <= 14; Tue/Thu 10:00) and webinar_invite (lead, no webinar; Wed 11:00) match, no
    # other shipped campaign does. The global holdout (10%, salt touchplan-2026: md5("c25:touchplan-2026")) takes
    # c25. welcome_new_lead (priority 70) goes Tuesday 10:00 for the other 29; webinar_invite (60) has only
    # Wednesday 11:00 in the horizon, 25 h after it, inside the 48 h min_gap: lost_priority for all 29.
    assert planned == 29
    outcomes = con.execute(
        "SELECT campaign_id, outcome, count(*) FROM contact_decisions GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert outcomes == [
        ("webinar_invite", "held_out", 1),
        ("webinar_invite", "lost_priority", 29),
        ("welcome_new_lead", "held_out", 1),
        ("welcome_new_lead", "planned", 29),
    ]
    assert con.execute("SELECT DISTINCT campaign_id, scheduled_local FROM contact_plan").fetchall() == [
        ("welcome_new_lead", datetime(2026, 3, 24, 10, 0))
    ]
    assert con.execute("SELECT count(*) FROM plan_runs").fetchone()[0] == 1
    wf = con.execute(
        "SELECT eligible, planned FROM campaign_waterfall WHERE campaign_id = 'welcome_new_lead'"
    ).fetchone()
    assert wf == (30, 29)
    meta = mats["campaign_waterfall"].event_specific_data.materialization.metadata
    assert "welcome_new_lead" in meta["waterfall"].value
    assert "@" not in str(meta)  # no personal data in metadata
