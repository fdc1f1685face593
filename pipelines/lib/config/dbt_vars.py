"""The dbt vars of a run: the as-of time plus what each config file contributes to the dbt models.

The one path from config to SQL: config/<file>.yaml -> its pydantic model -> that stage's `*dbt_vars` function ->
`collect_dbt_vars` -> `dbt build --vars` -> `var('<name>')` in a model or macro. Every var a model reads has its
default in the `vars:` block of dbt_project.yml (equal to what the shipped config produces), never inline."""

from __future__ import annotations

from typing import Any

from pipelines.lib.config import survivorship
from pipelines.lib.delivery.groups import subscription_group_vars
from pipelines.lib.identity.config import identity_dbt_vars, load_identity_config
from pipelines.lib.ingest.sources import load_sources_config, sources_dbt_vars
from pipelines.lib.insight import config as insight_config
from pipelines.lib.measurement import config as measurement_config
from pipelines.lib.settings import Settings


def collect_dbt_vars(settings: Settings) -> dict[str, Any]:
    as_of = settings.as_of_or_now()
    dbt_vars: dict[str, Any] = {"as_of": as_of.strftime("%Y-%m-%d %H:%M:%S")}
    # Each stage whose dbt models read config adds its vars here (validated pydantic models -> plain dicts).
    dbt_vars.update(survivorship.dbt_vars(settings))
    dbt_vars.update(insight_config.dbt_vars(settings))
    dbt_vars.update(identity_dbt_vars(load_identity_config(settings.config_dir)))
    dbt_vars.update(subscription_group_vars(settings.config_dir))
    dbt_vars.update(measurement_config.dbt_vars(settings))
    dbt_vars.update(sources_dbt_vars(load_sources_config(settings.config_dir)[0]))
    return dbt_vars
