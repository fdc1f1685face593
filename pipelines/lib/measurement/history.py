"""Past plan decisions from files: `<exports>/_history/contact_decisions*.csv` -> `raw_contact_history`.

Touchplan keeps every plan run's decisions in `contact_decisions`, so the held-out customers of its own campaigns
are always known. Decisions made elsewhere (a warehouse rebuilt from the exports folder, another tool that kept a
holdout, the demo's simulated past campaigns) come as CSV files keyed by email, because customer ids only exist
after identity resolution; the measurement models resolve the emails to customers. The sends of those campaigns
come back like any other: SendGrid events with `campaign_id` (and `touchplan_send_id`) in custom_args.

Columns: `email, campaign_id, outcome, reason_code, due_at, scheduled_at` (+ optional `plan_run_id`, `channel`).
Every row is loaded; a row that cannot be used keeps its `quarantine_reason` (counted in the asset's metadata).
The folder starts with `_`, so ingestion never reads it as an export.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.lib.sql import sql_list, sql_literal

HISTORY_FOLDER = "_history"
HISTORY_GLOB = "contact_decisions*.csv"
HISTORY_TABLE = "raw_contact_history"
REQUIRED = ("email", "campaign_id", "outcome", "reason_code", "due_at", "scheduled_at")
OPTIONAL = ("plan_run_id", "channel")
OUTCOMES = (
    "planned", "suppressed", "no_consent", "held_out", "cooldown", "capped", "gap", "lost_priority",
    "over_capacity", "deferred",
)  # fmt: skip

HISTORY_DDL = f"""
CREATE OR REPLACE TABLE {HISTORY_TABLE} (
    email VARCHAR, campaign_id VARCHAR, outcome VARCHAR, reason_code VARCHAR, due_at TIMESTAMP,
    scheduled_at TIMESTAMP, plan_run_id VARCHAR, channel VARCHAR, quarantine_reason VARCHAR,
    _source_file VARCHAR, _source_line BIGINT)
"""


class HistoryFileError(ValueError):
    """A history file that cannot be read at all (one line: file, line, problem)."""


@dataclass
class HistoryLoad:
    files: list[str] = field(default_factory=list)
    rows: int = 0
    loaded: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)


def load_history(con: duckdb.DuckDBPyConnection, exports_dir: Path) -> HistoryLoad:
    """Replace `raw_contact_history` with the rows of every history file (none: an empty table)."""
    con.execute(HISTORY_DDL)
    report = HistoryLoad()
    folder = Path(exports_dir) / HISTORY_FOLDER
    for path in sorted(folder.glob(HISTORY_GLOB)) if folder.is_dir() else []:
        shown = f"{HISTORY_FOLDER}/{path.name}"
        try:
            header = con.execute(
                f"SELECT * FROM read_csv({sql_literal(str(path))}, all_varchar = true, header = true) LIMIT 0"
            ).description
        except duckdb.Error as exc:
            raise HistoryFileError(
                f"{shown}: line 1: not a readable CSV file ({str(exc).splitlines()[0]})"
            ) from exc
        columns = [d[0] for d in header]
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            raise HistoryFileError(
                f"{shown}: line 1: missing column {missing[0]!r} (needs {', '.join(REQUIRED)})"
            )
        optional = {c: (c if c in columns else "NULL") for c in OPTIONAL}
        outcomes = sql_list(OUTCOMES)
        con.execute(f"""
            INSERT INTO {HISTORY_TABLE}
            WITH src AS (
                SELECT *, row_number() OVER () + 1 AS _line
                FROM read_csv({sql_literal(str(path))}, all_varchar = true, header = true)
            )
            SELECT lower(trim(email)), trim(campaign_id), trim(outcome), nullif(trim(reason_code), ''),
                   try_cast(nullif(trim(due_at), '') AS TIMESTAMP), try_cast(nullif(trim(scheduled_at), '') AS TIMESTAMP),
                   {optional["plan_run_id"]}, {optional["channel"]},
                   CASE WHEN nullif(trim(email), '') IS NULL THEN 'no email'
                        WHEN nullif(trim(campaign_id), '') IS NULL THEN 'no campaign_id'
                        WHEN NOT list_contains({outcomes}, trim(outcome)) THEN 'unknown outcome'
                        WHEN nullif(trim(due_at), '') IS NOT NULL AND try_cast(trim(due_at) AS TIMESTAMP) IS NULL
                            THEN 'due_at is not a timestamp'
                        WHEN nullif(trim(scheduled_at), '') IS NOT NULL
                             AND try_cast(trim(scheduled_at) AS TIMESTAMP) IS NULL
                            THEN 'scheduled_at is not a timestamp'
                        WHEN coalesce(nullif(trim(scheduled_at), ''), nullif(trim(due_at), '')) IS NULL
                            THEN 'no due_at or scheduled_at'
                   END,
                   {sql_literal(shown)}, _line
            FROM src
        """)
        report.files.append(shown)
    report.rows = con.execute(f"SELECT count(*) FROM {HISTORY_TABLE}").fetchone()[0]
    report.quarantined = dict(
        con.execute(
            f"SELECT quarantine_reason, count(*) FROM {HISTORY_TABLE} WHERE quarantine_reason IS NOT NULL "
            "GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    )
    report.loaded = report.rows - sum(report.quarantined.values())
    return report
