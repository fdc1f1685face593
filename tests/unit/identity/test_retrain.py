"""The retrain policy (issue #17): a run reuses the latest stored trained model (identity_model) while the config
that shapes it is unchanged, Splink's input records are within `splink.retrain_when_records_change` of the records
it was trained on and it is at most `splink.retrain_after_days` old; otherwise, or with `retrain`, it trains.
Real DuckDB, real Splink; training is read from what the run recorded, never from timing."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import duckdb
import pytest
import yaml

from pipelines.defs.identity.assets import identity_resolution, retrain_run_config
from pipelines.defs.resources import TouchplanResource
from pipelines.lib.identity import resolve_identities
from pipelines.lib.identity.config import IdentityConfig

from .conftest import NOW
from .test_matching import _many_records


def small_training_config() -> IdentityConfig:
    """Trains on the 1,652 records of _many_records(con, 1500) in a few seconds."""
    cfg = IdentityConfig()
    cfg.splink.min_records_for_training = 100
    cfg.splink.u_max_pairs = 2e5
    return cfg


def model_rows(con) -> list[tuple]:
    return con.execute(
        "SELECT run_id, model_source, model_run_id, retrain_reason, trained_records, splink_trained "
        "FROM identity_model ORDER BY saved_at"
    ).fetchall()


def latest_model_row(con) -> tuple:
    return model_rows(con)[-1]


def clusters(con) -> list[tuple]:
    return con.execute(
        "SELECT record_key, cluster_id, customer_id, joined_by_rule, round(match_weight, 6), cluster_size "
        "FROM identity_clusters ORDER BY record_key"
    ).fetchall()


def splink_edges(con) -> list[tuple]:
    return con.execute(
        "SELECT record_key_l, record_key_r, round(match_weight, 6), round(match_probability, 9) "
        "FROM identity_edges WHERE rule = 'splink' ORDER BY ALL"
    ).fetchall()


def test_a_second_run_over_the_same_records_reuses_the_model_with_the_same_clusters_and_ids(con):
    _many_records(con, 1500)
    cfg = small_training_config()
    first = resolve_identities(con, cfg, "r1", NOW)
    assert first.splink_model == "trained (reason: no model)"
    assert latest_model_row(con) == ("r1", "trained", "r1", "no model", 1652, True)
    before_clusters, before_edges = clusters(con), splink_edges(con)
    assert len(before_edges) > 100  # the planted duplicates: Splink edges to keep

    second = resolve_identities(con, cfg, "r2", NOW + timedelta(days=1))
    assert second.splink_model == "reused model of run r1"
    assert second.splink_model_run_id == "r1"
    # the recorded flag: reused, trained by r1 on its 1,652 records; no training or calibration phase ran
    assert latest_model_row(con) == ("r2", "reused", "r1", None, 1652, True)
    assert not {"splink_train_phase", "splink_calibrate_phase"} & set(second.seconds)
    assert second.as_metadata()["splink_model"] == "reused model of run r1"
    # the same model, hence the same edges, clusters and customer ids
    assert second.splink_prior == pytest.approx(first.splink_prior, rel=1e-12)
    assert splink_edges(con) == before_edges
    assert clusters(con) == before_clusters
    # a third run reuses the same (first) model, not "the model of r2"
    resolve_identities(con, cfg, "r3", NOW + timedelta(days=2))
    assert latest_model_row(con) == ("r3", "reused", "r1", None, 1652, True)


def _seed_changed(cfg: IdentityConfig) -> None:
    cfg.splink.seed = 7


def _comparison_prior_changed(cfg: IdentityConfig) -> None:
    next(c for c in cfg.splink.comparisons if c.name == "title").m_exact = 0.5


def _threshold_changed(cfg: IdentityConfig) -> None:
    cfg.thresholds.match_probability = 0.9


@pytest.mark.parametrize("change", [_seed_changed, _comparison_prior_changed, _threshold_changed])
def test_a_config_change_that_shapes_the_model_retrains(con, change):
    _many_records(con, 1500)
    cfg = small_training_config()
    resolve_identities(con, cfg, "r1", NOW)
    change(cfg)
    report = resolve_identities(con, cfg, "r2", NOW + timedelta(days=1))
    assert latest_model_row(con) == ("r2", "trained", "r2", "config changed", 1652, True)
    assert report.splink_model == "trained (reason: config changed)"


def test_settings_outside_the_model_keep_it(con):
    """How predictions are chunked and the retrain policy itself are not part of the model's fingerprint."""
    _many_records(con, 1500)
    cfg = small_training_config()
    resolve_identities(con, cfg, "r1", NOW)
    cfg.splink.predict_chunk_records = 1000
    cfg.splink.retrain_after_days = 60
    cfg.splink.retrain_when_records_change = 0.2
    resolve_identities(con, cfg, "r2", NOW + timedelta(days=1))
    assert latest_model_row(con)[:3] == ("r2", "reused", "r1")


@pytest.mark.parametrize(
    ("people", "source", "reason", "trained_records"),
    [
        (1575, "reused", None, 1652),  # 1,735 records: +5%, within the 10%
        (1710, "trained", "records +14%", 1883),  # 1,883 records
        (1300, "trained", "records -13%", 1432),  # 1,432 records
    ],
)
def test_records_changed_by_more_than_the_limit_retrain(con, people, source, reason, trained_records):
    _many_records(con, 1500)
    cfg = small_training_config()
    resolve_identities(con, cfg, "r1", NOW)
    _many_records(con, people)
    resolve_identities(con, cfg, "r2", NOW + timedelta(days=1))
    run_id, got_source, model_run, got_reason, got_records, _ = latest_model_row(con)
    assert (got_source, got_reason, got_records) == (source, reason, trained_records)
    assert model_run == ("r1" if source == "reused" else "r2")


