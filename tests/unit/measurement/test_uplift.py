"""Uplift against the holdout from statsmodels: what each level compares, and when a holdout is too small."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.lib.measurement.uplift import compute_uplift, minimum_detectable_effect, uplift_table


def test_a_clear_effect_is_significant_with_an_interval_around_it() -> None:
    u = compute_uplift("campaign", "a", 2000, 600, 2000, 400)
    assert u.treated_rate == 0.3 and u.control_rate == 0.2
    assert u.abs_uplift == pytest.approx(0.1) and u.rel_uplift == pytest.approx(0.5)
    assert u.ci_low < 0.1 < u.ci_high and u.ci_low > 0
    assert u.p_value < 0.001 and u.is_significant and not u.underpowered and u.warning is None


def test_a_small_holdout_warns_with_its_minimum_detectable_effect() -> None:
    u = compute_uplift("campaign", "a", 1000, 300, 40, 10)
    assert not u.is_significant and u.underpowered
    assert u.mde > abs(u.abs_uplift)
    assert u.warning.startswith("holdout too small to tell: with 40 held out and 1000 treated")
    assert f"{u.mde * 100:.1f} points" in u.warning


def test_the_minimum_detectable_effect_shrinks_as_the_holdout_grows() -> None:
    sizes = [50, 200, 1000, 5000]
    mdes = [minimum_detectable_effect(0.1, 5000, n, 0.05, 0.8) for n in sizes]
    assert all(a > b for a, b in zip(mdes, mdes[1:], strict=False))
    # an effect of that size is found 80% of the time: checked against statsmodels' own power at that effect
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    h = proportion_effectsize(0.1 + mdes[1], 0.1)
    assert NormalIndPower().power(h, nobs1=5000, alpha=0.05, ratio=200 / 5000) == pytest.approx(0.8, abs=1e-4)


def test_no_comparison_without_a_control_group() -> None:
    u = compute_uplift("campaign", "a", 100, 10, 0, 0)
    assert u.warning == "no comparison: no held-out customers" and u.underpowered
    assert u.ci_low is None and u.p_value is None and u.treated_rate == 0.1


def test_levels_sum_campaigns_objectives_and_the_programme_against_the_global_holdout() -> None:
    outcomes = pd.DataFrame(
        [
            # campaign_id, objective, period, treated_n, treated_conv, control_n, control_conv, global_n, global_conv
            ("a", "spend", "2026-09", 100, 20, 30, 3, 10, 1),
            ("a", "spend", "2026-10", 100, 25, 30, 4, 10, 2),
            ("b", "spend", "2026-10", 50, 5, 10, 1, 5, 0),
            ("c", "reactivation", "2026-10", 80, 8, 20, 1, 20, 1),
        ],
        columns=[
            "campaign_id", "objective", "period", "treated_n", "treated_conversions", "control_n",
            "control_conversions", "control_global_n", "control_global_conversions",
        ],
    )  # fmt: skip
    table = uplift_table(outcomes).set_index(["level", "key"])
    assert table.loc[
        ("campaign", "a"), ["treated_n", "treated_conversions", "control_n", "control_conversions"]
    ].tolist() == [200, 45, 60, 7]
    assert table.loc[("objective", "spend"), ["treated_n", "control_n"]].tolist() == [250, 70]
    assert table.loc[
        ("programme", "all"), ["treated_n", "treated_conversions", "control_n", "control_conversions"]
    ].tolist() == [330, 58, 45, 4]
    assert list(table.index.get_level_values("level").unique()) == ["campaign", "objective", "programme"]
