"""Issue #17: daily incremental runs give the same tables as `touchplan run --full-refresh`.

Generated exports (`touchplan sample-data`, 200 contacts) are delivered into an exports folder over three simulated
days, as a scheduler would find them each morning:

- day 1: the CRM, Mailchimp and past-campaign exports, the first third of the SendGrid events (by time) in
  `sendgrid/events-1.json` and the first half of the Zoom webinars' reports;
- day 2: the second third of the events in `sendgrid/events-2.json`, more Zoom reports, and a newer HubSpot
  contacts export replacing the first (a job title changed on some rows, one contact gone);
- day 3: the last third in `sendgrid/events-3.json`, the remaining Zoom reports, and a corrected
  `sendgrid/events-2.json` (a new version of the same path: every 7th event removed, the rest unchanged), so rows
  staged on day 2 must disappear.

Warehouse A runs `touchplan run` after each day (incremental: dbt's incremental models add only new files' rows).
After day 2, A (warehouse and output folder) is copied to B; on day 3, B runs with `--full-refresh` over the same
folder and `--as-of`. Copying A's day-2 state gives B what a full refresh keeps by design (docs/operations.md:
stable ids, send ledger, plan runs and the other run histories); every derived table of B is rebuilt from the raw
tables, including the SendGrid rows A staged day by day. Every table must then be equal (benchmarks/
compare_warehouses.py), apart from the columns that differ between any two runs of the same code.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from benchmarks.compare_warehouses import DEFAULT_IGNORE, compare
from tests.e2e.cli import AS_OF, generated_workspace, touchplan

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline_e2e")]

# Three mornings from the generated data's as-of time (earlier ones would see CRM and webinar dates in the future).
DAY_AS_OF = (AS_OF, "2026-11-03T07:00:00", "2026-11-04T07:00:00")
# Differ between any two runs (common brief): Splink's trained parameters in their last digits, and the dry-run
# request file names (clock time). And by design between the two paths: quality_check_results.validation says how
# a row check's outcome was reached ('reused' or 'new rows' on the incremental path, 'validated' on a full
# refresh, docs/quality.md "Daily runs"); the outcomes themselves (success, severity, counts) are compared. And
# quality_validation_state.parts, the content fingerprints: hashes of the columns a suite reads, run ids included
# (contact_plan.plan_run_id, itself left out here as `run_id$`), so they differ wherever those columns do.
IGNORE = DEFAULT_IGNORE + r"|^settings_json$|^request_path$|^validation$|^parts$"


def _write_events(path: Path, events: list[dict]) -> None:
    """A SendGrid event export: a JSON array, one event per line, like the generated (and webhook-dump) files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[\n" + ",\n".join(json.dumps(e) for e in events) + "\n]\n", encoding="utf-8")


def _newer_hubspot_contacts(original: Path, target: Path) -> None:
    """The next day's HubSpot contacts export: same header and quoting, some job titles changed, one contact gone."""
    raw = original.read_bytes().decode("utf-8")
    newline = "\r\n" if "\r\n" in raw else "\n"
    rows = list(csv.reader(io.StringIO(raw, newline="")))
    header, body = rows[0], rows[1:]
    title = header.index("Job Title")
    for i, row in enumerate(body):
        if i % 5 == 0:
            row[title] = "VP Marketing" if row[title] != "VP Marketing" else "Data Engineer"
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows([header, *body[:-1]])
    target.write_text(out.getvalue(), encoding="utf-8", newline="")


