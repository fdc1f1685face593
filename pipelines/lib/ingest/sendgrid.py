"""SendGrid: Event Webhook payloads (a JSON array as POSTed, or NDJSON, one event per line) and suppression
exports (bounces, blocks, spam reports, invalid emails, global and group unsubscribes) as CSV or JSON.

Quirks handled: `category` is a string or an array; `sg_message_id` is missing on async bounces; blocks arrive as
`event: bounce` with `type: blocked` (kept as such: `bounce_type = 'blocked'`); custom args are merged into the
top level of the event (everything not a standard field goes to `custom_args`).
"""

from __future__ import annotations

import dataclasses
import json

from pipelines.lib.ingest.encoding import read_text
from pipelines.lib.ingest.errors import FileRejected
from pipelines.lib.ingest.formats import FileContext, Format, Sniff, TabularFormat, make_segment, register
from pipelines.lib.ingest.mapping import Col, Segment
from pipelines.lib.ingest.sendgrid_fields import EVENT_HEADERS, STANDARD, not_json_reason, read_json_line
from pipelines.lib.ingest.sendgrid_sql import stage_events_sql
from pipelines.lib.ingest.tabular import Staged, stage_rows

SG = "sendgrid"
# `payload` and `custom_args` are stored as compact JSON (no space after `,` and `:`), which is also DuckDB's own
# minified text of every event the SQL path takes: the SQL path stores the JSON it parsed as is.
COMPACT = (",", ":")
SQL_EVENTS = True  # events parsed by DuckDB where that gives the same rows (sendgrid_sql.py), else by Python
LISTS = {
    "bounce": "bounces",
    "block": "blocks",
    "spam": "spam_reports",
    "invalid": "invalid_emails",
    "group_unsub": "group_unsubscribes",
    "asm": "group_unsubscribes",
    "unsubscribe": "global_unsubscribes",
}


def suppression_list(name: str) -> str | None:
    lowered = name.lower().replace("-", "_")
    for token in ("group_unsub", "asm", "bounce", "block", "spam", "invalid", "unsubscribe"):
        if token in lowered:
            return LISTS[token]
    return None


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _event_fields(event: dict) -> list[str | None]:
    custom = {k: v for k, v in event.items() if k not in STANDARD}
    category = event.get("category")
    return [
        _text(event.get("email")),
        _text(event.get("event")),
        _text(event.get("timestamp")),
        _text(event.get("sg_event_id")),
        _text(event.get("sg_message_id")),
        _text(event.get("smtp-id")),
        _text(event.get("type")),
        _text(event.get("bounce_classification")),
        _text(event.get("reason")),
        _text(event.get("status")),
        _text(event.get("response")),
        _text(event.get("attempt")),
        _text(event.get("url")),
        _text(event.get("useragent")),
        _text(event.get("ip")),
        json.dumps(category if isinstance(category, list) else [category]) if category is not None else None,
        _text(event.get("asm_group_id")),
        _text(custom.get("campaign_id")),
        _text(custom.get("touchplan_send_id") or custom.get("send_id")),
        json.dumps(custom, ensure_ascii=False, separators=COMPACT) if custom else None,
        json.dumps(event, ensure_ascii=False, separators=COMPACT),
    ]


def read_json_records(text: str) -> tuple[list[tuple[int, str, object]], list[tuple[int, str, str]], str]:
    """(records as (line, raw, value), unreadable lines as (line, raw, reason), layout) of a JSON array or NDJSON.
    For an array the line is the element index + 1."""
    stripped = text.lstrip()
    good, bad = [], []
    if stripped.startswith("["):
        try:
            values = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FileRejected(f"{'{file}'}: line {exc.lineno}: not valid JSON: {exc.msg}") from exc
        for i, value in enumerate(values):
            reason = not_json_reason(value)
            if reason:
                bad.append((i + 1, json.dumps(value), reason))
            else:
                good.append((i + 1, json.dumps(value, ensure_ascii=False), value))
        return good, bad, "array"
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        value, reason = read_json_line(line)
        if reason:
            bad.append((number, line.encode("utf-8", "backslashreplace").decode("utf-8"), reason))
        else:
            good.append((number, line, value))
    return good, bad, "ndjson"


def _looks_like_json(sniff: Sniff) -> bool:
    return sniff.head_text.lstrip().startswith(("[", "{"))


