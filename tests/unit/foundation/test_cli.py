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
