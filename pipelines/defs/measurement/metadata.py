"""Markdown tables of the measurement marts on their dbt outputs, read once dbt has closed the warehouse."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import dagster as dg

from pipelines.lib.measurement.figures import FIGURES, figure


def with_figures(events: Iterable, touchplan) -> Iterator:
    events = list(events)
    names = {e.output_name for e in events if isinstance(e, dg.Output) and e.output_name in FIGURES}
    extra = {}
    if names:
        with touchplan.connect(read_only=True) as con:
            for name in names:
                rows, text = figure(con, name)
                extra[name] = {"dagster/row_count": rows, "figures": dg.MetadataValue.md(text)}
    for event in events:
        if isinstance(event, dg.Output) and event.output_name in extra:
            yield event.with_metadata({**(event.metadata or {}), **extra[event.output_name]})
        else:
            yield event
