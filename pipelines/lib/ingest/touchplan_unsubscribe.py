"""One-click unsubscribe requests recorded by `touchplan serve` (pipelines/lib/receiver/app.py).

Each request is one small JSON file below `<exports>/webhook/unsubscribe/`, one object on one line:
`{"touchplan_unsubscribe":1,"send_id":"<32 hex>","requested_at":"2026-12-07T08:00:00.250000Z","method":"one_click"}`.
No personal data: the send id names the customer and subscription group through `send_ledger` (joined in dbt,
stg_touchplan__unsubscribe_requests). Several requests may be in one file as NDJSON or a JSON array.
"""

from __future__ import annotations

from pipelines.lib.ingest.encoding import read_text
from pipelines.lib.ingest.errors import FileRejected
from pipelines.lib.ingest.formats import FileContext, Format, Sniff, make_segment, register
from pipelines.lib.ingest.mapping import Col, Segment
from pipelines.lib.ingest.sendgrid import _text, read_json_records
from pipelines.lib.ingest.tabular import stage_rows

MARKER = "touchplan_unsubscribe"
HEADERS = ["send_id", "requested_at", "method"]


class TouchplanUnsubscribes(Format):
    name = "touchplan_unsubscribes"
    kind = "email"
    source_system = "touchplan"

    def detect(self, sniff: Sniff) -> bool:
        head = sniff.head_text.lstrip()
        return head.startswith(("[", "{")) and f'"{MARKER}"' in head

    def stage(self, ctx: FileContext, sniff: Sniff) -> list[Segment]:
        assert ctx.encoding is not None
        try:
            records, bad, _ = read_json_records(read_text(ctx.path, ctx.encoding))
        except FileRejected as exc:
            raise FileRejected(str(exc).replace("{file}", ctx.relative)) from exc
        rows = []
        for line, raw, value in records:
            if not isinstance(value, dict) or MARKER not in value:
                bad.append((line, raw, "not an unsubscribe request object"))
                continue
            rows.append((line, raw, [_text(value.get(h)) for h in HEADERS]))
        staged = stage_rows(ctx.con, ctx.new_stage(), HEADERS, rows)
        if bad:
            from pipelines.lib.ingest.zoom import _merge_rejects

            _merge_rejects(ctx, staged.rejects, bad)
        cols = [
            Col("source_system", const="touchplan"),
            Col("send_id", "send_id", required=True),
            Col("requested_at", "requested_at", "timestamp", required=True),
            Col("method", "method"),
        ]
        return [
            make_segment(
                ctx,
                self.name,
                "raw_unsubscribe_requests",
                cols,
                HEADERS,
                staged.stage,
                staged.headers,
                staged.rejects,
            )
        ]


register(TouchplanUnsubscribes())
