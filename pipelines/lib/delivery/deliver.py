"""The delivery stage as one call: lock, guard, reconcile, select what is due, deliver each channel, report.

Order of a run: take the sender lock (one delivery at a time, `lock.py`); for a real send check the sending guard
(`guard.py`); reconcile what an earlier run left `in_flight` (`sender.reconcile_in_flight`); then deliver.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines.lib.delivery import channels, sender
from pipelines.lib.delivery.config import PLACEHOLDER_TEMPLATE_ID, DeliveryConfig, load_delivery_config
from pipelines.lib.delivery.guard import check_guard
from pipelines.lib.delivery.ledger import ensure_ledger
from pipelines.lib.delivery.lock import sender_lock
from pipelines.lib.settings import ENV_FORCE_SEND, Settings

log = logging.getLogger("touchplan.delivery")

FORCE_SEND_ENV = (
    ENV_FORCE_SEND  # `touchplan run --force-send` (Settings.force_send): override the sending guard
)


@dataclass
class DeliveryReport:
    mode: str  # dry_run | send
    outbox: Path
    counts: Counter = field(default_factory=Counter)  # (channel, status) -> sends handled in this run
    already_sent: int = 0  # planned sends skipped because the ledger has them as accepted
    requests: int = 0  # SendGrid mail/send requests built (posted in a real run)
    reconciled_by_events: int = 0  # in_flight sends settled accepted from ingested SendGrid events
    reconciled_by_cancel: int = 0  # in_flight sends whose batch was cancelled, then sent again
    unresolved: int = 0  # in_flight after this run: never resent silently (touchplan deliveries --unresolved)
    skipped_failed_permanent: int = 0  # planned sends SendGrid refused before: not retried
    waiting: int = 0  # beyond SendGrid's 72 h scheduling window: left for a later run
    unknown_channels: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # outbox-relative paths written in this run
    stopped_on_auth_error: bool = False  # SendGrid answered 401/403: the remaining emails were not attempted
    plan_run_id: str | None = None  # the plan run delivered (the latest that passed the blocking checks)
    plan_run_held_back: str | None = None  # why the latest plan run is not the one delivered; None when it is

    def count(self, channel: str | None = None, status: str | None = None) -> int:
        return sum(
            n
            for (c, s), n in self.counts.items()
            if (channel is None or c == channel) and (status is None or s == status)
        )

    def as_metadata(self) -> dict[str, Any]:
        """Counts and paths only: no personal data, no key."""
        meta: dict[str, Any] = {
            "mode": self.mode,
            "outbox": str(self.outbox),
            "already_sent": self.already_sent,
            "waiting_for_window": self.waiting,
            "files_written": len(self.files),
            "stopped_on_auth_error": self.stopped_on_auth_error,
            "requests": self.requests,
            "reconciled_by_events": self.reconciled_by_events,
            "reconciled_by_cancel": self.reconciled_by_cancel,
            "unresolved": self.unresolved,
            "skipped_failed_permanent": self.skipped_failed_permanent,
            "plan_run_id": self.plan_run_id or "",
            "plan_run_held_back": self.plan_run_held_back or "",
        }
        for (channel, status), n in sorted(self.counts.items()):
            meta[f"{channel}.{status}"] = n
        for channel, n in sorted(self.unknown_channels.items()):
            meta[f"unknown_channel.{channel}"] = n
        return meta

    def summary(self) -> str:
        parts = [f"{c} {s}: {n}" for (c, s), n in sorted(self.counts.items())] or ["nothing to deliver"]
        return (
            f"delivery ({self.mode}): "
            + ", ".join(parts)
            + f"; already accepted: {self.already_sent}; requests: {self.requests}; unresolved: {self.unresolved}"
            + f"; outbox: {self.outbox}"
            + (f"; plan run {self.plan_run_id}" if self.plan_run_id else "")
            + (f"; NOT SENT: {self.plan_run_held_back}" if self.plan_run_held_back else "")
        )


class PlaceholderTemplateError(ValueError):
    """A real send would use the demo's placeholder template id."""


