"""Identity resolution as one Dagster multi-asset (group `identity`), between the pre-identity dbt models and
the marts. Metadata carries counts only: no emails, names or record keys."""

import dagster as dg

from pipelines.defs.resources import TouchplanResource
from pipelines.lib.identity import load_identity_config, resolve_identities
from pipelines.lib.progress import PROGRESS_EXTRA

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


class IdentityRunConfig(dg.Config):
    """Run config of the identity step (`touchplan run --retrain-identity`, or in the Dagster UI's launchpad:
    `ops: {identity_resolution: {config: {retrain: true}}}`)."""

    # train the Splink model even when the retrain policy would reuse the stored one (docs/identity.md)
    retrain: bool = False


def retrain_run_config(retrain: bool) -> dict:
    """The op config that makes the identity step train its model (or follow the retrain policy)."""
    return {"ops": {"identity_resolution": {"config": {"retrain": retrain}}}}


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
def identity_resolution(
    context: dg.AssetExecutionContext, touchplan: TouchplanResource, config: IdentityRunConfig
):
    settings = touchplan.settings()
    identity_config = load_identity_config(settings.config_dir)
    with touchplan.connect() as con:
        report = resolve_identities(
            con,
            identity_config,
            run_id=context.run_id,
            now=settings.as_of_or_now(),
            retrain=config.retrain,
        )
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in IDENTITY_TABLES}
    meta = report.as_metadata()
    context.log.info(
        f"identity: {report.records} records -> {report.clusters} customers; "
        f"{report.merges} merges, {report.splits} splits"
    )
    if report.splink_model:
        # on the `touchplan run` terminal too: whether this run trained the Splink model or reused a stored one
        context.log.info(f"identity: Splink {report.splink_model}", extra=PROGRESS_EXTRA)
    for name in IDENTITY_TABLES:
        yield dg.MaterializeResult(asset_key=name, metadata={"row_count": counts[name], **meta})


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[identity_resolution])
