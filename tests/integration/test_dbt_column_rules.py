"""The `column_rules` test (dbt_project/tests/generic/column_rules.sql) that checks each model's simple column rules
in one query: real `dbt test` on a tiny warehouse holding two model tables, with one bad value planted per case.
A broken rule fails the build, and both dbt's failure rows and the step's one-line error name the column and rule."""

from __future__ import annotations

import json

import duckdb
import pytest

from pipelines.defs.transform.dbt import dbt_failure_line, explain_column_rules
from pipelines.lib.settings import Settings
from tests.integration.dbt_runner import run_dbt

LEAD_FIT = "column_rules_int_insight__lead_fit"
TOUCHES = "column_rules_touches_to_conversion"


def _warehouse(path, plant: str | None = None):
    """int_insight__lead_fit and touches_to_conversion as their models build them (two good rows each), then
    `plant` (one UPDATE) on top."""
    with duckdb.connect(str(path)) as con:
        con.execute(
            """
            create table int_insight__lead_fit as select * from (values
                ('c1', 25.0::double, 'stated_budget', 25.0::double, 'seniority', 0.0::double, 'none', 10.0::double, 'open_deal', 60.0::double),
                ('c2', 0.0, 'none', 10.0, 'title', 25.0, 'email_click', 0.0, 'none', 35.0)
            ) t(customer_id, budget_score, budget_source, authority_score, authority_source, need_score,
                need_source, timeframe_score, timeframe_source, fit_score)
            """
        )
        con.execute(
            """
            create table touches_to_conversion as select * from (values
                ('lead', 1, 'first touch', 12, 3.0, 5.0, 9.0, 6.0, 1, 20, 7, 13),
                ('won', 4, 'lead', 2, 20.0, 27.0, 33.0, 27.5, 18, 40, 25, 35)
            ) t(stage, stage_order, counted_from, n, p25, median, p75, mean, min_touches, max_touches,
                reference_low, reference_high)
            """
        )
        if plant:
            con.execute(plant)


def _test(tmp_path, plant: str | None):
    warehouse = tmp_path / "w.duckdb"
    _warehouse(warehouse, plant)
    work = tmp_path / "dbt"
    result = run_dbt(warehouse, work, ["test", "--select", f"{LEAD_FIT} {TOUCHES}"], None, check=False)
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    return warehouse, result, results


@pytest.mark.slow
def test_column_rules_pass_on_good_rows(tmp_path):
    _, result, results = _test(tmp_path, None)
    assert result.returncode == 0, result.stdout[-4000:]
    assert {r["unique_id"].split(".")[2] for r in results} == {LEAD_FIT, TOUCHES}
    assert all(r["status"] == "pass" for r in results)


# One bad value per rule kind, each in its own column: each must come back as its own row (a rule taken out of the
# YAML, or a kind the macro stopped checking, loses its row and fails this test).
PLANTS = [
    "update int_insight__lead_fit set fit_score = null where customer_id = 'c1'",
    "update int_insight__lead_fit set budget_score = 101 where customer_id = 'c2'",
    "update int_insight__lead_fit set need_source = 'telepathy'",
    "update touches_to_conversion set n = -1 where stage = 'won'",
]
EXPECTED = {
    LEAD_FIT: {
        ("fit_score", "not_null", 1),
        ("budget_score", "between [0, 100]", 1),
        (
            "need_source",
            "accepted_values [product_interest, webinar_topic, webinar_attendance, email_click, none]",
            2,
        ),
    },
    TOUCHES: {("n", "non_negative", 1)},
}


@pytest.mark.slow
def test_each_broken_rule_fails_the_build_naming_column_and_rule(tmp_path):
    warehouse, result, results = _test(tmp_path, "; ".join(PLANTS))
    assert result.returncode != 0, result.stdout[-4000:]
    by_test = {r["unique_id"].split(".")[2]: r for r in results}
    assert {name: r["status"] for name, r in by_test.items()} == {LEAD_FIT: "fail", TOUCHES: "fail"}
    assert by_test[LEAD_FIT]["failures"] == 3  # one row per broken rule
    # the tests' own rows: the column, the rule and the number of rows breaking it
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for name, expected in EXPECTED.items():
            assert set(con.execute(by_test[name]["compiled_code"]).fetchall()) == expected
    # the dbt step's one-line error (pipelines/defs/transform/dbt.py) names them too: each failed test's message
    # becomes its rows, and the line gives the first failed test's message and names the other
    explain_column_rules(results, Settings.from_env(warehouse=warehouse))
    for name, expected in EXPECTED.items():
        message = by_test[name]["message"]
        assert message.startswith("broken column rules: "), message
        for column, rule, count in expected:
            assert f"{column} {rule}: {count} row{'s' if count > 1 else ''}" in message, message
    line = dbt_failure_line(results, [])
    first, other = (LEAD_FIT, TOUCHES) if f"test {LEAD_FIT} failed" in line else (TOUCHES, LEAD_FIT)
    assert line == f"dbt: test {first} failed: {by_test[first]['message']} (and 1 more: test {other})"
