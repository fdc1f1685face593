"""`touchplan explain-match RECORD_A RECORD_B`: why two records are or are not one customer, in words.

Reads the warehouse read-only (attached to an in-memory database that holds Splink's work tables). The output
holds names and emails: it goes to the terminal only, never to a log."""

from __future__ import annotations

import argparse

import duckdb

from pipelines.commands.common import CommandError, add_warehouse_option, settings_from_args
from pipelines.lib import warehouse
from pipelines.lib.identity.explain import TABLES, ExplainMatchError, explain_match, format_explanation
from pipelines.lib.identity.model_store import ModelNotFoundError
from pipelines.lib.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "explain-match",
        help="explain why two records are or are not one customer (record keys or emails)",
        description="Each comparison's level and match weight, the prior and the final match probability from "
        "the latest run's Splink model, and the run's decision with its reason.",
    )
    parser.add_argument("record_a", metavar="RECORD_A", help="record key (e.g. salesforce:003...) or email")
    parser.add_argument("record_b", metavar="RECORD_B", help="record key or email")
    add_warehouse_option(parser)
    parser.set_defaults(func=explain_match_command)


def open_read_only(settings: Settings) -> duckdb.DuckDBPyConnection:
    """An in-memory database with the warehouse attached read-only and a view per table the explanation reads
    (Splink's scoring runs there, within the configured memory limit)."""
    con = warehouse.connect(warehouse.IN_MEMORY, settings=settings)
    con.execute("ATTACH ? AS warehouse (READ_ONLY)", [str(settings.warehouse)])
    present = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'warehouse' "
            "UNION SELECT view_name FROM duckdb_views() WHERE database_name = 'warehouse'"
        ).fetchall()
    }
    for table in TABLES:
        if table in present:
            con.execute(f'CREATE VIEW memory.main."{table}" AS SELECT * FROM warehouse.main."{table}"')
    return con


def explain_match_command(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if not settings.warehouse.exists():
        raise CommandError(f"{settings.warehouse}: warehouse not found; run `touchplan run` first")
    try:
        con = open_read_only(settings)
    except duckdb.IOException as exc:
        raise CommandError(f"{settings.warehouse}: cannot open the warehouse read-only ({exc})") from exc
    try:
        print(format_explanation(explain_match(con, args.record_a, args.record_b)))
    except (ExplainMatchError, ModelNotFoundError) as exc:
        raise CommandError(str(exc)) from exc
    finally:
        con.close()
    return 0
