"""Measurement: uplift against the holdout (campaign_uplift) from the campaign_outcomes mart."""

import dagster as dg

from pipelines.defs.resources import TouchplanResource


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
    return dg.Definitions(assets=[campaign_uplift])
