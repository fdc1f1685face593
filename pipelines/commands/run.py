"""`touchplan run`: every asset once, with the same definitions (and job) as the Dagster UI."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

import dagster as dg

from pipelines.commands.common import (
    CommandError,
    add_as_of_option,
    add_config_option,
    add_exports_option,
    add_warehouse_option,
    progress,
    settings_from_args,
)
from pipelines.lib.run_summary import summarize_warehouse
from pipelines.lib.settings import ENV_SENDGRID_KEY

JOB_NAME = "touchplan_job"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="run the whole pipeline once (ingest to delivery)")
    add_exports_option(parser)
    add_warehouse_option(parser)
    add_config_option(parser)
    add_as_of_option(parser)
    parser.add_argument("--output", type=Path, help="folder for outbox, reports, CRM fix files (default: data/)")
    parser.add_argument(
        "--send", action="store_true",
        help="send email for real (needs SENDGRID_API_KEY); without it delivery is a dry run to the outbox",
    )
    parser.add_argument("--verbose", action="store_true", help="show every Dagster event, not only progress")
    parser.set_defaults(func=run_command)


class _ProgressHandler(logging.Handler):
    """One line per step and per failed check, instead of Dagster's full event stream."""

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None:
            if record.levelno >= logging.WARNING:
                progress(f"  ! {meta.get('orig_message') or record.getMessage()}")
            return
        kind = event.event_type_value
        step = event.step_key or ""
        if kind == "STEP_START":
            progress(f"  > {step}")
        elif kind == "STEP_SUCCESS":
            progress(f"  ok {step} ({event.event_specific_data.duration_ms / 1000:.1f}s)")
        elif kind == "STEP_FAILURE":
            progress(f"  FAILED {step}: {_root_cause(event.event_specific_data.error)}")
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                severity = getattr(evaluation.severity, "value", evaluation.severity)
                desc = evaluation.description or ""
                progress(f"  check {evaluation.check_name} on {evaluation.asset_key.to_user_string()} "
                         f"failed ({severity}) {desc}".rstrip())
        elif kind == "STEP_SKIPPED":
            progress(f"  skipped {step}")


def _root_cause(error) -> str:
    """The innermost error's message: Dagster wraps user errors in DagsterExecutionStepExecutionError."""
    if error is None:
        return "failed"
    while getattr(error, "cause", None) is not None:
        error = error.cause
    lines = [line.strip() for line in (error.message or "").strip().splitlines()
             if line.strip() and not line.strip().startswith("For further information visit")]
    return " / ".join(lines[:3]) if lines else error.cls_name or "failed"


@dg.logger(description="Concise progress lines for the touchplan CLI")
def progress_logger(_init_context) -> logging.Logger:
    logger = logging.Logger("touchplan_progress", level=logging.DEBUG)
    logger.addHandler(_ProgressHandler())
    return logger


def _instance() -> dg.DagsterInstance:
    """Runs land in the UI's instance when DAGSTER_HOME is set (the Makefile sets it)."""
    if os.environ.get("DAGSTER_HOME"):
        os.makedirs(os.environ["DAGSTER_HOME"], exist_ok=True)
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def execute_pipeline(verbose: bool = False, tags: dict[str, str] | None = None) -> dg.ExecuteInProcessResult:
    """Load the code location's definitions and run the whole-pipeline job in this process."""
    from pipelines.definitions import build_definitions

    definitions = build_definitions()
    job = definitions.resolve_job_def(JOB_NAME)
    run_config: dict = {}
    if not verbose:
        job = job.with_logger_defs({"touchplan_progress": progress_logger})
        run_config = {"loggers": {"touchplan_progress": {}}}
    with _instance() as instance:
        return job.execute_in_process(
            instance=instance, run_config=run_config, raise_on_error=False, tags=tags or {}
        )


def run_command(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if not settings.exports.is_dir():
        raise CommandError(
            f"exports folder {settings.exports} does not exist: put CRM, email and webinar exports there, "
            f"or generate demo files with `touchplan sample-data --out {settings.exports}`"
        )
    if settings.send and not os.environ.get(ENV_SENDGRID_KEY):
        progress(f"--send given but {ENV_SENDGRID_KEY} is not set: delivery is a dry run")
    mode = "send" if settings.sending_enabled else "dry run"
    progress(f"touchplan run: exports {settings.exports} -> warehouse {settings.warehouse} (email: {mode})")
    started = time.monotonic()
    result = execute_pipeline(verbose=args.verbose, tags={"touchplan/trigger": "cli"})
    elapsed = time.monotonic() - started

    print(summarize_warehouse(settings, elapsed_seconds=elapsed, run_id=result.run_id).render())
    if not result.success:
        failed = [event.step_key for event in result.all_events if event.event_type_value == "STEP_FAILURE"]
        reason = f"failed steps: {', '.join(failed)}" if failed else "a blocking check failed or a step failed"
        print(f"error: the run did not complete ({reason}); see the lines above or the run "
              f"{result.run_id} in the Dagster UI", file=sys.stderr)
        return 1
    return 0
