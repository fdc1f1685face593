"""`touchplan sample-data`: write a realistic, fragmented set of demo exports and their ground truth."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.commands.common import CommandError, progress
from pipelines.lib.settings import Settings, parse_as_of


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "sample-data",
        help="write realistic demo exports (Salesforce, HubSpot, Mailchimp, SendGrid, Zoom) and their ground truth",
    )
    parser.add_argument("--out", type=Path, required=True, help="folder to write the exports into")
    parser.add_argument("--contacts", type=int, default=2000, help="number of true persons (default 2000)")
    parser.add_argument(
        "--seed", type=int, default=42, help="random seed; same seed, same files (default 42)"
    )
    parser.add_argument(
        "--as-of", help="the time the exports are taken, ISO date or datetime (default: now, UTC)"
    )
    parser.set_defaults(func=run)


def duckdb_limits() -> dict[str, str]:
    """The pipeline's DuckDB memory cap and spill folder (TOUCHPLAN_MEMORY_LIMIT, TOUCHPLAN_TEMP_DIRECTORY) for the
    generator's CSV writer, which is a package of its own and reads no Touchplan setting itself."""
    try:
        settings = Settings.from_env()
    except ValueError as exc:  # e.g. TOUCHPLAN_MEMORY_LIMIT=lots
        raise CommandError(str(exc)) from exc
    return {"memory_limit": settings.memory_limit, "temp_directory": str(settings.temp_directory)}


def run(args: argparse.Namespace) -> int:
    from touchplan_sample_data import generate  # numpy/pandas only when the command runs

    if args.contacts < 50:
        raise CommandError(f"--contacts must be at least 50 (got {args.contacts})")
    try:
        as_of = parse_as_of(args.as_of)
    except ValueError as exc:
        raise CommandError(f"--as-of: {exc}") from exc
    out = args.out.resolve()
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out {out} exists and is not a folder")
    progress(f"sample-data: {args.contacts} persons, seed {args.seed}, into {out}")
    summary = generate(
        out,
        contacts=args.contacts,
        seed=args.seed,
        as_of=as_of,
        progress=lambda msg: progress(f"  {msg}"),
        duckdb_config=duckdb_limits(),
    )
    for line in summary.lines():
        progress(line)
    print(
        f"wrote {len(summary.files)} files ({sum(summary.files.values())} rows) for {summary.persons} persons "
        f"to {out} in {summary.elapsed_seconds:.1f}s"
    )
    return 0
