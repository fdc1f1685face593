"""Operations: an alert on every failed run, and freshness checks on the raw tables (docs/operations.md)."""

from __future__ import annotations

import os
import warnings
from datetime import timedelta

import dagster as dg

from pipelines.lib.ingest.schema import RAW_TABLES

ENV_RAW_FRESHNESS_HOURS = "TOUCHPLAN_RAW_FRESHNESS_HOURS"
DEFAULT_RAW_FRESHNESS_HOURS = 36.0  # a daily export plus a working morning of slack


def failure_message(event: dg.DagsterEvent) -> str | None:
    """What the step said: a `dg.Failure`'s description, else the innermost error (not Dagster's wrapper)."""
    data = event.step_failure_data
    if data is None:
        return event.message
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    error = data.error
    while error is not None and error.cause is not None:
        error = error.cause
    return f"{error.cls_name}: {error.message}" if error is not None else event.message


def failed_steps(context: dg.RunFailureSensorContext) -> list[tuple[str, str | None]]:
    """(step key, error message) of each failed step; the run's own failure when no step failed."""
    steps = []
    for event in context.get_step_failure_events():
        steps.append((event.step_key or "?", failure_message(event)))
    if not steps:
        steps.append(("run", context.failure_event.message))
    return steps


@dg.run_failure_sensor(
    name="touchplan_run_failure_alert",
    # On by default: it launches nothing, it only writes the alert (and sends it where configured).
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Writes a one-line alert naming the failed step(s) to the log and to <output>/alerts/run_failures.jsonl; "
        "also posts it to TOUCHPLAN_ALERT_WEBHOOK_URL and emails TOUCHPLAN_ALERT_EMAIL (through SendGrid) when set."
    ),
)
def touchplan_run_failure_alert(context: dg.RunFailureSensorContext) -> None:
    from pipelines.lib.alerts import build_alert, deliver_alert
    from pipelines.lib.settings import Settings

    run = context.dagster_run
    if run.tags.get("touchplan/trigger") == "cli":
        return  # `touchplan run` alerts itself (pipelines/commands/run.py), daemon or not
    alert = build_alert(run.job_name, run.run_id, failed_steps(context))
    context.log.error(alert.text)
    settings = Settings.from_env()
    result = deliver_alert(alert, settings.output, settings.config_dir)
    for channel, outcome in (("webhook", result.webhook), ("email", result.email)):
        if outcome and outcome != "sent":
            context.log.warning(f"alert {channel} {outcome}")


def raw_freshness_hours() -> float:
    value = os.environ.get(ENV_RAW_FRESHNESS_HOURS)
    if not value:
        return DEFAULT_RAW_FRESHNESS_HOURS
    try:
        hours = float(value)
    except ValueError as exc:
        raise ValueError(f"{ENV_RAW_FRESHNESS_HOURS}={value!r} is not a number of hours") from exc
    if hours <= 0:
        raise ValueError(f"{ENV_RAW_FRESHNESS_HOURS}={value!r} must be more than 0")
    return hours


# The ingest step records, per raw table, the modification time of the newest export file that fed it
# (`dagster/last_updated_timestamp`), so these checks warn when the exports stop arriving, even while the daily
# run itself succeeds on yesterday's files.
# Dagster 1.12+ marks these checks "superseded" by FreshnessPolicy, but the new policies are a preview (off unless
# dagster.yaml enables them) and judge when Dagster materialized an asset, not how old the data is: a daily run over
# yesterday's files would look fresh. The checks read `dagster/last_updated_timestamp`, so they are kept.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=dg.SupersessionWarning)
    raw_freshness_checks = dg.build_last_update_freshness_checks(
        assets=[dg.AssetKey(table) for table in RAW_TABLES],
        lower_bound_delta=timedelta(hours=raw_freshness_hours()),
        severity=dg.AssetCheckSeverity.WARN,
    )
    raw_freshness_sensor = dg.build_sensor_for_freshness_checks(
        freshness_checks=raw_freshness_checks,
        name="raw_tables_freshness_sensor",
        # On by default: it evaluates the checks from Dagster's event log only; it never opens the warehouse.
        default_status=dg.DefaultSensorStatus.RUNNING,
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        sensors=[touchplan_run_failure_alert, raw_freshness_sensor],
        asset_checks=list(raw_freshness_checks),
    )
