"""The name vocabulary is large and skewed like real populations, so a full name rarely identifies two persons."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from touchplan_sample_data import vocab
from touchplan_sample_data.population import Vocab, build_persons

AS_OF = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.fixture(scope="module")
def voc() -> Vocab:
    return Vocab.build()


def test_vocabularies_hold_hundreds_of_first_names_and_thousands_of_surnames(voc):
    assert len(set(voc.first)) >= 500
    assert len(set(voc.last)) >= 3000
    # each country's naming cultures exist and every culture has its own lists
    for country in vocab.COUNTRIES:
        assert set(vocab.COUNTRY_CULTURES[country["iso2"]]) <= set(vocab.CULTURES)
    for culture in vocab.CULTURES:
        assert len(vocab.FIRST_NAMES_BY_CULTURE[culture]) >= 12 and len(vocab.surnames(culture)) >= 16


@pytest.mark.parametrize("seed", [42, 7])
def test_few_persons_share_a_full_name_at_5k(voc, seed):
    persons, _ = build_persons(5000, np.random.default_rng([seed, 1]), voc, AS_OF)
    full = persons["first_name"] + " " + persons["last_name"]
    shared = full.duplicated(keep=False).mean()
    assert shared < 0.04, f"{shared:.1%} of persons share their full name with someone else"
    # ... yet common names do repeat: the draw is skewed, not uniform
    assert persons["last_name"].value_counts().iloc[0] >= 8
    assert persons["first_name"].nunique() >= 400 and persons["last_name"].nunique() >= 1500


def test_names_follow_the_country(voc):
    persons, _ = build_persons(4000, np.random.default_rng([3, 1]), voc, AS_OF)
    de = persons[persons["country_code"] == "DE"]
    german = set(vocab.surnames("de")) | set(vocab.hyphenated_surnames("de"))
    assert len(de) > 100 and de["last_name"].isin(german).mean() > 0.75
    pl = persons[persons["country_code"] == "PL"]
    assert pl["last_name"].isin(set(vocab.surnames("pl")) | set(vocab.hyphenated_surnames("pl"))).mean() > 0.8
    # the real spelling, diacritics included
    assert persons["last_name"].str.contains("[äöüßéèçñøåłąęśżź]", regex=True).any()


def test_composed_surnames_are_distinct_and_not_real_duplicates():
    for culture in vocab.SURNAME_PARTS:
        composed = vocab.composed_surnames(culture)
        assert len(composed) == len(set(composed))
        assert not set(composed) & set(vocab.SURNAMES_BY_CULTURE[culture])
