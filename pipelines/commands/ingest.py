"""`touchplan ingest`: load every export file below the exports folder into the raw tables."""

from __future__ import annotations

import argparse

from pipelines.commands.common import (
    CommandError,
    add_config_option,
    add_exports_option,
    add_warehouse_option,
    progress,
    settings_from_args,
)
from pipelines.lib import warehouse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "ingest",
        help="load the export files (CRM, email platform, webinar) into the raw tables, quarantining bad rows",
    )
    add_exports_option(parser)
    add_warehouse_option(parser)
    add_config_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipelines.lib.erasure import apply_after_ingest
    from pipelines.lib.ingest import ingest_folder
    from pipelines.lib.preflight import exports_problem
    from pipelines.lib.progress import ingest_file_line

    settings = settings_from_args(args)
    problem = exports_problem(settings.exports)
    if problem:
        raise CommandError(problem)
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    progress(f"ingest: {settings.exports} -> {settings.warehouse}")
    con = warehouse.connect(settings=settings)
    try:
        report = ingest_folder(
            con,
            settings.exports,
            settings.config_dir,
            on_file=lambda n, total, result: progress("  " + ingest_file_line(n, total, result)),
        )
        erased_rows = apply_after_ingest(con, settings.erasure_list, report)
        if erased_rows:
            progress(f"erasure list: personal columns of {erased_rows} re-imported row(s) removed")
    finally:
        con.close()
    width = max([len(f.path) for f in report.files] + [4])
    # rows, then physical lines (text files): lines read = loaded + quarantined + skipped (header, footers, blanks)
    print(
        f"{'file':<{width}}  {'format':<26} {'status':<10} {'read':>8} {'loaded':>8} {'quarant.':>8} "
        f"{'lines':>8} {'l.loaded':>8} {'l.quar.':>8} {'l.skip.':>8}"
    )
    for f in report.files:
        lines = " ".join(
            f"{'-' if n is None else n:>8}"
            for n in (f.lines_read, f.lines_loaded, f.lines_quarantined, f.lines_skipped)
        )
        print(
            f"{f.path:<{width}}  {(f.format or '-'):<26} {f.status:<10} {f.rows_read:>8} {f.rows_loaded:>8} "
            f"{f.rows_quarantined:>8} {lines}"
        )
        if f.error:
            print(f"    error: {f.error}")
        for warning in f.warnings:
            print(f"    warning: {warning}")
    for warning in report.warnings:
        print(f"warning: {warning}")
    totals = report.totals
    print(
        f"files: {totals['files']} ({totals['loaded_files']} loaded, {totals['duplicate_files']} duplicate, "
        f"{totals['rejected_files']} rejected); rows: {totals['rows_read']} read, {totals['rows_loaded']} loaded, "
        f"{totals['rows_quarantined']} quarantined; lines: {totals['lines_read']} read, {totals['lines_loaded']} "
        f"loaded, {totals['lines_quarantined']} quarantined, {totals['lines_skipped']} skipped"
    )
    print("tables: " + ", ".join(f"{t}={n}" for t, n in report.table_counts.items()))
    if report.rejected:
        print(f"{len(report.rejected)} file(s) rejected: see the errors above (the other files were loaded)")
        return 2
    return 0
