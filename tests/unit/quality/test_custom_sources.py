"""The documented custom CSV examples (`source: tradeshow` in docs/formats.md and config/sources.yaml) load and
pass the blocking GX check `source_system_allowed`: the allowed set is the table's built-in source systems plus
the custom sources config/sources.yaml declares for that table."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.ingest import ingest_folder, load_sources_config
from pipelines.lib.quality.runner import QualityRunner
from pipelines.lib.settings import PROJECT_ROOT

NOW = datetime(2026, 11, 22, tzinfo=UTC)
BADGE_SCANS = (
    "Badge ID;E-mail;First;Last;Company;Scanned At\r\n"
    "B-1001;ana.bauer@example.de;Ana;Bauer;Contoso GmbH;12.11.2026 10:15\r\n"
    "B-1002;bo.li@example.com;Bo;Li;Fabrikam;12.11.2026 11:40\r\n"
)


def documented_rule(where: str) -> str:
    """The custom CSV example as documented, as a sources.yaml."""
    if where == "docs":
        text = (PROJECT_ROOT / "docs" / "formats.md").read_text()
        block = text.split("### Declaring a custom CSV", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
        return block
    text = (PROJECT_ROOT / "config" / "sources.yaml").read_text()
    example = text.split("# Example: a trade-show", 1)[1].split("\n", 1)[1]
    return "files:\n" + "\n".join(
        re.sub(r"^#", "", line) for line in example.splitlines() if line.startswith("#")
    )


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    yield connection
    connection.close()


@pytest.mark.parametrize("where", ["docs", "config"])
def test_documented_custom_source_passes_source_system_allowed(
    where: str, gx_root: Path, con, tmp_path: Path
):
    config = tmp_path / "config"
    config.mkdir()
    (config / "sources.yaml").write_text(documented_rule(where))
    exports = tmp_path / "exports" / "tradeshow"
    exports.mkdir(parents=True)
    (exports / "booth_scans.csv").write_text(BADGE_SCANS, newline="")
    report = ingest_folder(con, tmp_path / "exports", config)
    assert [(f.status, f.rows_loaded) for f in report.files] == [("loaded", 2)]
    assert con.execute("SELECT DISTINCT source_system FROM raw_crm_contacts").fetchall() == [("tradeshow",)]

    sources, _ = load_sources_config(config)
    assert sources.custom_source_systems("raw_crm_contacts") == {"tradeshow"}
    runner = QualityRunner(gx_root)
    result = runner.validate_table(
        con,
        "raw_crm_contacts",
        now=NOW,
        build_docs=False,
        custom_source_systems=sources.custom_source_systems("raw_crm_contacts"),
    )
    assert "source_system_allowed" not in {o.check for o in result.error_failures}, result.message()

    # The same rows without the configured sources: the check is real and blocks them.
    unconfigured = runner.validate_table(con, "raw_crm_contacts", now=NOW, build_docs=False)
    assert "source_system_allowed" in {o.check for o in unconfigured.error_failures}


def test_a_custom_source_is_allowed_only_in_the_table_its_rule_names(tmp_path: Path):
    config = tmp_path / "config"
    config.mkdir()
    (config / "sources.yaml").write_text(documented_rule("docs"))
    sources, _ = load_sources_config(config)
    assert sources.custom_source_systems("raw_crm_contacts") == {"tradeshow"}
    assert sources.custom_source_systems("raw_webinar_attendance") == set()
