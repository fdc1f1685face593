"""Resources shared by every stage. Paths come from the TOUCHPLAN_* environment variables at run time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.lib import warehouse
from pipelines.lib.settings import Settings

# A step that finds the warehouse locked by another process waits and tries again (docs/operations.md).
LOCK_RETRIES = 3
LOCK_RETRY_SECONDS = 30.0


class TouchplanResource(dg.ConfigurableResource):
    """The warehouse file and the folders a run reads and writes.

    Left unset, each field falls back to its TOUCHPLAN_* environment variable, then to the default, so the
    `touchplan` CLI and the Dagster UI work on the same files.
    """

    warehouse: str | None = None
    exports: str | None = None
    config_dir: str | None = None
    output: str | None = None

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Every run checks the config files once, before its first step: a typo fails the run in seconds, with
        one line per problem naming the file and key. A missing file is left to the stage that reads it (a run
        may materialize only some stages); sensor evaluations, which have no run, skip the check."""
        if context.dagster_run is None:
            return
        from pipelines.lib.config.validate import validate_config

        validate_config(self.settings().config_dir, require_all=False).raise_if_failed()

    def settings(self) -> Settings:
        return Settings.from_env(
            warehouse=Path(self.warehouse).resolve() if self.warehouse else None,
            exports=Path(self.exports).resolve() if self.exports else None,
            config_dir=Path(self.config_dir).resolve() if self.config_dir else None,
            output=Path(self.output).resolve() if self.output else None,
        )

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection that is always closed: DuckDB allows one writer, and dbt runs in another process. It has
        the configured memory limit and spill folder (pipelines/lib/warehouse.py)."""
        settings = self.settings()
        settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
        try:
            # memory_limit and temp_directory from TOUCHPLAN_MEMORY_LIMIT / TOUCHPLAN_TEMP_DIRECTORY
            con = warehouse.connect(read_only=read_only, settings=settings)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            # Another process (a UI run, `touchplan plan`, a backup) holds the warehouse: a passing reason, so the
            # step is retried a few times before the run fails (and the run-failure alert names the step).
            raise dg.RetryRequested(max_retries=LOCK_RETRIES, seconds_to_wait=LOCK_RETRY_SECONDS) from exc
        try:
            yield con
        finally:
            con.close()


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(resources={"touchplan": TouchplanResource()})
