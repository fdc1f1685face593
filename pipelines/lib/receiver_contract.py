"""What delivery and the receiver (`touchplan serve`) share, in a module of neither package so that neither
imports the other (issue #18): the one-click unsubscribe token and the receiver's limits.

One-click unsubscribe tokens (RFC 8058): an HMAC of the send id, so the URL carries no personal data. The token is
`<send_id>.<signature>`, where the signature is the first 32 hex characters of HMAC-SHA256(secret, send_id). The
secret comes only from the environment (`TOUCHPLAN_UNSUBSCRIBE_SECRET`); the sender builds the `List-Unsubscribe`
URL with `unsubscribe_url`, and the receiver checks it with `verify_token`, which gives back the send id (and from
the ledger, the customer and the subscription group).

ReceiverSettings: `receiver:` in config/delivery.yaml, validated with the rest of that file by the delivery config
and read by the receiver app.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re

from pydantic import BaseModel, ConfigDict, Field

SECRET_ENV = "TOUCHPLAN_UNSUBSCRIBE_SECRET"
_SIGNATURE_CHARS = 32  # 128 bits of HMAC-SHA256: enough against guessing, short enough for a header
_SEND_ID = re.compile(r"^[0-9a-f]{8,64}$")


class MissingSecretError(RuntimeError):
    pass


def unsubscribe_secret(environ: dict[str, str] | None = None) -> bytes:
    """The HMAC key from the environment; a clear one-line error when it is not set."""
    value = (environ if environ is not None else os.environ).get(SECRET_ENV, "")
    if len(value) < 16:
        raise MissingSecretError(
            f"{SECRET_ENV} is not set (or shorter than 16 characters): one-click unsubscribe links need it"
        )
    return value.encode()


def _signature(send_id: str, secret: bytes) -> str:
    return hmac.new(secret, send_id.encode(), hashlib.sha256).hexdigest()[:_SIGNATURE_CHARS]


def make_token(send_id: str, secret: bytes) -> str:
    if not _SEND_ID.match(send_id):
        raise ValueError(f"{send_id!r} is not a send id")
    return f"{send_id}.{_signature(send_id, secret)}"


def verify_token(token: str, secret: bytes) -> str | None:
    """The send id a valid token names, else None (wrong secret, changed id, malformed)."""
    send_id, _, signature = token.partition(".")
    if not _SEND_ID.match(send_id) or len(signature) != _SIGNATURE_CHARS:
        return None
    return send_id if hmac.compare_digest(signature, _signature(send_id, secret)) else None


def unsubscribe_url(base_url: str, send_id: str, secret: bytes) -> str:
    """`https://host/unsubscribe/<token>`: the receiver's path for both the one-click POST and the GET page."""
    return f"{base_url.rstrip('/')}/unsubscribe/{make_token(send_id, secret)}"


class ReceiverSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # A signed request whose X-Twilio-Email-Event-Webhook-Timestamp is further than this from now (either way) is
    # refused: a captured request cannot be replayed later. SendGrid signs at send time; 5 minutes is the usual bound.
    timestamp_tolerance_seconds: int = Field(default=300, ge=10, le=86_400)
    # Largest request body accepted (413 above); SendGrid batches events into POSTs of bounded size.
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)
