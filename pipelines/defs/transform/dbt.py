"""dbt models as Dagster assets, in two steps around identity resolution (a Python asset):

- `dbt_pre_identity`: models tagged `pre_identity` (staging and the identity input);
- `dbt_models`: everything after (marts, insight, quality marts), reading identity tables as dbt sources whose
  `meta.dagster.asset_key` points at the identity asset;
- `dbt_measurement`: the measurement models (models/intermediate/measurement and models/marts/measurement), after
  planning and delivery (they read contact_decisions and send_ledger); their outputs carry markdown tables of the
  figures (pipelines/defs/measurement/metadata.py).

`dbt build` runs the models' tests too, which Dagster shows as asset checks.
"""

import importlib.metadata
import json
import os
import re
import shutil
import sys
import sysconfig
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._utils import run_with_concurrent_update_guard  # what dagster-dbt's own preparer uses
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from pipelines.defs.resources import TouchplanResource
from pipelines.lib.dbt_parse_state import keep, run_dbt_vars, seed, state_path
from pipelines.lib.progress import PROGRESS_EXTRA, DbtProgress
from pipelines.lib.settings import DBT_PROJECT_DIR

# What dbt parses into the manifest: a file here newer than target/manifest.json means the manifest is stale.
_PARSED_FOLDERS = ("models", "macros", "tests", "seeds", "snapshots", "analyses")
_PARSED_FILES = ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml")


def manifest_is_stale(project_dir: Path, manifest_path: Path) -> bool:
    """Whether the manifest is missing or older than a file dbt parses into it (a model, macro or test added or
    changed since, e.g. by `git pull`): the definitions would otherwise load the old list of models and a run
    would fail on a node the manifest does not know."""
    if not manifest_path.exists():
        return True
    built = manifest_path.stat().st_mtime
    paths = [project_dir / name for name in _PARSED_FILES]
    for folder in _PARSED_FOLDERS:
        if (project_dir / folder).is_dir():
            paths.extend(p for p in (project_dir / folder).rglob("*") if p.is_file())
    return any(p.exists() and p.stat().st_mtime > built for p in paths)


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


def _parse_manifest(project: DbtProject) -> None:
    DbtCliResource(project_dir=project, dbt_executable=_dbt_executable()).cli(
        ["parse", "--quiet"], target_path=project.target_path
    ).wait()


DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
DBT_PROJECT.prepare_if_dev()
if manifest_is_stale(Path(DBT_PROJECT.project_dir), DBT_PROJECT.manifest_path):
    # A fresh clone before `make install`, or dbt files changed since the last parse (a `git pull`): parse once (a
    # few seconds) so the definitions load the models as they are. One process parses, others wait for it.
    run_with_concurrent_update_guard(DBT_PROJECT.manifest_path, _parse_manifest, project=DBT_PROJECT)

PRE_IDENTITY = "tag:pre_identity"
RUN_EXCLUDES = ["--exclude-resource-type", "unit_test"]
# Both measurement folders (a space is a union in dbt's selection syntax).
MEASUREMENT = "path:models/intermediate/measurement path:models/marts/measurement"

# Dagster groups are the pipeline's stages, taken from each model's innermost folder that has one here: the area
# folder (models/intermediate/insight -> insight), else the layer (models/intermediate/identity -> identity).
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


class TouchplanDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without two start-up costs this project has no use for (about 9 s and 4 s of CPU per
    run and per dbt step on the 2-core machine, before dbt itself starts):

    - `dbt --version` in a subprocess, to learn the dbt version: the dbt run is the venv's, so the installed
      dbt-core package's version is the same;
    - a dbt adapter opened in Dagster's process (profile, plugins, every macro loaded) before each command: it
      serves only `fetch_row_counts()` / `fetch_column_metadata()`, which Touchplan does not call (None is what
      dagster-dbt itself uses when that adapter cannot be made).
    """

    @cached_property
    def _cli_version(self) -> Any:
        # the `packaging` Version dagster-dbt compares (its own import: no new dependency of ours)
        from dagster_dbt.core.resource import version

        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Any) -> None:
        return None


TRANSLATOR = TouchplanDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_code_references=False))


class DbtBuildConfig(dg.Config):
    """Run config of each dbt step (`touchplan run --full-refresh`, or in the Dagster UI's launchpad:
    `ops: {dbt_pre_identity: {config: {full_refresh: true}}, dbt_models: ..., dbt_measurement: ...}`)."""

    full_refresh: bool = False  # dbt --full-refresh: incremental models rebuilt from their inputs


def full_refresh_run_config(full_refresh: bool) -> dict:
    """The op config that makes every dbt step of the job run with (or without) dbt's --full-refresh."""
    return {"ops": {name: {"config": {"full_refresh": full_refresh}} for name in DBT_STEPS}}


