"""config/insight.yaml: the shipped file loads, bad definitions fail naming the file and the key, and the dbt
vars are plain JSON."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from pipelines.lib.config import ConfigError
from pipelines.lib.insight.config import CONFIG_FILE, dbt_vars, load_insight_settings
from pipelines.lib.settings import PROJECT_ROOT, Settings

SHIPPED = PROJECT_ROOT / "config" / CONFIG_FILE


def write_config(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    edit(data)
    (tmp_path / CONFIG_FILE).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return tmp_path


def error_for(tmp_path: Path, edit) -> str:
    with pytest.raises(ConfigError) as excinfo:
        load_insight_settings(write_config(tmp_path, edit))
    message = str(excinfo.value)
    assert str(tmp_path / CONFIG_FILE) in message
    return message


def test_shipped_config_loads_with_every_segment_stage_and_moment() -> None:
    settings = load_insight_settings(SHIPPED.parent)
    assert [s.name for s in settings.rfv.segments] == [
        "champions",
        "loyal",
        "promising",
        "needs_attention",
        "at_risk",
        "hibernating",
        "lost",
    ]
    assert settings.lead_scoring.mql_threshold == 40
    assert set(settings.moments.model_fields) == {
        "first_webinar_attended",
        "became_mql",
        "first_purchase",
        "started_lapsing",
        "returned_after_lapsing",
        "high_engagement",
    }


def test_dbt_vars_are_json_and_come_from_the_settings_config_folder(tmp_path: Path) -> None:
    shutil.copy(SHIPPED, tmp_path / CONFIG_FILE)
    settings = Settings.from_env(config_dir=tmp_path)
    found = dbt_vars(settings)
    assert set(found) == {
        "insight_rfv",
        "insight_personas",
        "insight_lifecycle",
        "insight_lead_fit",
        "insight_lead_scoring",
        "insight_moments",
        "insight_touches_to_stage",
    }
    assert json.loads(json.dumps(found)) == found
    assert found["insight_lead_scoring"]["mql_threshold"] == 40


def test_collect_dbt_vars_includes_the_insight_vars(tmp_path: Path) -> None:
    from pipelines.lib.config.dbt_vars import collect_dbt_vars

    # the shipped file's rfv section, read as plain YAML, is the dbt var (defaults add nothing it lacks)
    shipped = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    assert collect_dbt_vars(Settings.from_env())["insight_rfv"] == shipped["rfv"]

    # and the var follows the config folder of the settings, not the shipped one
    def edit(d):
        d["rfv"]["window_days"] = 123
        d["lead_scoring"]["mql_threshold"] = 55

    # collect_dbt_vars reads every stage's file: the other shipped files beside the edited insight.yaml
    for other in SHIPPED.parent.glob("*.yaml"):
        if other.name != CONFIG_FILE:
            shutil.copy(other, tmp_path / other.name)
    collected = collect_dbt_vars(Settings.from_env(config_dir=write_config(tmp_path, edit)))
    assert collected["insight_rfv"]["window_days"] == 123
    assert collected["insight_lead_scoring"]["mql_threshold"] == 55


def test_keywords_are_normalised_to_lower_case_words(tmp_path: Path) -> None:
    def edit(d):
        d["personas"][0]["title_keywords"] = ["Vice-President", "  C.E.O "]

    settings = load_insight_settings(write_config(tmp_path, edit))
    assert settings.personas[0].title_keywords == ["vice president", "c e o"]


def test_overlapping_segments_name_both_segments_and_the_key(tmp_path: Path) -> None:
    def edit(d):
        d["rfv"]["segments"][1]["when"][0]["frequency_value"] = [3, 4]  # loyal now overlaps champions at fv 4

    message = error_for(tmp_path, edit)
    assert "rfv.segments" in message and "'champions' and 'loyal' overlap" in message


def test_empty_segment_range_is_an_error(tmp_path: Path) -> None:
    def edit(d):
        d["rfv"]["segments"][0]["when"][0]["recency"] = [5, 4]

    message = error_for(tmp_path, edit)
    assert "rfv.segments[0].when[0].recency" in message and "empty range" in message


def test_uncovered_score_cells_are_an_error(tmp_path: Path) -> None:
    def edit(d):
        del d["rfv"]["segments"][-1]  # drop `lost`

    message = error_for(tmp_path, edit)
    assert "rfv.segments" in message and "belong to no segment" in message


def test_score_out_of_range_is_an_error(tmp_path: Path) -> None:
    def edit(d):
        d["rfv"]["segments"][0]["when"][0]["frequency_value"] = [4, 6]

    assert "scores run from 1 to 5" in error_for(tmp_path, edit)


def test_unknown_persona_field_is_named(tmp_path: Path) -> None:
    def edit(d):
        d["personas"][2]["favourite_colour"] = ["blue"]

    message = error_for(tmp_path, edit)
    assert "personas[2].favourite_colour" in message


def test_persona_rule_without_condition_is_an_error(tmp_path: Path) -> None:
    def edit(d):
        d["personas"][0] = {"persona": "everyone", "rule": "catch_all"}

    assert "personas[0]" in error_for(tmp_path, edit)


def test_mql_threshold_out_of_range_is_an_error(tmp_path: Path) -> None:
    def edit(d):
        d["lead_scoring"]["mql_threshold"] = 140

    assert "lead_scoring.mql_threshold" in error_for(tmp_path, edit)


def test_threshold_that_is_not_a_number_is_an_error(tmp_path: Path) -> None:
    def edit(d):
        d["lead_scoring"]["mql_threshold"] = "40; drop table dim_customers"

    assert "lead_scoring.mql_threshold" in error_for(tmp_path, edit)


def test_bant_weights_must_add_up_to_100(tmp_path: Path) -> None:
    def edit(d):
        d["lead_scoring"]["bant_weights"]["need"] = 40

    message = error_for(tmp_path, edit)
    assert "lead_scoring.bant_weights" in message and "add up to 115" in message


def test_lapsed_must_come_after_lapsing(tmp_path: Path) -> None:
    def edit(d):
        d["lifecycle"]["customer"]["lapsed_days"] = 60

    message = error_for(tmp_path, edit)
    assert "lifecycle.customer" in message and "lapsed_days (60) must exceed lapsing_days (90)" in message


def test_touch_type_must_be_a_name(tmp_path: Path) -> None:
    def edit(d):
        d["rfv"]["activity_touch_types"] = ["open'); --"]

    assert "rfv.activity_touch_types" in error_for(tmp_path, edit)


def test_unknown_moment_is_named(tmp_path: Path) -> None:
    def edit(d):
        d["moments"]["birthday"] = {"enabled": True}

    assert "moments.birthday" in error_for(tmp_path, edit)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    (tmp_path / CONFIG_FILE).write_text("rfv:\n  window_days: [1,\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"insight.yaml: line \d+"):
        load_insight_settings(tmp_path)
