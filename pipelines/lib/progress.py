"""Progress lines inside the long steps (files during ingest, models during dbt).

Assets log them with `extra=PROGRESS_EXTRA`: the Dagster UI shows them as ordinary info lines, and the
`touchplan run` progress logger prints exactly these (and not the rest of Dagster's event stream).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from pipelines.lib.ingest.report import FileResult

PROGRESS_ATTR = "touchplan_progress"
PROGRESS_EXTRA = {PROGRESS_ATTR: True}


def ingest_file_line(n: int, total: int, result: FileResult) -> str:
    """`ingest 3/44 salesforce/Contact.csv: 974 rows loaded, 2 quarantined` (no personal data: counts only)."""
    head = f"ingest {n}/{total} {result.path}"
    if result.status == "duplicate":
        return f"{head}: already loaded (same content), nothing new"
    if result.status == "rejected":
        return f"{head}: rejected"
    line = f"{head}: {result.rows_loaded} rows loaded"
    if result.rows_quarantined:
        line += f", {result.rows_quarantined} quarantined"
    return line


@dataclass
class DbtProgress:
    """Counts finished dbt models (and tests) and remembers the slowest model; says when a line is due.

    A line is due for the first model, every `every_share` of the models, after `every_seconds` of silence,
    and for the last one, so a 100-model build prints about ten lines, never one per model.
    """

    step: str
    total_models: int
    every_share: float = 0.1
    every_seconds: float = 15.0
    done: int = 0
    tests: int = 0
    failed: list[str] = field(default_factory=list)
    slowest: tuple[str, float] | None = None
    _last_line_at: float = field(default_factory=time.monotonic)
    _last_line_done: int = 0

    def model_finished(self, name: str, seconds: float | None, status: str) -> str | None:
        self.done += 1
        if status in ("error", "fail"):
            self.failed.append(name)
        if seconds is not None and (self.slowest is None or seconds > self.slowest[1]):
            self.slowest = (name, seconds)
        now = time.monotonic()
        step = max(1, round(self.total_models * self.every_share))
        due = (
            self.done == 1
            or self.done >= self.total_models
            or self.done - self._last_line_done >= step
            or now - self._last_line_at >= self.every_seconds
        )
        if not due:
            return None
        self._last_line_at, self._last_line_done = now, self.done
        return self.line()

    def test_finished(self) -> None:
        self.tests += 1

    def line(self) -> str:
        text = f"{self.step}: {self.done}/{self.total_models} models"
        if self.tests:
            text += f", {self.tests} tests"
        if self.slowest:
            text += f"; slowest so far {self.slowest[0]} ({self.slowest[1]:.1f}s)"
        return text
