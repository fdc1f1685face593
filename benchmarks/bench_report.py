"""Report benchmark: the marketer's report on a synthetic warehouse of N customers.

    .venv/bin/python -m benchmarks.bench_report --customers 100000

The warehouse has the tables the report reads, shaped like the pipeline's: the latest plan run's decisions for
every customer and campaign, its plan, RFV / personas / lifecycle per customer, 13 lifecycle snapshots per
customer, and the (small) measurement and quality tables. Reports the time to build them (not counted), the time
to write the report (queries, charts, HTML), the file's size and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb
import psutil

STAGES = ["subscriber", "lead", "mql", "sql", "opportunity", "new", "active", "repeat", "lapsing", "lapsed"]
CAMPAIGNS = 8


def build(con: duckdb.DuckDBPyConnection, customers: int) -> None:
    stages = "[" + ", ".join(f"'{s}'" for s in STAGES) + "]"
    con.execute(f"""
        CREATE TABLE plan_runs AS SELECT 'run-1' AS plan_run_id, now()::TIMESTAMP AS created_at,
            now()::TIMESTAMP AS as_of, 'plan' AS kind;
        CREATE TABLE contact_decisions AS
        SELECT 'run-1' AS plan_run_id, 'cus_' || i AS customer_id, 'campaign_' || c AS campaign_id,
               'email' AS channel,
               ['planned', 'no_consent', 'suppressed', 'held_out', 'capped', 'lost_priority'][(1 + hash(i, c) % 6)::BIGINT]
                   AS outcome,
               ['due', 'consent_unknown', 'suppressed_hard bounce: 550 5.1.1 user' || (i % 50) || '@example.com',
                'global_holdout', 'cap_weekly', 'look_ahead'][(1 + hash(i, c) % 6)::BIGINT] AS reason_code
        FROM range({customers}) r(i), range({CAMPAIGNS}) k(c);
        CREATE TABLE contact_plan AS
        SELECT plan_run_id, customer_id, campaign_id, channel,
               TIMESTAMP '2026-12-07 09:00' + (hash(customer_id) % 14) * INTERVAL 1 DAY AS scheduled_at
        FROM contact_decisions WHERE outcome = 'planned';
        CREATE TABLE campaign_waterfall AS
        SELECT 'run-1' AS plan_run_id, campaign_id, count(*) AS eligible,
               count(*) FILTER (WHERE outcome <> 'no_consent') AS after_consent,
               count(*) FILTER (WHERE outcome NOT IN ('no_consent', 'suppressed')) AS after_suppression,
               count(*) FILTER (WHERE outcome NOT IN ('no_consent', 'suppressed', 'held_out')) AS after_holdout,
               count(*) FILTER (WHERE outcome IN ('planned', 'lost_priority')) AS after_caps,
               count(*) FILTER (WHERE outcome = 'planned') AS after_arbitration,
               count(*) FILTER (WHERE outcome = 'planned') AS planned
        FROM contact_decisions GROUP BY campaign_id ORDER BY campaign_id;
        CREATE TABLE customer_rfv AS
        SELECT 'cus_' || i AS customer_id, 1 + hash(i, 'r') % 5 AS r_score, 1 + hash(i, 'f') % 5 AS f_score,
               ['champions', 'loyal', 'at_risk', 'lost', 'promising'][(1 + hash(i) % 5)::BIGINT] AS rfv_segment
        FROM range({customers}) r(i);
        CREATE TABLE customer_personas AS
        SELECT 'cus_' || i AS customer_id, 'persona_' || (hash(i, 'p') % 7) AS persona FROM range({customers}) r(i);
        CREATE TABLE customer_lifecycle AS
        SELECT 'cus_' || i AS customer_id, {stages}[(1 + hash(i, 'now') % 10)::BIGINT] AS lifecycle_stage
        FROM range({customers}) r(i);
        CREATE TABLE customer_lifecycle_history AS
        SELECT 'cus_' || i AS customer_id, (DATE '2026-12-07' - m * INTERVAL 1 MONTH)::DATE AS snapshot_date,
               {stages}[(1 + hash(i, m) % 10)::BIGINT] AS lifecycle_stage
        FROM range({customers}) r(i), range(13) s(m);
        CREATE TABLE crm_health AS
        SELECT s AS source_system, {customers} AS records, {customers} AS customers, 10 AS duplicate_records,
               5 AS emails_missing_or_invalid, 3 AS consent_missing, 1 AS conflicting_title,
               0 AS conflicting_company, 0 AS conflicting_phone, 7 AS stale_records
        FROM (VALUES ('salesforce'), ('hubspot'), ('sendgrid')) v(s);
        CREATE TABLE quality_check_results AS
        SELECT 'raw_crm_contacts.check_' || i AS check_name, 'raw_crm_contacts' AS table_name,
               CASE WHEN i % 2 = 0 THEN 'error' ELSE 'warn' END AS severity, i % 10 <> 0 AS success,
               i AS failing_count, NULL::VARCHAR AS observed_value FROM range(120) r(i);
        CREATE TABLE campaign_uplift AS
        SELECT 'campaign' AS level, 'campaign_' || c AS key, 5000 AS treated_n, 500 AS control_n,
               0.1 + c / 100 AS treated_rate, 0.1 AS control_rate, c / 100 AS abs_uplift, c / 10 AS rel_uplift,
               c / 100 - 0.03 AS ci_low, c / 100 + 0.03 AS ci_high, 0.04 AS p_value, 0.03 AS mde,
               false AS underpowered, NULL::VARCHAR AS warning
        FROM range({CAMPAIGNS}) k(c);
        CREATE TABLE objective_kpis AS
        SELECT o AS objective, o || '_kpi' AS kpi, strftime(DATE '2026-12-01' - m * INTERVAL 1 MONTH, '%Y-%m')
                   AS period, m = 0 AS is_partial_period, 100.0 + m AS value, 99.0 + m AS previous_value,
               1.0 AS change, 0.01 AS change_pct
        FROM (VALUES ('acquisition'), ('retention'), ('reactivation')) v(o), range(12) s(m);
        CREATE TABLE touches_to_conversion AS
        SELECT s AS stage, n AS stage_order, 'first touch' AS counted_from, 1000 AS n, 4.0 AS p25, 8.0 AS median,
               12.0 AS p75, 8.5 AS mean, 1 AS min_touches, 40 AS max_touches, 7 AS reference_low,
               13 AS reference_high, 'within' AS median_vs_reference
        FROM (VALUES ('lead', 1), ('mql', 2), ('sales_ready', 3), ('won', 4)) v(s, n);
    """)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    process = psutil.Process()
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Path(tmp) / "warehouse.duckdb"
        started = time.perf_counter()
        with duckdb.connect(str(warehouse)) as con:
            build(con, args.customers)
            decisions = con.execute("SELECT count(*) FROM contact_decisions").fetchone()[0]
            history = con.execute("SELECT count(*) FROM customer_lifecycle_history").fetchone()[0]
        built = time.perf_counter() - started
        rss_before = process.memory_info().rss
        started = time.perf_counter()
        from pipelines.lib.report.render import write_report  # imports matplotlib

        imported = time.perf_counter() - started
        started = time.perf_counter()
        cpu = process.cpu_times()
        with duckdb.connect(str(warehouse), read_only=True) as con:
            result = write_report(con, Path(tmp) / "reports")
        wall = time.perf_counter() - started
        cpu_after = process.cpu_times()
        peak = getattr(process.memory_info(), "peak_wset", None) or _peak_rss()
        print(
            f"customers {args.customers:,}: warehouse built in {built:.1f}s ({decisions:,} decisions, "
            f"{history:,} lifecycle snapshots)\n"
            f"report: {wall:.2f}s wall (plus {imported:.1f}s to import matplotlib and the report code), "
            f"{(cpu_after.user + cpu_after.system) - (cpu.user + cpu.system):.2f}s CPU, "
            f"{result.bytes / 1024:.0f} KiB, {len(result.report.charts)} charts\n"
            f"peak RSS {peak / 2**20:.0f} MiB (before the report: {rss_before / 2**20:.0f} MiB)"
        )


def _peak_rss() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux


if __name__ == "__main__":
    main()
