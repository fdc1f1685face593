"""Executing the whole-pipeline job in this process, with concise progress (imports Dagster: load lazily)."""

from __future__ import annotations

import logging
import os
import re

import dagster as dg

from pipelines.commands.common import progress
from pipelines.lib.progress import PROGRESS_ATTR
from pipelines.lib.settings import Settings

JOB_NAME = "touchplan_job"


class _ProgressHandler(logging.Handler):
    """One line per step and per failed check, instead of Dagster's full event stream."""

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None:
            if getattr(record, PROGRESS_ATTR, False):
                progress(f"     {meta.get('orig_message') or record.getMessage()}")
            elif record.levelno >= logging.WARNING:
                progress(f"  ! {meta.get('orig_message') or record.getMessage()}")
            return
        kind = event.event_type_value
        step = event.step_key or ""
        if kind == "RESOURCE_INIT_FAILURE":  # e.g. the config check before the first step
            progress(f"  FAILED before the first step: {_root_cause(event.event_specific_data.error)}")
            return
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
                progress(
                    f"  check {evaluation.check_name} on {evaluation.asset_key.to_user_string()} "
                    f"failed ({severity}) {desc}".rstrip()
                )
        elif kind == "STEP_SKIPPED":
            progress(f"  skipped {step}")


def _root_cause(error) -> str:
    """The innermost error's message: Dagster wraps user errors in DagsterExecutionStepExecutionError."""
    if error is None:
        return "failed"
    while getattr(error, "cause", None) is not None:
        error = error.cause
    lines = [
        line.strip()
        for line in (error.message or "").strip().splitlines()
        if line.strip() and not line.strip().startswith("For further information visit")
    ]
    if lines and error.cls_name:  # 'dagster._core.definitions.events.Failure: <the message>' -> the message
        lines[0] = re.sub(rf"^([\w.]*\.)?{re.escape(error.cls_name)}: ", "", lines[0])
    return " / ".join(lines[:3]) if lines else error.cls_name or "failed"


@dg.logger(description="Concise progress lines for the touchplan CLI")
def progress_logger(_init_context) -> logging.Logger:
    logger = logging.Logger("touchplan_progress", level=logging.DEBUG)
    logger.addHandler(_ProgressHandler())
    return logger


def _no_fsync_for_run_storage() -> None:
    """Dagster's SQLite run storage (DAGSTER_HOME) opens, commits and closes a connection per event: some 1,200
    events a demo run (each dbt test is an asset check evaluation), each commit and each close (a WAL checkpoint)
    waiting for the disk (`fsync`): tens of seconds of a run's wall time on a busy disk. `synchronous=OFF` on the
    SQLite connections of this process leaves writing to the operating system: a crash of the process loses
    nothing, a power cut may lose the last events of the run history (never the warehouse: DuckDB's own file).
    Scoped to SQLite (the standard library's driver), so the warehouse and GX connections are untouched."""

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if event.contains(Engine, "connect", _sqlite_synchronous_off):
        return
    event.listen(Engine, "connect", _sqlite_synchronous_off)


def _sqlite_synchronous_off(dbapi_connection, _record) -> None:
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA synchronous=OFF")


def _instance() -> dg.DagsterInstance:
    """Runs land in the UI's instance when DAGSTER_HOME is set (the Makefile sets it)."""
    if os.environ.get("DAGSTER_HOME"):
        os.makedirs(os.environ["DAGSTER_HOME"], exist_ok=True)
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def pipeline_run_config(full_refresh: bool = False, retrain_identity: bool = False) -> dict:
    """The job's run config for `touchplan run --full-refresh` (every dbt step) and `--retrain-identity` (the
    identity step); empty without them."""
    from pipelines.defs.identity.assets import retrain_run_config
    from pipelines.defs.transform.dbt import full_refresh_run_config

    run_config: dict = full_refresh_run_config(full_refresh) if full_refresh else {}
    if retrain_identity:
        run_config.setdefault("ops", {}).update(retrain_run_config(True)["ops"])
    return run_config


def execute_pipeline(
    settings: Settings,
    verbose: bool = False,
    tags: dict[str, str] | None = None,
    full_refresh: bool = False,
    retrain_identity: bool = False,
) -> dg.ExecuteInProcessResult:
    """Load the code location's definitions with the `touchplan` resource built from `settings` and run the
    whole-pipeline job in this process; `full_refresh`: every dbt step with dbt's --full-refresh;
    `retrain_identity`: the identity step trains its model whatever the retrain policy says."""
    from pipelines.definitions import build_definitions

    definitions = build_definitions(settings)
    job = definitions.resolve_job_def(JOB_NAME)
    run_config = pipeline_run_config(full_refresh, retrain_identity)
    if not verbose:
        job = job.with_logger_defs({"touchplan_progress": progress_logger})
        run_config["loggers"] = {"touchplan_progress": {}}
    _no_fsync_for_run_storage()
    with _instance() as instance:
        return job.execute_in_process(
            instance=instance, run_config=run_config, raise_on_error=False, tags=tags or {}
        )
