"""Identity resolution as one Dagster multi-asset (group `identity`), between the pre-identity dbt models and
the marts. Metadata carries counts only: no emails, names or record keys."""

import dagster as dg

from pipelines.defs.resources import TouchplanResource
from pipelines.lib.identity import load_identity_config, resolve_identities

IDENTITY_TABLES = (
    "identity_edges",
    "identity_clusters",
    "customer_key_map",
    "customer_merge_log",
    "identity_guard_events",
    "identity_model",
    "identity_model_input",
    "identity_pair_evidence",
)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            name,
            group_name="identity",
            deps=[dg.AssetKey("int_identity_records")],
            description=f"Identity resolution output table `{name}` (see docs/identity.md).",
        )
        for name in IDENTITY_TABLES
    ],
    name="identity_resolution",
)
def identity_resolution(context: dg.AssetExecutionContext, touchplan: TouchplanResource):
    settings = touchplan.settings()
    config = load_identity_config(settings.config_dir)
    with touchplan.connect() as con:
        report = resolve_identities(con, config, run_id=context.run_id, now=settings.as_of_or_now())
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in IDENTITY_TABLES}
    meta = report.as_metadata()
    context.log.info(
        f"identity: {report.records} records -> {report.clusters} customers; "
        f"{report.merges} merges, {report.splits} splits"
    )
    for name in IDENTITY_TABLES:
        yield dg.MaterializeResult(asset_key=name, metadata={"row_count": counts[name], **meta})


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[identity_resolution])
