"""SendGrid events held as compact columns: same random draws as whole-array calls, same bytes in any block size."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from touchplan_sample_data import sendgrid


def test_char_draws_in_blocks_equal_one_call(monkeypatch):
    monkeypatch.setattr(sendgrid, "DRAW_ROWS", 333)  # odd-sized blocks of 22 draws each
    one_call = np.random.default_rng(7)
    expected = one_call.integers(0, 62, size=(1001, 22)).astype(np.uint8)
    after = one_call.integers(0, 16, size=5)
    blocks = np.random.default_rng(7)

    assert np.array_equal(sendgrid._char_draws(blocks, 1001, 22, 62), expected)
    assert np.array_equal(blocks.integers(0, 16, size=5), after)  # the generator is left in the same state


def _events(rng_seed: int = 3):
    n = 400
    rng = np.random.default_rng(1)
    recipients = pd.DataFrame(
        {
            "email": [f"person{i}@example.com" for i in range(n)],
            "engagement": rng.random(n),
            "opted_out": rng.random(n) < 0.1,
            "burst_campaign": np.where(rng.random(n) < 0.2, 1, -1),
        }
    )
    sent = pd.to_datetime(["2026-02-02 09:00", "2026-02-09 09:00", "2026-02-16 09:00"])
    campaigns = pd.DataFrame(
        {
            "campaign_id": ["cmp-a", "cmp-b", "cmp-c"],
            "sent_at": sent,
            "categories": [["a"], ["b", "w"], ["c"]],
        }
    )
    events = sendgrid.build_events(
        recipients, campaigns, pd.Timestamp("2026-02-18"), np.random.default_rng(rng_seed)
    )
    return events, recipients, campaigns


def test_event_files_do_not_depend_on_the_formatting_block_size(tmp_path, monkeypatch):
    events, recipients, campaigns = _events()
    counts = sendgrid.write_events(events, recipients, campaigns, tmp_path / "whole", per_file=150)
    monkeypatch.setattr(sendgrid, "FORMAT_ROWS", 7)
    sendgrid.write_events(events, recipients, campaigns, tmp_path / "blocks", per_file=150)

    names = sorted(p.name for p in (tmp_path / "whole").iterdir())
    assert len(names) == -(-len(events) // 150) > 2
    for name in names:
        assert (tmp_path / "whole" / name).read_bytes() == (tmp_path / "blocks" / name).read_bytes()
    assert sum(counts.values()) == len(events)


def test_events_are_sorted_and_carry_only_their_own_keys(tmp_path):
    events, recipients, campaigns = _events()
    sendgrid.write_events(events, recipients, campaigns, tmp_path, per_file=10_000)
    rows = json.loads((tmp_path / "events.json").read_text(encoding="utf-8"))

    assert len(rows) == len(events)
    assert [r["timestamp"] for r in rows] == sorted(r["timestamp"] for r in rows)
    assert all(r["timestamp"] <= pd.Timestamp("2026-02-18").timestamp() for r in rows)
    by_event = {}
    for r in rows:
        by_event.setdefault(r["event"], set()).update(r)
    assert "url" not in by_event["open"] and "tls" in by_event["delivered"]
    assert {"reason", "status", "type", "bounce_classification"} <= by_event["bounce"]
    assert all(r["url_offset"]["index"] in (0, 1) for r in rows if r["event"] == "click")


def test_group_events_use_only_the_configured_asm_groups(tmp_path):
    """Issue #15: the demo unsubscribed people from ASM groups 11 and 12 that config/delivery.yaml does not know."""
    from pipelines.lib.delivery.config import load_delivery_config
    from pipelines.lib.settings import PROJECT_ROOT

    configured = set(load_delivery_config(PROJECT_ROOT / "config").asm_groups.values())
    events, recipients, campaigns = _events()
    sendgrid.write_events(events, recipients, campaigns, tmp_path, per_file=10_000)
    rows = json.loads((tmp_path / "events.json").read_text(encoding="utf-8"))
    groups = [r["asm_group_id"] for r in rows if r["event"] in ("group_unsubscribe", "group_resubscribe")]
    assert groups, "the sample has group events"
    assert set(groups) <= configured


def test_the_generators_asm_groups_are_the_shipped_configs():
    """The generator writes the shipped config's group ids itself (it imports nothing from pipelines)."""
    from pipelines.lib.delivery.config import load_delivery_config
    from pipelines.lib.settings import PROJECT_ROOT

    shipped = sorted(load_delivery_config(PROJECT_ROOT / "config").asm_groups.values())
    assert sorted(sendgrid.CONFIGURED_ASM_GROUP_IDS) == shipped
