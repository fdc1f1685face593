"""The demo's past campaigns can answer: over many seeds, the uplift Touchplan reports from their counts covers
each campaign's true effect (stated in the generator's ground truth) in most seeds, and the campaign without an
effect is reported as not significant in most seeds. The seeds are fixed, so the test is deterministic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.lib.measurement.uplift import compute_uplift
from touchplan_sample_data import crm as crm_mod
from touchplan_sample_data import past_campaigns as past_mod

SEEDS = range(1, 31)
PERSONS = 3000
AS_OF = pd.Timestamp("2026-11-20 10:00:00")


def _simulate(seed: int) -> pd.DataFrame:
    """The generator's simulation on a population of PERSONS with the generator's buyer profiles, every person
    a HubSpot marketing contact (small and fast: no files)."""
    rng = np.random.default_rng([seed, 12])
    profile = crm_mod.assign_profiles(PERSONS, rng)
    names = np.array([p[0] for p in crm_mod.PROFILES] + ["none"], dtype=object)
    profile_names = names[np.where(profile >= 0, profile, len(crm_mod.PROFILES))]
    contacts = pd.DataFrame(
        {
            "person_idx": np.arange(PERSONS),
            "email": [f"p{i}@example.com" for i in range(PERSONS)],
            "hs_record_id": [str(51_000_000_000 + i) for i in range(PERSONS)],
        }
    )
    return past_mod.simulate(contacts, profile_names, AS_OF, rng).effects


@pytest.fixture(scope="module")
def reports() -> pd.DataFrame:
    rows = []
    for seed in SEEDS:
        for e in _simulate(seed).itertuples(index=False):
            u = compute_uplift(
                "campaign",
                e.campaign_id,
                e.treated_n,
                e.treated_conversions,
                e.control_n,
                e.control_conversions,
            )
            rows.append(
                {
                    "seed": seed,
                    "campaign_id": e.campaign_id,
                    "true_effect": e.true_effect,
                    "covered": u.ci_low <= e.true_effect <= u.ci_high,
                    "significant": u.is_significant,
                }
            )
    return pd.DataFrame(rows)


def test_the_95_percent_interval_covers_the_true_effect_in_most_seeds(reports) -> None:
    coverage = reports.groupby("campaign_id")["covered"].mean()
    assert set(coverage.index) == {c.campaign_id for c in past_mod.PAST_CAMPAIGNS}
    assert (coverage >= 0.85).all(), coverage.to_dict()


def test_a_campaign_without_effect_is_not_significant_in_most_seeds(reports) -> None:
    null = reports[reports["true_effect"] == 0]
    assert len(null) == len(SEEDS)
    assert (~null["significant"]).mean() >= 0.85


def test_a_real_effect_is_found_often_enough_to_show_in_the_demo(reports) -> None:
    # the effects are large enough for the demo's audiences: not a test of power, a guard against a simulation
    # that silently stops applying the effect (then the 'real' campaigns would be as significant as noise)
    strong = reports[reports["campaign_id"] == "reactivation_lapsed"]
    assert strong["significant"].mean() >= 0.3


def test_groups_and_conversions_follow_the_holdout_shares() -> None:
    rng = np.random.default_rng(5)
    held = rng.random(20_000) < past_mod.GLOBAL_HOLDOUT_SHARE
    groups = past_mod.assign_groups(rng, 20_000, held, 0.2)
    assert (groups[held] == "held_out_global").all()
    assert abs((groups[~held] == "held_out_campaign").mean() - 0.2) < 0.02
    converted = past_mod.simulate_conversions(rng, groups, 0.1, 0.3)
    assert abs(converted[groups == "treated"].mean() - 0.4) < 0.02
    assert abs(converted[groups != "treated"].mean() - 0.1) < 0.02
