"""`touchplan plan`: run the planning stage alone on an existing warehouse; --diff shows changes vs the last run.

Its plan run is marked `made_by = 'plan_command'` in plan_runs: it was made outside a full run and its blocking
quality checks, so delivery never sends it (docs/delivery.md, Which plan is sent); `touchplan run` makes the plan that
is sent."""

from __future__ import annotations

import argparse

import duckdb

from pipelines.commands.common import (
    CommandError,
    add_as_of_option,
    add_config_option,
    add_warehouse_option,
    progress,
    settings_from_args,
)
from pipelines.lib import warehouse
from pipelines.lib.planning.config import load_strategy
from pipelines.lib.planning.engine import latest_runs, run_plan
from pipelines.lib.planning.provenance import MADE_BY_PLAN_COMMAND, mark_plan_run
from pipelines.lib.planning.review import diff_runs


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plan", help="plan contacts over the horizon from campaigns and contact rules"
    )
    add_warehouse_option(parser)
    add_config_option(parser)
    add_as_of_option(parser)
    parser.add_argument(
        "--diff", action="store_true", help="print what changed against the previous plan run"
    )
    parser.add_argument("--limit", type=int, default=50, help="rows shown per section of --diff (default 50)")
    parser.set_defaults(func=plan_command)


def plan_command(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    strategy = load_strategy(settings.config_dir)
    if not settings.warehouse.exists():
        raise CommandError(f"{settings.warehouse}: warehouse not found; run `touchplan run` first")
    con = warehouse.connect(settings=settings)
    try:
        previous = latest_runs(con, 1) if _has_table(con, "plan_runs") else []
        result = run_plan(con, strategy, settings.as_of_or_now())
        mark_plan_run(con, result.plan_run_id, MADE_BY_PLAN_COMMAND)
        print(
            f"plan run {result.plan_run_id}: {result.candidates} candidates, {result.planned} planned "
            f"(rules {result.rules_version[:12]})"
        )
        print(
            f"{'campaign':<24}{'eligible':>9}{'consent':>9}{'suppr.':>9}{'holdout':>9}{'caps':>9}{'arbitr.':>9}{'planned':>9}"
        )
        for row in result.waterfall:
            print(
                f"{row['campaign_id']:<24}{row['eligible']:>9}{row['after_consent']:>9}{row['after_suppression']:>9}"
                f"{row['after_holdout']:>9}{row['after_caps']:>9}{row['after_arbitration']:>9}{row['planned']:>9}"
            )
        progress(
            f"note: plan run {result.plan_run_id} was made outside a full run and its quality checks: delivery "
            "will not send it (a review plan); `touchplan run` makes, checks and sends the plan"
        )
        if result.missing_inputs:
            progress(f"warning: read as empty (not in the warehouse): {', '.join(result.missing_inputs)}")
        if args.diff:
            if not previous:
                print("no previous plan run to compare with")
            else:
                print(diff_runs(con, previous[0], result.plan_run_id).render(args.limit))
    finally:
        con.close()
    return 0


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()[
            0
        ]
    )
