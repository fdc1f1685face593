from __future__ import annotations

import csv
import hashlib
import json
import logging
from dataclasses import replace

import duckdb

from pipelines.lib.delivery import deliver
from pipelines.lib.settings import Settings
from tests.sendgrid_schema import mail_send_errors

from .conftest import CUSTOMERS, SCHEDULED
from .fakes import ScriptedSendGrid

KEY = "SG.secret-key-never-printed-93b1"


def read_csv(path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_sales_tasks_file_has_the_salesforce_task_import_shape(settings: Settings):
    with duckdb.connect(str(settings.warehouse)) as con:
        report = deliver(con, settings, send=False)
        failed = con.execute(
            "SELECT customer_id, error FROM send_ledger WHERE channel = 'sales_task' AND status = 'failed_retryable'"
        ).fetchall()
    path = settings.outbox / "sales_tasks" / "run_001.csv"
    assert path.read_text().splitlines()[0] == "WhoId,Subject,ActivityDate,OwnerId,Description"
    rows = read_csv(path)
    assert len(rows) == 1
    task = rows[0]
    assert task["WhoId"] == "003AAAAAAAAAAAAAAA"  # the contact, preferred over the lead of the same person
    assert task["OwnerId"] == "005OWNER00000001"
    assert task["ActivityDate"] == SCHEDULED.date().isoformat()
    assert task["Subject"] == "Touchplan: enterprise_followup"
    assert "campaign enterprise_followup" in task["Description"]
    assert failed == [("cu_004", "no Salesforce or HubSpot record for this customer in customer_crosswalk")]
    assert report.count("sales_task", "dry_run") == 1


def test_audience_file_hashes_emails_per_campaign(settings: Settings):
    with duckdb.connect(str(settings.warehouse)) as con:
        deliver(con, settings, send=False)
    rows = read_csv(settings.outbox / "audiences" / "lookalike" / "run_001.csv")
    emails = {c[0]: c[1] for c in CUSTOMERS}
    assert rows == [
        {"customer_id": cid, "email_sha256": hashlib.sha256(emails[cid].strip().lower().encode()).hexdigest()}
        for cid in ("cu_001", "cu_002")
    ]


def test_audience_file_plain_when_configured(settings: Settings):
    path = settings.config_dir / "delivery.yaml"
    path.write_text(path.read_text().replace("email: sha256 ", "email: plain "))
    with duckdb.connect(str(settings.warehouse)) as con:
        deliver(con, settings, send=False)
    rows = read_csv(settings.outbox / "audiences" / "lookalike" / "run_001.csv")
    assert [r["email"] for r in rows] == ["ada.lovelace@example.com", "grace.hopper@example.org"]


def test_outbox_holds_one_body_per_email_and_a_manifest_without_personal_data(settings: Settings):
    with duckdb.connect(str(settings.warehouse)) as con:
        deliver(con, settings, send=False)
        planned_emails = con.execute(
            "SELECT send_id FROM send_ledger WHERE channel IN ('email', 'webinar_invite') "
            "AND status = 'dry_run' ORDER BY 1"
        ).fetchall()
    folder = settings.outbox / "sendgrid"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["mode"] == "dry_run" and manifest["count"] == 3
    assert sorted(s["send_id"] for s in manifest["sends"]) == [s for (s,) in planned_emails]
    for entry in manifest["sends"]:
        body = json.loads((folder / entry["file"]).read_text())
        ids = [p["custom_args"]["touchplan_send_id"] for p in body["personalizations"]]
        assert ids.count(entry["send_id"]) == 1
    # each body is a valid request of POST /v3/mail/send in SendGrid's API description
    for entry in manifest["sends"]:
        assert mail_send_errors(json.loads((folder / entry["file"]).read_text())) == [], entry["file"]
    manifest_text = (folder / "manifest.json").read_text().lower()
    assert "@" not in manifest_text and "lovelace" not in manifest_text
    webinar = [e for e in manifest["sends"] if e["channel"] == "webinar_invite"][0]
    assert "webinar_invite" in json.loads((folder / webinar["file"]).read_text())["categories"]


def test_api_key_and_addresses_never_reach_logs_outbox_or_ledger(settings, monkeypatch, caplog):
    monkeypatch.setenv("SENDGRID_API_KEY", KEY)
    # The provider's error body echoes the key and an address: both must be redacted before storing or logging.
    client = ScriptedSendGrid(
        statuses=[400, 500, 500, 500, 500],
        error_body={"errors": [{"field": "to", "message": f"bad ada.lovelace@example.com {KEY}"}]},
    )
    caplog.set_level(logging.DEBUG)
    with duckdb.connect(str(settings.warehouse)) as con:
        report = deliver(con, replace(settings, send=True), send=True, client=client, sleep=lambda _: None)
        ledger_dump = json.dumps(con.execute("SELECT * FROM send_ledger").fetchall(), default=str)
    # PLAN: the 400 (permanent) and the four 500s (retryable) fail two of the three requests with an address,
    # cu_003 has no address and cu_004's sales task no Salesforce record; the third request got the default 202
    assert report.mode == "send"
    assert report.count(status="failed_permanent") == 1
    assert report.count(status="failed_retryable") == 3
    assert report.count("sales_task", "failed_retryable") == 1
    assert "[redacted]" in ledger_dump and "[email]" in ledger_dump
    outbox_text = "".join(p.read_text() for p in settings.outbox.rglob("*") if p.is_file())
    for text in (caplog.text, ledger_dump, outbox_text, json.dumps(report.as_metadata())):
        assert KEY not in text
    for _, email, *_ in CUSTOMERS:
        if email:
            assert email not in caplog.text
            assert email not in ledger_dump
            assert email not in json.dumps(report.as_metadata())


HOSTILE = ['=HYPERLINK("http://x.example","y")', "+1+cmd", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def test_sales_task_and_audience_cells_that_start_like_a_formula_are_escaped(settings: Settings):
    """OWASP CSV injection: a cell starting with = + - @ TAB CR gets a leading ' in the file, not in the warehouse."""
    path = settings.config_dir / "delivery.yaml"
    path.write_text(path.read_text().replace("email: sha256 ", "email: plain "))
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("UPDATE raw_crm_contacts SET owner_id = ? WHERE record_type = 'contact'", [HOSTILE[0]])
        con.execute("UPDATE dim_customers SET email = '-ada@example.com' WHERE customer_id = 'cu_001'")
        con.execute("UPDATE dim_customers SET email = '@grace@example.org' WHERE customer_id = 'cu_002'")
        con.execute("UPDATE contact_plan SET campaign_id = '=cmd' WHERE channel = 'sales_task'")
        deliver(con, settings, send=False)
        raw_owner = con.execute(
            "SELECT owner_id FROM raw_crm_contacts WHERE record_type = 'contact'"
        ).fetchone()
    task = read_csv(settings.outbox / "sales_tasks" / "run_001.csv")[0]
    assert task["OwnerId"] == "'" + HOSTILE[0]
    assert task["Subject"] == "Touchplan: =cmd"  # starts with T: not a formula, unchanged
    assert task["WhoId"] == "003AAAAAAAAAAAAAAA"
    assert raw_owner == (HOSTILE[0],)  # the warehouse keeps the raw value
    rows = read_csv(settings.outbox / "audiences" / "lookalike" / "run_001.csv")
    assert [r["email"] for r in rows] == ["'-ada@example.com", "'@grace@example.org"]


def test_a_hubspot_only_customer_gets_a_hubspot_task_import_row(settings: Settings):
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("INSERT INTO customer_crosswalk VALUES ('hubspot', '51234', 'cu_002', 'email', NULL)")
        con.execute(
            "INSERT INTO raw_crm_contacts VALUES ('hubspot', '51234', 'contact', '7788', '2026-05-01')"
        )
        con.execute("INSERT INTO customer_crosswalk VALUES ('hubspot', '59999', 'cu_001', 'email', NULL)")
        con.execute(
            "INSERT INTO contact_plan SELECT plan_run_id, 'cu_002', campaign_id, channel, template_id, variant, "
            "scheduled_at, scheduled_local, time_zone, rules_version FROM contact_plan "
            "WHERE customer_id = 'cu_001' AND channel = 'sales_task'"
        )
        report = deliver(con, settings, send=False)
        ledger = dict(
            con.execute(
                "SELECT customer_id, request_path FROM send_ledger WHERE channel = 'sales_task' AND status = 'dry_run'"
            ).fetchall()
        )
    # cu_001 has both: Salesforce wins; cu_002 is known only in HubSpot: a HubSpot task row, not a failure
    assert ledger == {"cu_001": "sales_tasks/run_001.csv", "cu_002": "sales_tasks/run_001_hubspot_tasks.csv"}
    assert (
        report.count("sales_task", "dry_run") == 2 and report.count("sales_task", "failed_retryable") == 1
    )  # cu_004
    path = settings.outbox / "sales_tasks" / "run_001_hubspot_tasks.csv"
    assert path.read_text().splitlines()[0] == (
        "Contact Record ID,hs_task_subject,hs_timestamp,hs_task_type,hs_task_status,hubspot_owner_id,hs_task_body"
    )
    (task,) = read_csv(path)
    assert task["Contact Record ID"] == "51234" and task["hubspot_owner_id"] == "7788"
    assert task["hs_timestamp"] == SCHEDULED.date().isoformat()
    assert task["hs_task_type"] == "CALL" and task["hs_task_status"] == "NOT_STARTED"
    assert task["hs_task_subject"] == "Touchplan: enterprise_followup"
    assert [r["WhoId"] for r in read_csv(settings.outbox / "sales_tasks" / "run_001.csv")] == [
        "003AAAAAAAAAAAAAAA"
    ]


def test_a_real_send_refuses_the_demo_placeholder_template_id_in_one_line(settings: Settings, monkeypatch):
    from pipelines.lib.delivery.config import PLACEHOLDER_TEMPLATE_ID
    from pipelines.lib.delivery.deliver import PlaceholderTemplateError
    from pipelines.lib.settings import PROJECT_ROOT

    shipped = (PROJECT_ROOT / "config" / "delivery.yaml").read_text()
    assert PLACEHOLDER_TEMPLATE_ID in shipped  # the demo config
    (settings.config_dir / "delivery.yaml").write_text(shipped)
    monkeypatch.setenv("SENDGRID_API_KEY", KEY)
    client = ScriptedSendGrid()
    with duckdb.connect(str(settings.warehouse)) as con:
        dry = deliver(con, settings, send=False)  # a dry run uses it
        assert dry.count("email", "dry_run") == 2
        try:
            deliver(con, replace(settings, send=True), send=True, client=client)
            raise AssertionError("a real send with the placeholder went ahead")
        except PlaceholderTemplateError as exc:
            message = str(exc)
        sent = con.execute("SELECT count(*) FROM send_ledger WHERE status = 'sent'").fetchone()[0]
    assert "\n" not in message and PLACEHOLDER_TEMPLATE_ID in message and "welcome" in message
    assert client.posts == [] and sent == 0  # nothing left the machine


def test_the_run_summary_says_the_demo_uses_placeholder_template_ids(settings: Settings):
    from pipelines.lib.run_summary import summarize_warehouse
    from pipelines.lib.settings import PROJECT_ROOT

    assert "templates" not in summarize_warehouse(settings, 1.0).outputs  # real-looking ids: nothing to say
    shipped = (PROJECT_ROOT / "config" / "delivery.yaml").read_text()
    (settings.config_dir / "delivery.yaml").write_text(shipped)
    note = summarize_warehouse(settings, 1.0).outputs["templates"]
    assert "placeholder d-00000000000000000000000000000000" in note and "--send" in note
