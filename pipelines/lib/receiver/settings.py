"""The receiver's settings: `receiver:` in config/delivery.yaml (limits), secrets from the environment only."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

# The verification key of SendGrid's signed Event Webhook (Settings -> Mail Settings -> Event Webhook ->
# Signature Verification): the base64 DER public key SendGrid shows, without PEM armour.
PUBLIC_KEY_ENV = "SENDGRID_WEBHOOK_PUBLIC_KEY"

# Below the exports folder: ingest reads both folders like any export (docs/formats.md, "Webhook files").
WEBHOOK_DIR = "webhook"
SENDGRID_DIR = "sendgrid"
UNSUBSCRIBE_DIR = "unsubscribe"


class ReceiverSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # A signed request whose X-Twilio-Email-Event-Webhook-Timestamp is further than this from now (either way) is
    # refused: a captured request cannot be replayed later. SendGrid signs at send time; 5 minutes is the usual bound.
    timestamp_tolerance_seconds: int = Field(default=300, ge=10, le=86_400)
    # Largest request body accepted (413 above); SendGrid batches events into POSTs of bounded size.
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)


class MissingReceiverSecret(RuntimeError):
    pass


def webhook_public_key(environ: dict[str, str] | None = None) -> str:
    value = (environ if environ is not None else os.environ).get(PUBLIC_KEY_ENV, "").strip()
    if not value:
        raise MissingReceiverSecret(
            f"{PUBLIC_KEY_ENV} is not set: the receiver verifies SendGrid's signed Event Webhook with it "
            "(SendGrid: Settings > Mail Settings > Event Webhook > Signature Verification)"
        )
    return value


def sendgrid_folder(exports: Path) -> Path:
    return Path(exports) / WEBHOOK_DIR / SENDGRID_DIR


def unsubscribe_folder(exports: Path) -> Path:
    return Path(exports) / WEBHOOK_DIR / UNSUBSCRIBE_DIR
