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
    assert failed == [("cu_004", "no Salesforce record for this customer in customer_crosswalk")]
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
