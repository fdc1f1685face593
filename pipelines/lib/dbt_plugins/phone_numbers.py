"""dbt-duckdb plugin: registers `phone_e164(phone VARCHAR, default_region VARCHAR) -> VARCHAR` on dbt's connection.

The function formats a phone number in E.164 with Google's `phonenumbers` library; numbers without a country
prefix are read in `default_region` (ISO 3166-1 alpha-2, e.g. 'US', 'GB'). Unparseable or invalid numbers give
NULL (a number of impossible length for its country, letters, too short). It is an Arrow (vectorized) UDF and parses each distinct (phone, region) pair once per batch, with a
process-wide cache across batches, so a million rows with repeated numbers stay fast.

Registered in profiles.yml:

    plugins:
      - module: pipelines.lib.dbt_plugins.phone_numbers
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import phonenumbers
import pyarrow as pa
from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection
from duckdb.func import FunctionNullHandling, PythonUDFType
from duckdb.sqltypes import VARCHAR

FUNCTION_NAME = "phone_e164"


@lru_cache(maxsize=1_000_000)
def to_e164(phone: str | None, default_region: str | None) -> str | None:
    """One number in E.164, or None when it is empty, unparseable or not a valid number."""
    if phone is None:
        return None
    text = phone.strip()
    if not text:
        return None
    if text.startswith("00"):  # international call prefix used across Europe
        text = "+" + text[2:]
    region = (default_region or "").strip().upper() or None
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    # possible (right length for the country) rather than valid (an allocated range): numbers in new or
    # unlisted ranges still match each other across sources
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_e164_arrow(phones: pa.Array, regions: pa.Array) -> pa.Array:
    """Vectorized body: distinct pairs are parsed once, results mapped back to every row."""
    values = phones.to_pylist()
    region_values = regions.to_pylist()
    results: dict[tuple[Any, Any], str | None] = {}
    out = []
    for pair in zip(values, region_values, strict=True):
        if pair not in results:
            results[pair] = to_e164(*pair)
        out.append(results[pair])
    return pa.array(out, type=pa.string())


def register(con: DuckDBPyConnection) -> None:
    """Register `phone_e164` on a DuckDB connection (also usable outside dbt, e.g. in tests)."""
    con.create_function(
        FUNCTION_NAME,
        phone_e164_arrow,
        [VARCHAR, VARCHAR],
        VARCHAR,
        type=PythonUDFType.ARROW,
        null_handling=FunctionNullHandling.SPECIAL,
        side_effects=False,
    )


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        register(conn)
