"""Delivery benchmark: N planned emails sent to a loopback SendGrid (tests/sendgrid_loopback.py) with keep-alive.

    .venv/bin/python -m benchmarks.bench_delivery --emails 200000 --baseline 5000

The sender runs the real code path (`deliver(..., send=True)`, the `sendgrid` client with keep-alive, the in_flight
ledger protocol, a batch id per request scheduled ahead); the server runs in another process with schema validation
off (the fault tests validate every body; here the first request is validated against SendGrid's API description in
this process). Reports requests/s, recipients/s, API calls, connections, peak RSS of the sender, and the ratio of
recipients/s against the same code with one recipient per request (`--baseline` emails).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import resource
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import psutil

from pipelines.lib.delivery import deliver
from pipelines.lib.settings import PROJECT_ROOT, Settings


def _serve(conn) -> None:
    from tests.sendgrid_loopback import LoopbackSendGrid

    with LoopbackSendGrid(validate=False) as server:
        conn.send(server.url)
        conn.recv()  # "stats"
        delivered = server.delivered()
        conn.send(
            {
                "send_posts": server.state.send_posts,
                "calls": server.calls(),
                "connections": server.state.connections,
                "recipients": sum(delivered.values()),
                "max_per_send_id": max(delivered.values()) if delivered else 0,
            }
        )
        conn.recv()


def _warehouse(path: Path, emails: int) -> None:
    at = (datetime.now(UTC) + timedelta(hours=2)).replace(tzinfo=None, microsecond=0, second=0)
    con = duckdb.connect(str(path))
    con.execute(f"""CREATE TABLE dim_customers AS SELECT 'cu_' || i AS customer_id,
        'person' || i || '@example.com' AS email, 'First' || i AS first_name, 'Last' || (i % 997) AS last_name,
        'Company ' || (i % 5000) AS company FROM range({emails}) t(i)""")
    con.execute(f"""CREATE TABLE contact_plan AS SELECT 'run_1' AS plan_run_id, customer_id,
        ['welcome', 'newsletter', 'webinar_nov', 'winback'][CAST(1 + hash(customer_id) % 4 AS BIGINT)] AS campaign_id,
        'email' AS channel, 'd-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' AS template_id, NULL::VARCHAR AS variant,
        TIMESTAMP '{at}' + INTERVAL (hash(customer_id) % 2880) MINUTE AS scheduled_at,
        NULL::TIMESTAMP AS scheduled_local FROM dim_customers""")
    con.close()


def run_once(workdir: Path, emails: int, per_request: int) -> dict:
    parent, child = multiprocessing.get_context("fork").Pipe()
    server = multiprocessing.get_context("fork").Process(target=_serve, args=(child,), daemon=True)
    server.start()
    url = parent.recv()
    folder = workdir / f"run_{emails}_{per_request}"
    folder.mkdir(parents=True)
    (folder / "config").mkdir()
    text = (PROJECT_ROOT / "config" / "delivery.yaml").read_text()
    text = re.sub(r"host: \S+", f"host: {url}", text, count=1)
    text = re.sub(r"personalizations_per_request: \d+", f"personalizations_per_request: {per_request}", text)
    (folder / "config" / "delivery.yaml").write_text(text)
    _warehouse(folder / "w.duckdb", emails)
    settings = Settings(
        warehouse=folder / "w.duckdb",
        exports=folder / "exports",
        config_dir=folder / "config",
        output=folder / "out",
        send=True,
    )
    me = psutil.Process()
    rss_before = me.memory_info().rss
    peak = [rss_before]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], me.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    cpu = time.process_time()
    with duckdb.connect(str(settings.warehouse)) as con:
        report = deliver(con, settings, send=True)
        accepted = con.execute("SELECT count(*) FROM send_ledger WHERE status = 'accepted'").fetchone()[0]
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    done.set()
    sampler.join()
    parent.send("stats")
    stats = parent.recv()
    parent.send("stop")
    server.join(10)
    first = sorted((settings.outbox / "sendgrid").glob("r*.json"))[0]
    from tests.sendgrid_schema import mail_send_errors

    errors = mail_send_errors(json.loads(first.read_text()))
    return {
        "emails": emails,
        "per_request": per_request,
        "requests": report.requests,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "requests_per_s": round(report.requests / wall, 1),
        "recipients_per_s": round(accepted / wall, 1),
        "accepted": accepted,
        "server": stats,
        "first_body_schema_errors": len(errors),
        "rss_before_deliver_mib": round(rss_before / 2**20),
        "rss_peak_during_deliver_mib": round(peak[0] / 2**20),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--emails", type=int, default=200_000)
    parser.add_argument("--per-request", type=int, default=1000)
    parser.add_argument("--baseline", type=int, default=5_000, help="emails sent one recipient per request")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    os.environ.setdefault("SENDGRID_API_KEY", "SG.benchmark-fake-key")
    os.environ.setdefault("TOUCHPLAN_UNSUBSCRIBE_SECRET", "benchmark-unsubscribe-secret-00")
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        batched = run_once(Path(tmp), args.emails, args.per_request)
        rss_batched = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        single = run_once(Path(tmp), args.baseline, 1) if args.baseline else None
    print(json.dumps({"batched": batched, "one_per_request": single}, indent=2))
    print(f"peak RSS of the sender after the batched run: {rss_batched:.0f} MiB")
    if single:
        ratio = batched["recipients_per_s"] / single["recipients_per_s"]
        print(f"recipients/s batched vs one per request: {ratio:.1f}x")
        print(
            f"API calls: {batched['server']['calls']} for {batched['accepted']} recipients "
            f"(one per request would be {batched['accepted']} mail/send calls)"
        )


if __name__ == "__main__":
    main()
