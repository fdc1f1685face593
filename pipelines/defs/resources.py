"""Resources shared by every stage: `TouchplanResource`, built from one `Settings` (pipelines/lib/settings.py).

The definitions (pipelines/definitions.py) add it: `touchplan run` builds it from the Settings of its options and
environment, the Dagster UI from the environment when the code location loads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.lib import warehouse
from pipelines.lib.settings import Settings, parse_as_of, parse_memory_limit

# A step that finds the warehouse locked by another process waits and tries again (docs/operations.md).
LOCK_RETRIES = 3
LOCK_RETRY_SECONDS = 30.0


class TouchplanResource(dg.ConfigurableResource):
    """The warehouse file, the folders a run reads and writes, and the run's other settings.

    `TouchplanResource.from_settings(settings)` carries every field of a `Settings` and reads no environment
    variable (`environment=False`). Built by hand with only some fields (tests), the unset ones fall back to their
    TOUCHPLAN_* variable, then to the default (`Settings.from_env`).
    """

    warehouse: str | None = None
    exports: str | None = None
    config_dir: str | None = None
    output: str | None = None
    as_of: str | None = None  # ISO datetime; None: the time of each step (`Settings.as_of_or_now`)
    send: bool | None = None
    force_send: bool | None = None
    memory_limit: str | None = None  # DuckDB size string
    temp_dir: str | None = None  # None: `<warehouse>.tmp`
    environment: bool = (
        True  # unset fields read TOUCHPLAN_* variables; False: the fields are the whole settings
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> TouchplanResource:
        return cls(
            warehouse=str(settings.warehouse),
            exports=str(settings.exports),
            config_dir=str(settings.config_dir),
            output=str(settings.output),
            as_of=settings.as_of.isoformat() if settings.as_of else None,
            send=settings.send,
            force_send=settings.force_send,
            memory_limit=settings.memory_limit,
            temp_dir=str(settings.temp_dir) if settings.temp_dir else None,
            environment=False,
        )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Every run checks the config files once, before its first step: a typo fails the run in seconds, with
        one line per problem naming the file and key. A missing file is left to the stage that reads it (a run
        may materialize only some stages); sensor evaluations, which have no run, skip the check."""
        if context.dagster_run is None:
            return
        from pipelines.lib.config.validate import validate_config

        validate_config(self.settings().config_dir, require_all=False).raise_if_failed()

    def settings(self) -> Settings:
        fields = {
            "warehouse": _path(self.warehouse),
            "exports": _path(self.exports),
            "config_dir": _path(self.config_dir),
            "output": _path(self.output),
            "as_of": parse_as_of(self.as_of),
            "send": self.send,
            "force_send": self.force_send,
            "memory_limit": parse_memory_limit(self.memory_limit) if self.memory_limit else None,
            "temp_dir": _path(self.temp_dir),
        }
        if self.environment:
            return Settings.from_env(**fields)
        return Settings(**{k: v for k, v in fields.items() if v is not None})

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection that is always closed: DuckDB allows one writer, and dbt runs in another process. It has
        the configured memory limit and spill folder (pipelines/lib/warehouse.py)."""
        settings = self.settings()
        settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
        try:
            # with the settings' memory_limit and temp_directory
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


def _path(value: str | None) -> Path | None:
    return Path(value).resolve() if value else None
