"""Cost of the erasure list on every ingest: hash the addresses of the loaded raw rows, strip the erased ones.

    .venv/bin/python -m benchmarks.bench_erasure --events 2000000 --contacts 200000 --erased 100

Builds raw_email_events and raw_crm_contacts of the given sizes in a temporary DuckDB file, puts `--erased` addresses
on the list, and times `apply_erasure_list` over every row (a rebuilt warehouse loads every file anew). Prints the
wall time, the rows stripped and the peak RSS.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import duckdb
import psutil

from pipelines.lib import erasure
from pipelines.lib.ingest.schema import TABLE_NAMES, create_tables


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--erased", type=int, default=100)
    args = parser.parse_args(argv)
    os.environ.setdefault(erasure.ENV_SALT, "benchmark-salt")
    salt = os.environ[erasure.ENV_SALT]
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "w.duckdb"))
        create_tables(con)
        con.execute(
            "INSERT INTO raw_email_events (source_system, event_id, email, event, payload, _file_hash) "
            f"SELECT 'sendgrid', 'e' || range, 'person' || (range % {args.contacts}) || '@example.com', 'open', "
            f"'{{}}', 'f1' FROM range({args.events})"
        )
        con.execute(
            "INSERT INTO raw_crm_contacts (source_system, source_record_id, email, first_name, _file_hash) "
            f"SELECT 'salesforce', 'r' || range, 'person' || range || '@example.com', 'Ann', 'f2' "
            f"FROM range({args.contacts})"
        )
        erasure.ensure_tables(con)
        con.executemany(
            f"INSERT INTO {erasure.ERASURE_TABLE} VALUES (?, NULL)",
            [[erasure.erasure_hash(f"person{i}@example.com", salt)] for i in range(args.erased)],
        )
        started = time.perf_counter()
        stripped = erasure.apply_erasure_list(con, Path(tmp) / "list.csv", list(TABLE_NAMES), ["f1", "f2"])
        seconds = time.perf_counter() - started
        con.close()
    rss = psutil.Process().memory_info().rss / 2**20
    print(
        f"apply_erasure_list: {args.events:,} events + {args.contacts:,} contacts, {args.erased} erased: "
        f"{stripped:,} rows stripped in {seconds:.1f} s; RSS {rss:.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
