"""config/measurement.yaml: parsed and checked, turned into the dbt var `measurement`, whose default in dbt_project.yml
equals what the shipped files produce (so `dbt build` without vars measures the same way)."""

from __future__ import annotations

import shutil

import pytest
import yaml

from pipelines.lib.config import ConfigError
from pipelines.lib.insight.config import insight_vars, load_insight_settings
from pipelines.lib.measurement.config import campaign_objectives, load_measurement_config, measurement_vars
from pipelines.lib.settings import DBT_PROJECT_DIR, PROJECT_ROOT

CONFIG = PROJECT_ROOT / "config"


def test_the_project_default_equals_the_shipped_config() -> None:
    # the one default of the var (dbt_project.yml vars:), also checked for every var in
    # tests/unit/foundation/test_config_reaches_dbt.py
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
    expected = measurement_vars(load_measurement_config(CONFIG), campaign_objectives(CONFIG))["measurement"]
    assert project["measurement"] == expected
    assert (
        project["insight_touches_to_stage"]
        == insight_vars(load_insight_settings(CONFIG))["insight_touches_to_stage"]
    )


def test_every_campaign_gets_its_objectives_window() -> None:
    config = load_measurement_config(CONFIG)
    var = measurement_vars(config, campaign_objectives(CONFIG))["measurement"]
    assert var["campaign_objectives"]["reactivation_lapsed"] == "reactivation"
    assert set(var["windows"]) == {
        "acquisition",
        "conversion",
        "retention",
        "reactivation",
        "frequency",
        "spend",
        "advocacy",
    }


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ("reactivation: {window_days: 30}", "reactivation: {window_days: 0}"),
            "measurement.yaml: objectives.reactivation.window_days: expected greater than 0; got 0",
        ),
        (
            (
                "  advocacy: {window_days: 60}       # an advocacy moment (advocacy_moments) within the window\n",
                "",
            ),
            "measurement.yaml: objectives: no window for objective 'advocacy'",
        ),
        (
            ("active_touch_types: [open,", "active_touch_types: [Open Now,"),
            "measurement.yaml: active_touch_types: 'Open Now' is not a name",
        ),
        (
            ("confidence: 0.95", "confidence: 1.5"),
            "measurement.yaml: uplift.confidence: expected less than 1; got 1.5",
        ),
    ],
)
def test_a_bad_setting_names_the_file_and_key(tmp_path, edit, message) -> None:
    shutil.copytree(CONFIG, tmp_path / "config")
    path = tmp_path / "config" / "measurement.yaml"
    text = path.read_text(encoding="utf-8")
    assert edit[0] in text
    path.write_text(text.replace(edit[0], edit[1]), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_measurement_config(tmp_path / "config")
    assert message in str(err.value), str(err.value)
