"""config/survivorship.yaml -> pydantic model -> the dbt var `survivorship`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipelines.lib.config import ConfigError
from pipelines.lib.config.dbt_vars import collect_dbt_vars
from pipelines.lib.config.survivorship import FILE_NAME, dbt_vars, load_survivorship
from pipelines.lib.settings import PROJECT_ROOT, Settings


def _settings(config_dir: Path) -> Settings:
    return Settings.from_env(config_dir=config_dir)


def test_project_config_parses_and_becomes_a_dbt_var():
    config = load_survivorship(PROJECT_ROOT / "config")
    assert config is not None
    assert config.rule_for("email").rule == "most_recent"
    assert config.rule_for("unknown_attribute_falls_back") == config.default
    collected = collect_dbt_vars(_settings(PROJECT_ROOT / "config"))
    assert collected["survivorship"]["default"]["sources"][0] == "salesforce"
    assert collected["survivorship"]["attributes"]["email"] == {"rule": "most_recent"}


def test_missing_file_passes_no_survivorship_var(tmp_path):
    # that dbt's defaults then apply is checked in a real dbt build:
    # tests/integration/test_core_marts.py::test_without_a_survivorship_file_the_dbt_defaults_apply
    assert dbt_vars(_settings(tmp_path)) == {}
    shutil.copytree(PROJECT_ROOT / "config", tmp_path / "config")
    (tmp_path / "config" / FILE_NAME).unlink()
    assert "survivorship" not in collect_dbt_vars(_settings(tmp_path / "config"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("default: {rule: newest, sources: [salesforce]}\n", "default.rule"),
        (
            "default: {rule: source_priority, sources: [salesforce]}\nattributes: {shoe_size: {rule: most_recent}}\n",
            "attributes.shoe_size",
        ),
        ("default: {rule: source_priority, sources: [salesforce, oracle]}\n", "default.sources[1]"),
        ("default: {rule: source_priority}\n", "default.sources must list"),
        ("default: {rule: most_recent, sources: [hubspot, hubspot]}\n", "twice"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path, text, expected):
    (tmp_path / FILE_NAME).write_text(text)
    with pytest.raises(ConfigError) as excinfo:
        load_survivorship(tmp_path)
    message = str(excinfo.value)
    assert str(tmp_path / FILE_NAME) in message
    assert expected in message
