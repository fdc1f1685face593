"""Planning benchmark: synthetic customer model and history, N customers x M campaigns, three caps.

    .venv/bin/python -m benchmarks.bench_planning --customers 1000000 --campaigns 20

Reports candidate pairs per second for the whole planning run (candidates, eligibility, arbitration in priority
order, outputs), its wall and CPU time, the ratio against a plain DuckDB group-by over the same pairs, and peak RSS.
`--profile` prints the wall and CPU time per SQL statement (CPU: the process, all DuckDB threads). It also times
writing a copy of the run's contact_decisions rows: the floor of any engine that must store them.
"""

from __future__ import annotations

import argparse
import collections
import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import psutil

from pipelines.lib.planning.config import CampaignsConfig, ContactRulesConfig, Strategy
from pipelines.lib.planning.engine import run_plan

ZONES = [
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Australia/Sydney",
]
AS_OF = datetime(2026, 3, 26, 6, 0, tzinfo=UTC)


def build(con: duckdb.DuckDBPyConnection, customers: int) -> None:
    zones = "[" + ", ".join(f"'{z}'" for z in ZONES) + "]"
    con.execute(f"""
        CREATE TABLE dim_customers AS
        SELECT 'c' || i AS customer_id, NULL::VARCHAR AS email, {zones}[1 + i % {len(ZONES)}] AS time_zone,
               'GB' AS country_code, i % 3 = 0 AS is_customer
        FROM range({customers}) r(i)
    """)
    con.execute("""
        CREATE TABLE customer_consent AS
        SELECT customer_id, ch AS channel, 'marketing' AS subscription_group,
               CASE WHEN hash(customer_id) % 20 = 0 THEN 'unsubscribed' ELSE 'subscribed' END AS consent_state,
               NULL::VARCHAR AS reason, NULL::TIMESTAMP AS asserted_at
        FROM dim_customers, (VALUES ('email'), ('phone')) v(ch)
    """)
    con.execute("""
        CREATE TABLE customer_lifecycle AS
        SELECT customer_id, ['lead', 'customer', 'lapsed'][CAST(1 + hash(customer_id) % 3 AS BIGINT)] AS lifecycle_stage,
               NULL::TIMESTAMP AS stage_entered_at, (hash(customer_id) % 400)::INTEGER AS tenure_days
        FROM dim_customers
    """)
    con.execute("""
        CREATE TABLE lead_scores AS
        SELECT customer_id, (hash(customer_id) % 100)::DOUBLE AS lead_score, hash(customer_id) % 100 >= 60 AS is_mql,
               false AS is_sales_ready FROM dim_customers
    """)
    con.execute(
        "CREATE TABLE customer_personas AS SELECT customer_id, 'p' || (hash(customer_id) % 4) AS persona FROM dim_customers"
    )
    con.execute(
        "CREATE TABLE customer_rfv AS SELECT customer_id, (hash(customer_id) % 365)::INTEGER AS recency_days FROM dim_customers"
    )
    con.execute("""
        CREATE TABLE customer_moments AS
        SELECT customer_id, 'first_webinar_attended' AS moment, TIMESTAMP '2026-03-25 15:00' AS occurred_at
        FROM dim_customers WHERE hash(customer_id) % 10 = 0
    """)
    # about two marketing touches per customer in the last two weeks
    con.execute(f"""
        CREATE TABLE fct_touchpoints AS
        SELECT 't' || i || '-' || k AS touchpoint_id, 'c' || i AS customer_id, 'email' AS channel,
               'delivered' AS touchpoint_type, true AS is_marketing_contact, 'hist' || k AS campaign_id,
               NULL::VARCHAR AS message_id, TIMESTAMP '2026-03-26 06:00' - INTERVAL 1 MINUTE * ((hash(i * 7 + k) % 20160)) AS occurred_at
        FROM range({customers}) r(i), range(2) k(k)
    """)


def strategy(campaigns: int) -> Strategy:
    days = [["mon", "tue", "wed", "thu", "fri"], ["tue", "thu"], ["wed"], ["mon", "fri"]]
    camps = []
    for j in range(campaigns):
        trig = (
            {"moment": {"moment": "first_webinar_attended", "within_days": 3, "time": "10:00"}}
            if j % 10 == 9
            else {"schedule": {"days": days[j % 4], "time": f"{8 + j % 10:02d}:00"}}
        )
        camps.append({
            "id": f"c{j:02d}", "objective": "conversion", "kpi": "k", "audience": "customer_id is not null",
            "trigger": trig, "channel": "sales_task" if j == 0 else "email", "priority": 100 - j * 3 - (j % 2),
            "template_id": f"t{j}", "transactional": j == 1,
        })  # fmt: skip
    rules = {
        "default_time_zone": "Europe/London",
        "caps": [
            {"id": "email_7d", "channels": ["email"], "max": 3, "window": {"rolling_days": 7}},
            {"id": "email_day", "channels": ["email"], "max": 1, "window": {"calendar": "day"}},
            {"id": "all_week", "max": 4, "window": {"calendar": "week"}},
        ],
        "min_gap": {"hours": 48},
        "quiet_hours": {
            "start": "20:00",
            "end": "08:00",
            "allowed_days": ["mon", "tue", "wed", "thu", "fri"],
        },
        "capacity": [{"id": "reps", "channel": "sales_task", "per_day": 500}],
        "holdout": {"salt": "bench", "share": 0.1},
        "consent": {"sales_task": {"consent_channel": "phone", "allowed_states": ["subscribed", "unknown"]}},
    }
    return Strategy(
        campaigns=CampaignsConfig.model_validate({"campaigns": camps}),
        rules=ContactRulesConfig.model_validate(rules),
        campaigns_path=Path("bench/campaigns.yaml"),
        rules_path=Path("bench/contact_rules.yaml"),
    )


