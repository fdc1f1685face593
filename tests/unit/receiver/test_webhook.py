"""POST /sendgrid/events on a real uvicorn server: SendGrid's own signed request (tests/fixtures/sendgrid_webhook)
is stored byte for byte before the 2xx; another key, a changed body, a stale or future timestamp, missing or
garbage headers are refused with 403 and write nothing; an oversized body gets 413, a signed non-JSON body 400."""

from __future__ import annotations

import json
import logging

import pytest

from pipelines.lib.receiver.app import InvalidPublicKey, create_app
from pipelines.lib.receiver_contract import ReceiverSettings
from tests.receiver_helpers import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    UNSUBSCRIBE_SECRET,
    ServerThread,
    Signer,
    files_under,
    real_signed_request,
    request,
)

SIGNED = real_signed_request()
TOLERANCE = 300


def serve(tmp_path, public_key: str, now: float | None = None, **settings):
    clock = (lambda: now) if now is not None else None
    kwargs = {"clock": clock} if clock else {}
    app = create_app(
        tmp_path,
        public_key,
        UNSUBSCRIBE_SECRET,
        ReceiverSettings(timestamp_tolerance_seconds=TOLERANCE, **settings),
        **kwargs,
    )
    return ServerThread(app)


def at_signing_time() -> float:
    return int(SIGNED.timestamp) + 10


def test_real_signed_payload_is_stored_byte_for_byte(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="touchplan.receiver")
    with serve(tmp_path, SIGNED.public_key, now=at_signing_time()) as srv:
        resp = request(srv.port, "POST", "/sendgrid/events", SIGNED.body, SIGNED.headers())
    assert resp.status == 200
    stored = files_under(tmp_path / "webhook")
    assert len(stored) == 1
    path = stored[0]
    # <exports>/webhook/sendgrid/<UTC date of receipt>/<sha256 of the body>.json, the bytes SendGrid signed
    assert path.relative_to(tmp_path).parts[:3] == ("webhook", "sendgrid", "2020-09-14")
    assert path.read_bytes() == SIGNED.body
    assert SIGNED.body.endswith(b"\r\n")
    # counts in the log, never the address
    assert "1 event(s) stored" in caplog.text
    assert "hello@world.com" not in caplog.text


@pytest.mark.parametrize(
    "case",
    ["other_key", "changed_body", "appended_byte", "stale", "future", "no_signature", "garbage_signature"],
)
def test_unverifiable_requests_get_403_and_write_nothing(tmp_path, case):
    key, now, body, headers = SIGNED.public_key, at_signing_time(), SIGNED.body, SIGNED.headers()
    if case == "other_key":
        key = SIGNED.other_public_key
    elif case == "changed_body":
        body = body.replace(b"Bounced Address", b"Bounced Adress!")
    elif case == "appended_byte":
        body = body + b" "
    elif case == "stale":
        now = int(SIGNED.timestamp) + TOLERANCE + 1
    elif case == "future":
        now = int(SIGNED.timestamp) - TOLERANCE - 1
    elif case == "no_signature":
        del headers[SIGNATURE_HEADER]
    elif case == "garbage_signature":
        headers[SIGNATURE_HEADER] = "not base64 at all!"
    with serve(tmp_path, key, now=now) as srv:
        resp = request(srv.port, "POST", "/sendgrid/events", body, headers)
    assert resp.status == 403
    assert files_under(tmp_path) == []


def test_timestamp_at_the_edge_of_the_tolerance_is_accepted(tmp_path):
    with serve(tmp_path, SIGNED.public_key, now=int(SIGNED.timestamp) + TOLERANCE) as srv:
        resp = request(srv.port, "POST", "/sendgrid/events", SIGNED.body, SIGNED.headers())
    assert resp.status == 200
    assert len(files_under(tmp_path)) == 1


def test_body_over_the_limit_gets_413_and_writes_nothing(tmp_path):
    signer = Signer()
    body = json.dumps([{"email": "a@b.example", "event": "open", "pad": "x" * 2000}]).encode()
    with serve(tmp_path, signer.public_key, max_body_bytes=1024) as srv:
        resp = request(srv.port, "POST", "/sendgrid/events", body, signer.headers(body))
        small = b'[{"email": "a@b.example", "event": "open"}]'
        ok = request(srv.port, "POST", "/sendgrid/events", small, signer.headers(small))
    assert resp.status == 413
    assert ok.status == 200
    assert [p.read_bytes() for p in files_under(tmp_path)] == [small]


@pytest.mark.parametrize("body", [b"not json", b'{"email": "a@b.example"}', b"[1, 2]", b"\xff\xfe["])
def test_signed_body_that_is_not_a_json_array_of_events_is_refused(tmp_path, body):
    """A correct signature over something that is not a JSON array of objects: 400 (or 403 when the bytes are
    not UTF-8 and so cannot be the signed text); nothing is written either way."""
    signer = Signer()
    with serve(tmp_path, signer.public_key) as srv:
        resp = request(srv.port, "POST", "/sendgrid/events", body, signer.headers(body))
    assert resp.status == (403 if body.startswith(b"\xff") else 400)
    assert files_under(tmp_path) == []


def test_replays_of_the_same_body_are_stored_once(tmp_path):
    with serve(tmp_path, SIGNED.public_key, now=at_signing_time()) as srv:
        statuses = [
            request(srv.port, "POST", "/sendgrid/events", SIGNED.body, SIGNED.headers()).status
            for _ in range(3)
        ]
    assert statuses == [200, 200, 200]
    assert len(files_under(tmp_path)) == 1


def test_get_is_not_allowed_and_healthz_answers(tmp_path):
    with serve(tmp_path, SIGNED.public_key) as srv:
        assert request(srv.port, "GET", "/sendgrid/events").status == 405
        health = request(srv.port, "GET", "/healthz")
    assert health.status == 200
    assert json.loads(health.body) == {"status": "ok"}


def test_healthz_reports_an_unwritable_webhook_folder(tmp_path):
    blocked = tmp_path / "exports"
    blocked.mkdir()
    (blocked / "webhook").write_text("a file where the folder should be")
    with serve(blocked, SIGNED.public_key) as srv:
        assert request(srv.port, "GET", "/healthz").status == 503


def test_a_malformed_public_key_is_a_clear_error(tmp_path):
    with pytest.raises(InvalidPublicKey, match="SENDGRID_WEBHOOK_PUBLIC_KEY"):
        create_app(tmp_path, "not-a-key", UNSUBSCRIBE_SECRET)


def test_headers_are_the_ones_sendgrid_sends():
    assert SIGNATURE_HEADER in SIGNED.headers() and TIMESTAMP_HEADER in SIGNED.headers()
