"""The Great Expectations resource: the GX file context (committed in `expectations/`) and its runner."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.lib.quality.runner import QualityRunner, TableValidation, shared_runner
from pipelines.lib.settings import EXPECTATIONS_DIR


class GreatExpectationsResource(dg.ConfigurableResource):
    """Runs a table's GX suites against the warehouse.

    `context_root_dir` defaults to the committed `expectations/` folder; validation results and Data Docs are
    written under the run's output folder (`results_dir`, `<output>/quality/data_docs/local_site/`).
    """

    context_root_dir: str | None = None

    def runner(self, results_dir: Path | None = None) -> QualityRunner:
        # shared per process: Dagster may build the resource again for every step
        return shared_runner(self.context_root_dir or EXPECTATIONS_DIR, results_dir)

    def validate(
        self,
        con: duckdb.DuckDBPyConnection,
        table: str,
        *,
        now: datetime,
        run_id: str | None = None,
        custom_source_systems: Collection[str] = (),
        results_dir: Path | None = None,
        reuse: bool = True,
    ) -> TableValidation:
        """`reuse=False` (a full-refresh run): no earlier validation's outcomes stand (runner.validate_table)."""
        return self.runner(results_dir).validate_table(
            con, table, now=now, run_id=run_id, custom_source_systems=custom_source_systems, reuse=reuse
        )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(resources={"great_expectations": GreatExpectationsResource()})
