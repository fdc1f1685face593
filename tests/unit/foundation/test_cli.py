import subprocess
import sys

from pipelines.cli import build_parser, main


def test_every_subcommand_is_registered():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # noqa: SLF001 - argparse keeps them here
    assert {"sample-data", "run", "ingest"} <= set(commands)


def test_missing_exports_folder_is_one_clear_line(tmp_path, capsys):
    code = main(["run", "--exports", str(tmp_path / "nope"), "--warehouse", str(tmp_path / "w.duckdb")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: exports folder")
    assert "nope" in err
    assert "Traceback" not in err


def test_debug_flag_shows_the_stack_trace(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "--debug", "run", "--exports", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "Traceback" in result.stderr
    assert "CommandError" in result.stderr


def test_bad_as_of_is_reported_without_trace(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    code = main(["run", "--exports", str(tmp_path / "in"), "--as-of", "yesterday"])
    err = capsys.readouterr().err
    assert code == 1 and "as-of time 'yesterday'" in err and "Traceback" not in err


def test_a_command_imports_only_its_own_module():
    """`touchplan ingest` does not load the other commands' libraries (pandas through delivery, Dagster through
    run_job: seconds of CPU before the command starts); `touchplan --help` still lists every command."""
    code = (
        "import sys; from pipelines.cli import build_parser; build_parser('ingest'); "
        "print(sorted(m for m in ('pandas', 'dagster', 'pipelines.commands.deliveries', "
        "'pipelines.commands.ingest') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["['pipelines.commands.ingest']"]
    commands = build_parser(None)._subparsers._group_actions[0].choices  # noqa: SLF001
    assert {"sample-data", "run", "ingest", "deliveries", "check-config"} <= set(commands)
    assert set(build_parser("check-config")._subparsers._group_actions[0].choices) == {"check-config"}  # noqa: SLF001
