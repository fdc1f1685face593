"""Files the receiver writes are ordinary exports: ingest reads exports/webhook/sendgrid/ as SendGrid events and
exports/webhook/unsubscribe/ as raw_unsubscribe_requests (bad records quarantined with a reason; counts reconcile),
and never a temporary file still being written."""

from __future__ import annotations

from datetime import datetime

import duckdb

from pipelines.lib.ingest import ingest_folder
from pipelines.lib.receiver.app import create_app
from pipelines.lib.receiver.settings import unsubscribe_folder
from pipelines.lib.receiver_contract import make_token
from tests.receiver_helpers import UNSUBSCRIBE_SECRET, ServerThread, real_signed_request, request

SIGNED = real_signed_request()
SEND_IDS = ["0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"]


def test_receiver_files_ingest_as_events_and_unsubscribe_requests(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    app = create_app(exports, SIGNED.public_key, UNSUBSCRIBE_SECRET, clock=lambda: int(SIGNED.timestamp) + 5)
    with ServerThread(app) as srv:
        assert request(srv.port, "POST", "/sendgrid/events", SIGNED.body, SIGNED.headers()).status == 200
        for send_id in SEND_IDS:
            resp = request(
                srv.port,
                "POST",
                f"/unsubscribe/{make_token(send_id, UNSUBSCRIBE_SECRET)}",
                b"List-Unsubscribe=One-Click",
                {"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert resp.status == 200
    day = unsubscribe_folder(exports) / "2020-09-14"
    # a hand-edited file with a bad record, and a temporary file a writer has not renamed yet
    (day / "broken.json").write_text('{"touchplan_unsubscribe":1,"requested_at":"2026-12-07T08:00:00Z"}\n')
    (day / ".partial.json.1234.tmp").write_text('{"touchplan_unsub')
    con = duckdb.connect()
    report = ingest_folder(con, exports)
    formats = {
        f.path: (f.format, f.status, f.rows_read, f.rows_loaded, f.rows_quarantined) for f in report.files
    }
    assert not any(".tmp" in p for p in formats)
    assert formats["webhook/unsubscribe/2020-09-14/broken.json"] == (
        "touchplan_unsubscribes",
        "loaded",
        1,
        0,
        1,
    )
    assert sorted(v for k, v in formats.items() if k.startswith("webhook/sendgrid/")) == [
        ("sendgrid_events", "loaded", 1, 1, 0)
    ]
    rows = con.execute(
        "SELECT source_system, send_id, requested_at, method FROM raw_unsubscribe_requests ORDER BY send_id"
    ).fetchall()
    at = datetime(2020, 9, 14, 19, 41, 47)
    assert rows == [("touchplan", s, at, "one_click") for s in SEND_IDS]
    (reason,) = con.execute(
        "SELECT reason FROM ingest_quarantine WHERE target_table = 'raw_unsubscribe_requests'"
    ).fetchone()
    assert "send_id" in reason
    assert con.execute("SELECT count(*) FROM raw_email_events").fetchone()[0] == 1
    assert report.rejected == []
