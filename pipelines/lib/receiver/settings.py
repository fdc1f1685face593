"""The receiver's secrets (from the environment only) and folders; its limits (`receiver:` in config/delivery.yaml)
are pipelines.lib.receiver_contract.ReceiverSettings."""

from __future__ import annotations

import os
from pathlib import Path

# The verification key of SendGrid's signed Event Webhook (Settings -> Mail Settings -> Event Webhook ->
# Signature Verification): the base64 DER public key SendGrid shows, without PEM armour.
PUBLIC_KEY_ENV = "SENDGRID_WEBHOOK_PUBLIC_KEY"

# Below the exports folder: ingest reads both folders like any export (docs/formats.md, "Webhook files").
WEBHOOK_DIR = "webhook"
SENDGRID_DIR = "sendgrid"
UNSUBSCRIBE_DIR = "unsubscribe"


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
