"""Measurement benchmark: the measurement marts (dbt) and campaign_uplift on synthetic history.

    .venv/bin/python -m benchmarks.bench_measurement --customers 100000

Builds a warehouse with N customers, about 10 touchpoints each (campaign deliveries, opens, clicks, webinar
touches, deals), 8 campaigns' daily-ish plan decisions (4 plan runs a month over 6 months, with global and
campaign holdouts) and ledger sends; builds the insight models once (not timed: their figures are in
docs/insight.md), then times `dbt run --select intermediate.measurement marts.measurement` (peak RSS of the dbt
process from /usr/bin/time -v) and the campaign_uplift table (peak RSS of this process).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import psutil

from pipelines.lib.delivery.ledger import LEDGER_DDL
from pipelines.lib.insight.config import insight_vars, load_insight_settings
from pipelines.lib.measurement.config import campaign_objectives, load_measurement_config, measurement_vars
from pipelines.lib.measurement.history import HISTORY_DDL
from pipelines.lib.measurement.uplift import write_uplift
from pipelines.lib.planning.engine import OUTPUT_DDL
from pipelines.lib.settings import DBT_PROJECT_DIR, PROJECT_ROOT

AS_OF = "2026-11-20 00:00:00"
CAMPAIGNS = sorted(campaign_objectives(PROJECT_ROOT / "config"))


def build(path: Path, customers: int) -> None:
    con = duckdb.connect(str(path))
    camps = "[" + ", ".join(f"'{c}'" for c in CAMPAIGNS) + "]"
    n_camp = len(CAMPAIGNS)
    try:
        con.execute(f"""
            CREATE TABLE dim_customers AS
            SELECT 'c' || i AS customer_id, 'c' || i || '@example.com' AS email, 'Manager' AS title,
                   'manager' AS seniority, 'Co ' || (i % 5000) AS company, 'software' AS industry,
                   (50 + i % 900)::INTEGER AS employees, i % 4 = 0 AS is_customer,
                   TIMESTAMP '2025-01-01' + INTERVAL (i % 500) DAY AS first_seen_at, NULL::TIMESTAMP AS last_seen_at
            FROM range({customers}) r(i)""")
        con.execute("""CREATE TABLE int_identity_records AS
            SELECT 'crm:' || customer_id AS record_key, email FROM dim_customers""")
        con.execute("""CREATE TABLE customer_crosswalk AS
            SELECT 'crm' AS source_system, customer_id AS source_record_id, 'crm:' || customer_id AS record_key,
                   customer_id FROM dim_customers""")
        # about 10 touches per customer over 300 days: sends of a campaign (processed + delivered), opens,
        # clicks, webinar registrations and attendance, deals created and won
        con.execute(f"""
            CREATE TABLE fct_touchpoints AS
            WITH base AS (
                SELECT c.customer_id, k, hash(c.customer_id || ':' || k) AS h
                FROM dim_customers c, range(4) t(k)
            ), sends AS (
                SELECT customer_id, {camps}[1 + (h % {n_camp})::INTEGER] AS campaign_id,
                       TIMESTAMP '{AS_OF}' - INTERVAL ((h >> 8) % 300) DAY - INTERVAL ((h >> 20) % 86400) SECOND
                           AS sent_at, h
                FROM base
            )
            SELECT md5(customer_id || campaign_id || sent_at || e) AS touchpoint_id, customer_id,
                   NULL::VARCHAR AS record_key, 'sendgrid' AS source_system, 'email' AS channel, e AS touchpoint_type,
                   e = 'delivered' AS is_marketing_contact, campaign_id, NULL::VARCHAR AS message_id,
                   NULL::VARCHAR AS webinar_id, NULL::VARCHAR AS webinar_topic, NULL::DOUBLE AS value,
                   sent_at + INTERVAL (o) MINUTE AS occurred_at
            FROM sends, (VALUES ('processed', 0, 0), ('delivered', 1, 0), ('open', 300, 2), ('click', 310, 5)) v(e, o, m)
            WHERE m = 0 OR (h >> 40) % m = 0
            UNION ALL
            SELECT md5(customer_id || k || t) , customer_id, NULL, 'zoom',
                   CASE WHEN t LIKE 'deal%' THEN 'sales' ELSE 'webinar' END, t, false, NULL, NULL, 'w' || (h % 40),
                   'data pipelines', CASE WHEN t LIKE 'deal%' THEN 1000 + h % 20000 ELSE 30 END,
                   TIMESTAMP '{AS_OF}' - INTERVAL ((h >> 12) % 300) DAY
            FROM base, (VALUES ('registered'), ('attended'), ('deal_created'), ('deal_won')) v(t)
            WHERE k = 0 AND (t IN ('registered', 'attended') OR (h >> 30) % 5 = 0)""")
        # plan decisions: 24 plan runs (every ~7.5 days over 6 months) x the customers each campaign considers
        con.execute(OUTPUT_DDL["contact_decisions"])
        con.execute(f"""
            INSERT INTO contact_decisions (plan_run_id, customer_id, campaign_id, channel, outcome, reason_code,
                                           due_at, scheduled_at, created_at)
            WITH runs AS (SELECT r, TIMESTAMP '{AS_OF}' - INTERVAL (r * 180 // 24) DAY AS run_at FROM range(24) x(r)),
            pairs AS (
                SELECT c.customer_id, {camps}[1 + (hash(c.customer_id) % {n_camp})::INTEGER] AS campaign_id,
                       (hash(c.customer_id || ':g') % 100) AS g, (hash(c.customer_id || ':c') % 100) AS cg
                FROM dim_customers c
            )
            SELECT 'run' || r, customer_id, campaign_id, 'email',
                   CASE WHEN g < 10 OR cg < 5 THEN 'held_out' WHEN (g + r) % 3 = 0 THEN 'planned' ELSE 'cooldown' END,
                   CASE WHEN g < 10 THEN 'global_holdout' WHEN cg < 5 THEN 'campaign_holdout' ELSE 'due' END,
                   run_at + INTERVAL 1 DAY, CASE WHEN g >= 10 AND cg >= 5 AND (g + r) % 3 = 0 THEN run_at + INTERVAL 1 DAY END,
                   run_at
            FROM runs, pairs""")
        con.execute(LEDGER_DDL)
        con.execute("""
            INSERT INTO send_ledger (send_id, customer_id, campaign_id, channel, status, created_at, scheduled_at,
                                     updated_at, sent_at)
            SELECT md5(customer_id || campaign_id || scheduled_at), customer_id, campaign_id, channel, 'sent',
                   scheduled_at, scheduled_at, scheduled_at, scheduled_at
            FROM contact_decisions WHERE outcome = 'planned'""")
        con.execute(HISTORY_DDL)
        counts = {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("dim_customers", "fct_touchpoints", "contact_decisions", "send_ledger")
        }
        print("inputs:", json.dumps(counts))
    finally:
        con.close()


def dbt(warehouse: Path, work: Path, select: str, dbt_vars: dict) -> tuple[float, int | None]:
    """(wall seconds, peak RSS in KB of the dbt process)."""
    env = {**os.environ, "TOUCHPLAN_WAREHOUSE": str(warehouse)}
    command = [
        "/usr/bin/time", "-v", str(Path(sys.executable).parent / "dbt"), "run", "--select", select,
        "--profiles-dir", str(DBT_PROJECT_DIR), "--project-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(work / "target"), "--log-path", str(work / "logs"), "--vars", json.dumps(dbt_vars),
    ]  # fmt: skip
    started = time.perf_counter()
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, cwd=DBT_PROJECT_DIR, check=False
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(result.stdout[-4000:] + result.stderr[-2000:])
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    for line in result.stdout.splitlines():
        if " OK created " in line:
            print("  " + line.split("] ", 1)[-1].strip())
    return wall, int(rss.group(1)) if rss else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    config = PROJECT_ROOT / "config"
    dbt_vars = {
        "as_of": AS_OF,
        **insight_vars(load_insight_settings(config)),
        **measurement_vars(load_measurement_config(config), campaign_objectives(config)),
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        warehouse = work / "warehouse.duckdb"
        started = time.perf_counter()
        build(warehouse, args.customers)
        print(f"inputs built in {time.perf_counter() - started:.1f}s")
        wall, _ = dbt(warehouse, work, "intermediate.insight marts.insight", dbt_vars)
        print(f"insight marts (not the measured part): {wall:.1f}s")
        wall, rss = dbt(warehouse, work, "intermediate.measurement marts.measurement", dbt_vars)
        print(
            f"measurement marts: {wall:.1f}s wall, peak RSS {rss / 1024 if rss else float('nan'):.0f} MB (dbt)"
        )
        started = time.perf_counter()
        con = duckdb.connect(str(warehouse))
        try:
            table = write_uplift(con)
            rows = con.execute("SELECT count(*) FROM campaign_outcomes").fetchone()[0]
        finally:
            con.close()
        rss_self = psutil.Process().memory_info().rss / 1024 / 1024
        print(
            f"campaign_uplift: {time.perf_counter() - started:.1f}s, {len(table)} rows from {rows} campaign_outcomes "
            f"rows; this process RSS {rss_self:.0f} MB"
        )


if __name__ == "__main__":
    main()