def test_a_model_older_than_the_limit_retrains_by_the_runs_as_of_time(con):
    _many_records(con, 1500)
    cfg = small_training_config()
    resolve_identities(con, cfg, "r1", NOW)
    resolve_identities(con, cfg, "r2", NOW + timedelta(days=29, hours=23))
    assert latest_model_row(con)[:3] == ("r2", "reused", "r1")
    # r2 reused r1's model: its age counts from r1's training, not from r2
    report = resolve_identities(con, cfg, "r3", NOW + timedelta(days=31))
    assert latest_model_row(con) == ("r3", "trained", "r3", "31 days", 1652, True)
    assert report.splink_model == "trained (reason: 31 days)"
    resolve_identities(con, cfg, "r4", NOW + timedelta(days=32))
    assert latest_model_row(con)[:3] == ("r4", "reused", "r3")


def test_retrain_forces_training(con):
    _many_records(con, 1500)
    cfg = small_training_config()
    resolve_identities(con, cfg, "r1", NOW)
    report = resolve_identities(con, cfg, "r2", NOW + timedelta(days=1), retrain=True)
    assert latest_model_row(con) == ("r2", "trained", "r2", "--retrain-identity", 1652, True)
    assert report.splink_model == "trained (reason: --retrain-identity)"


def test_too_few_records_use_the_priors_and_a_later_run_trains(con):
    _many_records(con, 1500)
    cfg = small_training_config()
    cfg.splink.min_records_for_training = 2000
    resolve_identities(con, cfg, "r1", NOW)
    assert latest_model_row(con) == (
        "r1",
        "priors",
        None,
        "1652 records, fewer than 2000",
        None,
        False,
    )
    cfg.splink.min_records_for_training = 100
    resolve_identities(con, cfg, "r2", NOW + timedelta(days=1))
    assert latest_model_row(con)[:4] == ("r2", "trained", "r2", "no model")


def test_a_model_saved_before_the_retrain_policy_is_retrained(con):
    """identity_model rows of older warehouses carry no fingerprint: their config is unknown."""
    _many_records(con, 1500)
    cfg = small_training_config()
    resolve_identities(con, cfg, "r1", NOW)
    for column in ("m_from_groups", "model_trained_at", "trained_records", "config_fingerprint"):
        con.execute(f"ALTER TABLE identity_model DROP COLUMN {column}")
    con.execute("ALTER TABLE identity_model DROP COLUMN model_source")
    con.execute("ALTER TABLE identity_model DROP COLUMN model_run_id")
    con.execute("ALTER TABLE identity_model DROP COLUMN retrain_reason")
    resolve_identities(con, cfg, "r2", NOW + timedelta(days=1))
    assert latest_model_row(con) == ("r2", "trained", "r2", "config changed", 1652, True)


def test_the_identity_step_takes_retrain_from_its_run_config(tmp_path):
    """`touchplan run --retrain-identity` passes retrain_run_config(True) to the job: the op trains."""
    warehouse = tmp_path / "warehouse.duckdb"
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "identity.yaml").write_text(
        yaml.safe_dump({"splink": {"min_records_for_training": 100, "u_max_pairs": 2e5}})
    )
    con = duckdb.connect(str(warehouse))
    _many_records(con, 1500)
    con.close()
    resources = {"touchplan": TouchplanResource(warehouse=str(warehouse), config_dir=str(config_dir))}

    def step(run_config: dict | None = None) -> tuple:
        result = dg.materialize([identity_resolution], resources=resources, run_config=run_config)
        assert result.success
        meta = next(
            e.event_specific_data.materialization.metadata for e in result.get_asset_materialization_events()
        )
        with duckdb.connect(str(warehouse), read_only=True) as check:
            row = latest_model_row(check)
        return meta["splink_model"].value, row[1], row[3]

    assert step() == ("trained (reason: no model)", "trained", "no model")
    assert step()[:2][1] == "reused"
    assert step(retrain_run_config(True)) == (
        "trained (reason: --retrain-identity)",
        "trained",
        "--retrain-identity",
    )


def test_the_cli_option_reaches_the_identity_step_of_the_job(tmp_path):
    """`touchplan run --retrain-identity` parses, and its run config (with --full-refresh's) is valid for the real
    job and sets the identity step's `retrain`; without it the step follows the policy."""
    from pipelines.cli import build_parser
    from pipelines.commands.run_job import JOB_NAME, pipeline_run_config
    from pipelines.definitions import build_definitions
    from pipelines.lib.settings import Settings

    assert build_parser().parse_args(["run", "--retrain-identity"]).retrain_identity is True
    assert build_parser().parse_args(["run"]).retrain_identity is False
    job = build_definitions(Settings.from_env(warehouse=tmp_path / "w.duckdb")).resolve_job_def(JOB_NAME)
    validated = dg.validate_run_config(job, pipeline_run_config(full_refresh=True, retrain_identity=True))
    assert validated["ops"]["identity_resolution"]["config"] == {"retrain": True}
    assert validated["ops"]["dbt_models"]["config"] == {"full_refresh": True}
    assert dg.validate_run_config(job, pipeline_run_config())["ops"]["identity_resolution"]["config"] == {
        "retrain": False
    }
