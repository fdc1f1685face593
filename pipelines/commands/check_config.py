"""`touchplan check-config`: validate every config file (the check `touchplan run` does before any step)."""

from __future__ import annotations

import argparse
import sys

from pipelines.commands.common import add_config_option, settings_from_args


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check-config",
        help="check every config file (sources, identity, survivorship, insight, campaigns, contact rules, "
        "delivery) and the references between them; nothing runs",
    )
    add_config_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipelines.lib.config.validate import validate_config

    settings = settings_from_args(args)
    check = validate_config(settings.config_dir)
    if not check.ok:
        for line in check.problems:
            print(f"error: {line}", file=sys.stderr)
        return 1
    print(check.summary())
    return 0
