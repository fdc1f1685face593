"""Identity accuracy on generated data: the real chain (`touchplan sample-data` -> `touchplan ingest` -> dbt
`+int_identity_records` -> resolve_identities -> dbt `customer_crosswalk`) scored against the generator's ground
truth, with the bar of tests/integration/identity_accuracy.py.

1,000 persons (seed 3) give 2,869 records and 3,869 true pairs, of which 4 pairs of persons share a full name:
enough namesakes for a namesake-merging configuration to show in precision, small enough to run in about a
minute. Measured with the shipped model (main, 2026-12-07): P 1.0000 / R 0.9853.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
import yaml

from pipelines.lib.config.dbt_vars import collect_dbt_vars
from pipelines.lib.identity import load_identity_config, resolve_identities
from pipelines.lib.settings import PROJECT_ROOT, Settings
from tests.integration.dbt_runner import run_dbt
from tests.integration.identity_accuracy import (
    PRECISION_MIN,
    RECALL_MIN,
    crosswalk_metrics,
    describe,
    meets_the_bar,
)

pytestmark = pytest.mark.slow

PERSONS, SEED = 1000, 3
AS_OF = "2026-11-02T07:00:00"
NOW = datetime(2026, 11, 2, 7, tzinfo=UTC)
TOUCHPLAN = str(Path(sys.executable).parent / "touchplan")
NO_TESTS = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]


def _run(*args: str) -> None:
    done = subprocess.run([TOUCHPLAN, *args], capture_output=True, text=True, check=False, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """Generated exports ingested and staged up to int_identity_records (identity not yet run)."""
    work = tmp_path_factory.mktemp("identity_accuracy")
    exports, warehouse = work / "exports", work / "staged.duckdb"
    _run(
        "sample-data",
        "--out",
        str(exports),
        "--contacts",
        str(PERSONS),
        "--seed",
        str(SEED),
        "--as-of",
        AS_OF,
    )
    _run("ingest", "--exports", str(exports), "--warehouse", str(warehouse))
    dbt_vars = collect_dbt_vars(Settings.from_env(warehouse=warehouse, config_dir=PROJECT_ROOT / "config"))
    run_dbt(warehouse, work, ["build", "--select", "+int_identity_records", *NO_TESTS], dbt_vars)
    return work, warehouse, exports / "_truth" / "ground_truth.csv", dbt_vars


def _resolve(chain, config_dir: Path, name: str, crosswalk: bool = True) -> Path:
    """resolve_identities with `config_dir`'s identity.yaml on a copy of the staged warehouse, then (crosswalk)
    dbt customer_crosswalk; returns the copy."""
    work, staged, _, dbt_vars = chain
    warehouse = work / f"{name}.duckdb"
    shutil.copy(staged, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        resolve_identities(con, load_identity_config(config_dir), run_id=name, now=NOW)
    if crosswalk:
        run_dbt(warehouse, work / name, ["build", "--select", "customer_crosswalk", *NO_TESTS], dbt_vars)
    return warehouse


def _config_with(tmp_path: Path, edit) -> Path:
    """A config folder holding the shipped identity.yaml with `edit` applied to its parsed YAML."""
    data = yaml.safe_load((PROJECT_ROOT / "config" / "identity.yaml").read_text(encoding="utf-8"))
    edit(data)
    (tmp_path / "identity.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return tmp_path


def _metrics(chain, warehouse: Path, table: str = "customer_crosswalk"):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return crosswalk_metrics(con, chain[2], clusters_table=table)


# The broken variants are scored on identity_clusters, which customer_crosswalk joins one to one to
# int_identity_records (customer_crosswalk.sql): the same pairs, without a dbt run each.


def test_shipped_identity_model_meets_the_precision_and_recall_bar(chain):
    metrics = _metrics(chain, _resolve(chain, PROJECT_ROOT / "config", "shipped"))
    assert metrics.true_pairs > 3000  # the generator's people do appear in several systems
    assert metrics.precision >= PRECISION_MIN, describe(metrics)
    assert metrics.recall >= RECALL_MIN, describe(metrics)


def _merge_namesakes(data: dict) -> None:
    # every Splink-scored pair (first name + surname is a blocking rule) becomes an edge, and nothing stops two
    # groups of records with different birth dates or postal codes from joining: namesakes merge
    data["thresholds"] = {"match_probability": 1e-9, "match_weight": -100.0}
    data.setdefault("guards", {}).update(conflicting_birth_date=False, conflicting_postal_code=False)


def test_a_namesake_merging_configuration_fails_the_bar(chain, tmp_path):
    warehouse = _resolve(chain, _config_with(tmp_path, _merge_namesakes), "namesakes", crosswalk=False)
    metrics = _metrics(chain, warehouse, "identity_clusters")
    assert metrics.precision < PRECISION_MIN, describe(metrics)
    assert not meets_the_bar(metrics)


def test_deterministic_rules_alone_fail_the_recall_bar(chain, tmp_path):
    def no_splink(data: dict) -> None:
        data.setdefault("splink", {})["enabled"] = False

    warehouse = _resolve(chain, _config_with(tmp_path, no_splink), "no_splink", crosswalk=False)
    metrics = _metrics(chain, warehouse, "identity_clusters")
    assert metrics.recall < RECALL_MIN, describe(metrics)
    assert not meets_the_bar(metrics)
