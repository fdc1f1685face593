"""Checks that take a second and save a failed run: the config files and the exports folder, before any step."""

from __future__ import annotations

from pathlib import Path

from pipelines.lib.config_loader import display_path


class PreflightError(ValueError):
    """The run cannot start; one line per problem, printed without a stack trace."""


def exports_problem(exports: Path) -> str | None:
    """One line when the exports folder is missing or holds no export file, else None."""
    from pipelines.lib.ingest.loader import list_export_files

    shown = display_path(exports)
    hint = (
        f"put CRM, email and webinar exports there, or generate demo files with "
        f"`touchplan sample-data --out {shown}`"
    )
    if not Path(exports).is_dir():
        return f"exports folder {shown} does not exist: {hint}"
    if not list_export_files(Path(exports)):
        return f"exports folder {shown} has no export files (names starting with _ or . are skipped): {hint}"
    return None


def check_exports(exports: Path) -> None:
    problem = exports_problem(exports)
    if problem:
        raise PreflightError(problem)
