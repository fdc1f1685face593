"""The vectorised helpers that replace per-value pandas/Python work give exactly the old results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from touchplan_sample_data import population
from touchplan_sample_data.ids import strftime
from touchplan_sample_data.population import Vocab, duplicated_first
from touchplan_sample_data.variation import PHONE_FORMATS, format_phone

FORMATS = [
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.000Z",
    "%m/%d/%Y %I:%M:%S %p",
    "%Y%m%d",
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_strftime_matches_pandas_including_midnight_noon_and_pre_1970(fmt):
    rng = np.random.default_rng(5)
    values = pd.Series(
        pd.Timestamp("1990-06-15") + pd.to_timedelta(rng.integers(-(10**9), 10**9, size=5000), unit="s")
    )
    values = pd.concat(
        [
            values,
            pd.Series(
                pd.to_datetime(
                    [
                        "2026-03-04 00:00:00",
                        "2026-03-04 12:00:00",
                        "2026-03-04 23:59:59",
                        "1955-01-01 00:00:00",
                    ]
                )
            ),
        ],
        ignore_index=True,
    )
    expected = values.dt.strftime(fmt).to_numpy(dtype=object)
    assert strftime(values, fmt).tolist() == expected.tolist()


def test_strftime_gives_the_missing_value_for_nat_and_rejects_unknown_directives():
    values = pd.Series(pd.to_datetime(["2026-03-04 10:15:00", None]))
    assert strftime(values, "%Y-%m-%d", missing="").tolist() == ["2026-03-04", ""]
    assert strftime(values, "%Y-%m-%d").tolist() == ["2026-03-04", None]
    with pytest.raises(ValueError, match="%b"):
        strftime(values, "%b %Y")


def test_duplicated_first_matches_pandas():
    rng = np.random.default_rng(11)
    values = "a" + rng.integers(0, 3000, size=20_000).astype(str).astype(object) + "@x.example"
    assert duplicated_first(values).tolist() == pd.Series(values).duplicated(keep="first").tolist()
    assert duplicated_first(np.array([], dtype=object)).tolist() == []


def test_duplicated_first_is_exact_when_different_strings_share_a_hash(monkeypatch):
    values = np.array(["b", "a", "b", "c", "a"], dtype=object)
    monkeypatch.setattr(
        population.pd.util, "hash_array", lambda v, categorize=False: np.zeros(len(v), np.uint64)
    )
    assert duplicated_first(values).tolist() == [False, False, True, False, True]


def test_format_phone_writes_each_notation():
    voc = Vocab.build()
    us = next(i for i, c in enumerate(voc.countries) if c["iso2"] == "US")
    gb = next(i for i, c in enumerate(voc.countries) if c["iso2"] == "GB")
    nsn = np.array(["2125551234"] * len(PHONE_FORMATS) + ["2079460123"] * len(PHONE_FORMATS), dtype=object)
    country = np.array([us] * len(PHONE_FORMATS) + [gb] * len(PHONE_FORMATS))
    fmt = np.array(PHONE_FORMATS * 2, dtype=object)
    assert format_phone(nsn, country, fmt, voc).tolist() == [
        "+12125551234",
        "+1 212 555 1234",
        "(212) 555-1234",
        "212-555-1234",
        "212.555.1234",
        "001 212 555 1234",
        "+442079460123",
        "+44 20 7946 0123",
        "020 7946 0123",
        "020-7946-0123",
        "020.7946.0123",
        "0044 20 7946 0123",
    ]
