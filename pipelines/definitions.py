"""The Dagster code location: every stage's definitions under pipelines/defs, run one step at a time."""

from pathlib import Path

import dagster as dg


def build_definitions() -> dg.Definitions:
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
        # DuckDB allows one writer: every step runs in the run's own process, one after another.
        dg.Definitions(executor=dg.in_process_executor),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
