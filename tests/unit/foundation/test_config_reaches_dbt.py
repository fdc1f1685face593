"""Config reaches dbt by one path (issue #18): config/*.yaml -> collect_dbt_vars -> --vars -> var('<name>'). The
defaults live once, in the `vars:` block of dbt_project.yml, equal to what the shipped config files produce; no
model repeats them inline. (That changing a config key changes the SQL dbt runs: tests/integration/
test_config_reaches_dbt.py.)"""

from __future__ import annotations

import re

import yaml

from pipelines.lib.config.dbt_vars import collect_dbt_vars
from pipelines.lib.ingest.sources import SourcesConfig, sources_dbt_vars
from pipelines.lib.settings import DBT_PROJECT_DIR, PROJECT_ROOT, Settings

PROJECT_VARS = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
VAR_CALL = re.compile(r"""var\(\s*['"](\w+)['"]\s*(,)?""")
# vars that keep a short inline default on purpose: survivorship (without config/survivorship.yaml the dbt default
# rules apply; tests/integration/test_core_marts.py), the subscription groups of config/delivery.yaml ({} / the
# first group), email_provider_rules (false) and the SendGrid duplicate window (not a config key).
INLINE_DEFAULT_OK = {
    "as_of",
    "survivorship",
    "subscription_groups",
    "default_subscription_group",
    "email_provider_rules",
    "event_duplicate_window_seconds",
}


# vars of dbt_project.yml that no config file feeds: the run's as-of time, the fallback phone region and the one
# email rule (email_pattern, read by the Great Expectations suites from dbt_project.yml too: test_email_rule.py)
DBT_SETTINGS = {"as_of", "phone_default_region", "email_pattern"}


def _shipped_vars() -> dict:
    return collect_dbt_vars(Settings.from_env(config_dir=PROJECT_ROOT / "config"))


def _var_calls() -> list[tuple[str, str, bool]]:
    calls = []
    for path in sorted([*DBT_PROJECT_DIR.glob("models/**/*.sql"), *DBT_PROJECT_DIR.glob("macros/**/*.sql")]):
        for match in VAR_CALL.finditer(path.read_text(encoding="utf-8")):
            calls.append((path.name, match.group(1), bool(match.group(2))))
    return calls


def test_project_var_defaults_equal_what_the_shipped_config_produces():
    shipped = _shipped_vars()
    for name, default in PROJECT_VARS.items():
        if name in DBT_SETTINGS:
            continue
        assert default == shipped[name], f"dbt_project.yml vars.{name} differs from what config/ produces"


def test_every_config_fed_var_has_its_default_in_the_project_block_only():
    calls = _var_calls()
    assert {"insight_personas", "insight_lead_fit", "measurement", "phone_default_regions"} <= {
        n for _, n, _ in calls
    }
    for model, name, has_inline_default in calls:
        if name in INLINE_DEFAULT_OK:
            continue
        assert name in PROJECT_VARS, f"{model}: var {name!r} has no default in dbt_project.yml"
        assert not has_inline_default, f"{model}: var {name!r} repeats a default inline"


def test_every_var_a_model_reads_is_fed_by_config_or_is_a_documented_dbt_setting():
    fed = set(_shipped_vars())
    for model, name, _ in _var_calls():
        assert name in fed or name in DBT_SETTINGS | {"event_duplicate_window_seconds"}, (
            f"{model}: var {name!r} is read but no config file feeds it"
        )


def test_each_sources_default_phone_region_becomes_the_staging_var():
    config = SourcesConfig.model_validate(
        {"sources": {"hubspot": {"default_phone_region": "de"}, "zoom": {"time_zone": "UTC"}}}
    )
    assert sources_dbt_vars(config) == {"phone_default_regions": {"hubspot": "DE"}}
    assert _shipped_vars()["phone_default_regions"] == {"hubspot": "US", "salesforce": "US"}
