"""`touchplan deliveries`: the send ledger by channel and state; `--unresolved` lists the sends left `in_flight`.

An unresolved send is one whose request may or may not have reached SendGrid (the run was killed, or SendGrid did
not answer) and that no event or batch cancellation settled. It is never sent again on its own. After checking
(SendGrid's Activity feed, or ingesting the latest event files), the operator settles it:
`--release SEND_ID ...` (it did not go out: send it in the next run) or `--mark-accepted SEND_ID ...` (it went out).
"""

from __future__ import annotations

import argparse

from pipelines.commands.common import CommandError, add_warehouse_option, settings_from_args
from pipelines.lib import warehouse
from pipelines.lib.delivery.ledger import LEDGER_TABLE, ensure_ledger
from pipelines.lib.delivery.lock import sender_lock
from pipelines.lib.delivery.sender import unresolved_sends
from pipelines.lib.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "deliveries",
        help="the send ledger by state; --unresolved lists sends that may or may not have gone out",
    )
    add_warehouse_option(parser)
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--unresolved",
        action="store_true",
        help="list the in_flight sends that reconciliation could not settle (ids only, no personal data)",
    )
    action.add_argument(
        "--release",
        nargs="+",
        metavar="SEND_ID",
        help="these unresolved sends did NOT go out: make them failed_retryable so the next run sends them",
    )
    action.add_argument(
        "--mark-accepted",
        nargs="+",
        metavar="SEND_ID",
        help="these unresolved sends DID go out: make them accepted (never sent again)",
    )
    parser.set_defaults(func=deliveries_command)


def deliveries_command(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if not settings.warehouse.exists():
        raise CommandError(f"{settings.warehouse}: warehouse not found; run `touchplan run` first")
    if args.release or args.mark_accepted:
        return _settle(settings, args.release or args.mark_accepted, bool(args.release))
    con = warehouse.connect(read_only=True, settings=settings)
    try:
        if not con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [LEDGER_TABLE]
        ).fetchone()[0]:
            print("send_ledger: no sends recorded yet")
            return 0
        if args.unresolved:
            migrated = con.execute(
                "SELECT count(*) FROM information_schema.columns WHERE table_name = ? AND column_name = 'batch_id'",
                [LEDGER_TABLE],
            ).fetchone()[0]
            if not migrated:  # a ledger from before the in_flight state cannot hold unresolved sends
                print("no unresolved sends")
                return 0
            frame = unresolved_sends(con)
            if frame.empty:
                print("no unresolved sends")
                return 0
            print(f"{len(frame)} unresolved sends (in_flight; never resent until settled):")
            print(frame.to_string(index=False))
            print(
                "settle each after checking SendGrid: ingest the latest event files and run again, or "
                "`touchplan deliveries --release SEND_ID` (did not go out) / `--mark-accepted SEND_ID` (did)"
            )
            return 0
        rows = con.execute(
            f"SELECT channel, status, count(*) AS sends FROM {LEDGER_TABLE} GROUP BY ALL ORDER BY ALL"
        ).df()
        print(rows.to_string(index=False) if not rows.empty else "send_ledger: no sends recorded yet")
        return 0
    finally:
        con.close()


def _settle(settings: Settings, send_ids: list[str], release: bool) -> int:
    target, how = ("failed_retryable", "released") if release else ("accepted", "marked accepted")
    with sender_lock(settings.warehouse), warehouse.connect(settings=settings) as con:
        ensure_ledger(con)
        found = dict(
            con.execute(
                f"SELECT send_id, status FROM {LEDGER_TABLE} WHERE send_id IN (SELECT unnest($ids))",
                {"ids": send_ids},
            ).fetchall()
        )
        problems = [
            f"{s}: not in send_ledger" if s not in found else f"{s}: is {found[s]}, not in_flight"
            for s in send_ids
            if found.get(s) != "in_flight"
        ]
        if problems:
            raise CommandError("; ".join(problems) + " (nothing changed)")
        con.execute(
            f"""UPDATE {LEDGER_TABLE} SET status = $status, reconciled_by = 'operator', updated_at = now()::TIMESTAMP,
                   error = 'settled by the operator', sent_at = CASE WHEN $status = 'accepted'
                       THEN coalesce(sent_at, now()::TIMESTAMP) ELSE sent_at END
                WHERE send_id IN (SELECT unnest($ids)) AND status = 'in_flight'""",
            {"status": target, "ids": send_ids},
        )
    print(f"{len(send_ids)} sends {how}")
    return 0
