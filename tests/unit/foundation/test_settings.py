from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.lib.settings import Settings, parse_as_of


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


def test_export_to_env_round_trips(tmp_path, monkeypatch):
    original = Settings.from_env(
        warehouse=tmp_path / "a.duckdb", exports=tmp_path / "x", as_of=datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    )
    original.export_to_env()
    assert Settings.from_env() == original


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
