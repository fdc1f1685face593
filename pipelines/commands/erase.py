"""`touchplan erase EMAIL|CUSTOMER_ID`: remove a person's personal data from the warehouse and the output files."""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

from pipelines.commands.common import CommandError, add_warehouse_option, settings_from_args
from pipelines.lib import warehouse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "erase",
        help="erase a person (right to be forgotten): warehouse rows, outbox and report files; keeps a salted hash",
        description=(
            "Removes the person's personal data from every table of the warehouse and every file below the output "
            "folder, and adds a salted hash of each of their addresses to the erasure list (needs "
            "TOUCHPLAN_ERASURE_SALT), so that a later export cannot bring them back: the re-imported record is "
            "suppressed on every channel with reason `erased`. See docs/delivery.md."
        ),
    )
    parser.add_argument("person", metavar="EMAIL|CUSTOMER_ID", help="an email address or a customer id")
    add_warehouse_option(parser)
    parser.add_argument(
        "--output",
        type=Path,
        help="folder of outbox, reports, CRM fix files and the erasure list (default: data/)",
    )
    parser.add_argument(
        "--no-compact",
        action="store_true",
        help="skip rewriting the DuckDB file (old values then stay in its free blocks until reused)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipelines.lib.erasure import (
        ErasureError,
        compact_warehouse,
        erase_person,
        plain_address_locations,
        require_salt,
    )

    settings = settings_from_args(args)
    try:
        require_salt()  # before opening anything
    except ErasureError as exc:
        raise CommandError(str(exc)) from exc
    if not settings.warehouse.exists():
        raise CommandError(f"{settings.warehouse}: warehouse not found (run `touchplan run` first)")
    try:
        con = warehouse.connect(settings=settings)
    except duckdb.IOException as exc:
        raise CommandError(
            f"{settings.warehouse}: cannot open the warehouse ({exc}); is a run in progress?"
        ) from exc
    try:
        try:
            report = erase_person(con, settings.output, args.person)
        except ErasureError as exc:
            raise CommandError(str(exc)) from exc
        left = plain_address_locations(con, args.person) if "@" in args.person else []
    finally:
        con.close()
    if not args.no_compact:
        compact_warehouse(settings.warehouse, settings)  # the old values out of the file's free blocks
    # never the address: the customer ids and the hash prefix only (the audit line is in erasure/erasure_log.jsonl)
    print(report.summary())
    if not report.found:
        print(
            "note: the address is not in the warehouse; it is on the erasure list, so no later export adds it"
        )
    if left:
        raise CommandError(f"the address is still in: {', '.join(left)}")
    return 0
