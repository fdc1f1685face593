"""The planning multi-asset materialises on a small real warehouse and writes its four tables."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.cli import main
from pipelines.defs.planning.assets import contact_plan_assets
from pipelines.defs.quality.checks import build_table_check
from pipelines.defs.quality.resources import GreatExpectationsResource
from pipelines.defs.resources import TouchplanResource
from pipelines.lib.delivery import deliver
from pipelines.lib.settings import Settings, parse_as_of
from tests.unit.planning.builders import make_warehouse

ROOT = Path(__file__).resolve().parents[2]


def _thirty_leads(tmp_path: Path, config_files=("campaigns.yaml", "contact_rules.yaml")) -> tuple[Path, Path]:
    """A warehouse of 30 subscribed London leads and a config folder with the shipped files named."""
    config = tmp_path / "config"
    config.mkdir()
    for name in config_files:
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
    return warehouse, config


def test_planning_assets_write_plan_tables_and_metadata(tmp_path, monkeypatch):
    warehouse, config = _thirty_leads(tmp_path)
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


def test_a_touchplan_plan_made_after_a_run_is_not_delivered_and_the_runs_plan_is(tmp_path, capsys):
    """Issue #18: the run's plan (planning step, then its blocking GX check on contact_plan) is marked made_by run
    and checks_passed; a later `touchplan plan` is marked plan_command, unchecked, and delivery still sends the
    run's plan, saying why it holds the latest back."""
    warehouse, config = _thirty_leads(tmp_path, ("campaigns.yaml", "contact_rules.yaml", "delivery.yaml"))
    as_of = "2026-03-23T06:00:00+00:00"
    resource = TouchplanResource.from_settings(
        Settings(
            warehouse=warehouse,
            exports=tmp_path / "in",
            config_dir=config,
            output=tmp_path / "out",
            as_of=parse_as_of(as_of),
        )
    )
    result = dg.materialize(
        [contact_plan_assets, build_table_check("contact_plan", blocking=True)],
        resources={"touchplan": resource, "great_expectations": GreatExpectationsResource()},
    )
    assert result.success
    [check] = result.get_asset_check_evaluations()
    assert check.passed

    assert main(["plan", "--warehouse", str(warehouse), "--config", str(config), "--as-of", as_of]) == 0
    assert "will not send it" in capsys.readouterr().err

    con = duckdb.connect(str(warehouse))
    try:
        runs = con.execute(
            "SELECT plan_run_id, made_by, checks_passed, dagster_run_id FROM plan_runs ORDER BY created_at"
        ).fetchall()
        assert [(made_by, passed) for _, made_by, passed, _ in runs] == [
            ("run", True),
            ("plan_command", None),
        ]
        assert runs[0][3] == result.run_id
        run_plan_id, command_plan_id = runs[0][0], runs[1][0]
        # both plan runs planned the same sends: only which plan run is delivered can tell them apart
        assert (
            con.execute(
                "SELECT count(DISTINCT plan_run_id) FROM contact_plan WHERE campaign_id = 'welcome_new_lead'"
            ).fetchone()[0]
            == 2
        )

        report = deliver(con, resource.settings(), send=False)
        delivered = con.execute("SELECT DISTINCT plan_run_id FROM send_ledger").fetchall()
    finally:
        con.close()
    assert delivered == [(run_plan_id,)]
    assert report.plan_run_id == run_plan_id
    assert command_plan_id in report.plan_run_held_back and "touchplan plan" in report.plan_run_held_back
    assert report.as_metadata()["plan_run_held_back"] == report.plan_run_held_back
