"""The marketer's report (<output>/reports/touchplan_report.html), built after planning, delivery and measurement."""

import dagster as dg

from pipelines.defs.resources import TouchplanResource

READS = (
    "plan_runs",
    "campaign_waterfall",
    "contact_plan",
    "contact_decisions",
    "send_ledger",
    "customer_rfv",
    "customer_personas",
    "customer_lifecycle",
    "customer_lifecycle_history",
    "campaign_outcomes",
    "campaign_uplift",
    "objective_kpis",
    "touches_to_conversion",
    "crm_health",
)


@dg.asset(
    name="touchplan_report",
    group_name="report",
    deps=[dg.AssetKey(name) for name in READS],
    kinds={"html"},
    description=(
        "reports/touchplan_report.html: the contact plan, the customer base, outcomes against the holdout and "
        "data quality in one self-contained page (SVG charts, no script, opens offline; docs/measurement.md)."
    ),
)
def touchplan_report(touchplan: TouchplanResource) -> dg.MaterializeResult:
    from pipelines.lib.report.render import markdown_table, write_report

    settings = touchplan.settings()
    with touchplan.connect(read_only=True) as con:
        result = write_report(con, settings.reports)
    figures = result.report.figures()
    metadata: dict = {
        "path": dg.MetadataValue.path(str(result.path)),
        "bytes": result.bytes,
        "seconds": round(result.seconds, 2),
        "charts": len(result.report.charts),
        "rows_per_figure": dg.MetadataValue.json({f.key: len(f.rows) for f in figures}),
        "missing_tables": ", ".join(sorted({f.source for f in figures if f.missing})) or "none",
    }
    # the same rows as the page, figure by figure (counts and campaign names only: no personal data)
    metadata.update({f.key: dg.MetadataValue.md(f"**{f.title}**\n\n{markdown_table(f)}") for f in figures})
    return dg.MaterializeResult(metadata=metadata)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[touchplan_report])
