"""The report page from a small hand-built warehouse: escaping, absent tables, no personal data, no references."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.report.render import markdown_table, write_report

EVIL = '<script>alert("x")</script> & "quotes"'


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute(
        """
        CREATE TABLE plan_runs AS SELECT 'run-1' AS plan_run_id, TIMESTAMP '2026-11-02 07:00' AS created_at,
            TIMESTAMP '2026-11-02 07:00' AS as_of, 'plan' AS kind;
        CREATE TABLE campaign_waterfall AS SELECT * FROM (VALUES
            ('run-1', ?, 100, 80, 70, 60, 50, 40, 40)) t(plan_run_id, campaign_id, eligible, after_consent,
            after_suppression, after_holdout, after_caps, after_arbitration, planned);
        CREATE TABLE contact_plan AS SELECT 'run-1' AS plan_run_id, 'cus_' || i AS customer_id,
            'welcome' AS campaign_id, 'email' AS channel, TIMESTAMP '2026-11-03 09:00' + i * INTERVAL 1 DAY
            AS scheduled_at FROM range(3) r(i);
        CREATE TABLE contact_decisions AS SELECT 'run-1' AS plan_run_id, 'cus_' || i AS customer_id,
            'welcome' AS campaign_id, 'suppressed' AS outcome,
            'suppressed_hard bounce: 550 5.1.1 <jane.doe' || i || '@example.com>: Recipient address rejected'
            AS reason_code FROM range(4) r(i);
    """.replace("?", "'" + EVIL.replace("'", "''") + "'")
    )
    yield connection
    connection.close()


def _render(con, tmp_path: Path) -> str:
    return write_report(con, tmp_path / "reports").path.read_text(encoding="utf-8")


def test_every_value_is_html_escaped(con, tmp_path):
    page = _render(con, tmp_path)
    assert "<script" not in page  # neither the page's own nor the campaign name's
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;quotes&#34;" in page
    # the waterfall chart draws the name too: matplotlib's SVG escapes it as text (quotes need none there)
    assert "<text" in page and '&lt;script&gt;alert("x")&lt;/script&gt; &amp; "quotes"</text>' in page


def test_the_page_references_nothing_outside_itself(con, tmp_path):
    page = _render(con, tmp_path)
    refs = re.findall(r"""(?:src|href|xlink:href)\s*=\s*["']?([^"'\s>]+)""", page)
    assert refs and all(r.startswith("#") for r in refs), [r for r in refs if not r.startswith("#")]
    assert not re.search(r"url\(\s*['\"]?(?!#)", page)
    assert "@import" not in page and "<link" not in page and "<iframe" not in page


def test_bounce_reasons_are_shown_without_the_addresses_in_them(con, tmp_path):
    page = _render(con, tmp_path)
    assert "@example.com" not in page and "jane.doe" not in page
    assert "550 5.1.1 &lt;&lt;email&gt;&gt;: Recipient address rejected" in page
    # the four customers share one reason once the address is gone
    assert re.search(r'data-column="decisions" data-value="4"', page)


def test_an_absent_table_is_named_and_its_part_left_empty(con, tmp_path):
    result = write_report(con, tmp_path / "reports")
    page = result.path.read_text(encoding="utf-8")
    for table in ("campaign_uplift", "objective_kpis", "touches_to_conversion", "customer_rfv", "crm_health"):
        assert f"The table {table} is not in this warehouse" in page
    missing = {f.key for f in result.report.figures() if f.missing}
    assert {"uplift", "objective_kpis", "touches_to_conversion", "rfv_grid", "crm_health"} <= missing
    assert all(not f.rows for f in result.report.figures() if f.missing)
    assert {"waterfall", "schedule", "not_contacted"} <= set(result.report.charts)


def test_markdown_tables_carry_the_page_rows_with_pipes_escaped(con, tmp_path):
    report = write_report(con, tmp_path / "reports").report
    waterfall = next(f for f in report.figures() if f.key == "waterfall")
    con.execute("UPDATE campaign_waterfall SET campaign_id = 'a|b'")
    text = markdown_table(waterfall)
    assert text.splitlines()[0].startswith("| Campaign | Eligible | Consent")
    assert "| 100 | 80 | 70 | 60 | 50 | 40 | 40 |" in text
    schedule = next(f for f in report.figures() if f.key == "schedule")
    assert markdown_table(schedule).count("| welcome | email | 1 |") == 3
    waterfall.rows = [("a|b", *waterfall.rows[0][1:])]
    assert "| a\\|b |" in markdown_table(waterfall)


def test_the_asset_writes_the_page_under_the_output_folder_with_the_figures_as_markdown_metadata(
    con, tmp_path
):
    import dagster as dg

    from pipelines.defs.report.assets import touchplan_report
    from pipelines.defs.resources import TouchplanResource

    warehouse = tmp_path / "warehouse.duckdb"
    con.execute(f"ATTACH '{warehouse}' AS w")
    for (table,) in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'memory'"
    ).fetchall():
        con.execute(f"CREATE TABLE w.{table} AS SELECT * FROM memory.{table}")
    con.execute("DETACH w")
    resource = TouchplanResource(warehouse=str(warehouse), output=str(tmp_path / "out"))
    result = dg.materialize([touchplan_report], resources={"touchplan": resource})
    assert result.success
    page = tmp_path / "out" / "reports" / "touchplan_report.html"
    assert page.is_file()
    (event,) = result.get_asset_materialization_events()
    meta = event.materialization.metadata
    assert meta["path"].value == str(page)
    assert "| 100 | 80 | 70 | 60 | 50 | 40 | 40 |" in meta["waterfall"].value
    assert "| welcome | email | 1 |" in meta["schedule"].value
    assert "The table campaign_uplift is not in this warehouse" in meta["uplift"].value
    assert meta["rows_per_figure"].value["schedule"] == 3
    assert "campaign_uplift" in meta["missing_tables"].value
    # no personal data in the metadata: no customer id, no address from the bounce texts
    text = " ".join(str(v.value) for v in meta.values())
    assert "cus_" not in text and "@example.com" not in text
