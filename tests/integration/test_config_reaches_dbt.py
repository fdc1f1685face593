"""Each config key that feeds dbt changes the SQL dbt runs (issue #18): the shipped config folder and a copy with
one value changed per key are compiled by real dbt (`dbt compile`, vars from collect_dbt_vars), and the model that
should use the key compiles differently, showing the new value. A key that no model reads would fail here."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipelines.lib.config.dbt_vars import collect_dbt_vars
from pipelines.lib.settings import PROJECT_ROOT, Settings, parse_as_of
from tests.integration.dbt_runner import run_dbt

# (config file, text in it, replacement, model that must change, text the model's SQL must then contain)
CHANGES = [
    ("sources.yaml", "hubspot:\n    time_zone: UTC            # the portal's time zone (Settings > Account defaults)\n"
     "    default_phone_region: US", None, "stg_crm__contacts", "when 'hubspot' then 'DE'"),
    ("insight.yaml", "  window_days: 365                # frequency", "  window_days: 173                # frequency",
     "customer_rfv", "173"),
    ("insight.yaml", "title_keywords: [chief, ceo,", "title_keywords: [zzchiefzz, chief, ceo,",
     "customer_personas", "zzchiefzz"),
    ("insight.yaml", "history_months: 12", "history_months: 19", "int_insight__stage_timeline", "19"),
    ("insight.yaml", "first_webinar_attended: {enabled: true, min_minutes: 5}",
     "first_webinar_attended: {enabled: true, min_minutes: 47}", "customer_moments", "47"),
    ("insight.yaml", "counted_touch_types: [delivered, attended, registered, deal_created]",
     "counted_touch_types: [delivered, attended, registered, deal_created, zzclickzz]",
     "customer_touches_to_stage", "zzclickzz"),
    ("measurement.yaml", "acquisition: {window_days: 60}", "acquisition: {window_days: 59}",
     "int_measurement__exposures", "59"),
]  # fmt: skip
MODELS = sorted({change[3] for change in CHANGES})


def _changed_config(tmp: Path) -> Path:
    config = tmp / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    for file, old, new, _, _ in CHANGES:
        path = config / file
        text = path.read_text(encoding="utf-8")
        assert old in text, f"config/{file} no longer contains {old!r}: update this test"
        if new is None:  # the hubspot region
            new = old.replace("default_phone_region: US", "default_phone_region: DE")
        path.write_text(text.replace(old, new), encoding="utf-8")
    return config


def _compiled(tmp: Path, config: Path, name: str) -> dict[str, str]:
    work = tmp / name
    settings = Settings.from_env(
        warehouse=tmp / "warehouse.duckdb", config_dir=config, as_of=parse_as_of("2026-12-01")
    )
    run_dbt(
        tmp / "warehouse.duckdb",
        work,
        ["compile", "--select", *MODELS, "--quiet"],
        collect_dbt_vars(settings),
    )
    return {
        path.stem: path.read_text(encoding="utf-8") for path in (work / "target" / "compiled").rglob("*.sql")
    }


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("config_reaches_dbt")
    shipped = tmp / "shipped"
    shutil.copytree(PROJECT_ROOT / "config", shipped / "config")
    return _compiled(tmp, shipped / "config", "shipped"), _compiled(tmp, _changed_config(tmp), "changed")


@pytest.mark.parametrize(("file", "model", "marker"), [(c[0], c[3], c[4]) for c in CHANGES])
def test_changing_the_config_key_changes_the_model_sql(compiled, file, model, marker):
    shipped, changed = compiled
    assert shipped[model] != changed[model], f"changing config/{file} left {model} unchanged"
    assert marker in changed[model] and marker not in shipped[model]
