"""Options shared by subcommands, and the settings they resolve to."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

from pipelines.lib.settings import Settings, parse_as_of


class CommandError(Exception):
    """A failure with a message fit for the user; printed without a stack trace unless --debug."""


def add_warehouse_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--warehouse",
        type=Path,
        help="DuckDB file (default: $TOUCHPLAN_WAREHOUSE, else data/warehouse.duckdb)",
    )


def add_exports_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--exports", type=Path, help="exports folder (default: $TOUCHPLAN_EXPORTS, else data/exports)"
    )


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, help="config folder (default: $TOUCHPLAN_CONFIG, else config/)"
    )


def add_as_of_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as-of", help="the time the run acts as of, ISO date or datetime (default: now, UTC)"
    )


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Command-line options win over environment variables; relative paths are relative to the working directory.

    The command hands the result on explicitly (to the Dagster job as its resource, to dbt as vars): nothing here
    or after writes `os.environ`."""
    try:
        as_of = parse_as_of(getattr(args, "as_of", None))
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    try:
        settings = Settings.from_env(
            warehouse=_resolved(getattr(args, "warehouse", None)),
            exports=_resolved(getattr(args, "exports", None)),
            config_dir=_resolved(getattr(args, "config", None)),
            output=_resolved(getattr(args, "output", None)),
            as_of=as_of,
            send=True if getattr(args, "send", False) else None,
            force_send=True if getattr(args, "force_send", False) else None,
        )
    except ValueError as exc:  # a bad TOUCHPLAN_* value, e.g. TOUCHPLAN_MEMORY_LIMIT=lots
        raise CommandError(str(exc)) from exc
    return settings


def _resolved(path: Path | None) -> Path | None:
    return path.resolve() if path is not None else None


_PROGRESS_STREAM: list = []  # set while a run sends everything else on stderr to its run log


def progress(message: str) -> None:
    print(message, file=_PROGRESS_STREAM[-1] if _PROGRESS_STREAM else sys.stderr, flush=True)


@contextlib.contextmanager
def progress_to(stream) -> Iterator[None]:
    """Progress lines go to `stream` (the terminal) even while sys.stderr is redirected to a log file."""
    _PROGRESS_STREAM.append(stream)
    try:
        yield
    finally:
        _PROGRESS_STREAM.pop()