def _dbt_build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    touchplan: TouchplanResource,
    config: DbtBuildConfig,
    add_metadata: Any = None,
) -> Iterator:
    settings = touchplan.settings()
    # A test runs in the step that builds all of its parents ("buildable"), so the pre-identity step never runs a
    # relationships test whose other side is a mart that the later step builds. Dagster overrides this itself
    # when it runs a subset of assets or checks.
    os.environ.setdefault("DBT_INDIRECT_SELECTION", "buildable")
    # The model vars and the profile's; the parse kept for these vars (pipelines/lib/dbt_parse_state.py) seeds
    # this invocation's target folder, so dbt parses only what changed since.
    dbt_vars = run_dbt_vars(settings)
    parse_state = state_path(dbt_vars, Path(DBT_PROJECT.project_dir))
    # dagster-dbt's own folder naming (relative to the project, as dbt.cli takes it)
    target_path = Path(DBT_PROJECT.project_dir) / dbt._get_unique_target_path(context=context)  # noqa: SLF001
    seed(parse_state, target_path)
    # dbt's unit tests (fixed inputs, no warehouse data) are development tests: `make test` runs them
    # (tests/integration/test_dbt_unit_tests.py), a pipeline run does not (dbt's advice for production builds).
    refresh = ["--full-refresh"] if config.full_refresh else []
    invocation = dbt.cli(
        ["build", *refresh, "--vars", json.dumps(dbt_vars), *RUN_EXCLUDES],
        context=context,
        raise_on_error=False,
        target_path=target_path,
    )
    tracker = DbtProgress(step=context.op_def.name, total_models=len(context.selected_asset_keys))
    held = []  # with add_metadata, the events wait until dbt has closed the warehouse (one DuckDB writer)
    for event in invocation.stream_raw_events():
        line = _track(event.raw_event, tracker)
        if line:
            context.log.info(line, extra=PROGRESS_EXTRA)
        # What `invocation.stream()` yields: Output per model, AssetCheckResult per test.
        events = event.to_default_asset_events(
            manifest=invocation.manifest,
            dagster_dbt_translator=invocation.dagster_dbt_translator,
            context=context,
            target_path=invocation.target_path,
            project=invocation.project,
        )
        if add_metadata is None:
            yield from events
        else:
            held.extend(events)
    keep(invocation.target_path, parse_state)
    if held:
        yield from add_metadata(held, touchplan)
    if not invocation.is_successful():
        # One line naming the model and the error; the dbt command (its --vars JSON runs to kilobytes) and the
        # full output stay in dbt.log.
        raise dg.Failure(
            description=dbt_failure_line(
                explain_column_rules(_run_results(invocation.target_path), settings),
                invocation._error_messages,  # noqa: SLF001 - dbt's error-level lines, kept by dagster-dbt
            ),
            metadata={"dbt_log": str(invocation.target_path / "dbt.log")},
        )


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    select=PRE_IDENTITY,
    name="dbt_pre_identity",
    dagster_dbt_translator=TRANSLATOR,
)
def dbt_pre_identity(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    touchplan: TouchplanResource,
    config: DbtBuildConfig,
):
    yield from _dbt_build(context, dbt, touchplan, config)


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    exclude=f"{PRE_IDENTITY} {MEASUREMENT}",
    name="dbt_models",
    dagster_dbt_translator=TRANSLATOR,
)
def dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    touchplan: TouchplanResource,
    config: DbtBuildConfig,
):
    yield from _dbt_build(context, dbt, touchplan, config)


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    select=MEASUREMENT,
    name="dbt_measurement",
    dagster_dbt_translator=TRANSLATOR,
)
def dbt_measurement(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    touchplan: TouchplanResource,
    config: DbtBuildConfig,
):
    from pipelines.defs.measurement.metadata import with_figures

    yield from _dbt_build(context, dbt, touchplan, config, add_metadata=with_figures)


DBT_STEPS = ("dbt_pre_identity", "dbt_models", "dbt_measurement")

# dbt-core's info-level events (what its JSON log on stdout carries) for a node that finished or was skipped.
_MODEL_RESULTS = {"LogModelResult", "LogSeedResult", "LogSnapshotResult"}
_MODEL_TYPES = {"model", "seed", "snapshot"}


