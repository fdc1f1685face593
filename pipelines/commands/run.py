"""`touchplan run`: every asset once, with the same definitions (and job) as the Dagster UI."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from pipelines.commands.common import (
    CommandError,
    add_as_of_option,
    add_config_option,
    add_exports_option,
    add_warehouse_option,
    progress,
    progress_to,
    settings_from_args,
)
from pipelines.lib.config_loader import display_path
from pipelines.lib.run_summary import summarize_warehouse
from pipelines.lib.settings import ENV_SENDGRID_KEY


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="run the whole pipeline once (ingest to delivery)")
    add_exports_option(parser)
    add_warehouse_option(parser)
    add_config_option(parser)
    add_as_of_option(parser)
    parser.add_argument(
        "--output", type=Path, help="folder for outbox, reports, CRM fix files (default: data/)"
    )
    parser.add_argument(
        "--send",
        action="store_true",
        help="send email for real (needs SENDGRID_API_KEY); without it delivery is a dry run to the outbox",
    )
    parser.add_argument(
        "--force-send",
        action="store_true",
        help="with --send: send even when the sending guard blocks (complaint or bounce spike); logged",
    )
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every derived table from the raw tables (dbt --full-refresh on every dbt step); the run "
        "histories (send ledger, stable ids, plan runs, ...) are kept: docs/operations.md",
    )
    parser.add_argument(
        "--retrain-identity",
        action="store_true",
        help="train the identity model even when the retrain policy would reuse the stored one "
        "(docs/identity.md)",
    )
    parser.add_argument("--verbose", action="store_true", help="show every Dagster event, not only progress")
    parser.set_defaults(func=run_command)


JOB_LABEL = "touchplan_job"


def run_command(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    preflight(settings)
    if settings.force_send:
        if not settings.send:
            raise CommandError("--force-send overrides the sending guard of a real send: give --send too")
        progress("--force-send: the sending guard is overridden for this run (logged)")
    if settings.send and not os.environ.get(ENV_SENDGRID_KEY):
        progress(f"--send given but {ENV_SENDGRID_KEY} is not set: delivery is a dry run")
    mode = "send" if settings.sending_enabled else "dry run"
    refresh = ", full refresh" if args.full_refresh else ""
    progress(
        f"touchplan run: exports {settings.exports} -> warehouse {settings.warehouse} (email: {mode}{refresh})"
    )
    from pipelines.commands.run_job import execute_pipeline  # Dagster loads only when a run starts

    started = time.monotonic()
    if args.verbose:
        log_path = None
        result = execute_pipeline(
            settings,
            verbose=True,
            tags={"touchplan/trigger": "cli"},
            full_refresh=args.full_refresh,
            retrain_identity=args.retrain_identity,
        )
    else:
        # dagster-dbt re-emits every dbt event on stdout, and Dagster, GX and Splink print banners, progress bars
        # and notices on stderr: all of that goes to a run log; the terminal gets our progress lines only.
        log_path = _run_log_path(settings.output)
        progress(f"dbt and tool output: {display_path(log_path)}")
        terminal = sys.stderr
        with (
            log_path.open("w", encoding="utf-8") as log,
            progress_to(terminal),
            contextlib.redirect_stdout(log),
            contextlib.redirect_stderr(log),
        ):
            result = execute_pipeline(
                settings,
                verbose=False,
                tags={"touchplan/trigger": "cli"},
                full_refresh=args.full_refresh,
                retrain_identity=args.retrain_identity,
            )
    elapsed = time.monotonic() - started

    print(summarize_warehouse(settings, elapsed_seconds=elapsed, run_id=result.run_id).render())
    if not result.success:
        failed = [event.step_key for event in result.all_events if event.event_type_value == "STEP_FAILURE"]
        reason = (
            f"failed steps: {', '.join(failed)}" if failed else "a blocking check failed or a step failed"
        )
        _alert(settings, result)
        print(
            f"error: the run did not complete ({reason}); see the lines above or the run "
            f"{result.run_id} in the Dagster UI" + (f" and the run log {log_path}" if log_path else ""),
            file=sys.stderr,
        )
        return 1
    return 0


def _alert(settings, result) -> None:
    """A CLI run (cron, CI) alerts like a daemon-launched one: the run-failure sensor skips runs the CLI made."""
    from pipelines.lib.alerts import build_alert, deliver_alert

    failures = []
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            from pipelines.defs.operations import failure_message

            failures.append((event.step_key or "?", failure_message(event)))
    alert = build_alert(JOB_LABEL, result.run_id, failures)
    delivery = deliver_alert(alert, settings.output, settings.config_dir)
    for channel, outcome in (("webhook", delivery.webhook), ("email", delivery.email)):
        if outcome and outcome != "sent":
            print(f"warning: alert {channel} {outcome}", file=sys.stderr)


def preflight(settings) -> None:
    """Fail in a second, one line per problem, before Dagster loads: exports folder, then every config file."""
    from pipelines.lib.config.validate import validate_config
    from pipelines.lib.preflight import exports_problem

    problems = [p for p in [exports_problem(settings.exports)] if p]
    problems += validate_config(settings.config_dir).problems
    if problems:
        raise CommandError("\n".join(problems))


def _run_log_path(output: Path) -> Path:
    """<output>/logs/run-<UTC time>.log: one file per CLI run, so a failed run's dbt output stays readable."""
    logs = output / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    return logs / f"run-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}.log"
