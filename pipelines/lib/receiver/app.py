"""`touchplan serve`: the ASGI app (Starlette) that takes events and unsubscribes back from the outside world.

- `POST /sendgrid/events`: SendGrid's signed Event Webhook. The ECDSA signature over timestamp + body is checked
  with the `sendgrid` library's `EventWebhook` helper against the public key from the environment; a missing or
  wrong signature, a body that is not the one signed, or a timestamp further than the configured tolerance from
  now is refused with 403 and nothing is written. A body over the size limit gets 413. A correctly signed body that
  is not a JSON array of objects gets 400 (SendGrid never sends one; nothing is written). Otherwise the raw body,
  byte for byte, is written durably (pipelines/lib/receiver/store.py) to
  `<exports>/webhook/sendgrid/<UTC date>/<sha256 of the body, 32 hex>.json` BEFORE the 200 goes out, so an
  answered request is never lost; a replay of the same body finds its file and writes nothing new.
- `GET /unsubscribe/<token>`: a confirmation page whose button POSTs to the same URL. The GET alone changes
  nothing (mail scanners prefetch links).
- `POST /unsubscribe/<token>`: RFC 8058 one-click (body `List-Unsubscribe=One-Click`, urlencoded or multipart).
  The token (pipelines/lib/receiver_contract.py) is checked; an invalid one gets 404 and nothing is written.
  A valid one is written durably as `<exports>/webhook/unsubscribe/<UTC date>/<send_id>.json` (send id, time,
  method; no personal data) before the answer; the next pipeline run ingests it and turns it into an unsubscribe
  of that send's subscription group for its customer.
- `GET /healthz`: 200 when the webhook folder is writable, else 503.

Logs carry counts and outcomes, never addresses, tokens or send ids (the access log is off: it would print URLs,
which carry tokens, and client IPs).
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import html
import json
import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs

from sendgrid.helpers.eventwebhook import EventWebhook
from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from pipelines.lib.receiver.settings import sendgrid_folder, unsubscribe_folder
from pipelines.lib.receiver.store import ensure_folder, write_durably
from pipelines.lib.receiver_contract import ReceiverSettings, verify_token

log = logging.getLogger("touchplan.receiver")

SIGNATURE_HEADER = EventWebhookHeader.SIGNATURE  # X-Twilio-Email-Event-Webhook-Signature
TIMESTAMP_HEADER = EventWebhookHeader.TIMESTAMP  # X-Twilio-Email-Event-Webhook-Timestamp
UNSUBSCRIBE_BODY_LIMIT = 16 * 1024  # a one-click body is 26 bytes; a multipart one a few hundred
RECORD_MARKER = "touchplan_unsubscribe"  # the key ingest recognises an unsubscribe request file by


class BodyTooLarge(Exception):
    pass


class InvalidPublicKey(ValueError):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (BodyTooLarge) as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def is_one_click(content_type: str, body: bytes) -> bool:
    """RFC 8058: the POST carries `List-Unsubscribe=One-Click`, as application/x-www-form-urlencoded or
    multipart/form-data."""
    if content_type.lower().startswith("multipart/form-data"):
        parser = email.parser.BytesParser(policy=email.policy.HTTP)
        message = parser.parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
        if not message.is_multipart():
            return False
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == "List-Unsubscribe":
                return part.get_content().strip() == "One-Click"
        return False
    try:
        fields = parse_qs(body.decode("ascii"), keep_blank_values=True)
    except UnicodeDecodeError:
        return False
    return fields.get("List-Unsubscribe") == ["One-Click"]


def _page(title: str, text: str, status: int = 200, form: bool = False) -> HTMLResponse:
    button = (
        '<form method="post">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<input type="hidden" name="source" value="page">'
        '<button type="submit">Unsubscribe</button></form>'
        if form
        else ""
    )
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="robots" content="noindex,nofollow">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>{button}</body></html>"
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def create_app(
    exports: Path,
    public_key: str,
    unsubscribe_secret: bytes,
    settings: ReceiverSettings | None = None,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    settings = settings or ReceiverSettings()
    try:
        verifier = EventWebhook(public_key)
    except Exception as exc:  # noqa: BLE001 - cryptography raises several types for a malformed key
        raise InvalidPublicKey(
            "SENDGRID_WEBHOOK_PUBLIC_KEY is not a valid ECDSA public key (base64 DER, as SendGrid shows it)"
        ) from exc
    exports = Path(exports)

    def today() -> str:
        return datetime.fromtimestamp(clock(), UTC).strftime("%Y-%m-%d")

    async def sendgrid_events(request: Request) -> Response:
        signature = request.headers.get(SIGNATURE_HEADER, "")
        stamp = request.headers.get(TIMESTAMP_HEADER, "")
        if not signature or not stamp.isdigit():
            log.warning("sendgrid events: refused (403): no signature or timestamp header")
            return PlainTextResponse("forbidden\n", status_code=403)
        if abs(clock() - int(stamp)) > settings.timestamp_tolerance_seconds:
            log.warning("sendgrid events: refused (403): timestamp outside the tolerance")
            return PlainTextResponse("forbidden\n", status_code=403)
        try:
            body = await read_body(request, settings.max_body_bytes)
        except BodyTooLarge:
            log.warning("sendgrid events: refused (413): body over %d bytes", settings.max_body_bytes)
            return PlainTextResponse("payload too large\n", status_code=413)
        try:
            verified = verifier.verify_signature(body.decode("utf-8"), signature, stamp)
        except Exception:  # noqa: BLE001 - undecodable body or signature (base64, DER): not verified
            verified = False
        if not verified:
            log.warning("sendgrid events: refused (403): signature does not verify")
            return PlainTextResponse("forbidden\n", status_code=403)
        try:
            events = json.loads(body)
        except ValueError:
            events = None
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            log.warning("sendgrid events: refused (400): signed body is not a JSON array of events")
            return PlainTextResponse("body is not a JSON array of events\n", status_code=400)
        if not events:
            return PlainTextResponse("ok\n")
        name = hashlib.sha256(body).hexdigest()[:32] + ".json"
        try:
            _, written = await run_in_threadpool(
                write_durably, sendgrid_folder(exports) / today(), name, body
            )
        except OSError as exc:
            log.error("sendgrid events: could not store %d event(s): %s", len(events), type(exc).__name__)
            return PlainTextResponse("not stored, retry later\n", status_code=503)
        log.info(
            "sendgrid events: %d event(s) %s", len(events), "stored" if written else "already stored (replay)"
        )
        return PlainTextResponse("ok\n")

    async def unsubscribe(request: Request) -> Response:
        send_id = verify_token(request.path_params["token"], unsubscribe_secret)
        if send_id is None:
            log.warning("unsubscribe: invalid token (404)")
            return _page("Link not valid", "This unsubscribe link is not valid.", status=404)
        if request.method in ("GET", "HEAD"):
            return _page(
                "Unsubscribe",
                "Press the button to stop receiving these emails.",
                form=True,
            )
        try:
            body = await read_body(request, UNSUBSCRIBE_BODY_LIMIT)
        except BodyTooLarge:
            return PlainTextResponse("payload too large\n", status_code=413)
        if not is_one_click(request.headers.get("content-type", ""), body):
            log.warning("unsubscribe: refused (400): body is not List-Unsubscribe=One-Click")
            return PlainTextResponse("expected List-Unsubscribe=One-Click\n", status_code=400)
        from_page = b"source=page" in body
        now = datetime.fromtimestamp(clock(), UTC)
        record = {
            RECORD_MARKER: 1,
            "send_id": send_id,
            "requested_at": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "method": "confirmation_page" if from_page else "one_click",
        }
        data = (json.dumps(record, separators=(",", ":")) + "\n").encode()
        try:
            _, written = await run_in_threadpool(
                write_durably, unsubscribe_folder(exports) / today(), f"{send_id}.json", data
            )
        except OSError as exc:
            log.error("unsubscribe: could not store the request: %s", type(exc).__name__)
            return PlainTextResponse("not stored, retry later\n", status_code=503)
        log.info(
            "unsubscribe: 1 request %s (%s)", "stored" if written else "already stored", record["method"]
        )
        return _page("Unsubscribed", "You will not receive these emails any more.")

    async def healthz(request: Request) -> Response:
        folder = exports / "webhook"
        try:
            await run_in_threadpool(ensure_folder, folder)
            writable = folder.is_dir() and os.access(folder, os.W_OK)
        except OSError:
            writable = False
        if not writable:
            return JSONResponse({"status": "webhook folder not writable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/sendgrid/events", sendgrid_events, methods=["POST"]),
            Route("/unsubscribe/{token}", unsubscribe, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
