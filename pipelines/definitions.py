"""The Dagster code location: every stage's definitions under pipelines/defs, run one step at a time."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    from pipelines.lib.settings import Settings


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    """Every stage's definitions with the `touchplan` resource built from `settings`: `touchplan run` passes the
    Settings of its options; the Dagster UI (settings None) reads them from the environment, once, here."""
    from pipelines.defs.resources import TouchplanResource
    from pipelines.lib.config.validate import validate_config
    from pipelines.lib.settings import Settings

    settings = settings or Settings.from_env()
    # A broken config folder stops the code location from loading (`dagster dev` shows the file and key path,
    # one line per problem), before the stages load; every run checks again (TouchplanResource), as files change.
    validate_config(settings.config_dir).raise_if_failed()
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
        dg.Definitions(
            resources={"touchplan": TouchplanResource.from_settings(settings)},
            # DuckDB allows one writer: every step runs in the run's own process, one after another.
            executor=dg.in_process_executor,
        ),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
