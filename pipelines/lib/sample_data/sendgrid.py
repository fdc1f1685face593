"""SendGrid Event Webhook dump: JSON arrays of events, as SendGrid POSTs them (keys absent when not relevant)."""

from __future__ import annotations

import json
from itertools import repeat
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.lib.sample_data import vocab
from pipelines.lib.sample_data.ids import base62_strings, hex_strings, pick
from pipelines.lib.sample_data.population import obj

EVENTS_PER_FILE = 200_000
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


def build_events(
    recipients: pd.DataFrame,
    campaigns: pd.DataFrame,
    as_of: pd.Timestamp,
    rng: np.random.Generator,
    base_share: float = 0.05,
    engaged_share: float = 0.25,
) -> pd.DataFrame:
    """recipients: email (normalised), engagement, opted_out, and optionally quiet_from / quiet_to (Unix seconds:
    no opens or clicks in that spell) and burst_campaign (the campaign whose week the person is very engaged:
    they get it, open it several times and click several links). One row per event, sorted by time.

    Marketing sends more to engaged people: each campaign reaches a recipient with probability
    base_share + engaged_share * engagement, or the recipient's `send_share` where given (customer community
    members get nearly everything).
    """
    nr = len(recipients)
    eng_all = recipients["engagement"].to_numpy()
    share = base_share + engaged_share * eng_all
    if "send_share" in recipients:
        share = np.where(recipients["send_share"].notna(), recipients["send_share"], share)
    burst_all = recipients["burst_campaign"].to_numpy() if "burst_campaign" in recipients else np.full(nr, -1)
    sends = []
    for ci in range(len(campaigns)):
        chosen = np.flatnonzero((rng.random(nr) < share) | (burst_all == ci))
        sends.append(pd.DataFrame({"campaign": ci, "recipient": chosen}))
    sends = pd.concat(sends, ignore_index=True)
    ns = len(sends)
    rec = sends["recipient"].to_numpy()
    sent_at = campaigns["sent_at"].to_numpy()[sends["campaign"].to_numpy()]
    t0 = pd.Series(sent_at).astype("datetime64[s]").astype(np.int64).to_numpy() + rng.integers(
        0, 3 * 3600, size=ns
    )
    msg = (
        base62_strings(rng, ns, 22).astype(object)
        + ".filterdrecv-"
        + hex_strings(rng, ns, 10).astype(object)
        + "-"
        + rng.integers(1, 30, size=ns).astype(str).astype(object)
        + "-"
        + hex_strings(rng, ns, 8).astype(object)
        + "-"
        + rng.integers(10, 99, size=ns).astype(str).astype(object)
        + ".0"
    )
    smtp = (
        "<"
        + hex_strings(rng, ns, 11).astype(object)
        + "."
        + hex_strings(rng, ns, 3).astype(object)
        + "."
        + hex_strings(rng, ns, 6).astype(object)
        + "@ismtpd-"
        + rng.integers(100, 999, size=ns).astype(str).astype(object)
        + ">"
    )
    eng = eng_all[rec]
    opted = recipients["opted_out"].to_numpy()[rec]
    burst = burst_all[rec] == sends["campaign"].to_numpy()
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
    frames = []

    def add(mask, event, offset, **extra):
        idx = np.flatnonzero(mask)
        frame = pd.DataFrame({"send": idx, "event": event, "timestamp": t0[idx] + offset[idx]})
        for key, val in extra.items():
            frame[key] = val[idx] if isinstance(val, np.ndarray) and len(val) == ns else val
        frames.append(frame)

    zero = np.zeros(ns, dtype=np.int64)
    add(np.ones(ns, dtype=bool), "processed", zero)
    add(
        deferred,
        "deferred",
        zero + rng.integers(5, 60, size=ns),
        response=pick(rng, ["400 try again later", "421 4.7.0 Try again later, closing connection."], ns),
        attempt=rng.integers(1, 6, size=ns).astype(str).astype(object),
    )
    deliver_off = np.where(deferred, rng.integers(300, 3600, size=ns), rng.integers(1, 30, size=ns))
    add(delivered, "delivered", deliver_off, response="250 OK", tls=1)
    b = rng.integers(0, len(vocab.BOUNCE_REASONS), size=ns)
    blocked = rng.random(ns) < 0.3
    add(
        bounced,
        "bounce",
        deliver_off,
        reason=obj(r[0] for r in vocab.BOUNCE_REASONS)[b],
        status=obj(r[1] for r in vocab.BOUNCE_REASONS)[b],
        bounce_classification=obj(r[2] for r in vocab.BOUNCE_REASONS)[b],
        type=np.where(blocked, "blocked", "bounce").astype(object),
    )
    add(dropped, "dropped", zero + 1, reason=pick(rng, vocab.DROP_REASONS, ns), status="5.0.0")
    # a burst is one week: the invitation goes out on Monday, opens and clicks come before Thursday
    open_off = deliver_off + np.where(
        burst, rng.integers(60, 6 * 3600, size=ns), rng.integers(60, 3 * 86_400, size=ns)
    )
    ua = pick(rng, vocab.USER_AGENTS, ns)
    ip = (
        rng.integers(1, 255, size=ns).astype(str).astype(object)
        + "."
        + rng.integers(0, 255, size=ns).astype(str).astype(object)
        + "."
        + rng.integers(0, 255, size=ns).astype(str).astype(object)
        + "."
        + rng.integers(1, 255, size=ns).astype(str).astype(object)
    )
    add(opened, "open", open_off, useragent=ua, ip=ip, sg_machine_open=False)
    click_off = open_off + rng.integers(5, 600, size=ns)
    url = pick(
        rng,
        [
            "https://touchplan.example/demo",
            "https://touchplan.example/pricing",
            "https://touchplan.example/webinars",
            "https://touchplan.example/blog/identity",
        ],
        ns,
    )
    add(clicked, "click", click_off, useragent=ua, ip=ip, url=url, url_offset_index=0)
    reopen_off = open_off + np.where(
        burst, rng.integers(3600, 20 * 3600, size=ns), rng.integers(3600, 4 * 86_400, size=ns)
    )
    add(reopened, "open", reopen_off, useragent=ua, ip=ip, sg_machine_open=False)
    add(
        third_open,
        "open",
        reopen_off + rng.integers(1800, 20 * 3600, size=ns),
        useragent=ua,
        ip=ip,
        sg_machine_open=False,
    )
    url2 = pick(
        rng,
        [
            "https://touchplan.example/webinars/register",
            "https://touchplan.example/pricing",
            "https://touchplan.example/customers",
            "https://touchplan.example/roi-calculator",
        ],
        ns,
    )
    add(
        clicked_again,
        "click",
        click_off + rng.integers(20, 900, size=ns),
        useragent=ua,
        ip=ip,
        url=url2,
        url_offset_index=1,
    )
    later = click_off + rng.integers(60, 7200, size=ns)
    add(unsub, "unsubscribe", later, useragent=ua, ip=ip)
    asm = rng.choice([10, 11, 12], size=ns).astype(np.int64)
    add(
        gunsub,
        "group_unsubscribe",
        later,
        useragent=ua,
        ip=ip,
        url="https://touchplan.example/preferences",
        asm_group_id=asm,
    )
    add(
        gresub,
        "group_resubscribe",
        later + 86_400,
        useragent=ua,
        ip=ip,
        url="https://touchplan.example/preferences",
        asm_group_id=asm,
    )
    add(spam, "spamreport", later + 30)
    ev = pd.concat(frames, ignore_index=True)
    ev["campaign"] = sends["campaign"].to_numpy()[ev["send"].to_numpy()]
    ev["recipient"] = sends["recipient"].to_numpy()[ev["send"].to_numpy()]
    ev["email"] = recipients["email"].to_numpy(dtype=object)[ev["recipient"].to_numpy()]
    ev["sg_message_id"] = msg[ev["send"].to_numpy()]
    ev["smtp_id"] = smtp[ev["send"].to_numpy()]
    ev = ev[ev["timestamp"] <= as_of.timestamp()].reset_index(drop=True)
    # asynchronous bounces arrive without sg_message_id
    async_bounce = (ev["event"] == "bounce").to_numpy() & (rng.random(len(ev)) < 0.3)
    ev.loc[async_bounce, "sg_message_id"] = None
    ev["sg_event_id"] = base62_strings(rng, len(ev), 22)
    # the webhook delivers some events twice, sometimes under a new sg_event_id
    dup = ev[rng.random(len(ev)) < 0.006].copy()
    renamed = rng.random(len(dup)) < 0.5
    dup.loc[renamed, "sg_event_id"] = base62_strings(rng, int(renamed.sum()), 22)
    dup["timestamp"] = dup["timestamp"] + rng.integers(0, 2, size=len(dup))
    ev = pd.concat([ev, dup], ignore_index=True)
    ev["order"] = ev["event"].map(EVENT_ORDER)
    ev = ev.sort_values(["timestamp", "send", "order"], kind="stable").reset_index(drop=True)
    return ev


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
    ev: pd.DataFrame, campaigns: pd.DataFrame, folder: Path, per_file: int = EVENTS_PER_FILE
) -> dict[str, int]:
    folder.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    n = len(ev)
    chunks = max(1, -(-n // per_file))
    for k in range(chunks):
        part = ev.iloc[k * per_file : (k + 1) * per_file]
        name = "events.json" if chunks == 1 else f"events-{k + 1:03d}.json"
        lines = format_events(part, campaigns) if len(part) else np.array([], dtype=object)
        body = "[\n" + ",\n".join(lines.tolist()) + "\n]\n" if len(lines) else "[]\n"
        (folder / name).write_text(body, encoding="utf-8")
        counts[f"sendgrid/{name}"] = len(part)
    return counts
