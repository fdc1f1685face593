"""The short summary printed after a run: rows per stage and where the outputs are."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.lib import warehouse
from pipelines.lib.settings import Settings

# the report file, written by pipelines/lib/report/render.py (which imports this name; not the reverse: no matplotlib)
REPORT_NAME = "touchplan_report.html"

# Great Expectations builds its Data Docs site under the run's output folder (docs/quality.md).
DATA_DOCS_INDEX = Path("quality") / "data_docs" / "local_site" / "index.html"  # relative to the output folder

# Stage -> tables shown in the summary, in flow order.
STAGE_TABLES: dict[str, list[str]] = {
    "ingest": [
        "ingest_files",
        "ingest_quarantine",
        "raw_crm_contacts",
        "raw_crm_deals",
        "raw_email_events",
        "raw_email_suppressions",
        "raw_email_audience",
        "raw_webinar_attendance",
        "raw_webinar_registrations",
        "raw_unsubscribe_requests",
    ],
    "identity": ["identity_edges", "identity_clusters", "customer_merge_log"],
    "marts": [
        "dim_customers",
        "customer_crosswalk",
        "customer_consent",
        "fct_touchpoints",
        "crm_merge_suggestions",
    ],
    "insight": [
        "customer_rfv",
        "customer_personas",
        "customer_lifecycle",
        "lifecycle_transitions",
        "lead_scores",
        "customer_moments",
    ],
    "quality": ["quality_check_results", "quality_failures", "crm_health"],
    "planning": ["contact_decisions", "contact_plan", "campaign_waterfall"],
    "delivery": ["send_ledger"],
}


@dataclass
class RunSummary:
    warehouse: Path
    elapsed_seconds: float
    run_id: str | None
    counts: dict[str, dict[str, int | None]] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)

    def render(self) -> str:
        lines = [f"\nTouchplan run {self.run_id or ''} finished in {self.elapsed_seconds:.1f}s".rstrip()]
        for stage, tables in self.counts.items():
            shown = ", ".join(
                f"{name} {count:,}" if count is not None else f"{name} -" for name, count in tables.items()
            )
            lines.append(f"  {stage:<9} {shown}")
        lines.append("Outputs:")
        lines.extend(f"  {label:<11} {where}" for label, where in self.outputs.items())
        return "\n".join(lines)


def _existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute("select table_name from information_schema.tables").fetchall()}


def summarize_warehouse(settings: Settings, elapsed_seconds: float, run_id: str | None = None) -> RunSummary:
    summary = RunSummary(warehouse=settings.warehouse, elapsed_seconds=elapsed_seconds, run_id=run_id)
    if settings.warehouse.exists():
        con = warehouse.connect(read_only=True, settings=settings)
        try:
            existing = _existing_tables(con)
            for stage, tables in STAGE_TABLES.items():
                summary.counts[stage] = {
                    table: (
                        con.execute(f'select count(*) from "{table}"').fetchone()[0]
                        if table in existing
                        else None
                    )
                    for table in tables
                }
        finally:
            con.close()
    summary.outputs["warehouse"] = str(settings.warehouse)
    outbox_files = (
        sum(1 for p in settings.outbox.rglob("*.json") if p.name != "manifest.json")
        if settings.outbox.exists()
        else 0
    )
    summary.outputs["outbox"] = f"{settings.outbox} ({outbox_files} request bodies)"
    report = settings.reports / REPORT_NAME
    if report.exists():
        summary.outputs["report"] = str(report)
    for label, path in (("reports", settings.reports), ("CRM fixes", settings.crm_fixes)):
        if path.exists():
            summary.outputs[label] = str(path)
    if (settings.output / DATA_DOCS_INDEX).exists():
        summary.outputs["data docs"] = str(settings.output / DATA_DOCS_INDEX)
    note = placeholder_note(settings)
    if note:
        summary.outputs["templates"] = note
    return summary


def placeholder_note(settings: Settings) -> str | None:
    """The demo says that its SendGrid template ids are placeholders (a real send refuses them)."""
    from pipelines.lib.config import ConfigError
    from pipelines.lib.delivery.config import PLACEHOLDER_TEMPLATE_ID, load_delivery_config

    try:
        keys = load_delivery_config(settings.config_dir).placeholder_keys()
    except (ConfigError, FileNotFoundError, ValueError):
        return None
    if not keys:
        return None
    return (
        f"{len(keys)} template id(s) in delivery.yaml are the demo placeholder {PLACEHOLDER_TEMPLATE_ID}: "
        "fine for this dry run; `--send` refuses them until you set your SendGrid dynamic template ids"
    )
