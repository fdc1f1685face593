"""Delivery sends only the latest plan run that passed the blocking checks on contact_plan (issue #18), marked in
plan_runs by the planning step, its check and `touchplan plan` (pipelines/lib/planning/provenance.py)."""

from __future__ import annotations

import duckdb

from pipelines.lib.delivery import deliver
from pipelines.lib.planning.engine import ensure_output_tables
from pipelines.lib.planning.provenance import (
    MADE_BY_PLAN_COMMAND,
    MADE_BY_RUN,
    mark_plan_run,
    record_plan_checks,
)
from pipelines.lib.settings import Settings


def _plan_runs(con: duckdb.DuckDBPyConnection, *runs: tuple[str, str, str, bool | None]) -> None:
    """(plan_run_id, created_at, made_by, checks passed) in planning's own plan_runs table; each plan run after the
    first plans the conftest's sends again under its own id, with the campaign renamed to tell them apart."""
    ensure_output_tables(con)
    for plan_run_id, created_at, made_by, passed in runs:
        con.execute(
            "INSERT INTO plan_runs BY NAME SELECT ? AS plan_run_id, ? AS created_at, 'plan' AS kind",
            [plan_run_id, created_at],
        )
        if plan_run_id != "run_001":
            con.execute(
                "INSERT INTO contact_plan BY NAME SELECT * REPLACE (? AS plan_run_id, campaign_id || '_' || ? AS "
                "campaign_id) FROM contact_plan WHERE plan_run_id = 'run_001'",
                [plan_run_id, plan_run_id],
            )
        dagster_run = f"dagster-{plan_run_id}" if made_by == MADE_BY_RUN else None
        mark_plan_run(con, plan_run_id, made_by, dagster_run_id=dagster_run)
        if passed is not None:
            assert record_plan_checks(con, dagster_run, passed=passed) == [plan_run_id]


def _delivered(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT DISTINCT plan_run_id FROM send_ledger ORDER BY 1").fetchall()]


def test_a_plan_command_plan_after_a_run_is_held_back_and_the_runs_plan_is_sent(settings: Settings, caplog):
    with duckdb.connect(str(settings.warehouse)) as con:
        _plan_runs(
            con,
            ("run_001", "2026-01-01 06:00", MADE_BY_RUN, True),
            ("run_002", "2026-01-01 09:00", MADE_BY_PLAN_COMMAND, None),
        )
        report = deliver(con, settings, send=False)
        assert _delivered(con) == ["run_001"]
    assert report.plan_run_id == "run_001"
    assert report.plan_run_held_back == (
        "the latest plan run run_002 was made by `touchplan plan`, outside a full run and its quality checks; "
        "sending plan run run_001 instead"
    )
    assert "NOT SENT: the latest plan run run_002" in report.summary()
    assert "latest plan run run_002 was made by `touchplan plan`" in caplog.text


def test_a_plan_that_failed_the_checks_is_not_sent(settings: Settings):
    with duckdb.connect(str(settings.warehouse)) as con:
        _plan_runs(
            con,
            ("run_001", "2026-01-01 06:00", MADE_BY_RUN, True),
            ("run_002", "2026-01-02 06:00", MADE_BY_RUN, False),
        )
        report = deliver(con, settings, send=False)
        assert _delivered(con) == ["run_001"]
    assert "run_002 failed the blocking quality checks" in report.plan_run_held_back


def test_nothing_is_sent_when_no_plan_run_passed(settings: Settings):
    with duckdb.connect(str(settings.warehouse)) as con:
        _plan_runs(con, ("run_001", "2026-01-01 06:00", MADE_BY_RUN, False))
        report = deliver(con, settings, send=False)
        assert _delivered(con) == []
    assert report.plan_run_id is None
    assert report.plan_run_held_back.endswith("no plan run has passed them: nothing sent")


def test_the_latest_plan_run_that_passed_is_sent_without_a_warning(settings: Settings):
    with duckdb.connect(str(settings.warehouse)) as con:
        _plan_runs(
            con,
            ("run_001", "2026-01-01 06:00", MADE_BY_RUN, True),
            ("run_002", "2026-01-02 06:00", MADE_BY_RUN, True),
        )
        report = deliver(con, settings, send=False)
        assert _delivered(con) == ["run_002"]
    assert (report.plan_run_id, report.plan_run_held_back) == ("run_002", None)
