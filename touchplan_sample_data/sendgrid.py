"""SendGrid Event Webhook dump: JSON arrays of events, as SendGrid POSTs them (keys absent when not relevant).

Memory: at 1M contacts there are ~10M events. They are held as compact numeric columns (`SendGridEvents`: the
send, the kind of event, its time, and per send the random draws its text is made of) and turned into text one
output file (200,000 events) at a time, so no full table of Python strings is ever built. The random draws are the
same, in the same order, as when whole event tables were built: the files are byte-identical for a seed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

import numpy as np
import pandas as pd

from touchplan_sample_data import vocab
from touchplan_sample_data.ids import BASE62, HEX, chars_to_str
from touchplan_sample_data.population import obj

EVENTS_PER_FILE = 200_000
FORMAT_ROWS = 25_000  # events turned into JSON text at once
EVENT_ORDER = {
    "processed": 0,
    "deferred": 1,
    "delivered": 2,
    "bounce": 2,
    "dropped": 2,
    "open": 3,
    "click": 4,
    "spamreport": 5,
    "unsubscribe": 5,
    "group_unsubscribe": 5,
    "group_resubscribe": 6,
}
# Kinds of event rows, in the order they are generated (the order decides which random draw goes to which row).
# An open and a re-open are both "open" events; a first and a second click differ in their URL.
KINDS = (
    ("processed", "processed"),
    ("deferred", "deferred"),
    ("delivered", "delivered"),
    ("bounce", "bounce"),
    ("dropped", "dropped"),
    ("open", "open"),
    ("click", "click"),
    ("reopen", "open"),
    ("third_open", "open"),
    ("click_again", "click"),
    ("unsubscribe", "unsubscribe"),
    ("group_unsubscribe", "group_unsubscribe"),
    ("group_resubscribe", "group_resubscribe"),
    ("spamreport", "spamreport"),
)
KIND = {name: code for code, (name, _event) in enumerate(KINDS)}
KIND_EVENT = obj(event for _name, event in KINDS)
KIND_ORDER = np.array([EVENT_ORDER[event] for _name, event in KINDS], dtype=np.int8)
URLS = [
    "https://touchplan.example/demo",
    "https://touchplan.example/pricing",
    "https://touchplan.example/webinars",
    "https://touchplan.example/blog/identity",
]
URLS_AGAIN = [
    "https://touchplan.example/webinars/register",
    "https://touchplan.example/pricing",
    "https://touchplan.example/customers",
    "https://touchplan.example/roi-calculator",
]
DEFER_RESPONSES = ["400 try again later", "421 4.7.0 Try again later, closing connection."]
PREFERENCES_URL = "https://touchplan.example/preferences"


# The ASM unsubscribe group ids of the shipped config/delivery.yaml (`asm_groups`): the demo's group unsubscribes use
# only groups that config names, so customer_consent files them under the group names. Written here, not read from
# config, so that this package imports nothing from pipelines; tests/unit/sample_data/test_sendgrid_events.py keeps
# the two equal.
CONFIGURED_ASM_GROUP_IDS = (10001, 10002, 10003)


def _small(values: np.ndarray) -> np.ndarray:
    """The narrowest unsigned integer type that holds these non-negative values (random draws, indexes)."""
    values = np.asarray(values)
    top = int(values.max()) if len(values) else 0
    for dtype in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(dtype).max:
            return values.astype(dtype)
    return values.astype(np.int64)


DRAW_ROWS = 100_000  # rows of a character matrix drawn at once (the int64 draws are 8x the uint8 result)


def _char_draws(rng: np.random.Generator, n: int, width: int, base: int) -> np.ndarray:
    """`rng.integers(0, base, size=(n, width))` as uint8, drawn in row blocks: the same numbers as one call
    (each value takes the generator's next draws in order), without an (n, width) int64 temporary."""
    out = np.empty((n, width), dtype=np.uint8)
    for start in range(0, n, DRAW_ROWS):
        stop = min(n, start + DRAW_ROWS)
        out[start:stop] = rng.integers(0, base, size=(stop - start, width))
    return out


def _choice_index(rng: np.random.Generator, k: int, n: int) -> np.ndarray:
    """Indexes of `ids.pick(rng, choices, n)` with len(choices) == k: the same draw, without the strings."""
    return _small(rng.choice(k, size=n, p=None))


@dataclass
class SendGridEvents:
    """The events, sorted as written (by time, send, event order), as compact columns.

    Per event: `send` (index into the per-send columns), `kind` (index into KINDS), `timestamp` (Unix seconds),
    `no_message_id` (an asynchronous bounce), `event_id` (22 base62 characters, uint8). Per send: the campaign,
    the recipient, and the random draws of its message id, SMTP id, response, user agent, IP, URLs, reasons.
    """

    send: np.ndarray
    kind: np.ndarray
    timestamp: np.ndarray
    no_message_id: np.ndarray
    event_id: np.ndarray
    per_send: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.send)

    @property
    def recipient(self) -> np.ndarray:
        """Recipient index of each event."""
        return self.per_send["recipient"][self.send]

    @property
    def campaign(self) -> np.ndarray:
        return self.per_send["campaign"][self.send]

    @property
    def event(self) -> np.ndarray:
        return KIND_EVENT[self.kind]

    def frame(self, start: int, stop: int, recipients: pd.DataFrame) -> pd.DataFrame:
        """Events [start, stop) as the table `format_events` writes: one column per JSON key (None: absent)."""
        s = self.send[start:stop]
        kind = self.kind[start:stop]
        n = len(s)
        p = {key: col[s] for key, col in self.per_send.items()}
        ev = pd.DataFrame(
            {
                "campaign": p["campaign"].astype(np.int64),
                "email": recipients["email"].to_numpy(dtype=object)[p["recipient"]],
                "timestamp": self.timestamp[start:stop],
                "event": KIND_EVENT[kind],
                "sg_event_id": chars_to_str(BASE62[self.event_id[start:stop]]).astype(object),
            }
        )
        msg = _message_ids(p)
        msg[self.no_message_id[start:stop]] = None
        ev["sg_message_id"] = msg
        ev["smtp_id"] = _smtp_ids(p)

        def where(kinds: tuple[str, ...], values) -> np.ndarray:
            mask = np.isin(kind, [KIND[k] for k in kinds])
            out = np.full(n, None, dtype=object)
            out[mask] = values[mask] if isinstance(values, np.ndarray) else values
            return out

        opens, clicks = ("open", "reopen", "third_open"), ("click", "click_again")
        unsubs = ("unsubscribe", "group_unsubscribe", "group_resubscribe")
        bounce = vocab.BOUNCE_REASONS
        b = p["bounce_reason"]
        response = where(("deferred",), obj(DEFER_RESPONSES)[p["defer_response"]])
        response[kind == KIND["delivered"]] = "250 OK"
        ev["response"] = response
        ev["attempt"] = where(("deferred",), p["attempt"].astype(str).astype(object))
        ua = obj(vocab.USER_AGENTS)[p["useragent"]]
        ev["useragent"] = where(opens + clicks + unsubs, ua)
        ip = (
            p["ip1"].astype(str).astype(object)
            + "."
            + p["ip2"].astype(str).astype(object)
            + "."
            + p["ip3"].astype(str).astype(object)
            + "."
            + p["ip4"].astype(str).astype(object)
        )
        ev["ip"] = where(opens + clicks + unsubs, ip)
        url = where(("click",), obj(URLS)[p["url"]])
        again = kind == KIND["click_again"]
        url[again] = obj(URLS_AGAIN)[p["url_again"]][again]
        url[np.isin(kind, [KIND["group_unsubscribe"], KIND["group_resubscribe"]])] = PREFERENCES_URL
        ev["url"] = url
        reason = where(("bounce",), obj(r[0] for r in bounce)[b])
        dropped = kind == KIND["dropped"]
        reason[dropped] = obj(vocab.DROP_REASONS)[p["drop_reason"]][dropped]
        ev["reason"] = reason
        status = where(("bounce",), obj(r[1] for r in bounce)[b])
        status[dropped] = "5.0.0"
        ev["status"] = status
        ev["type"] = where(("bounce",), np.where(p["blocked"], "blocked", "bounce").astype(object))
        ev["bounce_classification"] = where(("bounce",), obj(r[2] for r in bounce)[b])
        asm = where(("group_unsubscribe", "group_resubscribe"), p["asm_group_id"].astype(np.int64))
        ev["asm_group_id"] = pd.array(asm, dtype="Int64")
        ev["tls"] = pd.array(where(("delivered",), 1), dtype="Int64")
        ev["sg_machine_open"] = where(opens, np.zeros(n, dtype=bool))
        offset = np.full(n, np.nan)
        offset[kind == KIND["click"]] = 0
        offset[again] = 1
        ev["url_offset_index"] = offset
        return ev


