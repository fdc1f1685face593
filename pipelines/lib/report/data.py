"""The report's figures: every number on the page is one row of one of these queries over the warehouse.

A figure is a table (columns and rows as DuckDB returns them) with an optional chart drawn from the same rows, so
the HTML page, the Dagster metadata and the page test all read the same values. A figure whose source table is
not in the warehouse carries `missing` (a sentence saying so) and no rows: nothing is made up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

# Campaign waterfall stages, in the order planning applies them (campaign_waterfall's columns).
WATERFALL_STAGES = (
    ("eligible", "Eligible"),
    ("after_consent", "Consent"),
    ("after_suppression", "Suppression"),
    ("after_holdout", "Holdout"),
    ("after_caps", "Caps"),
    ("after_arbitration", "Arbitration"),
    ("planned", "Planned"),
)
LIFECYCLE_ORDER = (
    "subscriber", "lead", "mql", "sql", "opportunity", "new", "active", "repeat", "lapsing", "lapsed",
    "reactivated", "advocate",
)  # fmt: skip
NOT_YET_KNOWN = "(not yet known)"
FLOW_DAYS = (
    90  # the lifecycle flow compares the latest snapshot with the last one at least this many days older
)
TOP_REASONS = 10
# An address inside a provider's bounce text is personal data: the reasons are shown with it replaced.
EMAIL_PATTERN = r"[^\s<>()\[\]@,;:]+@[^\s<>()\[\]@,;:]+"
# CRM health columns (crm_health), as the CRM health page labels them.
HEALTH_COLUMNS = (
    ("source_system", "Source system"),
    ("records", "Records"),
    ("customers", "Customers"),
    ("duplicate_records", "Duplicates"),
    ("emails_missing_or_invalid", "Invalid or missing emails"),
    ("consent_missing", "Missing consent"),
    ("conflicting_title", "Conflicting title"),
    ("conflicting_company", "Conflicting company"),
    ("conflicting_phone", "Conflicting phone"),
    ("stale_records", "Stale records"),
)


@dataclass
class Figure:
    key: str  # the element id on the page (data-figure) and the Dagster metadata key
    title: str
    columns: list[str]  # column names as in the query
    labels: list[str]  # column headers shown
    rows: list[tuple] = field(default_factory=list)
    source: str = ""  # the warehouse table(s) the rows come from
    missing: str | None = None  # why there are no rows: the source table is absent
    note: str | None = None

    def column(self, name: str) -> list:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]

    def dicts(self) -> list[dict]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    ).fetchall()
    return {r[0] for r in rows}


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def _missing(table: str, stage: str) -> str:
    return f"The table {table} is not in this warehouse ({stage} has not written it), so this part is empty."


def _query(
    con, key: str, title: str, sql: str, params: list, labels: list[str], source: str, note: str | None = None
) -> Figure:
    cur = con.execute(sql, params)
    columns = [d[0] for d in cur.description]
    return Figure(key, title, columns, labels, cur.fetchall(), source=source, note=note)


def latest_plan_run(con, present: set[str]) -> tuple[str, object] | None:
    """(plan_run_id, as_of) of the latest plan run (kind 'plan'), or None."""
    if "plan_runs" not in present:
        return None
    row = con.execute(
        "SELECT plan_run_id, as_of FROM plan_runs WHERE kind = 'plan' "
        "ORDER BY created_at DESC, plan_run_id DESC LIMIT 1"
    ).fetchone()
    return (row[0], row[1]) if row else None


# --- the contact plan ---------------------------------------------------------------------------------------


def plan_figures(con, present: set[str]) -> list[Figure]:
    run = latest_plan_run(con, present)
    waterfall_cols = ["campaign_id", *[c for c, _ in WATERFALL_STAGES]]
    waterfall = Figure(
        "waterfall",
        "Waterfall per campaign",
        waterfall_cols,
        ["Campaign", *[label for _, label in WATERFALL_STAGES]],
        source="campaign_waterfall",
    )
    schedule = Figure(
        "schedule",
        "Who gets what, on which day and channel (contacts planned)",
        ["day", "campaign_id", "channel", "contacts"],
        ["Day (UTC)", "Campaign", "Channel", "Contacts"],
        source="contact_plan",
    )
    reasons = Figure(
        "not_contacted",
        f"Top {TOP_REASONS} reasons people were not contacted",
        ["outcome", "reason", "decisions", "customers"],
        ["Outcome", "Reason", "Decisions (customer x campaign)", "Customers"],
        source="contact_decisions",
    )
    if run is None:
        for fig in (waterfall, schedule, reasons):
            fig.missing = _missing("plan_runs", "planning") if "plan_runs" not in present else None
            fig.missing = fig.missing or "No plan run is recorded in plan_runs yet, so this part is empty."
        return [waterfall, schedule, reasons]
    plan_run_id = run[0]
    figs = []
    if "campaign_waterfall" in present:
        # the campaigns in config order: the engine writes them in that order (rowid)
        waterfall = _query(
            con, waterfall.key, waterfall.title,
            f"SELECT {', '.join(waterfall_cols)} FROM campaign_waterfall WHERE plan_run_id = ? ORDER BY rowid",
            [plan_run_id], waterfall.labels, waterfall.source,
        )  # fmt: skip
    else:
        waterfall.missing = _missing("campaign_waterfall", "planning")
    figs.append(waterfall)
    if "contact_plan" in present:
        schedule = _query(
            con, schedule.key, schedule.title,
            """SELECT CAST(scheduled_at AS DATE) AS day, campaign_id, channel, count(*) AS contacts
               FROM contact_plan WHERE plan_run_id = ? GROUP BY ALL ORDER BY day, campaign_id, channel""",
            [plan_run_id], schedule.labels, schedule.source,
            note="Counts of planned contacts; the people themselves are in the warehouse table contact_plan.",
        )  # fmt: skip
    else:
        schedule.missing = _missing("contact_plan", "planning")
    figs.append(schedule)
    if "contact_decisions" in present:
        reasons = _query(
            con, reasons.key, reasons.title,
            f"""SELECT outcome, regexp_replace(coalesce(reason_code, outcome), '{EMAIL_PATTERN}', '<email>', 'g')
                       AS reason, count(*) AS decisions, count(DISTINCT customer_id) AS customers
                FROM contact_decisions WHERE plan_run_id = ? AND outcome <> 'planned'
                GROUP BY ALL ORDER BY decisions DESC, outcome, reason LIMIT {TOP_REASONS}""",
            [plan_run_id], reasons.labels, reasons.source,
            note="One decision per customer and campaign; a customer can be turned down by several campaigns.",
        )  # fmt: skip
    else:
        reasons.missing = _missing("contact_decisions", "planning")
    figs.append(reasons)
    return figs


# --- the customer base --------------------------------------------------------------------------------------


def base_figures(con, present: set[str]) -> list[Figure]:
    figs = []
    grid = Figure(
        "rfv_grid",
        "RFV grid: customers per recency (R) and frequency (F) score",
        ["r_score", "f_score", "customers"],
        ["R score", "F score", "Customers"],
        source="customer_rfv",
    )
    segments = Figure(
        "rfv_segments",
        "RFV segments",
        ["rfv_segment", "customers"],
        ["Segment", "Customers"],
        source="customer_rfv",
    )
    if "customer_rfv" in present:
        grid = _query(
            con, grid.key, grid.title,
            "SELECT r_score, f_score, count(*) AS customers FROM customer_rfv "
            "WHERE r_score IS NOT NULL AND f_score IS NOT NULL GROUP BY ALL ORDER BY r_score DESC, f_score",
            [], grid.labels, grid.source,
        )  # fmt: skip
        segments = _query(
            con, segments.key, segments.title,
            "SELECT coalesce(rfv_segment, '(none)') AS rfv_segment, count(*) AS customers FROM customer_rfv "
            "GROUP BY ALL ORDER BY customers DESC, rfv_segment",
            [], segments.labels, segments.source,
        )  # fmt: skip
    else:
        grid.missing = segments.missing = _missing("customer_rfv", "insight")
    figs += [grid, segments]

    personas = Figure(
        "personas", "Personas", ["persona", "customers"], ["Persona", "Customers"], source="customer_personas"
    )
    if "customer_personas" in present:
        personas = _query(
            con, personas.key, personas.title,
            "SELECT coalesce(persona, '(none)') AS persona, count(DISTINCT customer_id) AS customers "
            "FROM customer_personas GROUP BY ALL ORDER BY customers DESC, persona",
            [], personas.labels, personas.source,
        )  # fmt: skip
    else:
        personas.missing = _missing("customer_personas", "insight")
    figs.append(personas)

    order = ", ".join(f"'{s}'" for s in LIFECYCLE_ORDER)
    stages = Figure(
        "lifecycle_stages",
        "Lifecycle stages",
        ["lifecycle_stage", "customers"],
        ["Stage", "Customers"],
        source="customer_lifecycle",
    )
    if "customer_lifecycle" in present:
        stages = _query(
            con, stages.key, stages.title,
            f"SELECT lifecycle_stage, count(*) AS customers FROM customer_lifecycle GROUP BY lifecycle_stage "
            f"ORDER BY coalesce(list_position([{order}], lifecycle_stage), 99), lifecycle_stage",
            [], stages.labels, stages.source,
        )  # fmt: skip
    else:
        stages.missing = _missing("customer_lifecycle", "insight")
    figs.append(stages)
    figs.append(lifecycle_flow(con, present))
    return figs


def lifecycle_flow(con, present: set[str]) -> Figure:
    """Each customer's stage on the latest snapshot day against the stage on the last snapshot day at least
    FLOW_DAYS earlier (the latest snapshot at or before it; NOT_YET_KNOWN for customers without one)."""
    fig = Figure(
        "lifecycle_flow",
        "Lifecycle flow between two dates",
        ["from_date", "to_date", "from_stage", "to_stage", "customers"],
        ["From date", "To date", "Stage then", "Stage now", "Customers"],
        source="customer_lifecycle_history",
    )
    if "customer_lifecycle_history" not in present:
        fig.missing = _missing("customer_lifecycle_history", "insight")
        return fig
    result = _query(
        con, fig.key, fig.title,
        f"""
        WITH days AS (SELECT max(snapshot_date) AS to_date FROM customer_lifecycle_history),
        d AS (SELECT to_date, coalesce(
                (SELECT max(snapshot_date) FROM customer_lifecycle_history
                 WHERE snapshot_date <= to_date - INTERVAL {FLOW_DAYS} DAY),
                (SELECT min(snapshot_date) FROM customer_lifecycle_history)) AS from_date FROM days),
        now_stage AS (
            SELECT h.customer_id, h.lifecycle_stage FROM customer_lifecycle_history h, d
            WHERE h.snapshot_date <= d.to_date
            QUALIFY row_number() OVER (PARTITION BY h.customer_id ORDER BY h.snapshot_date DESC) = 1),
        then_stage AS (
            SELECT h.customer_id, h.lifecycle_stage FROM customer_lifecycle_history h, d
            WHERE h.snapshot_date <= d.from_date
            QUALIFY row_number() OVER (PARTITION BY h.customer_id ORDER BY h.snapshot_date DESC) = 1)
        SELECT d.from_date, d.to_date, coalesce(t.lifecycle_stage, '{NOT_YET_KNOWN}') AS from_stage,
               n.lifecycle_stage AS to_stage, count(*) AS customers
        FROM now_stage n LEFT JOIN then_stage t USING (customer_id), d
        WHERE d.to_date IS NOT NULL
        GROUP BY ALL ORDER BY customers DESC, from_stage, to_stage
        """,
        [], fig.labels, fig.source,
        note=f"Stage on the latest snapshot day against the last snapshot day at least {FLOW_DAYS} days earlier "
        "(customer_lifecycle_history: month-ends and the as-of day of each run).",
    )  # fmt: skip
    return result


# --- outcomes -----------------------------------------------------------------------------------------------

UPLIFT_COLUMNS = (
    ("level", "Level"),
    ("key", "Campaign / objective"),
    ("treated_n", "Treated"),
    ("control_n", "Control"),
    ("treated_rate", "Treated rate"),
    ("control_rate", "Control rate"),
    ("abs_uplift", "Uplift (rate difference)"),
    ("ci_low", "95% CI low"),
    ("ci_high", "95% CI high"),
    ("rel_uplift", "Relative uplift"),
    ("p_value", "p-value"),
    ("mde", "Min. detectable effect"),
    ("underpowered", "Underpowered"),
    ("warning", "Warning"),
)
OUTCOME_COLUMNS = (
    ("campaign_id", "Campaign"),
    ("objective", "Objective"),
    ("period", "Period"),
    ("eligible", "Eligible"),
    ("held_out_global", "Held out (global)"),
    ("held_out_campaign", "Held out (campaign)"),
    ("planned", "Planned"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("opened", "Opened"),
    ("clicked", "Clicked"),
    ("unsubscribed", "Unsubscribed"),
    ("bounced", "Bounced"),
    ("complained", "Complained"),
    ("treated_n", "Treated"),
    ("treated_conversions", "Treated conversions"),
    ("control_n", "Control"),
    ("control_conversions", "Control conversions"),
)
KPI_COLUMNS = (
    ("objective", "Objective"),
    ("kpi", "KPI"),
    ("period", "Month"),
    ("value", "Value"),
    ("previous_value", "Previous month"),
    ("change", "Change"),
    ("change_pct", "Change %"),
)
TOUCH_COLUMNS = (
    ("stage", "Milestone"),
    ("counted_from", "Counted from"),
    ("n", "Customers"),
    ("p25", "25th pct"),
    ("median", "Median"),
    ("p75", "75th pct"),
    ("mean", "Mean"),
    ("min_touches", "Min"),
    ("max_touches", "Max"),
    ("reference_low", "Reference low"),
    ("reference_high", "Reference high"),
    ("median_vs_reference", "Median vs reference"),
)


def _columns_query(
    con, present, key: str, title: str, table: str, spec, where: str, order: str, stage: str, note=None
) -> Figure:
    """The spec's columns that the table has (in spec order), filtered and ordered; `missing` without it."""
    fig = Figure(key, title, [c for c, _ in spec], [label for _, label in spec], source=table, note=note)
    if table not in present:
        fig.missing = _missing(table, stage)
        return fig
    have = set(table_columns(con, table))
    cols = [c for c, _ in spec if c in have]
    labels = [label for c, label in spec if c in have]
    sql = (
        f'SELECT {", ".join(f"{chr(34)}{c}{chr(34)}" for c in cols)} FROM "{table}" {where} ORDER BY {order}'
    )
    return _query(con, key, title, sql, [], labels, table, note)


