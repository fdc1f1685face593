"""SendGrid events (real sample, NDJSON variant with quirks), suppression exports, Mailchimp audience zip."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime

from tests.unit.ingest.conftest import FIXTURES, result_for

SENDGRID = (FIXTURES / "sendgrid" / "event_webhook_sample.json").read_bytes()


def test_real_event_webhook_sample_loads_every_event_type(exports):
    exports.write("sendgrid/event_webhook_sample.json", SENDGRID)
    report = exports.ingest()
    res = result_for(report, "sendgrid/event_webhook_sample.json")
    assert (res.format, res.rows_read, res.rows_loaded) == ("sendgrid_events", 11, 11)
    events = {r[0] for r in exports.rows("SELECT event FROM raw_email_events")}
    assert events == {
        "processed",
        "deferred",
        "delivered",
        "open",
        "click",
        "bounce",
        "dropped",
        "spamreport",
        "unsubscribe",
        "group_unsubscribe",
        "group_resubscribe",
    }
    row = exports.rows(
        "SELECT occurred_at, categories, asm_group_id, _source_line FROM raw_email_events "
        "WHERE event = 'group_unsubscribe'"
    )[0]
    assert row == (datetime(2017, 12, 15, 0, 59, 29), ["cat facts"], 10, 10)


def test_ndjson_with_category_arrays_blocks_missing_message_ids_custom_args_and_a_broken_line(exports):
    events = [
        {
            "email": "a@example.com",
            "timestamp": 1767225600,
            "event": "delivered",
            "category": ["news", "spring"],
            "sg_event_id": "e1",
            "sg_message_id": "m1.filter001",
            "campaign_id": "spring_launch",
            "touchplan_send_id": "s-123",
        },
        {
            "email": "b@example.com",
            "timestamp": 1767225601,
            "event": "bounce",
            "type": "blocked",
            "bounce_classification": "Reputation",
            "reason": "550 blocked",
            "sg_event_id": "e2",
        },
        {"email": "c@example.com", "timestamp": "yesterday", "event": "open", "sg_event_id": "e3"},
    ]
    lines = [json.dumps(e) for e in events]
    lines.insert(2, '{"email": "d@example.com", "event": ')
    exports.write("sendgrid/events-2026-01-01.ndjson", "\n".join(lines) + "\n")
    report = exports.ingest()
    res = result_for(report, "sendgrid/events-2026-01-01.ndjson")
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined) == (4, 2, 2)
    rows = exports.rows(
        "SELECT email, event, bounce_type, message_id, categories, campaign_id, touchplan_send_id, "
        "custom_args->>'campaign_id', occurred_at FROM raw_email_events ORDER BY _source_line"
    )
    assert rows[0] == (
        "a@example.com",
        "delivered",
        None,
        "m1.filter001",
        ["news", "spring"],
        "spring_launch",
        "s-123",
        "spring_launch",
        datetime(2026, 1, 1),
    )
    assert rows[1][:4] == ("b@example.com", "bounce", "blocked", None)
    reasons = dict(exports.rows("SELECT line_number, reason FROM ingest_quarantine"))
    assert reasons[3].startswith("not valid JSON")
    assert reasons[4] == "timestamp: yesterday is not a Unix timestamp"


def test_suppression_exports_take_the_list_from_the_file_name(exports):
    exports.write(
        "sendgrid/bounces.csv",
        "email,created,reason,status\nx@example.com,1767225600,550 no such user,5.1.1\n",
    )
    exports.write(
        "sendgrid/spam_reports.csv", "email,created,ip\ny@example.com,2026-01-02 10:00:00,10.0.0.1\n"
    )
    exports.write(
        "sendgrid/group_unsubscribes.json",
        '[{"email": "z@example.com", "created": 1767225600, "group_id": 42}]',
    )
    exports.ingest()
    rows = exports.rows(
        "SELECT suppression_list, email, created_at, asm_group_id FROM raw_email_suppressions ORDER BY email"
    )
    assert rows == [
        ("bounces", "x@example.com", datetime(2026, 1, 1), None),
        ("spam_reports", "y@example.com", datetime(2026, 1, 2, 10), None),
        ("group_unsubscribes", "z@example.com", datetime(2026, 1, 1), 42),
    ]


MC_COMMON = (
    "Email Address,First Name,Last Name,Address,Phone Number,MEMBER_RATING,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,"
    "CONFIRM_IP,LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,CC,REGION,LAST_CHANGED"
)


def _mailchimp_zip() -> bytes:
    subscribed = (
        MC_COMMON + ",LEID,EUID,NOTES,TAGS\n"
        "ana@example.de,Ana,Bauer,,,4,2026-03-29 01:30:00,,2026-03-29 03:30:00,,,,,,Europe/Berlin,DE,BE,"
        '2026-03-29 03:30:00,111,abc,,"vip,beta"\n'
    )
    unsubscribed = (
        MC_COMMON + ",UNSUB_TIME,UNSUB_CAMPAIGN_TITLE,UNSUB_CAMPAIGN_ID,UNSUB_REASON,UNSUB_REASON_OTHER,"
        "LEID,EUID,NOTES,TAGS\n"
        "bo@example.com,Bo,Li,,,2,2025-01-01 10:00:00,,,,,,,,,US,,2026-02-01 10:00:00,"
        "2026-02-01 10:00:00,Spring,c1,NO_LONGER_INTERESTED,,222,def,,\n"
    )
    cleaned = (
        MC_COMMON + ",CLEAN_TIME,CLEAN_CAMPAIGN_TITLE,CLEAN_CAMPAIGN_ID,LEID,EUID,NOTES,TAGS\n"
        "cy@example.com,Cy,,,,1,2025-01-01 10:00:00,,,,,,,,,,,2026-02-01 10:00:00,2026-02-01 10:00:00,"
        "Spring,c1,,,,\n"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("subscribed_members_export_9f8e7d.csv", subscribed)
        archive.writestr("unsubscribed_members_export_9f8e7d.csv", "\ufeff" + unsubscribed)
        archive.writestr("cleaned_members_export_9f8e7d.csv", cleaned.encode("cp1252"))
    return buffer.getvalue()


def test_mailchimp_zip_loads_each_list_with_status_and_zone(exports):
    exports.sources("sources:\n  mailchimp:\n    time_zone: Europe/Berlin\n")
    exports.write("mailchimp/audience_export.zip", _mailchimp_zip())
    report = exports.ingest()
    res = result_for(report, "mailchimp/audience_export.zip")
    assert (res.format, res.rows_read, res.rows_loaded, res.rows_quarantined) == ("mailchimp_zip", 3, 3, 0)
    rows = exports.rows(
        "SELECT list_status, source_record_id, optin_at, confirm_at, unsubscribed_at, unsub_reason, "
        "cleaned_at, tags, _source_member FROM raw_email_audience ORDER BY email"
    )
    # 29 March 2026 in Berlin: 01:30 is CET (UTC+1), 03:30 is CEST (UTC+2).
    assert rows[0][:4] == ("subscribed", "111", datetime(2026, 3, 29, 0, 30), datetime(2026, 3, 29, 1, 30))
    assert rows[0][7:] == ("vip,beta", "subscribed_members_export_9f8e7d.csv")
    assert rows[1][0] == "unsubscribed" and rows[1][4:6] == (datetime(2026, 2, 1, 9), "NO_LONGER_INTERESTED")
    assert (
        rows[2][0] == "cleaned" and rows[2][1] == "cy@example.com" and rows[2][6] == datetime(2026, 2, 1, 9)
    )


def test_unzipped_mailchimp_csv_takes_its_status_from_the_name(exports):
    with zipfile.ZipFile(io.BytesIO(_mailchimp_zip())) as archive:
        exports.write(
            "mailchimp/unsubscribed_members_export_9f8e7d.csv",
            archive.read("unsubscribed_members_export_9f8e7d.csv"),
        )
    report = exports.ingest()
    assert (
        result_for(report, "mailchimp/unsubscribed_members_export_9f8e7d.csv").format == "mailchimp_members"
    )
    assert exports.rows("SELECT list_status, email FROM raw_email_audience") == [
        ("unsubscribed", "bo@example.com")
    ]
