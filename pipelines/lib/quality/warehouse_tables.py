"""The warehouse tables the quality stage owns: check results, failing keys, the volume history and the state of
the last validation per table (what a later run may reuse, docs/quality.md)."""

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
    run_at TIMESTAMP,        -- UTC
    validation VARCHAR,      -- 'validated' | 'new rows' (row checks on the new files' rows) | 'reused' (unchanged)
    validated_at TIMESTAMP   -- when GX evaluated this result: run_at, or the earlier run's whose result stands
)
"""
# columns added after the first release: added to an existing warehouse's table
QUALITY_CHECK_RESULTS_ADDED = {"validation": "VARCHAR", "validated_at": "TIMESTAMP"}

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


QUALITY_VALIDATION_STATE_DDL = """
CREATE TABLE IF NOT EXISTS quality_validation_state (
    table_name VARCHAR,             -- one row per table: its last validation whose row checks GX ran
    config_fingerprint VARCHAR,     -- runner.config_fingerprint of the GX context the suites came from
    parameters_fingerprint VARCHAR, -- the suite parameters other than `now` (e.g. source_systems), and the schema
    parts VARCHAR,                  -- JSON {_source_file: [rows, sum of row hashes]} ('' for tables without files)
    now_param TIMESTAMP,            -- the `now` the outcomes hold for (moved forward when reused)
    row_outcomes VARCHAR,           -- JSON: the row suite's outcomes (names, severities, counts; never row values)
    total_rows BIGINT,
    rows_validated BIGINT,          -- rows the outcomes cover (a sample of them above sample_rows)
    run_id VARCHAR,
    validated_at TIMESTAMP          -- UTC
)
"""


def ensure_quality_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(QUALITY_FAILURES_DDL)
    con.execute(QUALITY_CHECK_RESULTS_DDL)
    for column, dtype in QUALITY_CHECK_RESULTS_ADDED.items():
        con.execute(f"ALTER TABLE quality_check_results ADD COLUMN IF NOT EXISTS {column} {dtype}")
    con.execute(QUALITY_VOLUME_HISTORY_DDL)
    con.execute(QUALITY_VALIDATION_STATE_DDL)
