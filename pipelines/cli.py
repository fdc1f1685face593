"""The `touchplan` command."""

from __future__ import annotations

import argparse
import importlib
import sys

from pipelines.commands import COMMAND_MODULES
from pipelines.commands.common import CommandError
from pipelines.lib.config import ConfigError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="touchplan", description="Customer contact strategy as a scheduled, tested data pipeline."
    )
    parser.add_argument("--debug", action="store_true", help="show the full stack trace on errors")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"pipelines.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (CommandError, ConfigError, FileNotFoundError, ValueError) as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - one clear line for the user; --debug shows the trace
        if args.debug:
            raise
        print(f"error: {type(exc).__name__}: {exc} (run with --debug for the stack trace)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
