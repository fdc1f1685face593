"""`touchplan serve`: the receiver of SendGrid's signed Event Webhook and of one-click unsubscribes (an ASGI app
on uvicorn). It listens on 127.0.0.1:8080 by default; in production put it behind a reverse proxy that terminates
TLS (docs/delivery.md, "The receiver")."""

from __future__ import annotations

import argparse
import logging
import sys

from pipelines.commands.common import (
    CommandError,
    add_config_option,
    add_exports_option,
    settings_from_args,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="receive SendGrid's signed Event Webhook and one-click unsubscribes into the exports folder",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    add_exports_option(parser)
    add_config_option(parser)
    parser.set_defaults(func=serve_command)


def _receiver_logging() -> None:
    """The receiver's own lines (counts and outcomes, no personal data) at INFO on stderr."""
    logger = logging.getLogger("touchplan.receiver")
    if not any(getattr(h, "touchplan_receiver", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        handler.touchplan_receiver = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def serve_command(args: argparse.Namespace) -> int:
    import uvicorn

    from pipelines.lib.delivery.config import load_delivery_config
    from pipelines.lib.receiver.app import InvalidPublicKey, create_app
    from pipelines.lib.receiver.settings import MissingReceiverSecret, webhook_public_key
    from pipelines.lib.receiver_contract import MissingSecretError, unsubscribe_secret

    if not 0 < args.port < 65536:
        raise CommandError(f"--port {args.port}: not a TCP port")
    settings = settings_from_args(args)
    config = load_delivery_config(settings.config_dir)
    try:
        app = create_app(
            settings.exports, webhook_public_key(), unsubscribe_secret(), settings=config.receiver
        )
    except (MissingReceiverSecret, MissingSecretError, InvalidPublicKey) as exc:
        raise CommandError(str(exc)) from exc
    _receiver_logging()
    print(
        f"touchplan serve: http://{args.host}:{args.port} -> {settings.exports}/webhook "
        "(POST /sendgrid/events, GET|POST /unsubscribe/<token>, GET /healthz)",
        file=sys.stderr,
        flush=True,
    )
    # No access log: it would print URLs (which carry unsubscribe tokens) and client addresses.
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="info", server_header=False)
    return 0
