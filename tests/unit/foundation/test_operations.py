"""Operations: run-failure alerts, the raw tables' freshness checks, and the retry on a locked warehouse."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import pytest

from pipelines.defs import resources as resources_module
from pipelines.defs.ingest.assets import ingest
from pipelines.defs.operations import raw_freshness_checks, touchplan_run_failure_alert
from pipelines.defs.resources import TouchplanResource
from pipelines.lib.alerts import build_alert, clean_error, deliver_alert
from tests.unit.ingest.conftest import sf_contact_csv

PROJECT_CONFIG = Path(__file__).resolve().parents[3] / "config"


class _Capture(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, dict]] = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append((self.path, json.loads(body)))
        self.send_response(202 if self.path.startswith("/v3/") else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def capture_server():
    _Capture.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Capture.received
    server.shutdown()


def test_alert_text_keeps_the_first_error_line_without_addresses_or_secrets():
    error = (
        "Failure: ana@example.com bounced with key SG.secret-value\nTraceback (most recent call last):\n..."
    )
    alert = build_alert(
        "touchplan_job", "abcdef1234567890", [("deliver", error)], {"SENDGRID_API_KEY": "SG.secret-value"}
    )
    assert alert.failed_steps == [("deliver", "Failure: [email] bounced with key [redacted]")]
    assert (
        alert.text
        == "Touchplan run failed: job touchplan_job, run abcdef12, failed step(s): deliver: Failure: [email] bounced with key [redacted]"
    )
    assert len(clean_error("x" * 1000)) == 300


def test_alert_is_written_to_the_file_and_posted_to_the_webhook_and_emailed(
    tmp_path, capture_server, monkeypatch
):
    url, received = capture_server
    config = tmp_path / "config"
    config.mkdir()
    delivery = (PROJECT_CONFIG / "delivery.yaml").read_text().replace("https://api.sendgrid.com", url)
    (config / "delivery.yaml").write_text(delivery)
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.test-key")
    env = {
        "TOUCHPLAN_ALERT_WEBHOOK_URL": f"{url}/hooks/ops",
        "TOUCHPLAN_ALERT_EMAIL": "ops@example.org",
        "SENDGRID_API_KEY": "SG.test-key",
    }
    alert = build_alert("touchplan_job", "run-1234", [("identity_resolution", "boom")], env)
    result = deliver_alert(alert, tmp_path / "out", config, environ=env)
    assert (result.webhook, result.email) == ("sent", "sent")
    lines = (tmp_path / "out" / "alerts" / "run_failures.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["failed_steps"] == [["identity_resolution", "boom"]]
    paths = {path: body for path, body in received}
    assert paths["/hooks/ops"] == {"text": alert.text}
    mail = paths["/v3/mail/send"]
    assert mail["personalizations"][0]["to"] == [{"email": "ops@example.org"}]
    assert "identity_resolution" in mail["content"][0]["value"]


def test_unreachable_webhook_is_reported_not_raised(tmp_path):
    env = {"TOUCHPLAN_ALERT_WEBHOOK_URL": "http://127.0.0.1:9/closed"}
    result = deliver_alert(
        build_alert("j", "r", [("s", "e")], env), tmp_path, PROJECT_CONFIG, environ=env, timeout=2
    )
    assert result.webhook.startswith("not sent:")
    assert "127.0.0.1" not in result.webhook  # the URL (it may hold a token) stays out of the log
    assert (tmp_path / "alerts" / "run_failures.jsonl").exists()


def test_run_failure_sensor_names_the_failed_step(tmp_path, monkeypatch):
    monkeypatch.setenv("TOUCHPLAN_OUTPUT", str(tmp_path))
    monkeypatch.delenv("TOUCHPLAN_ALERT_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("TOUCHPLAN_ALERT_EMAIL", raising=False)

    @dg.asset
    def fine():
        return 1

    @dg.asset(deps=[fine])
    def planning_step():
        raise RuntimeError("cannot plan: contact ana@example.com has no consent row")

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([fine, planning_step], instance=instance, raise_on_error=False)
    assert not result.success
    context = dg.build_run_status_sensor_context(
        sensor_name="touchplan_run_failure_alert",
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
    ).for_run_failure()
    touchplan_run_failure_alert(context)
    record = json.loads((tmp_path / "alerts" / "run_failures.jsonl").read_text().splitlines()[-1])
    assert [step for step, _ in record["failed_steps"]] == ["planning_step"]
    assert "cannot plan" in record["text"] and "@" not in record["text"]


def _ingest_once(tmp_path: Path, mtime: float, instance: dg.DagsterInstance) -> dict:
    exports = tmp_path / "exports"
    (exports / "salesforce").mkdir(parents=True, exist_ok=True)
    path = exports / "salesforce" / "Contact.csv"
    path.write_text(sf_contact_csv(3))
    os.utime(path, (mtime, mtime))
    resource = TouchplanResource(
        warehouse=str(tmp_path / "w.duckdb"), exports=str(exports), config_dir=str(tmp_path)
    )
    result = dg.materialize([ingest], resources={"touchplan": resource}, instance=instance)
    assert result.success
    return {
        e.event_specific_data.materialization.asset_key.to_user_string(): e.event_specific_data.materialization.metadata
        for e in result.get_asset_materialization_events()
    }


def _freshness(instance: dg.DagsterInstance) -> dict[str, bool]:
    job = dg.define_asset_job("freshness", selection=dg.AssetSelection.checks(*raw_freshness_checks))
    defs = dg.Definitions(
        assets=[ingest],
        asset_checks=list(raw_freshness_checks),
        jobs=[job],
        resources={"touchplan": TouchplanResource()},
    )
    result = defs.resolve_job_def("freshness").execute_in_process(instance=instance)
    return {e.asset_key.to_user_string(): e.passed for e in result.get_asset_check_evaluations()}


def test_raw_table_freshness_follows_the_newest_export_file_not_the_run(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    three_days_ago = time.time() - 3 * 86400
    metadata = _ingest_once(tmp_path / "old", three_days_ago, instance)
    assert metadata["raw_crm_contacts"]["dagster/last_updated_timestamp"].value == pytest.approx(
        three_days_ago, abs=1
    )
    assert "dagster/last_updated_timestamp" not in metadata["raw_crm_deals"]  # no deals file: nothing to date
    assert (
        _freshness(instance)["raw_crm_contacts"] is False
    )  # materialized a second ago, but the export is stale

    _ingest_once(tmp_path / "new", time.time() - 3600, instance)
    assert _freshness(instance)["raw_crm_contacts"] is True


def test_a_step_that_finds_the_warehouse_locked_retries_then_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(resources_module, "LOCK_RETRY_SECONDS", 1.0)
    warehouse = tmp_path / "w.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,time; c=duckdb.connect({str(warehouse)!r}); print('held', flush=True); time.sleep(2.5)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    exports = tmp_path / "exports" / "salesforce"
    exports.mkdir(parents=True)
    (exports / "Contact.csv").write_text(sf_contact_csv(2))
    resource = TouchplanResource(
        warehouse=str(warehouse), exports=str(exports.parent), config_dir=str(tmp_path)
    )
    result = dg.materialize([ingest], resources={"touchplan": resource})
    holder.wait(timeout=30)
    assert result.success
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert retries, "the first attempt met the lock and asked for a retry"
