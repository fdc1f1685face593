"""A first run that fails fast and reads well (issue #14): progress, reruns, rejected files, the Dagster side."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from pipelines.cli import main
from pipelines.commands.run_job import progress_logger
from pipelines.defs.ingest.assets import exports_folder_sensor, ingest
from pipelines.defs.resources import TouchplanResource
from pipelines.lib.config import ConfigError
from pipelines.lib.ingest.report import FileResult
from pipelines.lib.progress import DbtProgress, ingest_file_line
from tests.unit.ingest.conftest import FIXTURES, sf_contact_csv

ROOT = Path(__file__).resolve().parents[3]


def _exports(tmp_path: Path) -> Path:
    """A Salesforce Contact export (3 rows) and SendGrid's documented Event Webhook payload."""
    exports = tmp_path / "exports"
    (exports / "salesforce").mkdir(parents=True)
    (exports / "salesforce" / "Contact.csv").write_text(sf_contact_csv(3))
    (exports / "sendgrid").mkdir()
    shutil.copy(FIXTURES / "sendgrid" / "event_webhook_sample.json", exports / "sendgrid" / "events.json")
    return exports


def _ingest(tmp_path: Path, *extra: str) -> int:
    return main(
        [*extra, "ingest", "--exports", str(tmp_path / "exports"), "--warehouse", str(tmp_path / "w.duckdb")]
    )


def test_ingest_prints_one_progress_line_per_file_with_rows(tmp_path, capsys):
    _exports(tmp_path)
    assert _ingest(tmp_path) == 0
    err = capsys.readouterr().err.splitlines()
    progress = [line.strip() for line in err if line.strip().startswith("ingest ") and "/" in line.split()[1]]
    assert progress[0] == "ingest 1/2 salesforce/Contact.csv: 3 rows loaded"
    assert progress[1].startswith("ingest 2/2 sendgrid/events.json: ") and progress[1].endswith("rows loaded")


def test_rerun_says_the_files_were_already_loaded_not_that_none_were_found(tmp_path, capsys):
    _exports(tmp_path)
    assert _ingest(tmp_path) == 0
    capsys.readouterr()
    assert _ingest(tmp_path) == 0
    captured = capsys.readouterr()
    out = captured.out
    assert "no email export files found" not in out
    assert "no crm export files found" not in out
    assert "1 email export file(s) found, none new: 1 already loaded" in out
    assert "1 crm export file(s) found, none new: 1 already loaded" in out
    assert "no webinar export files found" in out  # really none: still said
    assert "ingest 2/2 sendgrid/events.json: already loaded (same content), nothing new" in captured.err


