"""Measurement: uplift against the holdout (campaign_uplift) from the campaign_outcomes mart."""

import dagster as dg

from pipelines.defs.resources import TouchplanResource


@dg.asset(
    name="raw_contact_history",
    group_name="measurement",
    kinds={"duckdb", "csv"},
    description=(
        "Past plan decisions from <exports>/_history/contact_decisions*.csv (keyed by email): held-out and "
        "planned customers of campaigns planned outside this warehouse; replaced each run (docs/measurement.md)."
    ),
)
def raw_contact_history(
    context: dg.AssetExecutionContext, touchplan: TouchplanResource
) -> dg.MaterializeResult:
    from pipelines.lib.measurement.history import load_history

    settings = touchplan.settings()
    with touchplan.connect() as con:
        report = load_history(con, settings.exports)
    if report.quarantined:
        context.log.warning(f"history rows quarantined: {report.quarantined}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": report.rows,
            "files": dg.MetadataValue.json(report.files),
            "loaded": report.loaded,
            "quarantined": dg.MetadataValue.json(report.quarantined),
        }
    )


@dg.asset(
    name="campaign_uplift",
    group_name="measurement",
    deps=[dg.AssetKey("campaign_outcomes")],
    kinds={"duckdb", "python"},
    description=(
        "Treated vs held-out conversion per campaign, per objective and for the programme (global holdout vs "
        "everyone sent): rates, absolute and relative uplift, 95% interval, p-value, minimum detectable effect "
        "and a warning when the holdout is too small (statsmodels; docs/measurement.md)."
    ),
)
def campaign_uplift(touchplan: TouchplanResource) -> dg.MaterializeResult:
    from pipelines.lib.measurement.config import load_measurement_config
    from pipelines.lib.measurement.figures import figure
    from pipelines.lib.measurement.uplift import write_uplift

    settings = touchplan.settings()
    uplift = load_measurement_config(settings.config_dir).uplift
    with touchplan.connect() as con:
        table = write_uplift(con, uplift.confidence, uplift.power)
        rows, text = figure(con, "campaign_uplift")
    programme = table[table["level"] == "programme"].iloc[0]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "figures": dg.MetadataValue.md(text),
            "campaigns_significant": int(((table["level"] == "campaign") & table["is_significant"]).sum()),
            "campaigns_underpowered": int(((table["level"] == "campaign") & table["underpowered"]).sum()),
            "programme_abs_uplift": dg.MetadataValue.float(float(programme["abs_uplift"]))
            if programme["abs_uplift"] is not None and programme["abs_uplift"] == programme["abs_uplift"]
            else dg.MetadataValue.text("n/a"),
        }
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[raw_contact_history, campaign_uplift])