def check_templates(con: duckdb.DuckDBPyConnection, config: DeliveryConfig, *, real: bool) -> list[str]:
    """The SendGrid template ids the pending emails resolve to; a real send refuses the demo's placeholder (one
    line naming the campaigns), a dry run says it is using it."""
    placeholders = ", ".join(f"'{c}'" for c in channels.EMAIL_CHANNELS)
    pairs = con.execute(
        f"SELECT DISTINCT campaign_id, template_id FROM {channels.PENDING} WHERE channel IN ({placeholders}) "
        "ORDER BY ALL"
    ).fetchall()
    using = sorted({c for c, t in pairs if config.sendgrid_template_id(c, t) == PLACEHOLDER_TEMPLATE_ID})
    if using and real:
        raise PlaceholderTemplateError(
            f"delivery.yaml: campaign(s) {', '.join(using)} resolve to the placeholder template id "
            f"{PLACEHOLDER_TEMPLATE_ID}: set your SendGrid dynamic template ids under `templates` before a real send"
        )
    if using:
        log.warning(
            "dry run with the demo's placeholder SendGrid template id for campaign(s) %s: a real send refuses it",
            ", ".join(using),
        )
    return using


def deliver(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    send: bool,
    *,
    config: DeliveryConfig | None = None,
    client: Any = None,
    sleep: Callable[[float], None] = time.sleep,
    force_send: bool | None = None,
) -> DeliveryReport:
    """Deliver every planned send not yet sent; a real send needs `send` and `settings.sending_enabled`.

    `force_send` overrides the sending guard (default: `settings.force_send`: `--force-send`, or
    TOUCHPLAN_FORCE_SEND in the Dagster UI's environment).
    """
    config = config or load_delivery_config(settings.config_dir)
    real = bool(send and settings.sending_enabled)
    outbox = settings.outbox
    outbox.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)  # SendGrid's scheduling window is about the real clock, not the as-of time
    report = DeliveryReport(mode="send" if real else "dry_run", outbox=outbox)
    if send and not real:
        log.info("--send given but SENDGRID_API_KEY is not set: dry run")

    if force_send is None:
        force_send = settings.force_send
    with sender_lock(settings.warehouse):
        ensure_ledger(con)
        if real:
            check_guard(con, config, now, force=force_send)
            if (
                client is None
                and con.execute(
                    "SELECT count(*) FROM send_ledger WHERE status = 'in_flight' AND batch_id IS NOT NULL"
                ).fetchone()[0]
            ):
                client = channels.sendgrid_client(config)
        reconciled = sender.reconcile_in_flight(
            con, config, now=now, client=client if real else None, sleep=sleep
        )
        report.reconciled_by_events = reconciled.by_events
        report.reconciled_by_cancel = reconciled.cancelled
        choice = channels.choose_plan_run(con)
        if choice is not None:
            report.plan_run_id, report.plan_run_held_back = choice.plan_run_id, choice.held_back
            if choice.held_back:
                log.warning("delivery: %s", choice.held_back)
        pending = channels.select_pending(con)
        report.already_sent = channels.already_sent_count(con)
        report.skipped_failed_permanent = channels.skipped_counts(con).get("failed_permanent", 0)
        report.unknown_channels = dict(channels.unknown_channels(con))
        check_templates(con, config, real=real)
        log.info("delivery: %d planned sends pending, %d already accepted", pending, report.already_sent)

        results = [
            channels.deliver_emails(con, outbox, config, send=real, now=now, client=client, sleep=sleep),
            channels.deliver_sales_tasks(con, outbox, config, send=real),
            channels.deliver_audience_files(con, outbox, config, send=real),
        ]
        for result in results:
            report.counts.update(result.counts)
            report.files.extend(result.files)
            report.waiting += result.waiting
            report.requests += result.requests
            report.stopped_on_auth_error |= result.stopped
        report.unresolved = con.execute(
            "SELECT count(*) FROM send_ledger WHERE status = 'in_flight'"
        ).fetchone()[0]
    log.info(report.summary())
    return report
