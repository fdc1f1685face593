"""The raw tables ingest writes (docs/architecture.md), created in full even when no file feeds them."""

from __future__ import annotations

import duckdb

# Columns every raw row carries: where it came from.
META_COLUMNS: dict[str, str] = {
    "_source_file": "VARCHAR",  # path relative to the exports folder
    "_source_member": "VARCHAR",  # member of a zip archive, else null
    "_source_line": "BIGINT",  # 1-based line (JSON: element index + 1, xlsx: sheet row)
    "_file_hash": "VARCHAR",  # sha256 of the file bytes
    "_format": "VARCHAR",
    "_ingested_at": "TIMESTAMP",
}

RAW_TABLES: dict[str, dict[str, str]] = {
    "raw_crm_contacts": {
        "source_system": "VARCHAR",
        "source_record_id": "VARCHAR",
        "record_type": "VARCHAR",
        "email": "VARCHAR",
        "first_name": "VARCHAR",
        "last_name": "VARCHAR",
        "salutation": "VARCHAR",
        "phone": "VARCHAR",
        "mobile_phone": "VARCHAR",
        "title": "VARCHAR",
        "department": "VARCHAR",
        "company": "VARCHAR",
        "street": "VARCHAR",
        "city": "VARCHAR",
        "state": "VARCHAR",
        "postal_code": "VARCHAR",
        "country": "VARCHAR",
        "birth_date": "DATE",
        "lead_source": "VARCHAR",
        "lifecycle_stage": "VARCHAR",
        "lead_status": "VARCHAR",
        "marketing_contact_status": "VARCHAR",
        "has_opted_out_of_email": "BOOLEAN",
        "do_not_call": "BOOLEAN",
        "owner_id": "VARCHAR",
        "account_id": "VARCHAR",
        "industry": "VARCHAR",
        "rating": "VARCHAR",
        "employees": "INTEGER",
        "annual_revenue": "DOUBLE",
        "product_interest": "VARCHAR",
        "purchase_timeframe": "VARCHAR",
        "budget": "DOUBLE",
        "time_zone": "VARCHAR",
        "is_converted": "BOOLEAN",
        "converted_at": "DATE",
        "converted_contact_id": "VARCHAR",
        "converted_account_id": "VARCHAR",
        "converted_opportunity_id": "VARCHAR",
        "master_record_id": "VARCHAR",
        "is_deleted": "BOOLEAN",
        "xref_salesforce_id": "VARCHAR",
        "xref_hubspot_id": "VARCHAR",
        "default_phone_region": "VARCHAR",
        "created_at": "TIMESTAMP",
        "updated_at": "TIMESTAMP",
        "extra": "JSON",
    },
    "raw_crm_deals": {
        "source_system": "VARCHAR",
        "deal_id": "VARCHAR",
        "deal_name": "VARCHAR",
        "description": "VARCHAR",
        "amount": "DOUBLE",
        "currency": "VARCHAR",
        "stage": "VARCHAR",
        "probability": "DOUBLE",
        "deal_type": "VARCHAR",
        "pipeline": "VARCHAR",
        "lead_source": "VARCHAR",
        "forecast_category": "VARCHAR",
        "is_closed": "BOOLEAN",
        "is_won": "BOOLEAN",
        "is_deleted": "BOOLEAN",
        "close_date": "DATE",
        "created_at": "TIMESTAMP",
        "updated_at": "TIMESTAMP",
        "contact_source_record_id": "VARCHAR",
        "account_id": "VARCHAR",
        "account_name": "VARCHAR",
        "owner_id": "VARCHAR",
        "product": "VARCHAR",
        "extra": "JSON",
    },
    "raw_email_events": {
        "source_system": "VARCHAR",
        "event_id": "VARCHAR",
        "message_id": "VARCHAR",
        "smtp_id": "VARCHAR",
        "email": "VARCHAR",
        "event": "VARCHAR",
        "bounce_type": "VARCHAR",
        "bounce_classification": "VARCHAR",
        "reason": "VARCHAR",
        "status": "VARCHAR",
        "response": "VARCHAR",
        "attempt": "INTEGER",
        "url": "VARCHAR",
        "useragent": "VARCHAR",
        "ip": "VARCHAR",
        "categories": "VARCHAR[]",
        "asm_group_id": "INTEGER",
        "campaign_id": "VARCHAR",
        "touchplan_send_id": "VARCHAR",
        "occurred_at": "TIMESTAMP",
        "custom_args": "JSON",
        "payload": "JSON",
    },
    "raw_email_suppressions": {
        "source_system": "VARCHAR",
        "suppression_list": "VARCHAR",
        "email": "VARCHAR",
        "reason": "VARCHAR",
        "status": "VARCHAR",
        "asm_group_id": "INTEGER",
        "asm_group_name": "VARCHAR",
        "ip": "VARCHAR",
        "created_at": "TIMESTAMP",
        "extra": "JSON",
    },
    "raw_email_audience": {
        "source_system": "VARCHAR",
        "source_record_id": "VARCHAR",
        "list_status": "VARCHAR",
        "email": "VARCHAR",
        "first_name": "VARCHAR",
        "last_name": "VARCHAR",
        "phone": "VARCHAR",
        "address": "VARCHAR",
        "member_rating": "INTEGER",
        "optin_at": "TIMESTAMP",
        "optin_ip": "VARCHAR",
        "confirm_at": "TIMESTAMP",
        "confirm_ip": "VARCHAR",
        "last_changed_at": "TIMESTAMP",
        "leid": "VARCHAR",
        "euid": "VARCHAR",
        "tags": "VARCHAR",
        "notes": "VARCHAR",
        "unsubscribed_at": "TIMESTAMP",
        "unsub_campaign_id": "VARCHAR",
        "cleaned_at": "TIMESTAMP",
        "clean_campaign_id": "VARCHAR",
        "unsub_reason": "VARCHAR",
        "clean_reason": "VARCHAR",
        "timezone": "VARCHAR",
        "country_code": "VARCHAR",
        "region": "VARCHAR",
        "latitude": "DOUBLE",
        "longitude": "DOUBLE",
        "extra": "JSON",
    },
    "raw_webinar_attendance": {
        "source_system": "VARCHAR",
        "webinar_id": "VARCHAR",
        "webinar_topic": "VARCHAR",
        "webinar_start_at": "TIMESTAMP",
        "role": "VARCHAR",
        "attended": "BOOLEAN",
        "email": "VARCHAR",
        "name": "VARCHAR",
        "first_name": "VARCHAR",
        "last_name": "VARCHAR",
        "phone": "VARCHAR",
        "registered_at": "TIMESTAMP",
        "approval_status": "VARCHAR",
        "joined_at": "TIMESTAMP",
        "left_at": "TIMESTAMP",
        "duration_minutes": "DOUBLE",
        "is_guest": "BOOLEAN",
        "country": "VARCHAR",
        "participant_id": "VARCHAR",
        "record_level": "VARCHAR",
        "extra": "JSON",
    },
    "raw_webinar_registrations": {
        "source_system": "VARCHAR",
        "webinar_id": "VARCHAR",
        "webinar_topic": "VARCHAR",
        "webinar_start_at": "TIMESTAMP",
        "email": "VARCHAR",
        "first_name": "VARCHAR",
        "last_name": "VARCHAR",
        "registered_at": "TIMESTAMP",
        "approval_status": "VARCHAR",
        "country": "VARCHAR",
        "company": "VARCHAR",
        "title": "VARCHAR",
        "phone": "VARCHAR",
        "extra": "JSON",
    },
    # one-click unsubscribes recorded by `touchplan serve` (exports/webhook/unsubscribe/): ids only, no personal data
    "raw_unsubscribe_requests": {
        "source_system": "VARCHAR",
        "send_id": "VARCHAR",
        "requested_at": "TIMESTAMP",
        "method": "VARCHAR",
    },
}

