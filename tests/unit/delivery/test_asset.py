from __future__ import annotations

import json

import dagster as dg
import duckdb

from pipelines.defs.delivery.assets import send_ledger
from pipelines.defs.resources import TouchplanResource
from pipelines.lib.settings import Settings

from .conftest import CUSTOMERS


def test_send_ledger_asset_materializes_a_dry_run_with_counts_only(settings: Settings, monkeypatch):
    monkeypatch.setenv("TOUCHPLAN_SEND", "1")  # --send without a key: still a dry run
    resource = TouchplanResource(
        warehouse=str(settings.warehouse),
        config_dir=str(settings.config_dir),
        output=str(settings.output),
        exports=str(settings.exports),
    )
    result = dg.materialize([send_ledger], resources={"touchplan": resource})
    assert result.success
    [event] = result.get_asset_materialization_events()
    metadata = {k: v.value for k, v in event.materialization.metadata.items()}
    assert metadata["mode"] == "dry_run"
    assert metadata["email.dry_run"] == 2 and metadata["webinar_invite.dry_run"] == 1
    assert metadata["outbox"] == str(settings.outbox)
    assert metadata["dagster/row_count"] == 8
    assert send_ledger.group_names_by_key[dg.AssetKey("send_ledger")] == "delivery"
    assert dg.AssetKey("contact_plan") in send_ledger.asset_deps[dg.AssetKey("send_ledger")]
    text = json.dumps(metadata, default=str)
    for _, email, first, last, _ in CUSTOMERS:
        for personal in (email, first, last):
            assert not personal or personal not in text
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM send_ledger WHERE status = 'sent'").fetchone()[0] == 0
