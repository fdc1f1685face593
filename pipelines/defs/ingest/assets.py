"""Ingest as Dagster assets: one asset per raw table (all produced by one step) and a sensor on the exports folder."""

import json
from pathlib import Path

import dagster as dg

from pipelines.defs.resources import TouchplanResource
from pipelines.lib.ingest.loader import list_export_files
from pipelines.lib.ingest.schema import TABLE_NAMES

INGEST_TABLES = list(TABLE_NAMES)


@dg.multi_asset(
    name="ingest",
    group_name="ingest",
    specs=[
        dg.AssetSpec(
            table,
            group_name="ingest",
            kinds={"duckdb"},
            description=f"`{table}`: written by ingest (docs/architecture.md)",
        )
        for table in INGEST_TABLES
    ],
    can_subset=False,
)
def ingest(context: dg.AssetExecutionContext, touchplan: TouchplanResource):
    """Every export file below the exports folder into the raw tables; bad rows to ingest_quarantine."""
    from pipelines.lib.erasure import apply_after_ingest
    from pipelines.lib.ingest import ingest_folder
    from pipelines.lib.preflight import exports_problem
    from pipelines.lib.progress import PROGRESS_EXTRA, ingest_file_line

    settings = touchplan.settings()
    problem = exports_problem(settings.exports)
    if problem:  # fail now, not 2 minutes later at dim_customers' rows_present check
        raise dg.Failure(description=problem)

    def on_file(n: int, total: int, result) -> None:
        context.log.info(ingest_file_line(n, total, result), extra=PROGRESS_EXTRA)

    with touchplan.connect() as con:
        report = ingest_folder(con, settings.exports, settings.config_dir, on_file=on_file)
        # people erased with `touchplan erase` lose their personal columns again as their rows land
        erased_rows = apply_after_ingest(con, settings.erasure_list, report)
        newest = newest_export_times(con)
    if erased_rows:
        context.log.info(f"erasure list: personal columns of {erased_rows} re-imported row(s) removed")
    for warning in report.warnings:
        context.log.warning(warning)
    for f in report.rejected:
        context.log.error(f"rejected: {f.error}")
    rows = [
        dg.TableRecord(
            {
                "file": f.path,
                "format": f.format or "",
                "status": f.status,
                "read": f.rows_read,
                "loaded": f.rows_loaded,
                "quarantined": f.rows_quarantined,
            }
        )
        for f in report.files
    ]
    schema = dg.TableSchema(
        columns=[
            dg.TableColumn("file", "string"),
            dg.TableColumn("format", "string"),
            dg.TableColumn("status", "string"),
            dg.TableColumn("read", "int"),
            dg.TableColumn("loaded", "int"),
            dg.TableColumn("quarantined", "int"),
        ]
    )
    totals = report.totals
    for table in INGEST_TABLES:
        metadata: dict = {"dagster/row_count": report.table_counts.get(table, 0)}
        if newest.get(table) is not None:  # read by the raw tables' freshness checks (defs/operations.py)
            metadata["dagster/last_updated_timestamp"] = dg.MetadataValue.timestamp(newest[table])
        if table == "ingest_files":
            metadata.update(
                {
                    "per_file": dg.MetadataValue.table(rows, schema=schema),
                    **{f"total_{k}": v for k, v in totals.items()},
                    "empty_source_kinds": ", ".join(report.empty_kinds) or "none",
                }
            )
        yield dg.MaterializeResult(asset_key=table, metadata=metadata)


def newest_export_times(con) -> dict[str, float]:
    """Raw table -> modification time (epoch seconds) of the newest export file whose rows it holds."""
    from pipelines.lib.ingest.schema import RAW_TABLES

    present = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    newest: dict[str, float] = {}
    for table in RAW_TABLES:
        if table not in present:
            continue
        row = con.execute(
            f"""
            SELECT epoch(max(f.file_mtime))
            FROM ingest_files AS f
            WHERE f.file_hash IN (SELECT DISTINCT _file_hash FROM "{table}")
            """
        ).fetchone()
        if row and row[0] is not None:
            newest[table] = float(row[0])
    return newest


def exports_state(exports: Path) -> dict[str, list[float]]:
    """File name -> [mtime, size] of every ingestible file: the sensor's cursor."""
    if not exports.is_dir():
        return {}
    state = {}
    for path in list_export_files(exports):
        stat = path.stat()
        state[path.relative_to(exports).as_posix()] = [stat.st_mtime, stat.st_size]
    return state


@dg.sensor(
    job_name="touchplan_job",
    minimum_interval_seconds=60,
    # Off until turned on (UI: Automation, or `dagster sensor start exports_folder_sensor`): on, its first
    # evaluation after `dagster dev` starts launches a whole-pipeline run for the files already there.
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Starts a whole-pipeline run when files in the exports folder are added or changed. Stopped by default: "
        "turn it on in the UI (Automation) or with `dagster sensor start exports_folder_sensor`."
    ),
)
def exports_folder_sensor(context: dg.SensorEvaluationContext, touchplan: TouchplanResource):
    exports = touchplan.settings().exports
    state = exports_state(exports)
    previous = json.loads(context.cursor) if context.cursor else {}
    changed = sorted(name for name, sig in state.items() if previous.get(name) != sig)
    if not changed:
        return dg.SkipReason(f"no new or changed files in {exports}")
    context.update_cursor(json.dumps(state, sort_keys=True))
    key = "exports:" + ",".join(f"{n}@{state[n][0]:.0f}:{state[n][1]}" for n in changed)
    import hashlib

    return dg.RunRequest(
        run_key=hashlib.sha256(key.encode()).hexdigest()[:32],
        tags={"touchplan/changed_files": str(len(changed))},
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[ingest], sensors=[exports_folder_sensor])
