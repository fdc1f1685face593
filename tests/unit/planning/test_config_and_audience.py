"""Audience expression safety and config errors that name the file, the key and the problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipelines.lib.config import ConfigError
from pipelines.lib.planning.audience import AudienceError, compile_audience
from pipelines.lib.planning.config import load_strategy, rules_version

ROOT = Path(__file__).resolve().parents[3]
SRC = "config/campaigns.yaml: campaigns[2].audience (welcome)"


def test_allowed_expression_compiles_to_qualified_sql():
    sql = compile_audience(
        "lifecycle_stage in ('lead','mql') and lead_score >= 60 and not has_moment('first_purchase')", SRC
    )
    assert '"customer"."lifecycle_stage" IN' in sql and "_plan_moments" in sql


@pytest.mark.parametrize(
    ("expression", "token"),
    [
        ("favourite_colour = 'red'", "unknown column 'favourite_colour'"),
        ("read_csv('/etc/passwd') is not null", "READ_CSV"),
        ("shell('rm -rf /') = 1", "unknown function 'shell'"),
        ("customer_id in (select customer_id from dim_customers)", "not a subquery"),
        ("lead_score > (select max(lead_score) from lead_scores)", "subquery"),
        ("lead_score > 1; drop table contact_plan", "2 statements"),
        ("lead_score > 1 -- and the rest", "comments are not allowed"),
        ("lead_score > 1 /* x */", "comments are not allowed"),
        ("persona = 'a' union select 1", "union"),
        ("d.email like '%@x.com'", "qualified names are not allowed"),
        ("has_moment(persona)", "moment name must be a quoted string"),
        ("lead_score >", "cannot parse"),
        ("", "empty"),
    ],
)
def test_unsafe_or_unknown_audience_is_rejected_naming_source_and_token(expression, token):
    with pytest.raises(AudienceError) as err:
        compile_audience(expression, SRC)
    assert str(err.value).startswith(SRC)
    assert token.lower() in str(err.value).lower()


def test_quotes_inside_a_literal_stay_a_literal():
    sql = compile_audience("persona = 'x''; drop table t; --'", SRC)
    assert sql == "(\"customer\".\"persona\" = 'x''; drop table t; --')"


def _config(tmp_path: Path) -> Path:
    for name in ("campaigns.yaml", "contact_rules.yaml"):
        shutil.copy(ROOT / "config" / name, tmp_path / name)
    return tmp_path


def test_demo_config_loads_and_version_ignores_formatting(tmp_path):
    cfg = _config(tmp_path)
    s = load_strategy(cfg)
    text = (cfg / "contact_rules.yaml").read_text()
    (cfg / "contact_rules.yaml").write_text("# a comment\n" + text.replace("max: 3", "max:    3"))
    assert load_strategy(cfg).rules_version == s.rules_version
    (cfg / "contact_rules.yaml").write_text(text.replace("max: 3", "max: 2"))
    assert load_strategy(cfg).rules_version != s.rules_version
    assert rules_version(s.campaigns, s.rules) == s.rules_version


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("contact_rules.yaml", "max: 3", "max: -1", "caps[0].max"),
        ("contact_rules.yaml", "rolling_days: 7}", "rolling_days: 7, calendar: week}", "caps[0].window"),
        (
            "contact_rules.yaml",
            "default_time_zone: Europe/London",
            "default_time_zone: Mars/Olympus",
            "default_time_zone",
        ),
        ("contact_rules.yaml", 'start: "20:00"', 'start: "25:00"', "quiet_hours.start"),
        ("campaigns.yaml", "channel: sales_task", "channel: fax", "campaigns[1].channel"),
        ("campaigns.yaml", "objective: reactivation", "objective: vibes", "campaigns[7].objective"),
        ("campaigns.yaml", "priority: 90", "priority: high", "campaigns[1].priority"),
        (
            "campaigns.yaml",
            "coalesce(is_mql, false) and",
            "coalesce(is_mql, false) and mood = 1 and",
            "campaigns[1].audience",
        ),
    ],
)
def test_config_errors_name_file_and_key(tmp_path, file, old, new, expected):
    cfg = _config(tmp_path)
    text = (cfg / file).read_text()
    assert old in text
    (cfg / file).write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigError) as err:
        load_strategy(cfg)
    assert str(cfg / file) in str(err.value)
    assert expected in str(err.value)


def test_exempt_campaign_must_exist(tmp_path):
    cfg = _config(tmp_path)
    text = (cfg / "contact_rules.yaml").read_text()
    (cfg / "contact_rules.yaml").write_text(
        text.replace("counts: [marketing]", "counts: [marketing]\n    exempt_campaigns: [nope]", 1)
    )
    with pytest.raises(
        ConfigError, match=r"contact_rules.yaml: caps\[0\].exempt_campaigns\[0\]: unknown campaign 'nope'"
    ):
        load_strategy(cfg)
