"""`erase_person` on a small warehouse shaped like the real one (ingest's raw tables, crosswalk, marts, a dbt view,
quality failures) and output files of every kind; then a re-export of the erased record through the ingest hook."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest

from pipelines.lib import erasure
from pipelines.lib.erasure import (
    ERASURE_FILE,
    ErasureError,
    apply_erasure_list,
    erase_person,
    erased_customers_sql,
    erasure_hash,
    plain_address_locations,
)
from pipelines.lib.ingest.schema import TABLE_NAMES, create_tables

SALT = "test-salt-0b5e"
ADA = "Ada.Lovelace@Example.com"  # as the CRM wrote it
ADA_NORM = "ada.lovelace@example.com"
GRACE = "grace@example.org"


def _raw_contact(con, system, record_id, email, first, last, source_file="salesforce/Contact.csv", line=2):
    con.execute(
        """INSERT INTO raw_crm_contacts (source_system, source_record_id, record_type, email, first_name, last_name,
           phone, street, lifecycle_stage, owner_id, extra, _source_file, _source_line, _file_hash)
           VALUES (?, ?, 'contact', ?, ?, ?, '+44 20 7946 0000', '1 Analytical Row', 'lead', '005OWNER', ?, ?, ?,
                   'hash1')""",
        [system, record_id, email, first, last, json.dumps({"Email__c": email}), source_file, line],
    )


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch):
    monkeypatch.setenv(erasure.ENV_SALT, SALT)
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    create_tables(con)
    _raw_contact(con, "salesforce", "003ADA", ADA, "Ada", "Lovelace")
    _raw_contact(con, "hubspot", "501", "ada.l@analytical.example", "Ada", "Lovelace", "hubspot/contacts.csv")
    _raw_contact(con, "salesforce", "003GRACE", GRACE, "Grace", "Hopper", line=3)
    con.execute(
        "INSERT INTO raw_email_events (source_system, event_id, email, event, payload, _file_hash) VALUES "
        "('sendgrid', 'e1', ?, 'open', ?, 'hash2'), ('sendgrid', 'e2', ?, 'open', '{}', 'hash2')",
        [ADA_NORM, json.dumps({"email": ADA_NORM}), GRACE],
    )
    con.execute(
        "INSERT INTO ingest_quarantine (source_file, _file_hash, line_number, raw_text, reason) VALUES "
        "('zoom/r.csv', 'hash3', 7, ?, 'bad date')",
        [f"Ada,Lovelace,{ADA},2026-13-45"],
    )
    con.execute("""CREATE TABLE customer_crosswalk AS SELECT * FROM (VALUES
        ('salesforce', '003ADA', 'salesforce:003ADA', 'cu_ada'), ('hubspot', '501', 'hubspot:501', 'cu_ada'),
        ('salesforce', '003GRACE', 'salesforce:003GRACE', 'cu_grace'))
        t(source_system, source_record_id, record_key, customer_id)""")
    con.execute("""CREATE TABLE dim_customers AS SELECT * FROM (VALUES
        ('cu_ada', 'ada.lovelace@example.com', 'Ada', 'Lovelace', 'Ada Lovelace', '+442079460000', 'Countess',
         'Analytical Engines', 'lead'),
        ('cu_grace', 'grace@example.org', 'Grace', 'Hopper', 'Grace Hopper', NULL, 'Admiral', 'Navy', 'customer'))
        t(customer_id, email, first_name, last_name, full_name, phone_e164, title, company, lifecycle_stage)""")
    con.execute("""CREATE TABLE crm_merge_suggestions AS SELECT * FROM (VALUES
        ('salesforce', '003ADA', '003ADA2', 'cu_ada', 'Ada Lovelace', 'A. Lovelace', 'ada.lovelace@example.com'))
        t(source_system, survivor_record_id, duplicate_record_id, customer_id, survivor_name, duplicate_name,
          survivor_email)""")
    con.execute("""CREATE TABLE quality_failures AS SELECT * FROM (VALUES
        ('raw_crm_contacts.email_valid', 'raw_crm_contacts', '_source_file,_source_line', 'salesforce/Contact.csv,2',
         'bad ada.lovelace@example.com!'))
        t(check_name, table_name, key_column, key_value, observed_value)""")
    con.execute("""CREATE TABLE send_ledger AS SELECT * FROM (VALUES ('s1', 'cu_ada', 'welcome', 'email', 'sent'))
        t(send_id, customer_id, campaign_id, channel, status)""")
    # keyed by the address itself (event-only sources): a primary key cannot be NULL, a list holds it
    con.execute(
        "CREATE TABLE customer_key_map (record_key VARCHAR PRIMARY KEY, customer_id VARCHAR NOT NULL)"
    )
    con.execute(
        "INSERT INTO customer_key_map VALUES ('zoom:ada.lovelace@example.com', 'cu_ada'), ('zoom:x@y.org', 'x')"
    )
    con.execute(
        "CREATE TABLE identity_guard_events AS SELECT ['zoom:ada.lovelace@example.com', 'zoom:x@y.org'] AS record_keys"
    )
    con.execute(
        "CREATE VIEW stg_contacts AS SELECT source_record_id, lower(email) AS email FROM raw_crm_contacts"
    )
    yield con
    con.close()


@pytest.fixture
def output(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    (out / "outbox" / "sendgrid").mkdir(parents=True)
    (out / "outbox" / "sendgrid" / "s1.json").write_text(
        json.dumps({"personalizations": [{"to": [{"email": ADA_NORM}]}]})
    )
    (out / "outbox" / "sendgrid" / "s2.json").write_text(
        json.dumps({"personalizations": [{"to": [{"email": GRACE}]}]})
    )
    (out / "outbox" / "sendgrid" / "manifest.json").write_text(
        json.dumps({"sends": [{"customer_id": "cu_ada"}]})
    )
    audiences = out / "outbox" / "audiences" / "lookalike"
    audiences.mkdir(parents=True)
    (audiences / "run1.csv").write_text(f"customer_id,email\ncu_ada,{ADA_NORM}\ncu_grace,{GRACE}\n")
    (out / "outbox" / "sales_tasks").mkdir(parents=True)
    (out / "outbox" / "sales_tasks" / "run1.csv").write_text(
        "WhoId,Subject,ActivityDate,OwnerId,Description\n003ADA,Touchplan: x,2026-12-08,005OWNER,send s3\n"
        "003GRACE,Touchplan: x,2026-12-08,005OWNER,send s4\n"
    )
    (out / "crm_fixes").mkdir()
    (out / "crm_fixes" / "salesforce_merge_contacts_2026-12-07.csv").write_bytes(
        b"MasterRecordId,DuplicateRecordId,KeepName,KeepEmail\r\n003ADA,003ADA2,Ada Lovelace,ada.lovelace@example.com\r\n"
    )
    (out / "logs").mkdir()
    (out / "logs" / "run.log").write_text(f"warning: something about {ADA}\nok\n")
    return out


def _all_text(output: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in output.rglob("*") if p.is_file()).lower()


def test_erase_by_address_leaves_no_plain_address_in_any_table_or_file(warehouse, output):
    report = erase_person(warehouse, output, ADA)
    assert report.customer_ids == ["cu_ada"]
    # both of her addresses (the Salesforce one and the HubSpot one, found through her customer) are hashed
    assert report.hashes == sorted({erasure_hash(ADA, SALT), erasure_hash("ada.l@analytical.example", SALT)})
    for address in (ADA_NORM, "ada.l@analytical.example"):
        assert plain_address_locations(warehouse, address) == []
        assert address not in _all_text(output)
    assert "lovelace" not in _all_text(output)
    # raw rows kept (counts reconcile), personal columns nulled, ids and non-personal columns kept
    rows = warehouse.execute(
        "SELECT source_record_id, email, first_name, last_name, phone, street, extra, lifecycle_stage, owner_id "
        "FROM raw_crm_contacts WHERE source_record_id IN ('003ADA', '501') ORDER BY 1"
    ).fetchall()
    assert rows == [("003ADA", *[None] * 6, "lead", "005OWNER"), ("501", *[None] * 6, "lead", "005OWNER")]
    assert warehouse.execute(
        "SELECT email, title, company FROM dim_customers WHERE customer_id = 'cu_ada'"
    ).fetchall() == [(None, None, "Analytical Engines")]
    assert warehouse.execute("SELECT observed_value FROM quality_failures").fetchall() == [(None,)]
    hidden = "zoom:erased:" + erasure_hash(ADA_NORM, SALT)[:16]
    assert warehouse.execute("SELECT record_key FROM customer_key_map ORDER BY customer_id").fetchall() == [
        (hidden,),
        ("zoom:x@y.org",),
    ]
    assert warehouse.execute("SELECT record_keys FROM identity_guard_events").fetchone() == (
        [hidden, "zoom:x@y.org"],
    )
    assert warehouse.execute("SELECT raw_text FROM ingest_quarantine").fetchall() == [(None,)]
    assert (
        warehouse.execute("SELECT count(*) FROM send_ledger").fetchone()[0] == 1
    )  # what was sent stays known
    # Grace is untouched
    assert warehouse.execute("SELECT email FROM dim_customers WHERE customer_id = 'cu_grace'").fetchone() == (
        GRACE,
    )
    assert GRACE in _all_text(output)
    assert not (output / "outbox" / "sendgrid" / "s1.json").exists()
    assert (output / "outbox" / "sendgrid" / "s2.json").exists()
    with (output / "outbox" / "sales_tasks" / "run1.csv").open(newline="") as handle:
        assert [r["WhoId"] for r in csv.DictReader(handle)] == ["003GRACE"]
    assert (output / "crm_fixes" / "salesforce_merge_contacts_2026-12-07.csv").read_bytes() == (
        b"MasterRecordId,DuplicateRecordId,KeepName,KeepEmail\r\n"
    )
    # the list: a table and a file, hashes only; the audit log without the address
    listed = (output / ERASURE_FILE).read_text()
    assert all(h in listed for h in report.hashes) and "@" not in listed
    log = (output / "erasure" / "erasure_log.jsonl").read_text()
    assert "cu_ada" in log and "@" not in log
    assert {r[0] for r in warehouse.execute(erased_customers_sql(warehouse)).fetchall()} == {"cu_ada"}


def test_erase_by_customer_id(warehouse, output):
    report = erase_person(warehouse, output, "cu_grace")
    assert report.hashes == [erasure_hash(GRACE, SALT)]
    assert plain_address_locations(warehouse, GRACE) == []
    assert GRACE not in _all_text(output)
    assert ADA_NORM in _all_text(output)


def test_a_re_exported_record_is_stripped_as_it_lands_and_its_customer_suppressed(
    warehouse, output, tmp_path
):
    erase_person(warehouse, output, ADA)
    # a warehouse rebuilt from the exports: only the list file survives
    fresh = duckdb.connect(str(tmp_path / "rebuilt.duckdb"))
    create_tables(fresh)
    _raw_contact(fresh, "salesforce", "003ADA", "  ADA.LOVELACE@example.com ", "Ada", "Lovelace")
    _raw_contact(fresh, "salesforce", "003GRACE", GRACE, "Grace", "Hopper", line=3)
    stripped = apply_erasure_list(fresh, output / ERASURE_FILE, list(TABLE_NAMES), file_hashes=["hash1"])
    assert stripped == 1
    assert plain_address_locations(fresh, ADA_NORM) == []
    assert fresh.execute(
        "SELECT email FROM raw_crm_contacts WHERE source_record_id = '003GRACE'"
    ).fetchone() == (GRACE,)
    fresh.execute(
        "CREATE TABLE customer_crosswalk AS SELECT 'salesforce' AS source_system, '003ADA' AS "
        "source_record_id, 'cu_new' AS customer_id"
    )
    assert fresh.execute(erased_customers_sql(fresh)).fetchall() == [("cu_new",)]
    fresh.close()


def test_without_a_salt_erase_fails_with_one_line(warehouse, output, monkeypatch):
    monkeypatch.delenv(erasure.ENV_SALT)
    with pytest.raises(ErasureError, match="TOUCHPLAN_ERASURE_SALT is not set") as info:
        erase_person(warehouse, output, ADA)
    assert "\n" not in str(info.value)
    assert warehouse.execute("SELECT email FROM dim_customers WHERE customer_id = 'cu_ada'").fetchone() == (
        ADA_NORM,
    )


def test_an_ingest_with_an_empty_list_needs_no_salt(warehouse, output, monkeypatch):
    monkeypatch.delenv(erasure.ENV_SALT)
    assert apply_erasure_list(warehouse, output / ERASURE_FILE, list(TABLE_NAMES)) == 0


def test_compaction_leaves_no_old_value_in_the_file(warehouse, output, tmp_path):
    path = Path(
        warehouse.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchone()[0]
    )
    warehouse.execute(
        "CREATE TABLE notes AS SELECT 'x' || range AS a, 'ada.lovelace@example.com' AS email FROM range(3)"
    )
    warehouse.execute("CHECKPOINT")
    erase_person(warehouse, output, ADA)
    warehouse.close()
    erasure.compact_warehouse(path)
    assert b"ada.lovelace@example.com" not in path.read_bytes()
    con = duckdb.connect(str(path))
    assert con.execute("SELECT count(*) FROM raw_crm_contacts").fetchone()[0] == 3  # the rows are all there
    assert plain_address_locations(con, ADA_NORM) == []
    con.close()


def test_an_ingest_with_entries_on_the_list_and_no_salt_stops_in_one_line(warehouse, output, monkeypatch):
    erase_person(warehouse, output, ADA)
    monkeypatch.delenv(erasure.ENV_SALT)
    with pytest.raises(ErasureError, match="TOUCHPLAN_ERASURE_SALT is not set"):
        apply_erasure_list(warehouse, output / ERASURE_FILE, list(TABLE_NAMES))


def test_the_command_without_a_salt_prints_one_error_line(tmp_path, monkeypatch, capsys):
    from pipelines.cli import main

    monkeypatch.delenv(erasure.ENV_SALT, raising=False)
    duckdb.connect(str(tmp_path / "wh.duckdb")).close()
    code = main(["erase", ADA, "--warehouse", str(tmp_path / "wh.duckdb"), "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: TOUCHPLAN_ERASURE_SALT is not set") and err.count("\n") == 1
    assert ADA.lower() not in err.lower()


def test_the_command_erases_and_prints_ids_not_the_address(warehouse, output, capsys, tmp_path):
    from pipelines.cli import main

    path = warehouse.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()[0]
    warehouse.close()
    code = main(["erase", ADA, "--warehouse", path, "--output", str(output)])
    out = capsys.readouterr().out
    assert code == 0 and "cu_ada" in out and "@" not in out
    assert b"ada.lovelace@example.com" not in Path(path).read_bytes()
