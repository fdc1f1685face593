"""Helpers for the receiver tests: the real signed SendGrid request, our own signing key, a real uvicorn server
in a thread, and plain HTTP requests (http.client: nothing between the test and the socket)."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "sendgrid_webhook"
SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
UNSUBSCRIBE_SECRET = b"test-secret-of-at-least-16-chars"


@dataclass(frozen=True)
class SignedRequest:
    body: bytes
    signature: str
    timestamp: str
    public_key: str
    other_public_key: str

    def headers(self) -> dict[str, str]:
        return {
            SIGNATURE_HEADER: self.signature,
            TIMESTAMP_HEADER: self.timestamp,
            "Content-Type": "application/json",
        }


def real_signed_request() -> SignedRequest:
    """SendGrid's own signed example (tests/fixtures/sendgrid_webhook, from sendgrid-python), bytes exact."""
    meta = json.loads((FIXTURES / "signed_webhook_payload.headers.json").read_text())
    return SignedRequest(
        body=(FIXTURES / "signed_webhook_payload.json").read_bytes(),
        signature=meta[SIGNATURE_HEADER],
        timestamp=meta[TIMESTAMP_HEADER],
        public_key=meta["verification_public_key"],
        other_public_key=meta["other_public_key_must_fail"],
    )


class Signer:
    """An ECDSA P-256 key pair signing like SendGrid: base64 DER signature of SHA-256(timestamp + body)."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(der).decode()

    def headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = self._key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            SIGNATURE_HEADER: base64.b64encode(signature).decode(),
            TIMESTAMP_HEADER: stamp,
            "Content-Type": "application/json",
        }


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str]


def request(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> Response:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return Response(resp.status, resp.read(), {k.lower(): v for k, v in resp.getheaders()})
    finally:
        conn.close()


class ServerThread:
    """A real uvicorn server for `app` on a free loopback port, in a background thread."""

    def __init__(self, app) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def files_under(folder: Path) -> list[Path]:
    """Every file below `folder`, hidden temporary files included."""
    return sorted(p for p in Path(folder).rglob("*") if p.is_file()) if Path(folder).exists() else []
