"""The committed suites: severities explicit, thresholds in the JSON, and in sync with build_suites.py."""

from __future__ import annotations

import json

from pipelines.lib.quality import build_suites
from pipelines.lib.settings import EXPECTATIONS_DIR

# Keys, relationships and accepted values dbt already tests on these models must not be repeated in GX.
DBT_TESTED = {"dim_customers": {"customer_id"}, "fct_touchpoints": {"touchpoint_id"}}


def _suites():
    for path in sorted((EXPECTATIONS_DIR / "expectations").glob("*.json")):
        yield path, json.loads(path.read_text())


def test_every_expectation_has_a_check_name_and_an_explicit_severity():
    suites = list(_suites())
    assert len(suites) == 2 * len(build_suites.SPECS)
    for path, suite in suites:
        names = [x["meta"]["check"] for x in suite["expectations"]]
        assert len(names) == len(set(names)), f"{path.name}: duplicate check names"
        for expectation in suite["expectations"]:
            assert expectation["meta"]["severity"] in {"error", "warn"}, f"{path.name}: {expectation}"


def test_every_suite_has_a_validation_definition_and_a_checkpoint():
    for path, suite in _suites():
        assert (EXPECTATIONS_DIR / "validation_definitions" / path.name).is_file()
        checkpoint = json.loads((EXPECTATIONS_DIR / "checkpoints" / path.name).read_text())
        assert checkpoint["validation_definitions"][0]["name"] == suite["name"]


def test_marts_suites_do_not_repeat_dbt_key_tests():
    for table, keys in DBT_TESTED.items():
        suite = json.loads((EXPECTATIONS_DIR / "expectations" / f"{table}.json").read_text())
        for expectation in suite["expectations"]:
            if expectation["type"] in {
                "expect_column_values_to_be_unique",
                "expect_column_values_to_not_be_null",
            }:
                assert expectation["kwargs"]["column"] not in keys, f"{table}: {expectation}"


def test_committed_json_matches_build_suites():
    assert build_suites.main(["--check"]) == 0
