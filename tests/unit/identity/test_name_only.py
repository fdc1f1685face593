"""The name-only rule (config/identity.yaml thresholds.name_only_match_probability): a Splink pair whose only
evidence is the name (no comparison outside thresholds.name_comparisons adds a positive weight) needs a higher
probability than other pairs. Real DuckDB, real Splink (untrained priors, so the scores are known in advance)."""

from __future__ import annotations

from pipelines.lib.identity import resolve_identities
from pipelines.lib.identity.config import IdentityConfig
from pipelines.lib.identity.explain import explain_match, format_explanation

from .conftest import NOW, person, same_customer, write_records

BIRTH = {"birth_date": "1980-05-01"}
ADDRESS = {"street_norm": "12 ocean road", "city_norm": "perth", "postal_code_norm": "6000"}


def _records(con) -> None:
    write_records(
        con,
        [
            # a CRM contact with everything
            person("salesforce:a", "kate", "harrington", **BIRTH, **ADDRESS),
            # a sign-up with nothing but the name: only the name can agree
            person("hubspot:b", "kate", "harrington"),
            # the same name and the same birth date: more than the name agrees
            person("hubspot:c", "kate", "harrington", **BIRTH),
        ],
    )


def _config(name_only: float | None) -> IdentityConfig:
    cfg = IdentityConfig()
    cfg.splink.train = False
    cfg.thresholds.name_only_match_probability = name_only
    return cfg


def _probability(con, left: str, right: str) -> float | None:
    row = con.execute(
        "SELECT match_probability FROM identity_edges WHERE rule = 'splink' AND record_key_l = ? "
        "AND record_key_r = ?",
        [left, right],
    ).fetchone()
    return row[0] if row else None


def test_a_pair_with_nothing_but_the_name_needs_the_name_only_probability(con):
    _records(con)
    # without the rule, both pairs of `a` are edges: read their probabilities
    cfg = _config(None)
    cfg.thresholds.match_probability = 1e-9
    resolve_identities(con, cfg, "r0", NOW)
    name_only = _probability(con, "hubspot:b", "salesforce:a")
    with_birth = _probability(con, "hubspot:c", "salesforce:a")
    assert name_only is not None and with_birth is not None and name_only < with_birth

    # both pairs pass match_probability; the name-only threshold lies above the name-only pair's probability
    cfg = _config(min(1.0, (name_only + 1) / 2))
    cfg.thresholds.match_probability = name_only / 2
    resolve_identities(con, cfg, "r1", NOW)
    assert _probability(con, "hubspot:b", "salesforce:a") is None  # name only: below its own threshold
    assert _probability(con, "hubspot:c", "salesforce:a") is not None  # birth date agrees: match_probability
    assert same_customer(con, "salesforce:a", "hubspot:c")
    assert not same_customer(con, "salesforce:a", "hubspot:b")

    # the same threshold below the pair's probability: the edge is back
    cfg = _config(name_only / 2)
    cfg.thresholds.match_probability = name_only / 2
    resolve_identities(con, cfg, "r2", NOW)
    assert _probability(con, "hubspot:b", "salesforce:a") is not None


def test_explain_match_says_a_name_only_pair_missed_its_own_threshold(con):
    _records(con)
    cfg = _config(None)
    cfg.thresholds.match_probability = 1e-9
    resolve_identities(con, cfg, "r0", NOW)
    name_only = _probability(con, "hubspot:b", "salesforce:a")
    cfg = _config(min(1.0, (name_only + 1) / 2))
    cfg.thresholds.match_probability = name_only / 2
    resolve_identities(con, cfg, "r1", NOW)

    expl = explain_match(con, "salesforce:a", "hubspot:b")
    assert expl.name_only and not expl.above_threshold
    text = format_explanation(expl)
    assert "only the name agrees" in text
    assert f"needs probability >= {cfg.thresholds.name_only_match_probability}" in text

    other = explain_match(con, "salesforce:a", "hubspot:c")
    assert not other.name_only and other.above_threshold and other.same_customer


def test_name_comparisons_must_name_comparisons_of_the_model():
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="names no comparison"):
        IdentityConfig.model_validate({"thresholds": {"name_comparisons": ["first_name", "fullname"]}})
    # with the rule off the list is not used
    IdentityConfig.model_validate(
        {"thresholds": {"name_only_match_probability": None, "name_comparisons": ["fullname"]}}
    )
