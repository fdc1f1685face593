"""The warehouse tables the quality stage owns: check results, failing keys and the volume history."""

from __future__ import annotations

import duckdb

QUALITY_FAILURES_DDL = """
CREATE TABLE IF NOT EXISTS quality_failures (
    check_name VARCHAR,      -- <suite>.<check>, e.g. raw_crm_contacts.email_valid_error
    table_name VARCHAR,
    key_column VARCHAR,      -- comma-separated when the key has several columns
    key_value VARCHAR,       -- the key's values joined with '|'
    observed_value VARCHAR,  -- truncated to 200 characters
    severity VARCHAR,        -- error | warn
    run_at TIMESTAMP         -- UTC
)
"""

QUALITY_CHECK_RESULTS_DDL = """
CREATE TABLE IF NOT EXISTS quality_check_results (
    check_name VARCHAR,      -- <suite>.<check>, as in quality_failures
    table_name VARCHAR,
    severity VARCHAR,        -- error | warn
    success BOOLEAN,
    failing_count BIGINT,    -- failing rows (sources, for profile checks); NULL when not countable
    observed_value VARCHAR,  -- table-level observed value (never row values), truncated to 200 characters
    run_at TIMESTAMP         -- UTC
)
"""

QUALITY_VOLUME_HISTORY_DDL = """
CREATE TABLE IF NOT EXISTS quality_volume_history (
    table_name VARCHAR,
    source VARCHAR,          -- source system (or channel), '(all)' for tables without one
    row_count BIGINT,
    measured_at TIMESTAMP,   -- UTC
    run_id VARCHAR,
    is_accepted BOOLEAN      -- false when the volume check failed: the next run compares with the last accepted
)
"""


def ensure_quality_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(QUALITY_FAILURES_DDL)
    con.execute(QUALITY_CHECK_RESULTS_DDL)
    con.execute(QUALITY_VOLUME_HISTORY_DDL)
