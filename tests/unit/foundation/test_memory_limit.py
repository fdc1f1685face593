"""TOUCHPLAN_MEMORY_LIMIT and TOUCHPLAN_TEMP_DIRECTORY reach every DuckDB connection Touchplan opens."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.defs.resources import TouchplanResource
from pipelines.lib import warehouse
from pipelines.lib.settings import PROJECT_ROOT, Settings

REAL_EXPORTS = PROJECT_ROOT / "tests" / "fixtures" / "real_exports" / "exports"
LIMIT = "700MiB"


def duckdb_shows(limit: str) -> str:
    """How DuckDB reports `limit` in current_setting('memory_limit') (e.g. '700.0 MiB')."""
    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = '{limit}'")
        return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    finally:
        con.close()


def reported(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    return con.execute("SELECT current_setting('memory_limit'), current_setting('temp_directory')").fetchone()


def test_default_limit_is_sixty_percent_of_physical_memory(tmp_path):
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    con = warehouse.connect(tmp_path / "w.duckdb")
    try:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    finally:
        con.close()
    number, unit = re.match(r"([\d.]+) (\w+)", limit).groups()
    shown = float(number) * {"MiB": 2**20, "GiB": 2**30, "TiB": 2**40}[unit]
    assert shown == pytest.approx(0.6 * physical, rel=0.01)


def test_temp_directory_defaults_to_beside_the_warehouse_and_follows_the_variable(tmp_path, monkeypatch):
    con = warehouse.connect(
        tmp_path / "w.duckdb", settings=Settings.from_env(warehouse=tmp_path / "w.duckdb")
    )
    try:
        assert reported(con)[1] == str(tmp_path / "w.duckdb.tmp")
    finally:
        con.close()
    monkeypatch.setenv("TOUCHPLAN_TEMP_DIRECTORY", str(tmp_path / "spill"))
    con = warehouse.connect(tmp_path / "w.duckdb")
    try:
        assert reported(con)[1] == str(tmp_path / "spill")
    finally:
        con.close()


@pytest.mark.parametrize("value", ["4GB", "512 MiB", "1.5gb", "60%"])
def test_duckdb_size_strings_are_accepted(tmp_path, monkeypatch, value):
    monkeypatch.setenv("TOUCHPLAN_MEMORY_LIMIT", value)
    con = warehouse.connect(warehouse.IN_MEMORY)
    try:
        assert reported(con)[0] == duckdb_shows(value.replace(" ", ""))
    finally:
        con.close()


@pytest.mark.parametrize("value", ["lots", "4", "-1GB", "0GB", "150%", "4 parsecs"])
def test_a_bad_limit_is_one_line_naming_the_variable(tmp_path, monkeypatch, capsys, value):
    monkeypatch.setenv("TOUCHPLAN_MEMORY_LIMIT", value)
    shutil.copytree(REAL_EXPORTS / "zoom", tmp_path / "in" / "zoom")
    code = main(["ingest", "--exports", str(tmp_path / "in"), "--warehouse", str(tmp_path / "w.duckdb")])
    err = capsys.readouterr().err
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: TOUCHPLAN_MEMORY_LIMIT=") and value in lines[0]
    assert not (tmp_path / "w.duckdb").exists()  # nothing was opened


def test_the_dagster_resource_connection_has_the_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("TOUCHPLAN_MEMORY_LIMIT", LIMIT)
    resource = TouchplanResource(warehouse=str(tmp_path / "w.duckdb"))
    for read_only in (False, True):
        with resource.connect(read_only=read_only) as con:
            assert reported(con) == (duckdb_shows(LIMIT), str(tmp_path / "w.duckdb.tmp"))


@pytest.fixture
def connections(monkeypatch):
    """What every connection opened through pipelines.lib.warehouse reported just after it was opened."""
    seen: list[tuple[str, str]] = []
    real_connect = warehouse.connect

    def spy(*args, **kwargs):
        con = real_connect(*args, **kwargs)
        seen.append(reported(con))
        return con

    monkeypatch.setattr(warehouse, "connect", spy)
    return seen


def _commands(tmp: Path) -> dict[str, list[str]]:
    wh = ["--warehouse", str(tmp / "w.duckdb")]
    rules = tmp / "rules.yaml"
    return {
        "ingest": ["ingest", "--exports", str(tmp / "in"), *wh],
        "plan": ["plan", *wh, "--as-of", "2026-03-01"],
        "backtest": ["backtest", "--rules", str(rules), "--from", "2026-01-01", "--to", "2026-02-01", *wh],
        "explain": ["explain", "c_123", *wh],
        "deliveries": ["deliveries", *wh],
        "deliveries --release": ["deliveries", "--release", "s_1", *wh],
        "explain-match": ["explain-match", "a@example.com", "b@example.com", *wh],
        "erase": ["erase", "nobody@example.com", *wh, "--output", str(tmp / "out")],
    }


@pytest.mark.parametrize("command", list(_commands(Path("/nonexistent")).keys()))
def test_every_cli_command_opens_its_connection_with_the_limit(tmp_path, monkeypatch, connections, command):
    """Each command opens the warehouse through the one helper, whatever it then finds there."""
    monkeypatch.setenv("TOUCHPLAN_MEMORY_LIMIT", LIMIT)
    monkeypatch.setenv("TOUCHPLAN_ERASURE_SALT", "test-salt-0123456789abcdef")
    shutil.copytree(REAL_EXPORTS / "zoom", tmp_path / "in" / "zoom")
    duckdb.connect(str(tmp_path / "w.duckdb")).close()  # an empty warehouse: commands that need one start
    (tmp_path / "rules.yaml").write_text("{}\n")
    main(_commands(tmp_path)[command])
    assert connections, f"touchplan {command} opened no connection through pipelines.lib.warehouse"
    assert set(connections) == {(duckdb_shows(LIMIT), str(tmp_path / "w.duckdb.tmp"))}


def test_no_connection_bypasses_the_helper():
    """duckdb.connect only in pipelines/lib/warehouse.py; Splink only ever gets a connection it is given."""
    bypass, own_splink = [], []
    for path in (PROJECT_ROOT / "pipelines").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if path != PROJECT_ROOT / "pipelines" / "lib" / "warehouse.py" and "duckdb.connect(" in text:
            bypass.append(str(path.relative_to(PROJECT_ROOT)))
        own_splink += [f"{path.name}: {m}" for m in re.findall(r"DuckDBAPI\((?!connection=)[^)]*\)", text)]
    assert bypass == []
    assert own_splink == []
