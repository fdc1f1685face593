"""The marketer's report: one self-contained HTML file (`<output>/reports/touchplan_report.html`).

Sections: the contact plan, the customer base, outcomes, data quality. Every value is a row of a warehouse query
(pipelines/lib/report/data.py), HTML-escaped by Jinja2's autoescape; charts are matplotlib SVG inlined once
(charts.py). The page has no script and no external reference: it opens offline.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
import jinja2

from pipelines.lib.report import data
from pipelines.lib.report.charts import CHARTS
from pipelines.lib.run_summary import REPORT_NAME  # one name for the writer and the run summary

SECTIONS = (
    ("plan", "The contact plan", data.plan_figures,
     "The latest plan run: how each campaign's audience narrows from eligible to planned, when and on which "
     "channel the planned contacts go out, and why the others were not contacted."),
    ("base", "The customer base", data.base_figures,
     "Segments (RFV), personas and lifecycle stages of every customer, and how customers moved between stages."),
    ("outcomes", "Outcomes", data.outcome_figures,
     "Conversion of the contacted against the holdout, KPIs per objective and touches before each milestone."),
    ("quality", "Data quality", data.quality_figures,
     "The checks of the latest run that failed or warned, and the CRM health per source system. This section is "
     "the offline view of the checks: the Great Expectations Data Docs load their styles and scripts from CDNs and "
     "need a network."),
)  # fmt: skip


@dataclass
class Section:
    key: str
    title: str
    intro: str
    figures: list[data.Figure]


@dataclass
class Report:
    sections: list[Section]
    generated_at: dt.datetime
    plan_run: tuple[str, object] | None
    charts: dict[str, str] = field(default_factory=dict)  # figure key -> inline SVG

    def figures(self) -> list[data.Figure]:
        return [f for s in self.sections for f in s.figures]


@dataclass
class ReportResult:
    path: Path
    report: Report
    bytes: int
    seconds: float


def fmt(value) -> str:
    """A cell as shown: thousands separators, 2 decimals from 1 to 1,000, 3 significant digits below 1."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return "–"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.3g}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def raw(value) -> str:
    """The exact value for the page's data-value attribute (what the page test compares with DuckDB)."""
    if value is None:
        return ""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, float | Decimal):
        return repr(float(value))
    return str(value)


def collect(con: duckdb.DuckDBPyConnection) -> Report:
    present = data.existing_tables(con)
    sections = [Section(key, title, intro, fn(con, present)) for key, title, fn, intro in SECTIONS]
    report = Report(
        sections=sections,
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        plan_run=data.latest_plan_run(con, present),
    )
    for fig in report.figures():
        chart = CHARTS.get(fig.key)
        svg = chart(fig) if chart and fig.rows else None
        if svg:
            report.charts[fig.key] = svg
    return report


TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Touchplan report</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0 auto; padding: 1.5rem 2rem; max-width: 1200px; color: #1f2328; }
nav a { margin-right: 1rem; }
section { margin: 2rem 0 3rem; }
h2 { border-bottom: 2px solid #d0d7de; padding-bottom: .3rem; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #d0d7de; padding: .3rem .6rem; text-align: right; vertical-align: top; }
th { background: #f6f8fa; }
td.text, th.text { text-align: left; }
.figure { margin: 1.2rem 0 2rem; }
.scroll { overflow-x: auto; max-width: 100%; }
td[data-column="warning"], td[data-column="observed_value"], td[data-column="reason"] { min-width: 22rem; }
.chart svg { max-width: 100%; height: auto; }
.missing { color: #b42318; background: #fef3f2; padding: .5rem .8rem; border-left: 3px solid #b42318; }
p.note, p.source { color: #667085; font-size: .85rem; max-width: 60rem; }
details summary { cursor: pointer; color: #2f6db5; }
</style></head>
<body>
<h1>Touchplan report</h1>
<p>Generated {{ generated_at }} UTC{% if plan_run %} from plan run <code>{{ plan_run[0] }}</code>
(as of {{ plan_run[1] }} UTC){% endif %}. Every number below is read from the warehouse table named under it.</p>
<nav>{% for s in sections %}<a href="#{{ s.key }}">{{ s.title }}</a>{% endfor %}</nav>
{% for s in sections %}
<section id="{{ s.key }}" data-section="{{ s.key }}">
<h2>{{ s.title }}</h2>
<p>{{ s.intro }}</p>
{% for f in s.figures %}
<div class="figure" id="fig-{{ f.key }}" data-figure="{{ f.key }}">
<h3>{{ f.title }}</h3>
{% if f.missing %}
<p class="missing" data-missing="{{ f.source }}">{{ f.missing }}</p>
{% else %}
{% if charts.get(f.key) %}<div class="chart" data-chart="{{ f.key }}">{{ charts[f.key] | safe }}</div>
{% elif f.key in chart_keys and f.rows %}<p class="note" data-no-chart="{{ f.key }}">No chart: no row has a value to draw (see the table).</p>{% endif %}
{% if not f.rows %}<p class="note" data-empty="{{ f.key }}">No rows in {{ f.source }}.</p>{% else %}
{% set many = f.rows | length > 12 %}
{% if many and charts.get(f.key) %}<details><summary>The {{ f.rows | length }} rows of this chart</summary>{% endif %}
<div class="scroll"><table data-table="{{ f.key }}">
<thead><tr>{% for label in f.labels %}<th class="{{ 'text' if loop.first else '' }}">{{ label }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in f.rows %}<tr>{% for v in row %}<td class="{{ 'num' if is_num(v) else 'text' }}" data-column="{{ f.columns[loop.index0] }}" data-value="{{ raw(v) }}">{{ fmt(v) }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></div>
{% if many and charts.get(f.key) %}</details>{% endif %}
{% endif %}
{% if f.note %}<p class="note">{{ f.note }}</p>{% endif %}
<p class="source">Source: {{ f.source }}.</p>
{% endif %}
</div>
{% endfor %}
</section>
{% endfor %}
</body></html>
"""


def _is_num(value) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def render_html(report: Report) -> str:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    env.globals.update(fmt=fmt, raw=raw, is_num=_is_num)
    return env.from_string(TEMPLATE).render(
        sections=report.sections,
        generated_at=fmt(report.generated_at),
        plan_run=(report.plan_run[0], fmt(report.plan_run[1])) if report.plan_run else None,
        charts=report.charts,
        chart_keys=set(CHARTS),
    )


def write_report(con: duckdb.DuckDBPyConnection, reports_dir: Path) -> ReportResult:
    """Build the report from the warehouse and write reports_dir/touchplan_report.html."""
    started = time.perf_counter()
    report = collect(con)
    html_text = render_html(report)
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = reports_dir / REPORT_NAME
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(html_text, encoding="utf-8")
    tmp.replace(path)
    return ReportResult(path, report, len(html_text.encode()), time.perf_counter() - started)


def markdown_table(fig: data.Figure, limit: int = 30) -> str:
    """The figure as a markdown table for the Dagster UI (the same rows as the page, at most `limit`)."""
    if fig.missing:
        return fig.missing
    if not fig.rows:
        return f"No rows in {fig.source}."

    def cell(v) -> str:
        return fmt(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(label) for label in fig.labels) + " |"]
    lines.append("|" + "|".join("---" for _ in fig.labels) + "|")
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in fig.rows[:limit]]
    if len(fig.rows) > limit:
        lines.append(f"\n{len(fig.rows) - limit} more rows in the report.")
    return "\n".join(lines)
