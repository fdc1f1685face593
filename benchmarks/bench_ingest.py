"""Ingest benchmark: a generated N-row Salesforce Contact CSV into a fresh DuckDB file; wall time and peak RSS.

.venv/bin/python -m benchmarks.bench_ingest --rows 1000000
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb

HEADER = (
    "Id,IsDeleted,MasterRecordId,AccountId,LastName,FirstName,Salutation,Name,MailingStreet,MailingCity,"
    "MailingState,MailingPostalCode,MailingCountry,Phone,MobilePhone,Email,Title,Department,LeadSource,"
    "Birthdate,HasOptedOutOfEmail,DoNotCall,OwnerId,CreatedDate,LastModifiedDate,Product_Interest__c,"
    "Purchase_Timeframe__c,HubSpot_Contact_ID__c"
)


SHAPES = {  # name: (Mailing Street, First Name, COPY options)
    "plain": ("'Main Street'", "'First'", ""),  # DuckDB's COPY: quotes only where needed (none here)
    "quoted": ("'Main Street'", "'First'", ", FORCE_QUOTE *"),  # every value quoted, like a Data Export
    # quoted, and every 100th Mailing Street holds a line break inside its quotes (a report export's address)
    "multiline": (
        "CASE WHEN i % 100 = 0 THEN 'Main Street' || chr(10) || 'Apt 2' ELSE 'Main Street' END",
        "'First'",
        ", FORCE_QUOTE *",
    ),
    # quoted, and every 100th First Name holds a nickname in (doubled) quotes: the exact record splitter reads it
    "nickname": (
        "'Main Street'",
        "CASE WHEN i % 100 = 0 THEN 'First \"Jo\" ' ELSE 'First' END",
        ", FORCE_QUOTE *",
    ),
}


def write_contacts(path: Path, rows: int, shape: str = "plain") -> None:
    """The file is written by DuckDB (COPY), so generating it costs little time and memory."""
    street, first, options = SHAPES[shape]
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"""
        COPY (SELECT '0038d' || lpad(CAST(i AS VARCHAR), 13, '0') AS Id, 'false' AS IsDeleted, '' AS MasterRecordId,
          '0018d' || lpad(CAST(i % 50000 AS VARCHAR), 13, '0') AS AccountId, 'Last' || i AS LastName,
          {first} || (i % 977) AS FirstName, 'Ms.' AS Salutation, 'First' || (i % 977) || ' Last' || i AS Name,
          i || ' ' || {street} AS MailingStreet, 'Boston' AS MailingCity, 'MA' AS MailingState,
          '02149' AS MailingPostalCode, 'United States' AS MailingCountry, '+1 617 555 ' || lpad(CAST(i % 10000 AS VARCHAR), 4, '0') AS Phone,
          '' AS MobilePhone, 'person' || i || '@example.com' AS Email, 'Manager' AS Title, 'Sales' AS Department,
          'Web' AS LeadSource, CAST(DATE '1960-01-01' + CAST(i % 15000 AS INTEGER) AS VARCHAR) AS Birthdate,
          CASE WHEN i % 10 = 0 THEN 'true' ELSE 'false' END AS HasOptedOutOfEmail, 'false' AS DoNotCall,
          '0058d000003QrStAAK' AS OwnerId,
          strftime(TIMESTAMP '2025-01-01' + to_seconds(i * 17), '%Y-%m-%dT%H:%M:%S.000Z') AS CreatedDate,
          strftime(TIMESTAMP '2025-06-01' + to_seconds(i * 11), '%Y-%m-%dT%H:%M:%S.000Z') AS LastModifiedDate,
          'Touchplan Pro' AS Product_Interest__c, '3 months' AS Purchase_Timeframe__c,
          CAST(51000000000 + i AS VARCHAR) AS HubSpot_Contact_ID__c
        FROM range(1, {rows} + 1) t(i)) TO '{path}' (HEADER, DELIMITER ','{options})""")
    con.close()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--memory-limit", default="1GB", help="DuckDB memory_limit for the run (default 1GB)")
    parser.add_argument(
        "--shape", choices=sorted(SHAPES), default="plain", help="quoting of the file (default plain)"
    )
    args = parser.parse_args(argv)
    from pipelines.lib.ingest import ingest_folder

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        root = Path(tmp)
        csv_path = root / "exports" / "salesforce" / "Contact.csv"
        started = time.perf_counter()
        write_contacts(csv_path, args.rows, args.shape)
        generated = time.perf_counter() - started
        rss_before = peak_rss_mb()
        con = duckdb.connect(str(root / "warehouse.duckdb"))
        con.execute(f"SET memory_limit = '{args.memory_limit}'")
        started, cpu_started = time.perf_counter(), time.process_time()
        report = ingest_folder(con, root / "exports", None)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        loaded = con.execute("SELECT count(*) FROM raw_crm_contacts").fetchall()[0][0]
        con.close()
        size_mb = csv_path.stat().st_size / 1e6
    result = report.files[0]
    print(f"rows: {args.rows}  file: {size_mb:.0f} MB  generated in {generated:.1f}s")
    print(
        f"ingest: {elapsed:.1f}s wall ({args.rows / elapsed:,.0f} rows/s), {cpu:.1f}s CPU, status {result.status}, "
        f"loaded {loaded}, quarantined {result.rows_quarantined}"
    )
    print(
        f"peak RSS: {peak_rss_mb():.0f} MB (before ingest {rss_before:.0f} MB), DuckDB memory_limit "
        f"{args.memory_limit}"
    )
    return 0 if loaded == args.rows else 1


if __name__ == "__main__":
    sys.exit(main())
