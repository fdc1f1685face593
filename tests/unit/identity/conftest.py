"""Hand-made int_identity_records in a real DuckDB."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

from pipelines.lib.identity.config import IdentityConfig

COLUMNS = {
    "record_key": "VARCHAR",
    "source_system": "VARCHAR",
    "source_record_id": "VARCHAR",
    "record_type": "VARCHAR",
    "email": "VARCHAR",
    "email_domain": "VARCHAR",
    "phone_e164": "VARCHAR",
    "first_name": "VARCHAR",
    "last_name": "VARCHAR",
    "first_name_norm": "VARCHAR",
    "last_name_norm": "VARCHAR",
    "first_name_canonical": "VARCHAR",
    "full_name_norm": "VARCHAR",
    "company": "VARCHAR",
    "company_norm": "VARCHAR",
    "title": "VARCHAR",
    "street_norm": "VARCHAR",
    "city_norm": "VARCHAR",
    "postal_code_norm": "VARCHAR",
    "country_code": "VARCHAR",
    "birth_date": "DATE",
    "time_zone": "VARCHAR",
    "xref_salesforce_id": "VARCHAR",
    "xref_hubspot_id": "VARCHAR",
    "converted_contact_id": "VARCHAR",
    "master_record_id": "VARCHAR",
    "is_deleted": "BOOLEAN",
    "created_at": "TIMESTAMP",
    "updated_at": "TIMESTAMP",
}

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def write_records(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    """(Re)create int_identity_records; each row names `key` as 'system:id' plus any other columns."""
    con.execute(
        "CREATE OR REPLACE TABLE int_identity_records ("
        + ", ".join(f"{c} {t}" for c, t in COLUMNS.items())
        + ")"
    )
    for row in rows:
        system, rid = row["key"].split(":", 1)
        values = {
            "record_key": row["key"],
            "source_system": system,
            "source_record_id": rid,
            "record_type": "contact",
            "is_deleted": False,
        }
        values.update({k: v for k, v in row.items() if k != "key"})
        cols = list(values)
        con.execute(
            f"INSERT INTO int_identity_records ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [values[c] for c in cols],
        )


def person(key: str, first: str, last: str, **extra) -> dict:
    return {
        "key": key,
        "first_name": first.title(),
        "last_name": last.title(),
        "first_name_norm": first,
        "last_name_norm": last,
        "first_name_canonical": first,
        "full_name_norm": f"{first} {last}",
        **extra,
    }


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


@pytest.fixture
def config() -> IdentityConfig:
    return IdentityConfig()


def customer_of(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT record_key, customer_id FROM identity_clusters").fetchall())


def same_customer(con: duckdb.DuckDBPyConnection, *keys: str) -> bool:
    ids = customer_of(con)
    return len({ids[k] for k in keys}) == 1