# An ingest bug of the kind a malformed real export used to hit (DuckDB's CSV state machine error), then the real
# `touchplan ingest` in a fresh interpreter, so stderr is exactly what a user sees (no test logging handlers).
_BROKEN_INGEST = """
import sys, duckdb
import pipelines.lib.ingest.loader as loader
def boom(*_args, **_kwargs):
    raise duckdb.InvalidInputException("CSV Parser state machine reached an invalid state")
loader.sniff_file = boom
from pipelines.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _ingest_broken(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    args = [
        *extra,
        "ingest",
        "--exports",
        str(tmp_path / "exports"),
        "--warehouse",
        str(tmp_path / "w.duckdb"),
    ]
    return subprocess.run(
        [sys.executable, "-c", _BROKEN_INGEST, *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_rejected_file_is_one_error_line_without_traceback(tmp_path):
    _exports(tmp_path)
    result = _ingest_broken(tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: ingest of salesforce/Contact.csv failed",
        "error: ingest of sendgrid/events.json failed",
    ]
    assert (
        "    error: salesforce/Contact.csv: InvalidInputException: CSV Parser state machine" in result.stdout
    )


def test_debug_shows_the_traceback_of_a_rejected_file(tmp_path):
    _exports(tmp_path)
    result = _ingest_broken(tmp_path, "--debug")
    assert result.returncode == 2
    assert "Traceback" in result.stderr and "InvalidInputException" in result.stderr


def test_empty_exports_folder_fails_ingest_at_once(tmp_path, capsys):
    (tmp_path / "exports").mkdir()
    assert _ingest(tmp_path) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        f"error: exports folder {tmp_path / 'exports'} has no export files"
    )
    assert not (tmp_path / "w.duckdb").exists()


# ------------------------------------------------------------------ Dagster


def _job(resource: TouchplanResource) -> dg.JobDefinition:
    defs = dg.Definitions(
        assets=[ingest],
        resources={"touchplan": resource},
        jobs=[dg.define_asset_job("ingest_only")],
        executor=dg.in_process_executor,
    )
    return defs.resolve_job_def("ingest_only").with_logger_defs({"touchplan_progress": progress_logger})


def _execute(job: dg.JobDefinition) -> dg.ExecuteInProcessResult:
    return job.execute_in_process(run_config={"loggers": {"touchplan_progress": {}}}, raise_on_error=False)


def test_ingest_asset_reports_progress_per_file(tmp_path, capsys):
    exports = _exports(tmp_path)
    resource = TouchplanResource(
        warehouse=str(tmp_path / "w.duckdb"), exports=str(exports), config_dir=str(ROOT / "config")
    )
    assert _execute(_job(resource)).success
    err = capsys.readouterr().err
    assert "     ingest 1/2 salesforce/Contact.csv: 3 rows loaded" in err
    assert "     ingest 2/2 sendgrid/events.json: " in err


def test_ingest_asset_fails_at_once_on_an_empty_exports_folder(tmp_path, capsys):
    (tmp_path / "exports").mkdir()
    resource = TouchplanResource(
        warehouse=str(tmp_path / "w.duckdb"),
        exports=str(tmp_path / "exports"),
        config_dir=str(ROOT / "config"),
    )
    result = _execute(_job(resource))
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert f"exports folder {tmp_path / 'exports'} has no export files" in str(
        failure.event_specific_data.error
    )
    assert not (tmp_path / "w.duckdb").exists()
    assert (
        f"FAILED ingest: exports folder {tmp_path / 'exports'} has no export files" in capsys.readouterr().err
    )


def test_a_run_with_a_config_typo_fails_before_its_first_step(tmp_path, capsys):
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    text = (config / "campaigns.yaml").read_text()
    (config / "campaigns.yaml").write_text(text.replace("channel: sales_task", "channel: sales_tsk", 1))
    resource = TouchplanResource(
        warehouse=str(tmp_path / "w.duckdb"), exports=str(_exports(tmp_path)), config_dir=str(config)
    )
    result = _execute(_job(resource))
    assert not result.success
    assert not [e for e in result.all_events if e.event_type_value == "STEP_START"], "a step started"
    assert not (tmp_path / "w.duckdb").exists()
    err = capsys.readouterr().err
    assert (
        f"FAILED before the first step: {config / 'campaigns.yaml'}: campaigns[1].channel: expected one of "
        "email, sales_task, webinar_invite, audience_file; got 'sales_tsk'"
    ) in err


def test_code_location_refuses_to_load_with_a_config_typo(tmp_path, monkeypatch):
    from pipelines.definitions import build_definitions

    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    text = (config / "contact_rules.yaml").read_text()
    (config / "contact_rules.yaml").write_text(text.replace("horizon_days: 7", "horizon_days: seven"))
    monkeypatch.setenv("TOUCHPLAN_CONFIG", str(config))
    with pytest.raises(ConfigError) as exc:
        build_definitions()
    assert str(exc.value).startswith(
        f"{config / 'contact_rules.yaml'}: horizon_days: expected a valid integer"
    )


def test_exports_sensor_is_stopped_until_turned_on():
    """Else `dagster dev` starts a whole-pipeline run for the files already in the folder as soon as it starts."""
    assert exports_folder_sensor.default_status == dg.DefaultSensorStatus.STOPPED


# ------------------------------------------------------------------ progress lines


def test_ingest_file_line_has_no_personal_data():
    result = FileResult("hubspot/contacts.csv", "h", "hubspot_contacts", "crm", "loaded", 10, 9, 1)
    assert ingest_file_line(4, 7, result) == "ingest 4/7 hubspot/contacts.csv: 9 rows loaded, 1 quarantined"


def test_dbt_progress_prints_about_ten_lines_with_the_slowest_model():
    tracker = DbtProgress(step="dbt_models", total_models=40, every_seconds=3600)
    lines = [tracker.model_finished(f"m{i}", seconds=float(i % 7), status="success") for i in range(1, 41)]
    printed = [line for line in lines if line]
    assert printed[0] == "dbt_models: 1/40 models; slowest so far m1 (1.0s)"
    assert printed[-1] == "dbt_models: 40/40 models; slowest so far m6 (6.0s)"
    assert 5 <= len(printed) <= 12
