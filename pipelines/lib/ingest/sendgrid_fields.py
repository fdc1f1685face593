"""SendGrid Event Webhook fields, shared by the Python parser (sendgrid.py) and the DuckDB one (sendgrid_sql.py)."""

import json

# The event keys SendGrid itself sets; every other top-level key is a custom arg (goes to `custom_args`).
STANDARD = {
    "email",
    "timestamp",
    "smtp-id",
    "event",
    "category",
    "sg_event_id",
    "sg_message_id",
    "sg_template_id",
    "sg_template_name",
    "response",
    "attempt",
    "useragent",
    "ip",
    "url",
    "reason",
    "status",
    "type",
    "bounce_classification",
    "asm_group_id",
    "tls",
    "cert_err",
    "marketing_campaign_id",
    "marketing_campaign_name",
    "url_offset",
    "sg_machine_open",
    "sg_content_type",
    "pool",
}
# The columns of the staged events, in order (both parsers stage this layout).
EVENT_HEADERS = [
    "email",
    "event",
    "timestamp",
    "sg_event_id",
    "sg_message_id",
    "smtp-id",
    "type",
    "bounce_classification",
    "reason",
    "status",
    "response",
    "attempt",
    "url",
    "useragent",
    "ip",
    "category",
    "asm_group_id",
    "campaign_id",
    "touchplan_send_id",
    "custom_args",
    "payload",
]


def not_json_reason(value: object) -> str | None:
    """Why a value `json.loads` accepted is still not JSON a table can hold, or None: Python reads `NaN` /
    `Infinity` (not JSON numbers, RFC 8259) and lone surrogate escapes such as `\\ud800` (not Unicode
    characters, so the text cannot be stored as UTF-8). Such an event is quarantined, never the whole file."""
    try:
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        return "not valid JSON: a lone surrogate escape (\\ud800-\\udfff) is not a Unicode character"
    except ValueError:
        return "not valid JSON: NaN or Infinity is not a JSON number"
    return None


def read_json_line(line: str) -> tuple[object, str | None]:
    """One NDJSON line as both SendGrid parsers judge it: (value, None) when `json.loads` reads it into JSON a
    table can hold, else (None, the quarantine reason)."""
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON: {exc.msg}"
    reason = not_json_reason(value)
    return (None, reason) if reason else (value, None)
