"""Fixtures for the quality tests: a private copy of the committed GX context and a raw CRM table builder."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.settings import ENV_OUTPUT, EXPECTATIONS_DIR


@pytest.fixture
def gx_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The committed suites, copied; validation results and Data Docs land in the test's output folder
    (`<tmp>/out/quality`, the runner's default from TOUCHPLAN_OUTPUT)."""
    monkeypatch.setenv(ENV_OUTPUT, str(tmp_path / "out"))
    root = tmp_path / "expectations"
    shutil.copytree(EXPECTATIONS_DIR, root, ignore=shutil.ignore_patterns("uncommitted"))
    return root


def make_raw_crm_contacts(
    con: duckdb.DuckDBPyConnection,
    rows: int,
    invalid_email_every: int | None = None,
    invalid_share: float = 0.0,
) -> None:
    """(Re)create raw_crm_contacts with `rows` rows over two source systems; `invalid_share` of the emails
    (the first rows of every ten) are not addresses."""
    invalid_tenths = round(invalid_share * 10)
    con.execute("DROP TABLE IF EXISTS raw_crm_contacts")
    con.execute(f"""
        CREATE TABLE raw_crm_contacts AS SELECT
          CASE WHEN i % 2 = 0 THEN 'hubspot' ELSE 'salesforce' END AS source_system,
          'rec' || i AS source_record_id, 'contact' AS record_type,
          CASE WHEN i % 10 < {invalid_tenths} THEN 'person ' || i || ' at example' ELSE 'p' || i || '@example.com'
          END AS email,
          'Ann' AS first_name, 'Lee' AS last_name, '+1 555 0100' AS phone, NULL::VARCHAR AS mobile_phone,
          'CTO' AS title, 'Acme' AS company, 'US' AS country, DATE '1980-01-01' AS birth_date,
          'lead' AS lifecycle_stage, false AS has_opted_out_of_email, false AS do_not_call, 10 AS employees,
          1000.0 AS annual_revenue, 10.0 AS budget, 'UTC' AS time_zone,
          TIMESTAMP '2026-10-01' AS created_at, TIMESTAMP '2026-11-20' AS updated_at,
          'crm/hubspot_contacts.csv' AS _source_file, i + 2 AS _source_line, 'abc' AS _file_hash,
          TIMESTAMP '2026-11-21' AS _ingested_at
        FROM range({rows}) t(i)
    """)