def _track(raw_event: Mapping[str, Any], tracker: DbtProgress) -> str | None:
    """Count a finished (or skipped) model and a finished test; return a progress line when one is due."""
    name = raw_event.get("info", {}).get("name")
    data = raw_event.get("data", {})
    node = data.get("node_info", {})
    if name == "LogTestResult":
        tracker.test_finished()
        return None
    if name in _MODEL_RESULTS or (name == "SkippingDetails" and node.get("resource_type") in _MODEL_TYPES):
        seconds = data.get("execution_time")
        return tracker.model_finished(
            node.get("node_name") or node.get("unique_id", "?"),
            float(seconds) if seconds is not None and name != "SkippingDetails" else None,
            str(node.get("node_status") or ""),
        )
    return None


def _run_results(target_path: Path) -> list[dict[str, Any]]:
    try:
        return json.loads((target_path / "run_results.json").read_text(encoding="utf-8")).get("results", [])
    except (OSError, ValueError):
        return []


def explain_column_rules(results: list[dict[str, Any]], settings: Any) -> list[dict[str, Any]]:
    """A failed `column_rules` test (dbt_project/tests/generic/column_rules.sql) says only "Got 2 results": its
    message becomes the rows it returned ("seniority accepted_values [c_level, vp]: 3 rows; ..."), read by running
    its compiled query again on the warehouse dbt has closed. Other results, and any that cannot be read, unchanged."""
    failed = [
        r
        for r in results
        if r.get("status") == "fail"
        and _node_label(str(r.get("unique_id", ""))).startswith("test column_rules_")
        and r.get("compiled_code")
    ]
    if not failed:
        return results
    from pipelines.lib.warehouse import connect

    try:
        con = connect(settings.warehouse, read_only=True, settings=settings)
    except Exception:  # noqa: BLE001 - the explanation is a courtesy; dbt's own message still stands
        return results
    try:
        for result in failed:
            try:
                rows = con.execute(result["compiled_code"]).fetchall()
            except Exception:  # noqa: BLE001
                continue
            if rows:
                broken = "; ".join(
                    f"{column} {rule}: {count} row{'s' if count != 1 else ''}" for column, rule, count in rows
                )
                result["message"] = f"broken column rules: {broken}"
    finally:
        con.close()
    return results


def _one_line(message: str) -> str:
    """dbt's multi-line error ('Runtime Error in model x (path)\n  Binder Error: ...') as one line, its header
    dropped (the caller names the node), at most 300 characters."""
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    if len(lines) > 1 and re.match(r"^[\w ]*Error in \w+ ", lines[0]):
        lines = lines[1:]
    text = " ".join(" ".join(lines).split())
    return text if len(text) <= 300 else text[:297] + "..."


def _node_label(unique_id: str) -> str:
    """'model.touchplan.dim_customers' -> 'model dim_customers'; a unit test -> 'unit_test model::test'; a data
    test -> 'test column_rules_dim_customers' (without the hash dbt appends to its id)."""
    kind, _, rest = unique_id.partition(".")
    name = rest.partition(".")[2] or rest
    if kind == "test":
        name = name.partition(".")[0]
    return f"{kind} {name.replace('.', '::')}"


def dbt_failure_line(results: list[dict[str, Any]], error_messages: list[str]) -> str:
    """`dbt: model dim_customers failed: Binder Error: ... (and 2 more: test x, unit_test y)`: models first."""
    failed = [r for r in results if r.get("status") in ("error", "fail", "runtime error")]
    failed.sort(
        key=lambda r: 0 if str(r.get("unique_id", "")).startswith(("model.", "seed.", "snapshot.")) else 1
    )
    if failed:
        first = failed[0]
        line = (
            f"dbt: {_node_label(first.get('unique_id', '?'))} failed: {_one_line(first.get('message') or '')}"
        )
        if len(failed) > 1:
            others = [_node_label(r.get("unique_id", "?")) for r in failed[1:4]]
            line += f" (and {len(failed) - 1} more: {', '.join(others)}{', ...' if len(failed) > 4 else ''})"
        return line
    if error_messages:  # no node failed: a parse or compilation error, a bad var
        return f"dbt: {_one_line(error_messages[-1])}"
    return "dbt build failed without an error message: see dbt.log in dbt_project/target"


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[dbt_pre_identity, dbt_models, dbt_measurement],
        resources={"dbt": TouchplanDbtCliResource(project_dir=DBT_PROJECT, dbt_executable=_dbt_executable())},
    )
