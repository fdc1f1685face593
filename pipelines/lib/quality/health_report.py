"""The CRM health page: `reports/crm_health.html` from the crm_health_history mart (plain HTML, no scripts)."""

from __future__ import annotations

import html
from pathlib import Path

import duckdb

METRICS = [
    ("records", "Records", False),
    ("duplicate_records", "Duplicates (identity resolution)", True),
    ("emails_missing_or_invalid", "Invalid or missing emails", True),
    ("consent_missing", "Missing consent", True),
    ("conflicting_title", "Conflicting title", True),
    ("conflicting_company", "Conflicting company", True),
    ("conflicting_phone", "Conflicting phone", True),
    ("stale_records", "Stale records", True),
]

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1f2328; }
table { border-collapse: collapse; margin-top: 1rem; }
th, td { border: 1px solid #d0d7de; padding: .4rem .7rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f6f8fa; }
.worse { color: #b42318; } .better { color: #067647; } .same { color: #667085; }
p.note { color: #667085; max-width: 60rem; }
"""


def _trend(current: int, previous: int | None, lower_is_better: bool) -> str:
    if previous is None:
        return '<span class="same" title="no previous run">&middot;</span>'
    if current == previous:
        return '<span class="same" title="unchanged">&rarr;</span>'
    up = current > previous
    worse = up if lower_is_better else not up
    arrow = "&uarr;" if up else "&darr;"
    return (
        f'<span class="{"worse" if worse else "better"}" title="previous run: {previous}">{arrow} '
        f"{current - previous:+d}</span>"
    )


def load_health(con: duckdb.DuckDBPyConnection) -> tuple[list[dict], dict[str, dict], object]:
    """The latest run's rows per source and the previous run's rows (by source) from crm_health_history."""
    runs = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT measured_at FROM crm_health_history ORDER BY measured_at DESC LIMIT 2"
        ).fetchall()
    ]
    if not runs:
        return [], {}, None

    def rows_at(moment) -> list[dict]:
        cur = con.execute(
            "SELECT * FROM crm_health_history WHERE measured_at = ? ORDER BY source_system", [moment]
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    latest = rows_at(runs[0])
    previous = {r["source_system"]: r for r in rows_at(runs[1])} if len(runs) > 1 else {}
    return latest, previous, runs[0]


def render_health_html(latest: list[dict], previous: dict[str, dict], measured_at) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in METRICS)
    body = []
    for row in latest:
        before = previous.get(row["source_system"])
        cells = []
        for key, _, lower_is_better in METRICS:
            value = int(row[key] or 0)
            prior = None if before is None else int(before[key] or 0)
            cells.append(f"<td>{value:,} {_trend(value, prior, lower_is_better)}</td>")
        body.append(f"<tr><td>{html.escape(str(row['source_system']))}</td>{''.join(cells)}</tr>")
    stale_days = latest[0]["stale_after_days"] if latest else "?"
    as_of = latest[0]["as_of_at"] if latest else "?"
    rows_html = "\n".join(body) or f'<tr><td colspan="{len(METRICS) + 1}">No data yet.</td></tr>'
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CRM health</title><style>{STYLE}</style></head>
<body>
<h1>CRM health</h1>
<p>Measured {html.escape(str(measured_at))} UTC for data as of {html.escape(str(as_of))} UTC.
Arrows compare with the previous run (red: worse, green: better).</p>
<table>
<thead><tr><th>Source system</th>{head}</tr></thead>
<tbody>
{rows_html}
</tbody>
</table>
<p class="note">Duplicates: records identity resolution put on the same customer as another record of the same
source (merge them in the CRM; see crm_merge_suggestions). Conflicts: the value differs from another source's value
for the same customer. Stale: not updated in {html.escape(str(stale_days))} days. The checks that failed or warned
are in the <a href="touchplan_report.html#quality">report's data quality section</a> (offline; the Great Expectations
Data Docs, under <code>quality/data_docs/local_site/index.html</code> in the output folder, load their styles from
CDNs and need a network); their failing rows are in the warehouse table <code>quality_failures</code>.</p>
</body></html>
"""


def write_health_report(con: duckdb.DuckDBPyConnection, reports_dir: Path) -> tuple[Path, int]:
    """Write reports/crm_health.html; returns the path and the number of source systems shown."""
    latest, previous, measured_at = load_health(con)
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = reports_dir / "crm_health.html"
    path.write_text(render_health_html(latest, previous, measured_at), encoding="utf-8")
    return path, len(latest)
