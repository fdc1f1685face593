"""A real dbt build inside the Dagster step: progress lines while it runs, and one line when a model fails
(the model and dbt's error, not the dbt command with its kilobytes of --vars JSON)."""

from __future__ import annotations

import re

import dagster as dg
import duckdb
import pytest
from dagster_dbt import DbtCliResource

from pipelines.commands.run_job import progress_logger
from pipelines.defs.ingest.assets import ingest
from pipelines.defs.resources import TouchplanResource
from pipelines.defs.transform.dbt import DBT_PROJECT, _dbt_executable, dbt_pre_identity
from pipelines.lib.settings import PROJECT_ROOT
from tests.unit.ingest.conftest import sf_contact_csv


@pytest.mark.slow
def test_dbt_step_prints_progress_and_fails_with_one_line(tmp_path, monkeypatch, capsys):
    for name in ("TOUCHPLAN_WAREHOUSE", "TOUCHPLAN_EXPORTS", "TOUCHPLAN_CONFIG", "TOUCHPLAN_OUTPUT"):
        monkeypatch.setenv(name, "")  # the dbt step exports its settings: restored after the test
    exports = tmp_path / "exports"
    (exports / "salesforce").mkdir(parents=True)
    (exports / "salesforce" / "Contact.csv").write_text(sf_contact_csv(5))
    warehouse = tmp_path / "w.duckdb"
    touchplan = TouchplanResource(
        warehouse=str(warehouse),
        exports=str(exports),
        config_dir=str(PROJECT_ROOT / "config"),
        output=str(tmp_path),
    )
    assert dg.materialize([ingest], resources={"touchplan": touchplan}).success
    # A raw table an older or hand-edited warehouse might have: one column gone, so one staging model fails.
    with duckdb.connect(str(warehouse)) as con:
        con.execute('ALTER TABLE raw_crm_contacts DROP COLUMN "email"')

    defs = dg.Definitions(
        assets=[dbt_pre_identity],
        resources={
            "touchplan": touchplan,
            "dbt": DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=_dbt_executable()),
        },
        jobs=[dg.define_asset_job("pre_identity")],
        executor=dg.in_process_executor,
    )
    job = defs.resolve_job_def("pre_identity").with_logger_defs({"touchplan_progress": progress_logger})
    result = job.execute_in_process(run_config={"loggers": {"touchplan_progress": {}}}, raise_on_error=False)

    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    error = failure.event_specific_data.error
    while error.cause is not None:
        error = error.cause
    message = error.message.split(": ", 1)[1].strip()  # after the exception class
    assert "\n" not in message
    assert message.startswith("dbt: model stg_"), message
    assert "Binder Error" in message and "email" in message
    assert "--vars" not in message and "survivorship" not in message
    assert len(message) < 700

    err = capsys.readouterr().err
    assert "FAILED dbt_pre_identity: dbt: model stg_" in err
    assert "--vars" not in err
    progress = [line.strip() for line in err.splitlines() if line.strip().startswith("dbt_pre_identity: ")]
    assert progress, err
    done, total = progress[-1].split(": ", 1)[1].split(" models")[0].split("/")
    assert int(done) == int(total) > 1  # every model is counted, the failed and the skipped too
    # The slowest node is one this step built: a staging or intermediate model, or one of its seeds (under load a
    # seed can be the slowest; the line only promises the name and time of whichever node was).
    slowest = re.search(r"; slowest so far (\w+) \((\d+\.\d)s\)$", progress[-1])
    assert slowest, progress[-1]
    seeds = {path.stem for path in (DBT_PROJECT.project_dir / "seeds").glob("*.csv")}
    assert slowest[1].startswith(("stg_", "int_")) or slowest[1] in seeds, progress[-1]

    # `touchplan run` turns the same failed result into the run-failure alert: the step and dbt's one line.
    from pipelines.commands.run import _alert
    from pipelines.lib.settings import Settings

    monkeypatch.delenv("TOUCHPLAN_ALERT_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("TOUCHPLAN_ALERT_EMAIL", raising=False)
    _alert(Settings.from_env(output=tmp_path, config_dir=PROJECT_ROOT / "config"), result)
    alert = (tmp_path / "alerts" / "run_failures.jsonl").read_text().splitlines()[-1]
    assert '"failed_steps": [["dbt_pre_identity", "' in alert and "dbt: model stg_" in alert, alert
