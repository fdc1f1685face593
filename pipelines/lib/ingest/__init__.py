"""Ingestion: real CRM, email-platform and webinar export files into the raw tables (pure Python + DuckDB).

Entry point: `ingest_folder(con, exports_dir, config_dir) -> IngestReport`. See docs/formats.md.
"""

# Format modules register themselves; formats.DETECTION_ORDER is the detection order.
from pipelines.lib.ingest import (  # noqa: F401
    custom_csv,
    dynamics,
    hubspot,
    mailchimp,
    salesforce,
    sendgrid,
    teams,
    touchplan_unsubscribe,
    zoho,
    zoom,
)
from pipelines.lib.ingest.errors import FileRejected
from pipelines.lib.ingest.loader import ingest_folder, list_export_files
from pipelines.lib.ingest.report import FileResult, IngestReport
from pipelines.lib.ingest.schema import RAW_TABLES, TABLE_NAMES, create_tables
from pipelines.lib.ingest.sources import SourcesConfig, load_sources_config

__all__ = [
    "RAW_TABLES",
    "TABLE_NAMES",
    "FileRejected",
    "FileResult",
    "IngestReport",
    "SourcesConfig",
    "create_tables",
    "ingest_folder",
    "list_export_files",
    "load_sources_config",
]
