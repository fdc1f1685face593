"""Uplift against the holdout: treated vs control conversion rates with statsmodels' two-sample proportion
interval and test, and the minimum detectable effect from statsmodels' power calculation (docs/measurement.md).

No statistic is computed by hand here: the interval is `confint_proportions_2indep` (Newcomb's hybrid score
interval for the difference, statsmodels' default for `compare='diff'`; it stays defined with zero
conversions), the p-value `test_proportions_2indep` (Agresti-Caffo, the default for the difference), the power
`NormalIndPower` on Cohen's h (`proportion_effectsize`); the MDE is the difference whose power is the target,
found with scipy's `brentq`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import duckdb
import pandas as pd
from scipy.optimize import brentq
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    test_proportions_2indep,
)

UPLIFT_TABLE = "campaign_uplift"
LEVELS = ("campaign", "objective", "programme")
COLUMNS = [
    "level",
    "key",
    "objective",
    "treated_n",
    "treated_conversions",
    "control_n",
    "control_conversions",
    "treated_rate",
    "control_rate",
    "abs_uplift",
    "rel_uplift",
    "ci_low",
    "ci_high",
    "p_value",
    "is_significant",
    "mde",
    "underpowered",
    "warning",
    "confidence",
]


@dataclass
class Uplift:
    level: str
    key: str
    objective: str | None
    treated_n: int
    treated_conversions: int
    control_n: int
    control_conversions: int
    treated_rate: float | None = None
    control_rate: float | None = None
    abs_uplift: float | None = None
    rel_uplift: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    is_significant: bool = False
    mde: float | None = None
    underpowered: bool = True
    warning: str | None = None
    confidence: float = 0.95


def _finite(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def minimum_detectable_effect(
    control_rate: float, treated_n: int, control_n: int, alpha: float, power: float
) -> float | None:
    """The smallest absolute rise over `control_rate` detected with probability `power` (two-sided `alpha`)
    with these group sizes; None when even a rise to 100% would not be (or no room above the rate)."""
    if treated_n <= 0 or control_n <= 0 or control_rate >= 1:
        return None
    analysis = NormalIndPower()

    def shortfall(uplift: float) -> float:
        h = proportion_effectsize(control_rate + uplift, control_rate)
        return (
            analysis.power(effect_size=h, nobs1=treated_n, alpha=alpha, ratio=control_n / treated_n) - power
        )

    top = 1.0 - control_rate
    if shortfall(top) < 0:
        return None
    return float(brentq(shortfall, 1e-9, top, xtol=1e-7))


def compute_uplift(
    level: str,
    key: str,
    treated_n: int,
    treated_conversions: int,
    control_n: int,
    control_conversions: int,
    *,
    objective: str | None = None,
    confidence: float = 0.95,
    power: float = 0.8,
) -> Uplift:
    row = Uplift(
        level,
        key,
        objective,
        int(treated_n),
        int(treated_conversions),
        int(control_n),
        int(control_conversions),
        confidence=confidence,
    )
    alpha = 1 - confidence
    if row.treated_n == 0 or row.control_n == 0:
        missing = "no held-out customers" if row.control_n == 0 else "nobody was sent"
        row.warning = f"no comparison: {missing}"
        if row.treated_n:
            row.treated_rate = row.treated_conversions / row.treated_n
        if row.control_n:
            row.control_rate = row.control_conversions / row.control_n
        return row
    row.treated_rate = row.treated_conversions / row.treated_n
    row.control_rate = row.control_conversions / row.control_n
    row.abs_uplift = row.treated_rate - row.control_rate
    row.rel_uplift = row.abs_uplift / row.control_rate if row.control_rate > 0 else None
    args = (row.treated_conversions, row.treated_n, row.control_conversions, row.control_n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # ratios of zero rates inside statsmodels' summaries
        low, high = confint_proportions_2indep(*args, method="newcomb", compare="diff", alpha=alpha)
        test = test_proportions_2indep(*args, method="agresti-caffo", compare="diff", value=0)
    row.ci_low, row.ci_high, row.p_value = _finite(low), _finite(high), _finite(test.pvalue)
    row.is_significant = row.p_value is not None and row.p_value < alpha
    row.mde = minimum_detectable_effect(row.control_rate, row.treated_n, row.control_n, alpha, power)
    row.underpowered = not row.is_significant and (row.mde is None or row.mde > abs(row.abs_uplift))
    if row.underpowered:
        detectable = (
            f"only an uplift of at least {row.mde * 100:.1f} points would be detected {power:.0%} of the time"
            if row.mde is not None
            else "no uplift could be detected reliably"
        )
        row.warning = (
            f"holdout too small to tell: with {row.control_n} held out and {row.treated_n} treated, {detectable} "
            f"(observed {row.abs_uplift * 100:+.1f} points, p = {row.p_value:.2f})"
        )
    elif not row.is_significant:
        row.warning = f"no significant uplift (p = {row.p_value:.2f})"
    return row


def uplift_table(outcomes: pd.DataFrame, confidence: float = 0.95, power: float = 0.8) -> pd.DataFrame:
    """campaign_outcomes rows -> one row per campaign, per objective and for the programme (global holdout vs
    everyone sent)."""
    sums = ["treated_n", "treated_conversions", "control_n", "control_conversions"]
    rows: list[Uplift] = []
    if not outcomes.empty:
        frame = outcomes.copy()
        for column in [*sums, "control_global_n", "control_global_conversions"]:
            frame[column] = frame[column].fillna(0).astype(int)
        for (campaign, objective), g in frame.groupby(["campaign_id", "objective"], sort=True):
            t = g[sums].sum()
            rows.append(
                compute_uplift(
                    "campaign", campaign, *t.tolist(), objective=objective, confidence=confidence, power=power
                )
            )
        for objective, g in frame.groupby("objective", sort=True):
            t = g[sums].sum()
            rows.append(
                compute_uplift(
                    "objective",
                    objective,
                    *t.tolist(),
                    objective=objective,
                    confidence=confidence,
                    power=power,
                )
            )
        total = frame[
            ["treated_n", "treated_conversions", "control_global_n", "control_global_conversions"]
        ].sum()
        rows.append(compute_uplift("programme", "all", *total.tolist(), confidence=confidence, power=power))
    else:
        rows.append(compute_uplift("programme", "all", 0, 0, 0, 0, confidence=confidence, power=power))
    return pd.DataFrame([asdict(r) for r in rows], columns=COLUMNS)


def write_uplift(
    con: duckdb.DuckDBPyConnection, confidence: float = 0.95, power: float = 0.8
) -> pd.DataFrame:
    """Read campaign_outcomes, write campaign_uplift (replaced each run); return the rows written."""
    outcomes = con.execute("SELECT * FROM campaign_outcomes").df()
    table = uplift_table(outcomes, confidence, power)
    con.register("_uplift_rows", table)
    try:
        con.execute(f"""
            CREATE OR REPLACE TABLE {UPLIFT_TABLE} AS
            SELECT level::VARCHAR AS level, key::VARCHAR AS key, objective::VARCHAR AS objective,
                   treated_n::BIGINT AS treated_n, treated_conversions::BIGINT AS treated_conversions,
                   control_n::BIGINT AS control_n, control_conversions::BIGINT AS control_conversions,
                   treated_rate::DOUBLE AS treated_rate, control_rate::DOUBLE AS control_rate,
                   abs_uplift::DOUBLE AS abs_uplift, rel_uplift::DOUBLE AS rel_uplift,
                   ci_low::DOUBLE AS ci_low, ci_high::DOUBLE AS ci_high, p_value::DOUBLE AS p_value,
                   is_significant::BOOLEAN AS is_significant, mde::DOUBLE AS mde,
                   underpowered::BOOLEAN AS underpowered, warning::VARCHAR AS warning,
                   confidence::DOUBLE AS confidence
            FROM _uplift_rows
        """)
    finally:
        con.unregister("_uplift_rows")
    return table
