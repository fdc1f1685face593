import contextlib
import os
import shutil
from dataclasses import fields, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.defs.resources import TouchplanResource
from pipelines.lib.settings import PROJECT_ROOT, Settings, parse_as_of

REAL_EXPORTS = PROJECT_ROOT / "tests" / "fixtures" / "real_exports" / "exports"


def test_defaults_are_relative_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env()
    assert settings.warehouse == tmp_path / "data" / "warehouse.duckdb"
    assert settings.exports == tmp_path / "data" / "exports"
    assert settings.outbox == tmp_path / "data" / "outbox"
    assert settings.send is False


def test_environment_variables_override_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("TOUCHPLAN_WAREHOUSE", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("TOUCHPLAN_EXPORTS", str(tmp_path / "in"))
    monkeypatch.setenv("TOUCHPLAN_AS_OF", "2026-03-01")
    settings = Settings.from_env()
    assert settings.warehouse == tmp_path / "w.duckdb"
    assert settings.exports == tmp_path / "in"
    assert settings.as_of == datetime(2026, 3, 1, tzinfo=UTC)


def test_explicit_overrides_win_over_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TOUCHPLAN_WAREHOUSE", str(tmp_path / "env.duckdb"))
    settings = Settings.from_env(warehouse=tmp_path / "cli.duckdb")
    assert settings.warehouse == tmp_path / "cli.duckdb"


def test_sending_needs_both_switch_and_key(monkeypatch):
    settings = Settings.from_env(send=True)
    assert settings.sending_enabled is False
    monkeypatch.setenv("SENDGRID_API_KEY", "not-a-real-key")
    assert Settings.from_env(send=True).sending_enabled is True
    assert Settings.from_env().sending_enabled is False


def _every_field_set(tmp_path: Path) -> Settings:
    """Settings with no field at its default, so that a field the resource dropped shows."""
    settings = Settings(
        warehouse=tmp_path / "a.duckdb",
        exports=tmp_path / "x",
        config_dir=tmp_path / "cfg",
        output=tmp_path / "out",
        as_of=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        send=True,
        force_send=True,
        memory_limit="700MiB",
        temp_dir=tmp_path / "spill",
    )
    default = Settings.from_env()
    assert [f.name for f in fields(Settings) if getattr(settings, f.name) == getattr(default, f.name)] == []
    return settings


def test_resource_built_from_settings_carries_every_field(tmp_path, monkeypatch):
    settings = _every_field_set(tmp_path)
    # a resource built from Settings reads no variable: these must not leak in
    for name, value in {
        "TOUCHPLAN_WAREHOUSE": tmp_path / "env.duckdb",
        "TOUCHPLAN_EXPORTS": tmp_path / "env_in",
        "TOUCHPLAN_CONFIG": tmp_path / "env_cfg",
        "TOUCHPLAN_OUTPUT": tmp_path / "env_out",
        "TOUCHPLAN_AS_OF": "2020-01-01",
        "TOUCHPLAN_SEND": "0",
        "TOUCHPLAN_FORCE_SEND": "0",
        "TOUCHPLAN_MEMORY_LIMIT": "1GB",
        "TOUCHPLAN_TEMP_DIRECTORY": tmp_path / "env_spill",
    }.items():
        monkeypatch.setenv(name, str(value))
    assert TouchplanResource.from_settings(settings).settings() == settings
    unset = replace(settings, as_of=None, temp_dir=None, send=False, force_send=False)
    assert TouchplanResource.from_settings(unset).settings() == unset


def test_a_resource_with_some_fields_takes_the_rest_from_the_environment(tmp_path, monkeypatch):
    """How tests and hand-built resources use it: what is not given comes from TOUCHPLAN_*, then the defaults."""
    monkeypatch.setenv("TOUCHPLAN_EXPORTS", str(tmp_path / "env_in"))
    settings = TouchplanResource(warehouse=str(tmp_path / "w.duckdb")).settings()
    assert (settings.warehouse, settings.exports) == (tmp_path / "w.duckdb", tmp_path / "env_in")


def test_definitions_carry_the_settings_they_are_given(tmp_path, monkeypatch):
    """`touchplan run` hands its Settings to the job: the resource is built from them, not from os.environ."""
    from pipelines.definitions import build_definitions

    settings = replace(_every_field_set(tmp_path), config_dir=PROJECT_ROOT / "config")
    with _no_environment_writes():
        definitions = build_definitions(settings)
    monkeypatch.setenv("TOUCHPLAN_WAREHOUSE", str(tmp_path / "elsewhere.duckdb"))
    assert definitions.resources["touchplan"].settings() == settings


class _WriteGuard(dict):
    """os.environ that fails the test on any write."""

    def _refuse(self, *args, **kwargs):
        raise AssertionError(f"os.environ written: {args}")

    __setitem__ = __delitem__ = pop = popitem = clear = update = _refuse

    def setdefault(self, key, default=None):
        if key not in self:
            self._refuse(key, default)
        return self[key]


@contextlib.contextmanager
def _no_environment_writes():
    real = os.environ
    os.environ = _WriteGuard(real)  # noqa: B003 - a stand-in that refuses writes, restored below
    try:
        yield
    finally:
        os.environ = real  # noqa: B003


def test_cli_takes_relative_paths_from_the_working_directory(tmp_path, monkeypatch, capsys):
    """From a folder that is not the project: --config/--warehouse/--exports relative to it, and the default
    config/ too (not the project's); no command writes os.environ."""
    work = tmp_path / "work"
    shutil.copytree(REAL_EXPORTS / "zoom", work / "in" / "zoom")
    shutil.copytree(PROJECT_ROOT / "config", work / "cfg")
    monkeypatch.chdir(work)

    with _no_environment_writes():
        assert main(["check-config"]) == 1  # the default config/ is the working directory's: none here
    assert "config: config folder not found" in capsys.readouterr().err

    with _no_environment_writes():
        assert main(["ingest", "--exports", "in", "--warehouse", "w.duckdb", "--config", "cfg"]) == 0
    assert "not found" not in capsys.readouterr().err  # cfg/sources.yaml was read
    con = duckdb.connect(str(work / "w.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM raw_webinar_attendance").fetchone()[0] > 0
    finally:
        con.close()


def test_as_of_parsing():
    assert parse_as_of("2026-11-22T10:00:00+01:00") == datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    assert parse_as_of(None) is None
    with pytest.raises(ValueError, match="not an ISO date"):
        parse_as_of("22/11/2026")


def test_paths_are_absolute(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert all(
        isinstance(p, Path) and p.is_absolute()
        for p in (Settings.from_env().warehouse, Settings.from_env().config_dir)
    )


def test_every_relative_path_is_relative_to_the_working_directory(monkeypatch, tmp_path):
    """One rule for the defaults, the variables and the options (config/ included, not the project's)."""
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env().config_dir == tmp_path / "config"
    monkeypatch.setenv("TOUCHPLAN_CONFIG", "cfg")
    monkeypatch.setenv("TOUCHPLAN_WAREHOUSE", "w/w.duckdb")
    settings = Settings.from_env(output=Path("out"))
    assert (settings.config_dir, settings.warehouse, settings.output) == (
        tmp_path / "cfg",
        tmp_path / "w" / "w.duckdb",
        tmp_path / "out",
    )
