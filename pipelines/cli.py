"""The `touchplan` command."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from pipelines.commands import COMMAND_MODULES
from pipelines.commands.common import CommandError
from pipelines.lib.config import ConfigError


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or only of `command` when it names one (its module alone is imported: the
    others import pandas, dagster, Splink..., seconds of CPU before a command such as `ingest` starts)."""
    parser = argparse.ArgumentParser(
        prog="touchplan", description="Customer contact strategy as a scheduled, tested data pipeline."
    )
    parser.add_argument("--debug", action="store_true", help="show the full stack trace on errors")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    module = command.replace("-", "_") if command else None
    for name in [module] if module in COMMAND_MODULES else COMMAND_MODULES:
        importlib.import_module(f"pipelines.commands.{name}").register(subparsers)
    return parser


def _command_in(argv: list[str]) -> str | None:
    """The command named by `argv` (its first word that is no option: `--debug` is the only option before it)."""
    return next((a for a in argv if not a.startswith("-")), None)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(_command_in(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    configure_logging(debug=args.debug)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (CommandError, ConfigError, FileNotFoundError, ValueError) as exc:
        if args.debug:
            raise
        print_error(exc)
        return 1
    except Exception as exc:  # noqa: BLE001 - one clear line for the user; --debug shows the trace
        if args.debug:
            raise
        print(f"error: {type(exc).__name__}: {exc} (run with --debug for the stack trace)", file=sys.stderr)
        return 1


def print_error(exc: Exception) -> None:
    """`error: <line>` per line: a config check may report several problems, each one line."""
    for line in str(exc).splitlines() or [type(exc).__name__]:
        print(f"error: {line}", file=sys.stderr)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (a run redirects it to its run log)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):  # noqa: D102
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


class _OneLineFormatter(logging.Formatter):
    """`warning: <message>` without the stack trace (the error is already in the report); --debug shows it."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"

    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        return ""


# Libraries whose INFO/WARNING chatter (banners, deprecation notes, progress) is not the user's business.
QUIET_LOGGERS = ("great_expectations", "splink", "dbt", "dagster_dbt", "sqlglot", "py4j", "urllib3")


def configure_logging(debug: bool) -> None:
    """Our warnings and errors as one line on stderr (stack traces only with --debug); third parties quiet."""
    handler = _StderrHandler()
    handler.setLevel(logging.WARNING)  # loggers that set their own level (Dagster's) still only warn here
    if debug:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(_OneLineFormatter())
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)
    handler.touchplan_cli = True  # type: ignore[attr-defined] - so a second main() call replaces, not adds
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "touchplan_cli", False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)


if __name__ == "__main__":
    sys.exit(main())