INGEST_FILES: dict[str, str] = {
    "file_hash": "VARCHAR",
    "source_file": "VARCHAR",
    "format": "VARCHAR",
    "source_kind": "VARCHAR",
    "encoding": "VARCHAR",
    "status": "VARCHAR",
    "rows_read": "BIGINT",
    "rows_loaded": "BIGINT",
    "rows_quarantined": "BIGINT",
    # physical lines of a text file: lines_read = lines_loaded + lines_quarantined + lines_skipped
    "lines_read": "BIGINT",
    "lines_loaded": "BIGINT",
    "lines_quarantined": "BIGINT",
    "lines_skipped": "BIGINT",
    "error": "VARCHAR",
    "warnings": "VARCHAR[]",
    "superseded_by": "VARCHAR",
    "file_size": "BIGINT",
    "file_mtime": "TIMESTAMP",
    "ingested_at": "TIMESTAMP",
}

INGEST_QUARANTINE: dict[str, str] = {
    "source_file": "VARCHAR",
    "_file_hash": "VARCHAR",
    "source_member": "VARCHAR",
    "line_number": "BIGINT",  # first physical line of the record (1-based, header counted)
    "raw_text": "VARCHAR",
    "reason": "VARCHAR",
    "format": "VARCHAR",
    "target_table": "VARCHAR",
    "ingested_at": "TIMESTAMP",
}

TABLE_NAMES: tuple[str, ...] = (*RAW_TABLES, "ingest_files", "ingest_quarantine")


def table_columns(table: str) -> dict[str, str]:
    if table in RAW_TABLES:
        return {**RAW_TABLES[table], **META_COLUMNS}
    return {"ingest_files": INGEST_FILES, "ingest_quarantine": INGEST_QUARANTINE}[table]


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every ingest table, and add columns a newer version introduced to an older warehouse."""
    for table in TABLE_NAMES:
        columns = table_columns(table)
        ddl = ", ".join(f'"{name}" {sql_type}' for name, sql_type in columns.items())
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({ddl})")
        existing = {
            row[0]
            for row in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND table_schema = "
                "current_schema()",
                [table],
            ).fetchall()
        }
        for name, sql_type in columns.items():
            if name not in existing:
                con.execute(f'ALTER TABLE {table} ADD COLUMN "{name}" {sql_type}')