def outcome_figures(con, present: set[str]) -> list[Figure]:
    stage = "measurement"
    uplift = _columns_query(
        con, present, "uplift", "Uplift against the holdout (conversion rate, treated minus control)",
        "campaign_uplift", UPLIFT_COLUMNS, "",
        "list_position(['programme', 'objective', 'campaign'], level), key", stage,
        note="Programme: everyone sent against the global holdout; objective and campaign: the sent against "
        "that campaign's held-out customers. Rates are conversions per customer within the attribution window.",
    )  # fmt: skip
    outcomes = _columns_query(
        con, present, "campaign_outcomes", "Outcomes per campaign and month", "campaign_outcomes",
        OUTCOME_COLUMNS, "", "campaign_id, period", stage,
    )  # fmt: skip
    latest = _columns_query(
        con, present, "objective_kpis", "KPIs per objective (latest complete month)", "objective_kpis",
        KPI_COLUMNS,
        "WHERE period = (SELECT max(period) FROM objective_kpis WHERE NOT coalesce(is_partial_period, false))",
        "objective, kpi", stage,
    )  # fmt: skip
    trend = _columns_query(
        con, present, "kpi_trend", "KPIs per objective, month by month", "objective_kpis",
        KPI_COLUMNS[:4], "", "objective, kpi, period", stage,
        note="The current month is partial (not over yet).",
    )  # fmt: skip
    touches = _columns_query(
        con, present, "touches_to_conversion", "Touches to conversion", "touches_to_conversion",
        TOUCH_COLUMNS, "", "stage_order", stage,
        note="Marketing touches before each milestone across all channels; the seed's B2B references are 7 to 13 "
        "touches to a lead and another 25 to 35 to close (won counts from the lead).",
    )  # fmt: skip
    return [uplift, outcomes, latest, trend, touches]


