"""`touchplan backtest --rules FILE --from DATE --to DATE`: replay history under proposed contact rules."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.commands.common import (
    CommandError,
    add_config_option,
    add_warehouse_option,
    settings_from_args,
)
from pipelines.lib import warehouse
from pipelines.lib.planning.config import load_strategy
from pipelines.lib.planning.review import backtest
from pipelines.lib.settings import parse_as_of


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("backtest", help="replay past contacts under proposed contact rules")
    parser.add_argument("--rules", type=Path, required=True, help="proposed contact rules YAML file")
    parser.add_argument("--from", dest="start", required=True, help="first day replayed (ISO date)")
    parser.add_argument("--to", dest="end", required=True, help="day after the last day replayed (ISO date)")
    add_warehouse_option(parser)
    add_config_option(parser)
    parser.set_defaults(func=backtest_command)


def backtest_command(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    try:
        start, end = parse_as_of(args.start), parse_as_of(args.end)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    if start is None or end is None or end <= start:
        raise CommandError("--to must be after --from")
    if not settings.warehouse.exists():
        raise CommandError(f"{settings.warehouse}: warehouse not found; run `touchplan run` first")
    strategy = load_strategy(settings.config_dir, rules_path=args.rules.resolve())
    con = warehouse.connect(settings=settings)
    try:
        print(backtest(con, strategy, start, end).render())
    finally:
        con.close()
    return 0
