"""dbt models as Dagster assets, in two steps around identity resolution (a Python asset):

- `dbt_pre_identity`: models tagged `pre_identity` (staging and the identity input);
- `dbt_models`: everything after (marts, insight, quality marts), reading identity tables as dbt sources whose
  `meta.dagster.asset_key` points at the identity asset.

`dbt build` runs the models' tests too, which Dagster shows as asset checks.
"""

import json
import os
import shutil
import sys
import sysconfig
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from pipelines.defs.resources import TouchplanResource
from pipelines.lib.config.dbt_vars import collect_dbt_vars
from pipelines.lib.settings import DBT_PROJECT_DIR

DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
DBT_PROJECT.prepare_if_dev()
if not DBT_PROJECT.manifest_path.exists():
    # A fresh clone before `make install`: parse once so the definitions can load.
    DBT_PROJECT.preparer.prepare(DBT_PROJECT)

PRE_IDENTITY = "tag:pre_identity"

# Dagster groups are the pipeline's stages, taken from each model's folder.
_GROUP_BY_FOLDER = {
    "staging": "staging",
    "intermediate": "identity",
    "core": "marts",
    "insight": "insight",
    "quality": "quality",
    "measurement": "measurement",
}


class TouchplanDbtTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        for folder in reversed(fqn[1:-1]):
            if folder in _GROUP_BY_FOLDER:
                return _GROUP_BY_FOLDER[folder]
        return super().get_group_name(dbt_resource_props)


TRANSLATOR = TouchplanDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_code_references=False))


def _dbt_build(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, touchplan: TouchplanResource
) -> Iterator:
    settings = touchplan.settings()
    settings.export_to_env()  # dbt's profile reads TOUCHPLAN_WAREHOUSE
    # A test runs in the step that builds all of its parents ("buildable"), so the pre-identity step never runs a
    # relationships test whose other side is a mart that the later step builds. Dagster overrides this itself
    # when it runs a subset of assets or checks.
    os.environ.setdefault("DBT_INDIRECT_SELECTION", "buildable")
    dbt_vars = collect_dbt_vars(settings)
    yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context).stream()


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    select=PRE_IDENTITY,
    name="dbt_pre_identity",
    dagster_dbt_translator=TRANSLATOR,
)
def dbt_pre_identity(context: dg.AssetExecutionContext, dbt: DbtCliResource, touchplan: TouchplanResource):
    yield from _dbt_build(context, dbt, touchplan)


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    exclude=PRE_IDENTITY,
    name="dbt_models",
    dagster_dbt_translator=TRANSLATOR,
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, touchplan: TouchplanResource):
    yield from _dbt_build(context, dbt, touchplan)


def _dbt_executable() -> str:
    """The dbt installed in this environment (the venv), so the venv need not be activated.

    `sys.prefix`, not `sys.executable`: `dagster dev` may start the code server through the resolved interpreter
    path, whose folder is the base Python's, while the environment (and its scripts folder) is still the venv.
    """
    for folder in (
        sysconfig.get_path("scripts"),
        str(Path(sys.prefix) / "bin"),
        str(Path(sys.executable).parent),
    ):
        candidate = Path(folder) / "dbt"
        if candidate.exists():
            return str(candidate)
    return shutil.which("dbt") or "dbt"


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[dbt_pre_identity, dbt_models],
        resources={"dbt": DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=_dbt_executable())},
    )
