"""Probabilistic edges with Splink 5 (DuckDB backend) on names, address, company, title, birth date, phone, email.

The model starts from the priors in config (m/u of each exact level); with enough records it is trained
unsupervised: the share of matching pairs from deterministic rules, u by random sampling, m by EM on each
training blocking rule. Pairs above both thresholds become `splink` edges, keeping weight and probability.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass

import duckdb

from pipelines.lib.identity.config import Comparison, IdentityConfig

SPLINK_INPUT = "_identity_splink_input"
SPLINK_TRAIN_INPUT = "_identity_splink_train"

log = logging.getLogger(__name__)


@dataclass
class SplinkResult:
    edges: int
    trained: bool
    probability_two_random_records_match: float
    train_seconds: float = 0.0
    predict_seconds: float = 0.0


def _levels(comp: Comparison) -> tuple[list, list[float], list[float]]:
    """Comparison levels (after the null level) with their prior m and u probabilities."""
    import splink.comparison_level_library as cll

    col = comp.column
    if comp.kind == "cross":
        a, b = col, comp.other_column

        # Both columns are lists (every value of the record group, see resolve._splink_input).
        def empty(x: str) -> str:
            return f'coalesce(len("{x}"), 0) = 0'

        null = cll.CustomLevel(
            f"({empty(a + '_l')} OR {empty(b + '_r')}) AND ({empty(a + '_r')} OR {empty(b + '_l')})",
            label_for_charts="nothing to compare",
        ).configure(is_null_level=True)
        same = cll.CustomLevel(
            f'list_has_any("{a}_l", "{b}_r") OR list_has_any("{a}_r", "{b}_l")',
            label_for_charts=f"{a} = other {b}",
        )
        return (
            [null, same, cll.ElseLevel()],
            [comp.m_exact, 1 - comp.m_exact],
            [comp.u_exact, 1 - comp.u_exact],
        )
    levels: list = [cll.ExactMatchLevel(col, term_frequency_adjustments=comp.term_frequency)]
    if comp.kind == "string":
        levels += [cll.JaroWinklerLevel(col, t) for t in comp.thresholds]
    elif comp.kind == "levenshtein":
        levels += [cll.LevenshteinLevel(col, int(t)) for t in comp.thresholds]
    elif comp.kind == "date":
        levels.append(
            cll.CustomLevel(
                f'damerau_levenshtein(CAST("{col}_l" AS VARCHAR), CAST("{col}_r" AS VARCHAR)) <= 1',
                label_for_charts="one typo or transposition",
            )
        )
    fuzzy = len(levels) - 1
    m = [comp.m_exact]
    u = [comp.u_exact]
    for i in range(fuzzy):
        m.append((1 - comp.m_exact) * 0.6 / fuzzy)
        u.append(min(comp.u_exact * 4 ** (i + 1), 0.2 / fuzzy))
    m.append(max(1 - sum(m), 1e-4))
    u.append(max(1 - sum(u), 1e-4))
    levels.append(cll.ElseLevel())
    return [cll.NullLevel(col), *levels], m, u


def build_settings(config: IdentityConfig, probability_two_random_records_match: float | None = None):
    from splink import SettingsCreator, block_on
    from splink.comparison_library import CustomComparison

    comparisons = []
    for comp in config.splink.comparisons:
        levels, m, u = _levels(comp)
        comparisons.append(
            CustomComparison(comparison_levels=levels, output_column_name=comp.name).configure(
                m_probabilities=m, u_probabilities=u
            )
        )
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[block_on(*rule) for rule in config.splink.blocking_rules],
        probability_two_random_records_match=(
            probability_two_random_records_match or config.splink.probability_two_random_records_match
        ),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def _train(linker, s) -> bool:
    """Unsupervised training in place: lambda from deterministic rules, u by random sampling, m by EM."""
    from splink import block_on

    trained = False
    try:
        linker.training.estimate_probability_two_random_records_match(
            [
                block_on("email"),
                block_on("phone_e164", "last_name_norm"),
                block_on("first_name_canonical", "last_name_norm", "birth_date"),
            ],
            recall=s.recall_of_deterministic_rules,
        )
    except ValueError as exc:  # too few or too many deterministic matches: keep the prior
        log.warning("keeping the configured probability_two_random_records_match: %s", exc)
    estimated = linker._settings_obj._probability_two_random_records_match
    if not 0 < estimated < 1:  # no deterministic match at all (e.g. in a small sample): Splink only warns
        log.warning(
            "deterministic rules estimated %s matching pairs; keeping the configured prior", estimated
        )
        linker._settings_obj._probability_two_random_records_match = s.probability_two_random_records_match
    linker.training.estimate_u_using_random_sampling(max_pairs=s.u_max_pairs, seed=s.seed)
    for rule in s.em_blocking_rules:
        saved = copy.deepcopy(linker._settings_obj.core_model_settings)
        saved_p = linker._settings_obj._probability_two_random_records_match
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on(*rule), estimate_without_term_frequencies=True, max_pairs=s.em_max_pairs
            )
            trained = True
        except ValueError as exc:  # e.g. a level never seen among matches: m would be 0
            linker._settings_obj.core_model_settings = saved
            linker._settings_obj._probability_two_random_records_match = saved_p
            linker._populate_m_u_from_trained_values()
            log.warning("EM on blocking rule %s skipped, keeping earlier m values: %s", rule, exc)
    return trained


def splink_edges(con: duckdb.DuckDBPyConnection, config: IdentityConfig, out_table: str) -> SplinkResult:
    """Score the blocked pairs of table SPLINK_INPUT (id + comparison columns); write edges to `out_table`
    (id_l, id_r, match_weight, match_probability) for pairs above the thresholds.

    With more than `splink.training_sample_records` records the model is trained on a reproducible random
    sample (the share of matching pairs, u and m do not depend on the sample size), then every blocked pair of
    the full table is scored, in ceil(records / predict_chunk_records) chunks."""
    from splink import DuckDBAPI, Linker

    s = config.splink
    n_records = con.execute(f"SELECT count(*) FROM {SPLINK_INPUT}").fetchone()[0]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {out_table} (id_l BIGINT, id_r BIGINT, match_weight DOUBLE, "
        "match_probability DOUBLE)"
    )
    if n_records < 2:
        return SplinkResult(0, False, s.probability_two_random_records_match)

    started = time.perf_counter()
    db_api = DuckDBAPI(connection=con)
    settings = build_settings(config)
    trained = False
    linker = None
    try:
        if s.train and n_records >= s.min_records_for_training:
            if n_records > s.training_sample_records:
                con.execute(
                    # Ordered by a hash of (id, seed): the same sample whatever the thread count (a reservoir
                    # sample is only repeatable single-threaded).
                    f"CREATE OR REPLACE TEMP TABLE {SPLINK_TRAIN_INPUT} AS SELECT * FROM {SPLINK_INPUT} "
                    f"ORDER BY hash(id, {int(s.seed)}), id LIMIT {int(s.training_sample_records)}"
                )
                # Its own DuckDBAPI: Splink caches tables per API object, and the trainer's are deleted below.
                trainer = Linker(
                    DuckDBAPI(connection=con).register(SPLINK_TRAIN_INPUT),
                    settings,
                    log_level=logging.WARNING,
                )
                try:
                    trained = _train(trainer, s)
                    settings = trainer.misc.save_model_to_json()
                finally:
                    trainer.table_management.delete_tables_created_by_splink_from_db()
                    con.execute(f"DROP TABLE IF EXISTS {SPLINK_TRAIN_INPUT}")
            else:
                linker = Linker(db_api.register(SPLINK_INPUT), settings, log_level=logging.WARNING)
                trained = _train(linker, s)
        if linker is None:
            linker = Linker(db_api.register(SPLINK_INPUT), settings, log_level=logging.WARNING)
        trained_at = time.perf_counter()
        chunks = -(-n_records // s.predict_chunk_records)
        predictions = linker.inference.predict(
            threshold_match_probability=config.thresholds.match_probability,
            warning_mode="never",
            num_chunks_left=chunks if chunks > 1 else None,
        )
        con.execute(
            f"""
            INSERT INTO {out_table}
            SELECT least(id_l, id_r), greatest(id_l, id_r), match_weight,
                   match_probability
            FROM {predictions.physical_name}
            WHERE match_weight >= ? AND match_probability >= ?
        """,
            [config.thresholds.match_weight, config.thresholds.match_probability],
        )
        prob = linker._settings_obj._probability_two_random_records_match
    finally:
        if linker is not None:
            linker.table_management.delete_tables_created_by_splink_from_db()
    edges = con.execute(f"SELECT count(*) FROM {out_table}").fetchone()[0]
    return SplinkResult(
        edges=edges,
        trained=trained,
        probability_two_random_records_match=prob,
        train_seconds=trained_at - started,
        predict_seconds=time.perf_counter() - trained_at,
    )