# --- data quality -------------------------------------------------------------------------------------------


def quality_figures(con, present: set[str]) -> list[Figure]:
    summary = Figure(
        "quality_summary",
        "Data quality checks of the latest run",
        ["tables", "checks", "passed", "warned", "failed"],
        ["Tables", "Checks", "Passed", "Warned (WARN failed)", "Failed (ERROR failed)"],
        source="quality_check_results",
    )
    failed = Figure(
        "quality_failed",
        "Checks that failed or warned",
        ["check_name", "table_name", "severity", "failing_count", "observed_value"],
        ["Check", "Table", "Severity", "Failing rows (sources for profile checks)", "Observed"],
        source="quality_check_results",
    )
    if "quality_check_results" in present:
        summary = _query(
            con, summary.key, summary.title,
            """SELECT count(DISTINCT table_name) AS tables, count(*) AS checks,
                      count(*) FILTER (WHERE success) AS passed,
                      count(*) FILTER (WHERE NOT success AND severity = 'warn') AS warned,
                      count(*) FILTER (WHERE NOT success AND severity = 'error') AS failed
               FROM quality_check_results""",
            [], summary.labels, summary.source,
        )  # fmt: skip
        failed = _query(
            con, failed.key, failed.title,
            """SELECT check_name, table_name, severity, failing_count, observed_value FROM quality_check_results
               WHERE NOT success ORDER BY severity = 'error' DESC, failing_count DESC NULLS LAST, check_name""",
            [], failed.labels, failed.source,
            note="Failing keys per check: the warehouse table quality_failures.",
        )  # fmt: skip
    else:
        summary.missing = failed.missing = _missing("quality_check_results", "the quality checks")
    health = Figure(
        "crm_health",
        "CRM health per source system",
        [c for c, _ in HEALTH_COLUMNS],
        [label for _, label in HEALTH_COLUMNS],
        source="crm_health",
    )
    if "crm_health" in present:
        have = set(table_columns(con, "crm_health"))
        cols = [c for c, _ in HEALTH_COLUMNS if c in have]
        health = _query(
            con, health.key, health.title,
            f"SELECT {', '.join(cols)} FROM crm_health ORDER BY source_system",
            [], [label for c, label in HEALTH_COLUMNS if c in have], health.source,
        )  # fmt: skip
    else:
        health.missing = _missing("crm_health", "dbt")
    return [summary, failed, health]