def _message_ids(p: dict[str, np.ndarray]) -> np.ndarray:
    return (
        chars_to_str(BASE62[p["msg_a"]]).astype(object)
        + ".filterdrecv-"
        + chars_to_str(HEX[p["msg_b"]]).astype(object)
        + "-"
        + p["msg_c"].astype(str).astype(object)
        + "-"
        + chars_to_str(HEX[p["msg_d"]]).astype(object)
        + "-"
        + p["msg_e"].astype(str).astype(object)
        + ".0"
    )


def _smtp_ids(p: dict[str, np.ndarray]) -> np.ndarray:
    return (
        "<"
        + chars_to_str(HEX[p["smtp_a"]]).astype(object)
        + "."
        + chars_to_str(HEX[p["smtp_b"]]).astype(object)
        + "."
        + chars_to_str(HEX[p["smtp_c"]]).astype(object)
        + "@ismtpd-"
        + p["smtp_d"].astype(str).astype(object)
        + ">"
    )


def build_events(
    recipients: pd.DataFrame,
    campaigns: pd.DataFrame,
    as_of: pd.Timestamp,
    rng: np.random.Generator,
    base_share: float = 0.05,
    engaged_share: float = 0.25,
    asm_group_ids: list[int] | None = None,
) -> SendGridEvents:
    """recipients: email (normalised), engagement, opted_out, and optionally quiet_from / quiet_to (Unix seconds:
    no opens or clicks in that spell) and burst_campaign (the campaign whose week the person is very engaged:
    they get it, open it several times and click several links). Events sorted by time.

    Marketing sends more to engaged people: each campaign reaches a recipient with probability
    base_share + engaged_share * engagement, or the recipient's `send_share` where given (customer community
    members get nearly everything). Group unsubscribes / resubscribes use `asm_group_ids` (default: the groups of
    the shipped config/delivery.yaml).
    """
    groups = list(asm_group_ids if asm_group_ids is not None else CONFIGURED_ASM_GROUP_IDS)
    if not groups:
        raise ValueError("asm_group_ids is empty: the demo's group unsubscribes need at least one ASM group")
    nr = len(recipients)
    eng_all = recipients["engagement"].to_numpy()
    share = base_share + engaged_share * eng_all
    if "send_share" in recipients:
        share = np.where(recipients["send_share"].notna(), recipients["send_share"], share)
    burst_all = recipients["burst_campaign"].to_numpy() if "burst_campaign" in recipients else np.full(nr, -1)
    chosen = [np.flatnonzero((rng.random(nr) < share) | (burst_all == ci)) for ci in range(len(campaigns))]
    send_campaign = np.repeat(np.arange(len(campaigns)), [len(c) for c in chosen])
    rec = np.concatenate(chosen) if chosen else np.array([], dtype=np.int64)
    del chosen
    ns = len(rec)
    p: dict[str, np.ndarray] = {"campaign": _small(send_campaign), "recipient": _small(rec)}
    sent_at = campaigns["sent_at"].to_numpy()[send_campaign]
    t0 = pd.Series(sent_at).astype("datetime64[s]").astype(np.int64).to_numpy() + rng.integers(
        0, 3 * 3600, size=ns
    )
    del sent_at
    # the draws of the message and SMTP ids, kept as small integers (text is made per output file)
    p["msg_a"] = _char_draws(rng, ns, 22, 62)
    p["msg_b"] = _char_draws(rng, ns, 10, 16)
    p["msg_c"] = _small(rng.integers(1, 30, size=ns))
    p["msg_d"] = _char_draws(rng, ns, 8, 16)
    p["msg_e"] = _small(rng.integers(10, 99, size=ns))
    p["smtp_a"] = _char_draws(rng, ns, 11, 16)
    p["smtp_b"] = _char_draws(rng, ns, 3, 16)
    p["smtp_c"] = _char_draws(rng, ns, 6, 16)
    p["smtp_d"] = _small(rng.integers(100, 999, size=ns))
    eng = eng_all[rec]
    opted = recipients["opted_out"].to_numpy()[rec]
    burst = burst_all[rec] == send_campaign
    if "quiet_from" in recipients:
        quiet = (recipients["quiet_from"].to_numpy()[rec] <= t0) & (
            t0 < recipients["quiet_to"].to_numpy()[rec]
        )
    else:
        quiet = np.zeros(ns, dtype=bool)
    u = rng.random(ns)
    dropped = u < 0.01
    bounced = (u >= 0.01) & (u < 0.035)
    deferred = (rng.random(ns) < 0.03) & ~dropped
    delivered = ~dropped & ~bounced
    opened = delivered & ~quiet & (burst | (rng.random(ns) < 0.1 + 0.6 * eng))
    clicked = opened & (burst | (rng.random(ns) < 0.1 + 0.5 * eng))
    # people reopen and click more than one link; in their burst week (burst) several times
    reopened = opened & (burst | (rng.random(ns) < 0.3 * eng))
    third_open = reopened & (burst | (rng.random(ns) < 0.2 * eng))
    clicked_again = clicked & (burst | (rng.random(ns) < 0.4 * eng))
    unsub = delivered & (rng.random(ns) < 0.003 + 0.06 * opted)
    gunsub = delivered & ~unsub & (rng.random(ns) < 0.004)
    gresub = gunsub & (rng.random(ns) < 0.25)
    spam = delivered & (rng.random(ns) < 0.0015)
    del u, eng, opted, quiet
    sends: list[np.ndarray] = []
    kinds: list[np.ndarray] = []
    times: list[np.ndarray] = []

    def add(mask: np.ndarray, kind: str, offset: np.ndarray) -> None:
        idx = np.flatnonzero(mask)
        sends.append(idx)
        kinds.append(np.full(len(idx), KIND[kind], dtype=np.uint8))
        times.append(t0[idx] + offset[idx])

    zero = np.zeros(ns, dtype=np.int64)
    add(np.ones(ns, dtype=bool), "processed", zero)
    add(deferred, "deferred", zero + rng.integers(5, 60, size=ns))
    p["defer_response"] = _choice_index(rng, len(DEFER_RESPONSES), ns)
    p["attempt"] = _small(rng.integers(1, 6, size=ns))
    deliver_off = np.where(deferred, rng.integers(300, 3600, size=ns), rng.integers(1, 30, size=ns))
    add(delivered, "delivered", deliver_off)
    p["bounce_reason"] = _small(rng.integers(0, len(vocab.BOUNCE_REASONS), size=ns))
    p["blocked"] = rng.random(ns) < 0.3
    add(bounced, "bounce", deliver_off)
    add(dropped, "dropped", zero + 1)
    p["drop_reason"] = _choice_index(rng, len(vocab.DROP_REASONS), ns)
    # a burst is one week: the invitation goes out on Monday, opens and clicks come before Thursday
    open_off = deliver_off + np.where(
        burst, rng.integers(60, 6 * 3600, size=ns), rng.integers(60, 3 * 86_400, size=ns)
    )
    del deliver_off
    p["useragent"] = _choice_index(rng, len(vocab.USER_AGENTS), ns)
    p["ip1"] = _small(rng.integers(1, 255, size=ns))
    p["ip2"] = _small(rng.integers(0, 255, size=ns))
    p["ip3"] = _small(rng.integers(0, 255, size=ns))
    p["ip4"] = _small(rng.integers(1, 255, size=ns))
    add(opened, "open", open_off)
    click_off = open_off + rng.integers(5, 600, size=ns)
    p["url"] = _choice_index(rng, len(URLS), ns)
    add(clicked, "click", click_off)
    reopen_off = open_off + np.where(
        burst, rng.integers(3600, 20 * 3600, size=ns), rng.integers(3600, 4 * 86_400, size=ns)
    )
    del open_off
    add(reopened, "reopen", reopen_off)
    add(third_open, "third_open", reopen_off + rng.integers(1800, 20 * 3600, size=ns))
    del reopen_off
    p["url_again"] = _choice_index(rng, len(URLS_AGAIN), ns)
    add(clicked_again, "click_again", click_off + rng.integers(20, 900, size=ns))
    later = click_off + rng.integers(60, 7200, size=ns)
    del click_off
    add(unsub, "unsubscribe", later)
    p["asm_group_id"] = _small(np.asarray(groups, dtype=np.int64)[rng.choice(len(groups), size=ns)])
    add(gunsub, "group_unsubscribe", later)
    add(gresub, "group_resubscribe", later + 86_400)
    add(spam, "spamreport", later + 30)
    del later, zero
    send = np.concatenate(sends)
    kind = np.concatenate(kinds)
    timestamp = np.concatenate(times)
    sends.clear(), kinds.clear(), times.clear()
    keep = timestamp <= as_of.timestamp()
    send, kind, timestamp = send[keep], kind[keep], timestamp[keep]
    del keep
    n = len(send)
    # asynchronous bounces arrive without sg_message_id
    no_msg = (kind == KIND["bounce"]) & (rng.random(n) < 0.3)
    event_id = _char_draws(rng, n, 22, 62)
    # the webhook delivers some events twice, sometimes under a new sg_event_id
    dup = np.flatnonzero(rng.random(n) < 0.006)
    renamed = rng.random(len(dup)) < 0.5
    dup_event_id = event_id[dup]
    dup_event_id[renamed] = _char_draws(rng, int(renamed.sum()), 22, 62)
    dup_timestamp = timestamp[dup] + rng.integers(0, 2, size=len(dup))
    send = np.concatenate([send, send[dup]])
    kind = np.concatenate([kind, kind[dup]])
    timestamp = np.concatenate([timestamp, dup_timestamp])
    no_msg = np.concatenate([no_msg, no_msg[dup]])
    event_id = np.concatenate([event_id, dup_event_id])
    order = np.lexsort((KIND_ORDER[kind], send, timestamp))  # stable, as the stable sort of the event table
    return SendGridEvents(
        send=_small(send[order]),
        kind=kind[order],
        timestamp=timestamp[order],
        no_message_id=no_msg[order],
        event_id=event_id[order],
        per_send=p,
    )


