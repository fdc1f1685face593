"""The Dagster assets and sensor of ingest, and `touchplan ingest`."""

from __future__ import annotations

import dagster as dg
import duckdb

from pipelines.defs.ingest.assets import exports_folder_sensor, ingest
from pipelines.defs.resources import TouchplanResource
from tests.unit.ingest.conftest import FIXTURES, sf_contact_csv


def _setup(tmp_path):
    exports = tmp_path / "exports"
    (exports / "salesforce").mkdir(parents=True)
    (exports / "salesforce" / "Contact.csv").write_text(sf_contact_csv(3))
    config = tmp_path / "config"
    config.mkdir()
    return (
        exports,
        config,
        TouchplanResource(warehouse=str(tmp_path / "w.duckdb"), exports=str(exports), config_dir=str(config)),
    )


def test_ingest_asset_materializes_every_raw_table_with_counts_and_no_personal_data(tmp_path):
    exports, _, resource = _setup(tmp_path)
    result = dg.materialize([ingest], resources={"touchplan": resource})
    assert result.success
    keys = {
        e.event_specific_data.materialization.asset_key.to_user_string()
        for e in result.get_asset_materialization_events()
    }
    assert keys == {
        "raw_crm_contacts",
        "raw_crm_deals",
        "raw_email_events",
        "raw_email_suppressions",
        "raw_email_audience",
        "raw_webinar_attendance",
        "raw_webinar_registrations",
        "raw_unsubscribe_requests",
        "ingest_files",
        "ingest_quarantine",
    }
    by_key = {
        e.event_specific_data.materialization.asset_key.to_user_string(): e.event_specific_data.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    assert by_key["raw_crm_contacts"]["dagster/row_count"].value == 3
    files = by_key["ingest_files"]["per_file"].value.records
    assert files[0].data == {
        "file": "salesforce/Contact.csv",
        "format": "salesforce_contact",
        "status": "loaded",
        "read": 3,
        "loaded": 3,
        "quarantined": 0,
    }
    assert by_key["ingest_files"]["total_rows_loaded"].value == 3
    assert "@" not in repr(by_key)  # no e-mail addresses in metadata
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert con.execute("SELECT count(*) FROM raw_crm_contacts").fetchall() == [(3,)]
    con.close()


def test_sensor_requests_a_run_for_new_or_changed_files_only(tmp_path):
    exports, _, resource = _setup(tmp_path)
    context = dg.build_sensor_context(resources={"touchplan": resource})
    first = exports_folder_sensor(context)
    assert isinstance(first, dg.RunRequest) and first.run_key
    cursor = context.cursor
    context = dg.build_sensor_context(cursor=cursor, resources={"touchplan": resource})
    assert isinstance(exports_folder_sensor(context), dg.SkipReason)
    (exports / "zoom").mkdir()
    (exports / "zoom" / "report.csv").write_bytes(
        (FIXTURES / "zoom" / "webinar_attendee_report_2020.csv").read_bytes()
    )
    (exports / "_truth").mkdir()
    (exports / "_truth" / "ground_truth.csv").write_text("x\n")
    context = dg.build_sensor_context(cursor=cursor, resources={"touchplan": resource})
    second = exports_folder_sensor(context)
    assert isinstance(second, dg.RunRequest) and second.run_key != first.run_key
    assert second.tags["touchplan/changed_files"] == "1"
    assert exports_folder_sensor.job_name == "touchplan_job"


def test_cli_loads_the_good_files_and_exits_non_zero_when_one_is_rejected(tmp_path, capsys):
    from pipelines.cli import main

    exports, config, _ = _setup(tmp_path)
    (exports / "misc").mkdir()
    (exports / "misc" / "broken.csv").write_text("Id,Id\n1,2\n")
    code = main(
        [
            "ingest",
            "--exports",
            str(exports),
            "--warehouse",
            str(tmp_path / "cli.duckdb"),
            "--config",
            str(config),
        ]
    )
    out = capsys.readouterr().out
    assert code == 2
    assert (
        "salesforce/Contact.csv" in out and "loaded" in out and "misc/broken.csv" in out and "rejected" in out
    )
    assert "1 file(s) rejected" in out
    con = duckdb.connect(str(tmp_path / "cli.duckdb"))
    assert con.execute("SELECT count(*) FROM raw_crm_contacts").fetchall() == [(3,)]
    con.close()


def test_cli_per_file_table_reconciles_physical_lines_as_ingest_files_does(tmp_path, capsys):
    from pipelines.cli import main

    exports, config, _ = _setup(tmp_path)
    # header, 3 contacts, a blank line (skipped), a row with a stray quote and a line of text (quarantined)
    (exports / "salesforce" / "Contact.csv").write_text(
        sf_contact_csv(3) + "\n" + sf_contact_csv(4).splitlines()[-1].replace("Zoë", 'Zo"ë', 1) + "\n"
        "Exported by Jane, admin\n"
    )
    (exports / "misc").mkdir()
    (exports / "misc" / "broken.csv").write_text("Id,Id\n1,2\n")
    warehouse = tmp_path / "cli.duckdb"
    main(["ingest", "--exports", str(exports), "--warehouse", str(warehouse), "--config", str(config)])
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("file "))
    assert header.split()[-4:] == ["lines", "l.loaded", "l.quar.", "l.skip."]
    con = duckdb.connect(str(warehouse))
    expected = con.execute(
        "SELECT lines_read, lines_loaded, lines_quarantined, lines_skipped FROM ingest_files "
        "WHERE source_file = 'salesforce/Contact.csv'"
    ).fetchall()[0]
    con.close()
    assert expected == (7, 3, 2, 2)
    contact = next(line for line in out.splitlines() if line.startswith("salesforce/Contact.csv"))
    assert contact.split()[-7:] == ["5", "3", "2", "7", "3", "2", "2"]
    broken = next(line for line in out.splitlines() if line.startswith("misc/broken.csv"))
    assert broken.split()[-4:] == ["-", "-", "-", "-"]
    assert "lines: 7 read, 3 loaded, 2 quarantined, 2 skipped" in out
