"""The whole pipeline as one job, run daily and by the CLI (`touchplan run`) with the same definitions."""

import dagster as dg

from pipelines.defs.operations import raw_freshness_checks

touchplan_job = dg.define_asset_job(
    "touchplan_job",
    # The raw tables' freshness checks run from their own sensor (defs/operations.py), not inside the job.
    selection=dg.AssetSelection.all() - dg.AssetSelection.checks(*raw_freshness_checks),
    description="Every stage once: ingest -> staging -> identity -> marts -> insight -> quality -> plan -> deliver.",
)

daily_schedule = dg.ScheduleDefinition(
    name="touchplan_daily",
    job=touchplan_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Runs the whole pipeline at 06:00 UTC, before the day's sends.",
)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(jobs=[touchplan_job], schedules=[daily_schedule])