class SendGridEvents(Format):
    name = "sendgrid_events"
    kind = "email"
    source_system = SG

    def detect(self, sniff: Sniff) -> bool:
        head = sniff.head_text
        return _looks_like_json(sniff) and '"event"' in head and '"email"' in head

    def stage(self, ctx: FileContext, sniff: Sniff) -> list[Segment]:
        assert ctx.encoding is not None
        staged = stage_events_sql(ctx, sniff) if SQL_EVENTS else None
        if staged is None:
            staged, layout = self._stage_python(ctx)
        else:
            staged, layout = staged
        cols = [
            Col("source_system", const=SG),
            Col("email", "email", required=True),
            Col("event", "event", required=True),
            Col("occurred_at", "timestamp", "epoch", required=True, label="timestamp"),
            Col("event_id", "sg_event_id"),
            Col("message_id", "sg_message_id"),
            Col("smtp_id", "smtp-id"),
            Col("bounce_type", "type"),
            Col("bounce_classification", "bounce_classification"),
            Col("reason", "reason"),
            Col("status", "status"),
            Col("response", "response"),
            Col("attempt", "attempt", "int"),
            Col("url", "url"),
            Col("useragent", "useragent"),
            Col("ip", "ip"),
            Col("categories", "category", "list"),
            Col("asm_group_id", "asm_group_id", "int"),
            Col("campaign_id", "campaign_id"),
            Col("touchplan_send_id", "touchplan_send_id"),
            Col("custom_args", "custom_args", "json"),
            Col("payload", "payload", "json"),
        ]
        ctx.warn(f"{ctx.relative}: read as {layout}") if layout == "ndjson" else None
        # Both parsers stage these as JSON text they wrote (json.dumps, or DuckDB's own JSON): it starts with `{` or
        # `[`, ends with `}` or `]`, is NULL when absent and valid JSON (cast without a second parse).
        clean = frozenset({"category", "custom_args", "payload"})
        return [
            dataclasses.replace(
                make_segment(
                    ctx,
                    self.name,
                    "raw_email_events",
                    cols,
                    EVENT_HEADERS,
                    staged.stage,
                    staged.headers,
                    staged.rejects,
                    staged.raw_sql,
                ),
                clean_sources=clean,
            )
        ]

    def _stage_python(self, ctx: FileContext) -> tuple[Staged, str]:
        """Every event through Python's json module (any file the SQL path does not take: see
        `stage_events_sql`)."""
        assert ctx.encoding is not None
        try:
            records, bad, layout = read_json_records(read_text(ctx.path, ctx.encoding))
        except FileRejected as exc:
            raise FileRejected(str(exc).replace("{file}", ctx.relative)) from exc
        rows = []
        for line, raw, value in records:
            if not isinstance(value, dict):
                bad.append((line, raw, "not a JSON object"))
                continue
            rows.append((line, raw, _event_fields(value)))
        staged = stage_rows(ctx.con, ctx.new_stage(), EVENT_HEADERS, rows)
        if bad:
            from pipelines.lib.ingest.zoom import _merge_rejects

            _merge_rejects(ctx, staged.rejects, bad)
        return staged, layout


SUPPRESSION_TS = (
    "CASE WHEN regexp_matches({src}, '^[0-9]+(\\.[0-9]+)?$') "
    "THEN timezone('UTC', to_timestamp(CAST({src} AS DOUBLE))) "
    "WHEN regexp_matches({src}, '(Z|[+-]\\d\\d:?\\d\\d)$') THEN timezone('UTC', TRY_CAST({src} AS TIMESTAMPTZ)) "
    "ELSE TRY_CAST({src} AS TIMESTAMP) END"
)


class SendGridSuppressions(TabularFormat):
    """Suppression list exports: the list comes from the file name (bounces.csv, blocks.csv, spam_reports.csv,
    invalid_emails.csv, global_unsubscribes.csv / unsubscribes.csv, group_unsubscribes.csv)."""

    name = "sendgrid_suppressions"
    kind = "email"
    source_system = SG
    table = "raw_email_suppressions"
    required = ("email",)

    def detect(self, sniff: Sniff) -> bool:
        h = sniff.header_set()
        return (
            "email" in h and bool(h & {"created", "created_at"}) and suppression_list(sniff.name) is not None
        )

    def columns(self, ctx: FileContext, headers: list[str]) -> list[Col]:
        listed = suppression_list(ctx.relative) or "global_unsubscribes"
        created = "created" if "created" in {h.casefold() for h in headers} else "created_at"
        return [
            Col("source_system", const=SG),
            Col("suppression_list", const=listed),
            Col("email", "email", required=True),
            Col("reason", "reason"),
            Col("status", "status"),
            Col("ip", "ip"),
            Col("asm_group_id", "group_id", "int"),
            Col("asm_group_name", "group_name"),
            Col("created_at", created, sql=SUPPRESSION_TS),
        ]


class SendGridSuppressionsJson(Format):
    """Suppression lists as the v3 API returns them: a JSON array of {created, email, reason, status, ...}."""

    name = "sendgrid_suppressions_json"
    kind = "email"
    source_system = SG

    def detect(self, sniff: Sniff) -> bool:
        return (
            _looks_like_json(sniff)
            and '"event"' not in sniff.head_text
            and '"email"' in sniff.head_text
            and suppression_list(sniff.name) is not None
        )

    def stage(self, ctx: FileContext, sniff: Sniff) -> list[Segment]:
        assert ctx.encoding is not None
        try:
            records, bad, _ = read_json_records(read_text(ctx.path, ctx.encoding))
        except FileRejected as exc:
            raise FileRejected(str(exc).replace("{file}", ctx.relative)) from exc
        headers = ["email", "created", "reason", "status", "ip", "group_id", "group_name"]
        rows = []
        for line, raw, value in records:
            if not isinstance(value, dict):
                bad.append((line, raw, "not a JSON object"))
                continue
            rows.append((line, raw, [_text(value.get(h)) for h in headers]))
        staged = stage_rows(ctx.con, ctx.new_stage(), headers, rows)
        if bad:
            from pipelines.lib.ingest.zoom import _merge_rejects

            _merge_rejects(ctx, staged.rejects, bad)
        listed = suppression_list(ctx.relative) or "global_unsubscribes"
        cols = [
            Col("source_system", const=SG),
            Col("suppression_list", const=listed),
            Col("email", "email", required=True),
            Col("reason", "reason"),
            Col("status", "status"),
            Col("ip", "ip"),
            Col("asm_group_id", "group_id", "int"),
            Col("asm_group_name", "group_name"),
            Col("created_at", "created", sql=SUPPRESSION_TS),
        ]
        return [
            make_segment(
                ctx,
                self.name,
                "raw_email_suppressions",
                cols,
                headers,
                staged.stage,
                staged.headers,
                staged.rejects,
            )
        ]


register(SendGridEvents())
register(SendGridSuppressionsJson())
register(SendGridSuppressions())