def _deliver_days(generated: Path, exports: Path) -> list:
    """Callables that each put one day's files into `exports`."""
    events = json.loads((generated / "sendgrid" / "events.json").read_text(encoding="utf-8"))
    events.sort(key=lambda e: (e.get("timestamp") or 0, e.get("sg_event_id") or ""))
    third = len(events) // 3
    parts = [events[:third], events[third : 2 * third], events[2 * third :]]
    webinars = sorted({p.name.split("_")[0] for p in (generated / "zoom").glob("*.csv")})
    half, rest = len(webinars) // 2, len(webinars) - len(webinars) // 2
    batches = [webinars[:half], webinars[half : half + rest // 2], webinars[half + rest // 2 :]]
    hubspot = next((generated / "hubspot").glob("hubspot-crm-exports-all-contacts-*.csv"))

    def zoom(ids: list[str]) -> None:
        for p in (generated / "zoom").glob("*.csv"):
            if p.name.split("_")[0] in ids:
                (exports / "zoom").mkdir(parents=True, exist_ok=True)
                shutil.copy2(p, exports / "zoom" / p.name)

    def day1() -> None:
        for p in generated.rglob("*"):
            relative = p.relative_to(generated)
            if p.is_dir() or relative.parts[0] in ("zoom", "_truth", "_history") or p.name == "events.json":
                continue
            (exports / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, exports / relative)
        _write_events(exports / "sendgrid" / "events-1.json", parts[0])
        zoom(batches[0])

    def day2() -> None:
        _write_events(exports / "sendgrid" / "events-2.json", parts[1])
        zoom(batches[1])
        _newer_hubspot_contacts(hubspot, exports / "hubspot" / hubspot.name)

    def day3() -> None:
        _write_events(exports / "sendgrid" / "events-3.json", parts[2])
        _write_events(
            exports / "sendgrid" / "events-2.json", [e for i, e in enumerate(parts[1]) if i % 7 != 3]
        )
        zoom(batches[2])

    return [day1, day2, day3]


def _run(ws, warehouse: Path, output: Path, as_of: str, *extra: str):
    args = ["run", "--exports", str(ws.exports), "--warehouse", str(warehouse), "--output", str(output)]
    result = touchplan(*args, "--as-of", as_of, *extra, env=ws.env, timeout=1200)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-4000:]
    return result


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    ws = generated_workspace(root, 200, 11)
    generated = root / "generated"
    ws.exports.rename(generated)
    ws.exports.mkdir()
    days = _deliver_days(generated, ws.exports)
    a, out_a = root / "a.duckdb", root / "out_a"
    b, out_b = root / "b.duckdb", root / "out_b"
    for day, as_of in zip(days[:2], DAY_AS_OF[:2], strict=True):
        day()
        _run(ws, a, out_a, as_of)
    shutil.copy2(a, b)
    shutil.copytree(out_a, out_b)
    # A stray row in B's incremental staging (a copy of a staged row under another line number, of a file still
    # current): a run without the full refresh would keep it; --full-refresh rebuilds the table without it.
    con = duckdb.connect(str(b))
    con.execute(
        "insert into stg_sendgrid__event_rows select * replace (_source_line + 1000000 as _source_line) "
        "from stg_sendgrid__event_rows order by _source_file, _source_line limit 1"
    )
    con.close()
    days[2]()
    incremental = _run(ws, a, out_a, DAY_AS_OF[2])
    full = _run(ws, b, out_b, DAY_AS_OF[2], "--full-refresh")
    return {"a": a, "b": b, "incremental": incremental, "full": full, "out_a": out_a, "out_b": out_b}


def test_the_simulated_days_supersede_a_staged_events_file(warehouses):
    """The scenario exercises what the incremental path must get right: day 3 replaced a SendGrid file staged on
    day 2 and a HubSpot export replaced the day-1 one."""
    con = duckdb.connect(str(warehouses["a"]), read_only=True)
    try:
        superseded = con.execute(
            "select source_file from ingest_files where status = 'superseded' order by 1"
        ).fetchall()
        staged_files = con.execute(
            "select count(distinct _file_hash) from stg_sendgrid__event_rows where _source_file like '%events-2.json'"
        ).fetchone()[0]
    finally:
        con.close()
    assert [s[0] for s in superseded] == [
        "hubspot/hubspot-crm-exports-all-contacts-2026-11-02.csv",
        "sendgrid/events-2.json",
    ]
    assert staged_files == 1  # only the current version's rows are staged


def test_full_refresh_is_announced_and_rebuilds_the_incremental_models(warehouses):
    assert "full refresh" in warehouses["full"].stderr
    assert "full refresh" not in warehouses["incremental"].stderr
    # the stray staged row planted in B before its run is gone (it would stay without dbt's --full-refresh)
    con = duckdb.connect(str(warehouses["b"]), read_only=True)
    try:
        stray = con.execute(
            "select count(*) from stg_sendgrid__event_rows where _source_line > 1000000"
        ).fetchone()
    finally:
        con.close()
    assert stray == (0,)


def test_incremental_days_give_the_same_tables_as_a_full_refresh(warehouses):
    results = compare(warehouses["a"], warehouses["b"], IGNORE)
    differing = [
        f"{r['table']}: {r['status']} rows {r.get('rows')} only-incremental {r.get('only_before')} only-full "
        f"{r.get('only_after')} columns {r.get('differing_columns')}"
        for r in results
        if r["status"] != "same"
    ]
    assert not differing, "\n".join(differing)
    tables = {r["table"]: r for r in results}
    # the comparison covers the tables that matter, with rows in them
    for table in ("stg_sendgrid__event_rows", "stg_sendgrid__events", "fct_touchpoints", "dim_customers"):
        assert tables[table]["rows"][0] > 0, table
