"""How each plan run was made, and whether it passed the blocking checks on the plan: the rule delivery sends by.

Three columns of `plan_runs` (added to a warehouse that lacks them):

- `made_by`: `run` (the planning step of a Dagster run: `touchplan run`, the UI, the schedule) or `plan_command`
  (`touchplan plan`, outside Dagster and its quality checks);
- `checks_passed`: TRUE / FALSE once the blocking Great Expectations check on `contact_plan` of the same run has
  passed / failed (pipelines/defs/quality/checks.py), NULL while unchecked (always, for `touchplan plan`);
- `dagster_run_id`: the Dagster run that made the plan run, which is how that check finds it.

Delivery reads these columns (the table is the interface: pipelines/lib/delivery/channels.py, `choose_plan_run`):
it sends only the latest plan run whose `checks_passed` is TRUE, and says so when the latest plan run is another.
"""

from __future__ import annotations

import duckdb

MADE_BY_RUN = "run"
MADE_BY_PLAN_COMMAND = "plan_command"

COLUMNS = {"made_by": "VARCHAR", "checks_passed": "BOOLEAN", "dagster_run_id": "VARCHAR"}


def ensure_provenance_columns(con: duckdb.DuckDBPyConnection) -> None:
    for name, kind in COLUMNS.items():
        con.execute(f"ALTER TABLE plan_runs ADD COLUMN IF NOT EXISTS {name} {kind}")


def mark_plan_run(
    con: duckdb.DuckDBPyConnection, plan_run_id: str, made_by: str, dagster_run_id: str | None = None
) -> None:
    """Record who made a plan run just written by the planning engine; it starts unchecked."""
    if made_by not in (MADE_BY_RUN, MADE_BY_PLAN_COMMAND):
        raise ValueError(f"made_by must be {MADE_BY_RUN!r} or {MADE_BY_PLAN_COMMAND!r}, not {made_by!r}")
    ensure_provenance_columns(con)
    con.execute(
        "UPDATE plan_runs SET made_by = ?, dagster_run_id = ?, checks_passed = NULL WHERE plan_run_id = ?",
        [made_by, dagster_run_id, plan_run_id],
    )


def record_plan_checks(con: duckdb.DuckDBPyConnection, dagster_run_id: str, passed: bool) -> list[str]:
    """The blocking checks on contact_plan of `dagster_run_id` passed (or not): mark the plan runs it made.
    Returns their ids (none when the run made no plan, e.g. a check run on its own from the UI)."""
    if not con.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'plan_runs' "
        "AND column_name = 'dagster_run_id'"
    ).fetchone()[0]:
        return []
    rows = con.execute(
        "UPDATE plan_runs SET checks_passed = ? WHERE dagster_run_id = ? AND made_by = ? RETURNING plan_run_id",
        [passed, dagster_run_id, MADE_BY_RUN],
    ).fetchall()
    return sorted(r[0] for r in rows)
