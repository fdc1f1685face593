"""`touchplan explain CUSTOMER`: why a customer is or is not in the latest plan, in plain words."""

from __future__ import annotations

import argparse

from pipelines.commands.common import (
    CommandError,
    add_config_option,
    add_warehouse_option,
    settings_from_args,
)
from pipelines.lib import warehouse
from pipelines.lib.planning.config import load_strategy
from pipelines.lib.planning.review import explain


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("explain", help="explain the plan for one customer (id or email)")
    parser.add_argument("customer", metavar="CUSTOMER", help="customer id or email address")
    add_warehouse_option(parser)
    add_config_option(parser)
    parser.set_defaults(func=explain_command)


def explain_command(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if not settings.warehouse.exists():
        raise CommandError(f"{settings.warehouse}: warehouse not found; run `touchplan run` first")
    strategy = load_strategy(settings.config_dir)
    con = warehouse.connect(settings=settings)
    try:
        print(explain(con, strategy, args.customer))
    finally:
        con.close()
    return 0
