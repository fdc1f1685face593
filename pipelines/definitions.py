"""The Dagster code location: every stage's definitions under pipelines/defs, run one step at a time."""

from pathlib import Path

import dagster as dg


def build_definitions() -> dg.Definitions:
    # A broken config folder stops the code location from loading (`dagster dev` shows the file and key path,
    # one line per problem), before the stages load; every run checks again (TouchplanResource), as files change.
    from pipelines.lib.config.validate import validate_config
    from pipelines.lib.settings import Settings

    validate_config(Settings.from_env().config_dir).raise_if_failed()
    return dg.Definitions.merge(
        dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
        # DuckDB allows one writer: every step runs in the run's own process, one after another.
        dg.Definitions(executor=dg.in_process_executor),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
