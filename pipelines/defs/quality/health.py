"""The CRM health page, rendered from the crm_health_history mart after dbt builds it."""

import dagster as dg

from pipelines.defs.resources import TouchplanResource
from pipelines.lib.quality.health_report import write_health_report


@dg.asset(
    name="crm_health_report",
    group_name="quality",
    deps=[dg.AssetKey("crm_health_history")],
    description="reports/crm_health.html: CRM health per source system with the trend against the last run.",
)
def crm_health_report(touchplan: TouchplanResource) -> dg.MaterializeResult:
    settings = touchplan.settings()
    with touchplan.connect(read_only=True) as con:
        path, sources = write_health_report(con, settings.reports)
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(path)), "source_systems": sources}
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[crm_health_report])