def _field(name: str, values: pd.Series, quote: bool) -> np.ndarray:
    """`, "name": value` fragments, empty where the value is missing (keys are absent, not null)."""
    vals = values.astype(object)
    present = vals.notna().to_numpy()
    out = np.full(len(vals), "", dtype=object)
    if present.any():
        text = vals[present].astype(str).to_numpy(dtype=object)
        if quote:
            text = '"' + text + '"'
        out[present] = f', "{name}": ' + text
    return out


def format_events(ev: pd.DataFrame, campaigns: pd.DataFrame) -> np.ndarray:
    """One JSON object per event, from column-wise fragments joined once per event (no per-event json.dumps).

    Joining the fragments once avoids re-copying a growing line for every optional key.
    """
    cat_json = obj(json.dumps(c) for c in campaigns["categories"])[ev["campaign"].to_numpy()]
    camp_json = obj(json.dumps(c) for c in campaigns["campaign_id"])[ev["campaign"].to_numpy()]
    parts: list = [
        '{"email": "',
        ev["email"].to_numpy(dtype=object),
        '", "timestamp": ',
        ev["timestamp"].astype(np.int64).astype(str).to_numpy(dtype=object),
        ', "smtp-id": "',
        ev["smtp_id"].to_numpy(dtype=object),
        '", "event": "',
        ev["event"].to_numpy(dtype=object),
        '", "category": ',
        cat_json,
        ', "sg_event_id": "',
        ev["sg_event_id"].to_numpy(dtype=object),
        '"',
        _field("sg_message_id", ev["sg_message_id"], True),
    ]
    for name, quote in [
        ("response", True),
        ("attempt", True),
        ("useragent", True),
        ("ip", True),
        ("url", True),
        ("reason", True),
        ("status", True),
        ("type", True),
        ("bounce_classification", True),
    ]:
        if name in ev:
            parts.append(_field(name, ev[name], quote))
    if "asm_group_id" in ev:
        parts.append(_field("asm_group_id", ev["asm_group_id"].astype("Int64"), False))
    if "tls" in ev:
        parts.append(_field("tls", ev["tls"].astype("Int64"), False))
    if "sg_machine_open" in ev:
        machine = ev["sg_machine_open"].map({False: "false", True: "true"})
        parts.append(_field("sg_machine_open", machine, False))
    if "url_offset_index" in ev:
        present = ev["url_offset_index"].notna().to_numpy()
        text = np.full(len(ev), "", dtype=object)
        idx = ev["url_offset_index"][present].astype(np.int64).astype(str).to_numpy(dtype=object)
        text[present] = ', "url_offset": {"index": ' + idx + ', "type": "html"}'
        parts.append(text)
    parts += [', "campaign_id": ', camp_json, "}"]
    columns = [p.tolist() if isinstance(p, np.ndarray) else repeat(p, len(ev)) for p in parts]
    out = np.empty(len(ev), dtype=object)
    out[:] = list(map("".join, zip(*columns, strict=True)))
    return out


def write_events(
    events: SendGridEvents,
    recipients: pd.DataFrame,
    campaigns: pd.DataFrame,
    folder: Path,
    per_file: int = EVENTS_PER_FILE,
) -> dict[str, int]:
    """One JSON file per `per_file` events, formatted and written FORMAT_ROWS events at a time."""
    folder.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    n = len(events)
    chunks = max(1, -(-n // per_file))
    for k in range(chunks):
        start, stop = k * per_file, min(n, (k + 1) * per_file)
        name = "events.json" if chunks == 1 else f"events-{k + 1:03d}.json"
        counts[f"sendgrid/{name}"] = max(0, stop - start)
        with (folder / name).open("w", encoding="utf-8", newline="") as fh:
            if stop <= start:
                fh.write("[]\n")
                continue
            # "[\n" + ",\n".join(lines) + "\n]\n", formatted and written a block of events at a time
            fh.write("[\n")
            for block in range(start, stop, FORMAT_ROWS):
                part = events.frame(block, min(stop, block + FORMAT_ROWS), recipients)
                lines = format_events(part, campaigns)
                fh.write((",\n" if block > start else "") + ",\n".join(lines.tolist()))
            fh.write("\n]\n")
    return counts