class TimedConnection:
    """Wraps a DuckDB connection and adds up the wall and CPU time of each SQL statement (by its first words)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self.stats: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0, 0.0])

    def execute(self, sql: str, *args, **kwargs):
        t0, c0 = time.perf_counter(), time.process_time()
        result = self._con.execute(sql, *args, **kwargs)
        entry = self.stats[re.sub(r"\s+", " ", sql.strip())[:80]]
        entry[0] += 1
        entry[1] += time.perf_counter() - t0
        entry[2] += time.process_time() - c0
        return result

    def __getattr__(self, name: str):
        return getattr(self._con, name)

    def report(self, top: int = 15) -> str:
        rows = sorted(self.stats.items(), key=lambda kv: -kv[1][2])[:top]
        return "\n".join(f"{secs:8.2f}s wall {cpu:8.2f}s CPU {n:4d}x  {sql}" for sql, (n, secs, cpu) in rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--campaigns", type=int, default=20)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--memory-limit", default=None, help="DuckDB memory_limit, e.g. 3GB (spills beyond it)"
    )
    parser.add_argument("--profile", action="store_true", help="print the time spent per SQL statement")
    args = parser.parse_args()
    proc = psutil.Process()
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "bench.duckdb"))
        if args.threads:
            con.execute(f"SET threads = {args.threads}")
        if args.memory_limit:
            con.execute("SET memory_limit = ?", [args.memory_limit])
        t0 = time.perf_counter()
        build(con, args.customers)
        t_build = time.perf_counter() - t0
        strat = strategy(args.campaigns)
        t0, c0 = time.perf_counter(), time.process_time()
        planner = TimedConnection(con) if args.profile else con
        result = run_plan(planner, strat, AS_OF, created_at=AS_OF)
        t_plan, c_plan = time.perf_counter() - t0, time.process_time() - c0
        pairs = args.customers * args.campaigns
        t0 = time.perf_counter()
        con.execute(f"""
            SELECT k, count(*), count(DISTINCT c.customer_id) FROM dim_customers c, range({args.campaigns}) r(k)
            GROUP BY k
        """).fetchall()
        t_group = time.perf_counter() - t0
        # The floor of any engine with this output: writing this run's contact_decisions rows (already computed,
        # one per candidate pair, with their reason, rule and evidence) to a new table, and nothing else.
        t0 = time.perf_counter()
        con.execute(
            "CREATE TABLE _bench_decisions_copy AS SELECT * FROM contact_decisions WHERE plan_run_id = ?",
            [result.plan_run_id],
        )
        t_write = time.perf_counter() - t0
        n_decisions = con.execute("SELECT count(*) FROM _bench_decisions_copy").fetchall()[0][0]
        con.execute("DROP TABLE _bench_decisions_copy")
        rss = max(proc.memory_info().rss, getattr(proc.memory_info(), "peak_wset", 0))
        try:
            import resource

            rss = max(rss, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
        except ImportError:
            pass
        print(f"customers={args.customers} campaigns={args.campaigns} pairs={pairs}")
        print(f"candidates (audience + trigger matched)={result.candidates} planned={result.planned}")
        print(f"outcomes={result.outcome_counts}")
        print(f"build synthetic data: {t_build:.1f}s")
        print(f"plan: {t_plan:.1f}s wall, {c_plan:.1f}s CPU -> {pairs / t_plan / 1e6:.3f}M pairs/s")
        print(f"plain group-by over the same pairs: {t_group:.2f}s -> {pairs / t_group / 1e6:.1f}M pairs/s")
        print(f"plan / group-by time ratio: {t_plan / t_group:.1f}x")
        print(
            f"writing the {n_decisions} contact_decisions rows alone (a copy): {t_write:.2f}s -> at most "
            f"{pairs / t_write / 1e6:.1f}M pairs/s for any engine that stores them"
        )
        print(f"peak RSS: {rss / 2**30:.2f} GiB")
        if args.profile:
            print("time per statement (top 15 by CPU):")
            print(planner.report())
        con.close()


if __name__ == "__main__":
    main()
