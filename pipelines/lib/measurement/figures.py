"""The measurement figures as markdown tables for the Dagster UI (asset metadata); no personal data in them."""

from __future__ import annotations

import math

import duckdb
import pandas as pd

# What each measurement table shows in its metadata: (columns, order, row limit).
FIGURES = {
    "campaign_outcomes": (
        [
            "campaign_id", "objective", "period", "eligible", "held_out_global", "held_out_campaign", "planned",
            "sent", "delivered", "opened", "clicked", "treated_n", "treated_conversions", "control_n",
            "control_conversions",
        ],
        "campaign_id, period",
        40,
    ),
    "objective_kpis": (
        ["objective", "kpi", "period", "value", "previous_value", "change", "change_pct"],
        "objective, kpi, period DESC",
        30,
    ),
    "touches_to_conversion": (
        ["stage", "counted_from", "n", "p25", "median", "p75", "mean", "reference_low", "reference_high"],
        "stage_order",
        10,
    ),
    "campaign_uplift": (
        [
            "level", "key", "treated_n", "control_n", "treated_rate", "control_rate", "abs_uplift", "ci_low",
            "ci_high", "p_value", "mde", "underpowered",
        ],
        "CASE level WHEN 'programme' THEN 0 WHEN 'objective' THEN 1 ELSE 2 END, key",
        40,
    ),
}  # fmt: skip


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|")


def markdown_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "(no rows)"
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def figure(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, str]:
    """(row count, markdown table of the first rows) of a measurement table."""
    columns, order, limit = FIGURES[table]
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    frame = con.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order} LIMIT {limit}").df()
    text = markdown_table(frame)
    if rows > limit:
        text += f"\n\n({limit} of {rows} rows)"
    return int(rows), text
