"""Receiver benchmark: signed Event Webhook POSTs to `touchplan serve`'s app on a real uvicorn (loopback, one
keep-alive connection), each body verified and written durably before the 200; then `ingest_folder` over the files
the receiver wrote (first run, and a rerun where every file is a duplicate). Wall times, rates, peak RSS.

.venv/bin/python -m benchmarks.bench_receiver --posts 300 --events 50
"""

from __future__ import annotations

import argparse
import http.client
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from pipelines.lib.ingest import ingest_folder
from pipelines.lib.receiver.app import create_app
from tests.receiver_helpers import UNSUBSCRIBE_SECRET, ServerThread, Signer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=300, help="webhook POSTs (one file each)")
    parser.add_argument("--events", type=int, default=50, help="events per POST")
    args = parser.parse_args(argv)
    signer = Signer()
    with tempfile.TemporaryDirectory() as tmp:
        exports = Path(tmp) / "exports"
        app = create_app(exports, signer.public_key, UNSUBSCRIBE_SECRET)
        bodies = []
        for p in range(args.posts):
            events = [
                {"email": f"p{p}-{i}@example.com", "event": "delivered", "timestamp": 1_796_000_000 + i,
                 "sg_event_id": f"e{p}-{i}", "sg_message_id": f"m{p}-{i}.filterdrecv-0", "touchplan_send_id": f"{p:032x}"}
                for i in range(args.events)
            ]  # fmt: skip
            bodies.append((json.dumps(events) + "\r\n").encode())
        with ServerThread(app) as srv:
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
            t0 = time.perf_counter()
            for body in bodies:
                conn.request("POST", "/sendgrid/events", body=body, headers=signer.headers(body))
                resp = conn.getresponse()
                resp.read()
                assert resp.status == 200, resp.status
            posting = time.perf_counter() - t0
            conn.close()
        con = duckdb.connect(str(Path(tmp) / "w.duckdb"))
        t1 = time.perf_counter()
        report = ingest_folder(con, exports)
        first = time.perf_counter() - t1
        t2 = time.perf_counter()
        ingest_folder(con, exports)
        rerun = time.perf_counter() - t2
        loaded = report.table_counts["raw_email_events"]
        con.close()
    n = args.posts
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"receiver: {n} signed POSTs x {args.events} events, verified + fsync'd before each 200")
    print(f"  {posting:.2f} s: {n / posting:.0f} requests/s, {n * args.events / posting:.0f} events/s")
    print(f"ingest of the {n} webhook files: {first:.1f} s ({first / n * 1000:.0f} ms/file, {loaded} events); "
          f"rerun (all duplicate) {rerun:.1f} s")  # fmt: skip
    print(f"peak RSS {rss:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
