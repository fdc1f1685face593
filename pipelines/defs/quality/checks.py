"""One Dagster asset check per table with a GX suite, on the asset of the table's name.

A check whose suites contain ERROR expectations is blocking: when one of them fails, the check reports
`severity=ERROR` and Dagster skips every asset downstream in the run (no plan, no send). WARN failures are reported
with `severity=WARN` and do not stop the run.
"""

import dagster as dg

from pipelines.defs.quality.resources import GreatExpectationsResource
from pipelines.defs.resources import TouchplanResource
from pipelines.defs.transform.dbt import DBT_STEPS
from pipelines.lib.ingest.sources import load_sources_config
from pipelines.lib.planning.provenance import record_plan_checks
from pipelines.lib.quality.runner import QualityRunner, TableValidation
from pipelines.lib.settings import EXPECTATIONS_DIR

CHECK_NAME = "great_expectations"
PLAN_TABLE = "contact_plan"  # its blocking check's outcome is recorded on the run's plan run (plan_runs)


def check_result(validation: TableValidation) -> dg.AssetCheckResult:
    """The Dagster result of a table's validation: counts and names only, never row values."""
    failed = validation.failed
    severity = dg.AssetCheckSeverity.ERROR if validation.error_failures else dg.AssetCheckSeverity.WARN
    metadata: dict[str, dg.MetadataValue | str | int | float] = {
        "failed_checks": ", ".join(o.qualified_name for o in failed) or "none",
        "error_failures": len(validation.error_failures),
        "warn_failures": len(validation.warn_failures),
        "failing_counts": dg.MetadataValue.json({o.qualified_name: o.failing_count for o in failed}),
        "expectations": len(validation.outcomes),
        "rows_total": validation.total_rows,
        "rows_validated": validation.rows_validated,
        "failing_keys_recorded": validation.failures_recorded,
        "failing_keys_table": "quality_failures",
        # "validated", "new rows" (row checks on the new files' rows) or "reused" (unchanged: not re-validated)
        "rows_validation": validation.rows_scope,
        "seconds": round(validation.seconds, 3),
        # where the time went: read_rows, validate_rows, profile, failing_keys, data_docs
        "seconds_by_phase": dg.MetadataValue.json({k: round(v, 3) for k, v in validation.timings.items()}),
    }
    if validation.reused_from_run:
        metadata["rows_reused_from_run"] = validation.reused_from_run
    if validation.data_docs_path:
        metadata["data_docs"] = dg.MetadataValue.path(validation.data_docs_path)
    return dg.AssetCheckResult(
        passed=not failed, severity=severity, metadata=metadata, description=validation.message()
    )


def is_full_refresh(run: dg.DagsterRun) -> bool:
    """A run with dbt's --full-refresh on any dbt step (`touchplan run --full-refresh`, `full_refresh_run_config`,
    or the launchpad's op config) validates every table again: no outcome of an earlier run is reused."""
    ops = (run.run_config or {}).get("ops") or {}
    return any(((ops.get(step) or {}).get("config") or {}).get("full_refresh") for step in DBT_STEPS)


def build_table_check(table: str, *, blocking: bool) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(table),
        name=CHECK_NAME,
        blocking=blocking,
        description=f"Great Expectations suites `{table}` and `{table}__profile` (expectations/).",
    )
    def _check(
        context: dg.AssetCheckExecutionContext,
        touchplan: TouchplanResource,
        great_expectations: GreatExpectationsResource,
    ) -> dg.AssetCheckResult:
        settings = touchplan.settings()
        sources, _ = load_sources_config(settings.config_dir)
        with touchplan.connect() as con:
            validation = great_expectations.validate(
                con,
                table,
                now=settings.as_of_or_now(),
                run_id=context.run.run_id,
                custom_source_systems=sources.custom_source_systems(table),
                results_dir=settings.quality,
                reuse=not is_full_refresh(context.run),
            )
            if table == PLAN_TABLE:  # the plan run this run made may be delivered only if this passed
                marked = record_plan_checks(con, context.run.run_id, passed=not validation.error_failures)
                if marked:
                    context.log.info(
                        f"plan run(s) {', '.join(marked)}: blocking checks "
                        + ("failed" if validation.error_failures else "passed")
                    )
        result = check_result(validation)
        log = context.log.error if validation.error_failures else context.log.info
        log(validation.message())
        return result

    return _check


def table_checks(context_root=EXPECTATIONS_DIR) -> list[dg.AssetChecksDefinition]:
    runner = QualityRunner(context_root)
    return [
        build_table_check(table, blocking="error" in runner.suite_severities(table))
        for table in runner.tables()
    ]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(asset_checks=table_checks())
