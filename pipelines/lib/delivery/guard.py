"""The sending guard: no real send while our own SendGrid events show a complaint or bounce spike.

Rates over the last `sending_guard.window_days` (7) of ingested SendGrid events (`raw_email_events`, each event
counted once by `sg_event_id`, else by its content):

- spam-complaint rate = spamreport / delivered; blocked at >= `max_spam_rate` (0.3%, Gmail's and Yahoo's limit);
- bounce rate = bounce / (delivered + bounce); blocked above `max_bounce_rate`.

`sending_guard.override: true` or `touchplan run --send --force-send` sends anyway; the override is logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from pipelines.lib.delivery.config import DeliveryConfig

log = logging.getLogger("touchplan.delivery")


class SendingBlockedError(RuntimeError):
    """The guard stopped the send (the message says why and how to override)."""


@dataclass(frozen=True)
class GuardReading:
    delivered: int
    spam_reports: int
    bounces: int
    window_days: int

    @property
    def spam_rate(self) -> float | None:
        return self.spam_reports / self.delivered if self.delivered else None

    @property
    def bounce_rate(self) -> float | None:
        total = self.delivered + self.bounces
        return self.bounces / total if total else None

    def problems(self, config: DeliveryConfig) -> list[str]:
        guard = config.sending_guard
        found = []
        if self.spam_rate is not None and self.spam_rate >= guard.max_spam_rate:
            found.append(
                f"spam-complaint rate {self.spam_rate:.2%} ({self.spam_reports} spamreport / {self.delivered} "
                f"delivered) >= {guard.max_spam_rate:.2%}"
            )
        if self.bounce_rate is not None and self.bounce_rate > guard.max_bounce_rate:
            found.append(
                f"bounce rate {self.bounce_rate:.2%} ({self.bounces} bounces / "
                f"{self.delivered + self.bounces}) > {guard.max_bounce_rate:.2%}"
            )
        return found


def read_guard(con: duckdb.DuckDBPyConnection, config: DeliveryConfig, now: datetime) -> GuardReading:
    window = config.sending_guard.window_days
    columns = {
        name
        for (name,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'raw_email_events' "
            "AND table_schema = current_schema()"
        ).fetchall()
    }
    if not {"event", "occurred_at"} <= columns:
        return GuardReading(0, 0, 0, window)
    since = now.replace(tzinfo=None) - timedelta(days=window)
    source = "AND source_system = 'sendgrid'" if "source_system" in columns else ""
    event_key = (
        "coalesce(nullif(trim(event_id), ''), md5(CAST(payload AS VARCHAR)))"
        if {
            "event_id",
            "payload",
        }
        <= columns
        else "NULL"
    )
    delivered, spam, bounces = con.execute(
        f"""
        WITH events AS (
            SELECT DISTINCT {event_key} AS k, lower(trim(event)) AS event
            FROM raw_email_events
            WHERE CAST(occurred_at AS TIMESTAMP) >= $since AND CAST(occurred_at AS TIMESTAMP) <= $now {source}
        )
        SELECT count(*) FILTER (WHERE event = 'delivered'), count(*) FILTER (WHERE event = 'spamreport'),
               count(*) FILTER (WHERE event = 'bounce')
        FROM events
        """,
        {"since": since, "now": now.replace(tzinfo=None)},
    ).fetchone()
    return GuardReading(int(delivered), int(spam), int(bounces), window)


def check_guard(
    con: duckdb.DuckDBPyConnection, config: DeliveryConfig, now: datetime, *, force: bool
) -> GuardReading:
    """Raise SendingBlockedError with the reason, unless nothing is wrong or the operator overrides it."""
    reading = read_guard(con, config, now)
    problems = reading.problems(config)
    if not problems:
        return reading
    reason = "; ".join(problems)
    if force or config.sending_guard.override:
        how = "--force-send" if force else "sending_guard.override in delivery.yaml"
        log.warning("sending guard overridden by %s: %s (last %d days)", how, reason, reading.window_days)
        return reading
    raise SendingBlockedError(
        f"sending guard: nothing sent: {reason} over the last {reading.window_days} days of SendGrid events; "
        "fix the list or override with --force-send"
    )
