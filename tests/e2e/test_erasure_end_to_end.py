"""Erasure from the command line, as an operator does it: run, `touchplan erase`, the CRM and event exports come
again with the person still in them, run again.

The person must not come back: not planned (contact_decisions: suppressed, reason `suppressed_erased`), and their
address nowhere in the warehouse (every VARCHAR, JSON and VARCHAR[] column; after `erase` also the DuckDB file's
bytes) or in any file under the output folder.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.lib.erasure import erased_customers_sql, plain_address_locations
from tests.e2e.cli import generated_workspace, touchplan

pytestmark = pytest.mark.xdist_group("erasure_e2e")

SALT = "e2e-erasure-salt"


def _re_export(exports: Path, needles: list[bytes]) -> list[str]:
    """The person's export files exported again (new bytes, same rows): ingest loads them anew."""
    changed = []
    for path in sorted(p for p in exports.rglob("*") if p.is_file() and "_truth" not in p.parts):
        data = path.read_bytes()
        if not any(n in data.lower() for n in needles):
            continue
        if path.suffix == ".csv":
            data = data.replace(b"\r\n", b"\n") if b"\r\n" in data else data.replace(b"\n", b"\r\n")
        elif path.suffix == ".json":
            data += b"\n"
        else:
            continue
        path.write_bytes(data)
        changed.append(path.relative_to(exports).as_posix())
    return changed


@pytest.fixture(scope="module")
def erased(tmp_path_factory):
    ws = generated_workspace(tmp_path_factory.mktemp("erasure"), 300, 11, TOUCHPLAN_ERASURE_SALT=SALT)
    env, exports, warehouse, output = ws.env, ws.exports, ws.warehouse, ws.output
    first = touchplan(*ws.run_args, env=env)
    assert first.returncode == 0, first.stderr[-4000:]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        # a person the first run planned an email for, with an address in a CRM export
        customer_id, email = con.execute(
            """SELECT p.customer_id, lower(trim(d.email)) FROM contact_plan AS p
               JOIN dim_customers AS d USING (customer_id)
               JOIN customer_crosswalk AS x USING (customer_id)
               WHERE p.channel = 'email' AND d.email IS NOT NULL AND x.source_system = 'salesforce'
               ORDER BY p.customer_id LIMIT 1"""
        ).fetchone()
        addresses = sorted(
            {
                r[0]
                for r in con.execute(
                    "SELECT DISTINCT lower(trim(email)) FROM int_identity_records JOIN customer_crosswalk "
                    "USING (record_key) WHERE customer_id = ? AND email IS NOT NULL",
                    [customer_id],
                ).fetchall()
            }
            | {email}
        )
    finally:
        con.close()
    erase = touchplan("erase", email, "--warehouse", str(warehouse), "--output", str(output), env=env)
    after_erase = _scan(warehouse, output, addresses)
    re_exported = _re_export(exports, [a.encode() for a in addresses])
    second = touchplan(*ws.run_args, env=env)
    return {
        "warehouse": warehouse,
        "output": output,
        "customer_id": customer_id,
        "addresses": addresses,
        "erase": erase,
        "after_erase": after_erase,
        "re_exported": re_exported,
        "second": second,
    }


def _scan(warehouse: Path, output: Path, addresses: list[str]) -> dict[str, list[str]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        columns = sorted({loc for a in addresses for loc in plain_address_locations(con, a)})
    finally:
        con.close()
    files = sorted(
        p.relative_to(output).as_posix()
        for p in output.rglob("*")
        if p.is_file() and any(a.encode() in p.read_bytes().lower() for a in addresses)
    )
    raw = warehouse.read_bytes().lower()
    return {
        "columns": columns,
        "files": files,
        "warehouse_bytes": [a for a in addresses if a.encode() in raw],
    }


def test_erase_removes_every_plain_address_and_logs_only_ids(erased):
    erase = erased["erase"]
    assert erase.returncode == 0, erase.stderr[-2000:]
    assert erased["after_erase"] == {"columns": [], "files": [], "warehouse_bytes": []}
    assert erased["customer_id"] in erase.stdout
    for address in erased["addresses"]:
        assert address not in erase.stdout.lower() and address not in erase.stderr.lower()
    listed = (erased["output"] / "erasure" / "erasure_list.csv").read_text()
    assert "@" not in listed and len(listed.splitlines()) == 1 + len(erased["addresses"])


def test_a_rerun_with_the_person_still_in_the_exports_does_not_bring_them_back(erased):
    second = erased["second"]
    assert erased["re_exported"], "the person's exports were not found"
    assert second.returncode == 0, second.stderr[-4000:]
    scan = _scan(erased["warehouse"], erased["output"], erased["addresses"])
    # every text column and every output file; the file's free blocks are only rewritten by `erase` itself
    assert (scan["columns"], scan["files"]) == ([], [])
    con = duckdb.connect(str(erased["warehouse"]), read_only=True)
    try:
        customers = [r[0] for r in con.execute(erased_customers_sql(con)).fetchall()]
        assert customers, "the re-imported records are not linked to an erased customer"
        latest = con.execute(
            "SELECT plan_run_id FROM plan_runs WHERE kind = 'plan' ORDER BY created_at DESC LIMIT 1"
        ).fetchone()[0]
        planned = con.execute(
            "SELECT count(*) FROM contact_plan WHERE plan_run_id = ? AND list_contains(?, customer_id)",
            [latest, customers],
        ).fetchone()[0]
        decisions = con.execute(
            "SELECT DISTINCT outcome, reason_code FROM contact_decisions "
            "WHERE plan_run_id = ? AND list_contains(?, customer_id)",
            [latest, customers],
        ).fetchall()
    finally:
        con.close()
    assert planned == 0
    assert decisions == [("suppressed", "suppressed_erased")]
