"""Planning stage: campaigns + contact rules -> contact_decisions, contact_plan, campaign_waterfall, plan_runs."""

import dagster as dg

from pipelines.defs.resources import TouchplanResource
from pipelines.lib.planning.config import load_strategy
from pipelines.lib.planning.engine import run_plan
from pipelines.lib.planning.provenance import MADE_BY_RUN, mark_plan_run

UPSTREAM = (
    "dim_customers",
    "customer_consent",
    "fct_touchpoints",
    "customer_rfv",
    "customer_personas",
    "customer_lifecycle",
    "lead_scores",
    "customer_moments",
    "customer_id_lineage",
)
OUTPUTS = ("contact_decisions", "contact_plan", "campaign_waterfall", "plan_runs")


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            name,
            group_name="planning",
            deps=[dg.AssetKey(u) for u in UPSTREAM],
            description=f"{name}: contact strategy engine output (appended per plan run, keyed by plan_run_id)",
        )
        for name in OUTPUTS
    ],
    can_subset=False,
)
def contact_plan_assets(context: dg.AssetExecutionContext, touchplan: TouchplanResource):
    settings = touchplan.settings()
    strategy = load_strategy(settings.config_dir)
    as_of = settings.as_of_or_now()
    with touchplan.connect() as con:
        result = run_plan(con, strategy, as_of)
        # made by a run: the blocking check on contact_plan of this run marks it passed or failed (delivery sends
        # only a plan run that passed)
        mark_plan_run(con, result.plan_run_id, MADE_BY_RUN, dagster_run_id=context.run.run_id)
    if result.missing_inputs:
        context.log.warning(
            f"planning read these upstream tables as empty: {', '.join(result.missing_inputs)}"
        )
    waterfall = {
        row["campaign_id"]: {
            k: int(v) for k, v in row.items() if k not in ("campaign_id", "plan_run_id", "rules_version")
        }
        for row in result.waterfall
    }
    common = {"plan_run_id": result.plan_run_id, "rules_version": result.rules_version}
    yield dg.MaterializeResult(
        asset_key="contact_decisions",
        metadata={
            **common,
            "candidates": result.candidates,
            "outcomes": dg.MetadataValue.json(result.outcome_counts),
        },
    )
    yield dg.MaterializeResult(asset_key="contact_plan", metadata={**common, "planned": result.planned})
    yield dg.MaterializeResult(
        asset_key="campaign_waterfall", metadata={**common, "waterfall": dg.MetadataValue.json(waterfall)}
    )
    yield dg.MaterializeResult(asset_key="plan_runs", metadata={**common, "as_of": result.as_of.isoformat()})


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[contact_plan_assets])
