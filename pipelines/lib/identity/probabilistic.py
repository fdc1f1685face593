"""Probabilistic edges with Splink 5 (DuckDB backend) on names, address, company, title, birth date, phone, email.

The model starts from the priors in config (m/u of each exact level); with enough records it is trained without
any hand-made labels: the share of matching pairs from deterministic rules, u by random sampling, m from the pairs
of records inside deterministic groups (the same email, phone + surname or cross-reference), or by EM on each
training blocking rule (`splink.m_from: em`, and whenever there are no such groups). Pairs above both thresholds
become `splink` edges, keeping weight and probability.
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
# Records of deterministic groups with their own values and the group as label (m from labels; resolve.py).
SPLINK_LABELLED = "_identity_splink_labelled"
LABEL_COLUMN = "deterministic_group"

log = logging.getLogger(__name__)


class _ChosenMaxPairs(logging.Filter):
    """Splink warns whenever u is sampled from exactly 1e6 pairs, its default; here that is `splink.u_max_pairs`,
    chosen on the benchmark (docs/identity.md), so the warning would only alarm whoever reads the run's output."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("You are using the default value for `max_pairs`")


logging.getLogger("splink.internals.linker_components.training").addFilter(_ChosenMaxPairs())


@dataclass
class SplinkResult:
    edges: int
    trained: bool
    probability_two_random_records_match: float
    train_seconds: float = 0.0
    predict_seconds: float = 0.0
    # the model that scored the pairs (Splink settings JSON with m/u and the prior), kept for explanations
    model: dict | None = None


def _levels(comp: Comparison) -> tuple[list, list[float], list[float]]:
    """Comparison levels (after the null level) with their prior m and u probabilities."""
    import splink.comparison_level_library as cll

    col = comp.column
    if comp.kind == "hierarchy":
        return _hierarchy_levels(comp)
    if comp.kind == "mailbox":
        return _mailbox_levels(comp)
    if comp.kind == "name":
        return _name_levels(comp)
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


def _mailbox_levels(comp: Comparison) -> tuple[list, list[float], list[float]]:
    """Levels of a `mailbox` comparison: the lists of work addresses (every address of the record's group, see
    resolve._splink_input) share an address, else share a domain but not an address, else neither."""
    import splink.comparison_level_library as cll

    col = comp.column

    def domains(side: str) -> str:
        return f"list_transform(\"{col}_{side}\", lambda x: split_part(x, '@', 2))"

    null = cll.CustomLevel(
        f'coalesce(len("{col}_l"), 0) = 0 OR coalesce(len("{col}_r"), 0) = 0',
        label_for_charts="nothing to compare",
    ).configure(is_null_level=True)
    same = cll.CustomLevel(f'list_has_any("{col}_l", "{col}_r")', label_for_charts="same mailbox")
    same_domain = cll.CustomLevel(
        f"list_has_any({domains('l')}, {domains('r')})",
        label_for_charts="another mailbox at the same domain",
    )
    # priors: a shared mailbox is strong evidence; two mailboxes at one employer mild evidence against
    return (
        [null, same, same_domain, cll.ElseLevel()],
        [comp.m_exact, 0.01, 1 - comp.m_exact - 0.01],
        [comp.u_exact, 0.02, 1 - comp.u_exact - 0.02],
    )


def full_name_column(comp: Comparison) -> str:
    """The derived input column of a `name` comparison: first name and surname, when both are known."""
    return f"{comp.columns[0]}__{comp.columns[1]}"


def _name_levels(comp: Comparison) -> tuple[list, list[float], list[float]]:
    """Levels of a `name` comparison (first name and surname together), with their prior m and u."""
    import splink.comparison_level_library as cll

    first, last = comp.columns
    t_first, t_last = comp.thresholds

    def eq(c: str) -> str:
        return f'"{c}_l" = "{c}_r"'

    def similar(c: str, t: float) -> str:
        return f'jaro_winkler_similarity("{c}_l", "{c}_r") >= {t}'

    def tf(level, column: str):
        # the level's own u is the base the value's frequency adjusts (Splink would look for an exact-match
        # level on `column`, and the full-name column has none)
        return (
            level.configure(
                tf_adjustment_column=column, tf_adjustment_weight=1.0, disable_tf_exact_match_detection=True
            )
            if comp.term_frequency
            else level
        )

    null = cll.CustomLevel(
        f'("{first}_l" IS NULL AND "{last}_l" IS NULL) OR ("{first}_r" IS NULL AND "{last}_r" IS NULL)',
        label_for_charts="no name on a side",
    ).configure(is_null_level=True)
    levels = [
        tf(
            cll.CustomLevel(f"{eq(first)} AND {eq(last)}", label_for_charts="same full name"),
            full_name_column(comp),
        ),
        tf(
            cll.CustomLevel(
                f"{eq(last)} AND {similar(first, t_first)}", label_for_charts="same surname, similar first"
            ),
            last,
        ),
        tf(
            cll.CustomLevel(
                f"{eq(first)} AND {similar(last, t_last)}", label_for_charts="same first, similar surname"
            ),
            first,
        ),
        cll.CustomLevel(
            f"{similar(first, t_first)} AND {similar(last, t_last)}", label_for_charts="both names similar"
        ),
        tf(cll.CustomLevel(eq(last), label_for_charts="same surname only"), last),
        tf(cll.CustomLevel(eq(first), label_for_charts="same first name only"), first),
        cll.ElseLevel(),
    ]
    # priors (training re-estimates them): the full name as m_exact / u_exact, the rest decreasing
    m = [comp.m_exact, 0.04, 0.03, 0.02, 0.03, 0.02]
    u = [comp.u_exact, comp.u_exact * 2, comp.u_exact * 2, comp.u_exact * 4, 0.005, 0.01]
    m.append(max(1 - sum(m), 1e-4))
    u.append(max(1 - sum(u), 1e-4))
    return [null, *levels], m, u


def _hierarchy_levels(comp: Comparison) -> tuple[list, list[float], list[float]]:
    """Levels of a `hierarchy` comparison (columns most specific first), with their prior m and u.

    First column equal, then within each edit distance; then for each later column: equal where no more specific
    column is present on both sides, and equal although a more specific column (present on both sides) differs.
    Earlier levels win, so at a later level every more specific column is either missing on a side or different."""
    import splink.comparison_level_library as cll

    cols = comp.columns

    def both(c: str) -> str:
        return f'("{c}_l" IS NOT NULL AND "{c}_r" IS NOT NULL)'

    def equal(c: str) -> str:
        return f'"{c}_l" = "{c}_r"'

    null = cll.CustomLevel(
        " AND ".join(f"NOT {both(c)}" for c in cols), label_for_charts="nothing to compare"
    ).configure(is_null_level=True)
    first = cols[0]
    levels: list = [cll.CustomLevel(equal(first), label_for_charts=f"same {first}")]
    levels += [
        cll.CustomLevel(
            f'{both(first)} AND levenshtein("{first}_l", "{first}_r") <= {int(t)}',
            label_for_charts=f"{first} within {int(t)} edits",
        )
        for t in comp.thresholds
    ]
    for i, c in enumerate(cols[1:], start=1):
        more_specific = " OR ".join(both(s) for s in cols[:i])
        levels.append(cll.CustomLevel(f"{equal(c)} AND NOT ({more_specific})", label_for_charts=f"same {c}"))
        levels.append(
            cll.CustomLevel(
                f"{equal(c)} AND ({more_specific})",
                label_for_charts=f"same {c}, a more specific column differs",
            )
        )
    # Priors (training re-estimates them; they are the model when the data is too small to train): the exact
    # level's Bayes factor is m_exact / u_exact; a coarser column's agreement is weaker evidence, decaying
    # geometrically to about the n-th root of it for the last column; agreement despite a more specific column
    # differing is mild evidence against (factor 0.5).
    bf0 = comp.m_exact / comp.u_exact
    n = len(cols)
    m = [comp.m_exact]
    bf = [bf0]
    for _ in comp.thresholds:
        m.append(0.1 / len(comp.thresholds))
        bf.append(bf0**0.75)
    for i in range(1, n):
        m += [0.03, 0.01]
        bf += [bf0 ** (1 - i / n), 0.5]
    u = [mi / b for mi, b in zip(m, bf, strict=True)]
    m.append(max(1 - sum(m), 1e-4))
    u.append(max(1 - sum(u), 1e-4))
    levels.append(cll.ElseLevel())
    return [null, *levels], m, u


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


def _train(linker, s, em: bool = True) -> bool:
    """Training in place: lambda from deterministic rules, u by random sampling, and m by EM unless `em` is False
    (then m comes from the deterministic groups afterwards, see _m_from_groups)."""
    from splink import block_on
    from splink.internals.exceptions import EMTrainingException

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
    if not em:
        return trained
    for rule in s.em_blocking_rules:
        saved = copy.deepcopy(linker._settings_obj.core_model_settings)
        saved_p = linker._settings_obj._probability_two_random_records_match
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on(*rule), estimate_without_term_frequencies=True, max_pairs=s.em_max_pairs
            )
            trained = True
        # a level never seen among matches (m would be 0); a rule giving no pairs
        except (ValueError, EMTrainingException) as exc:
            linker._settings_obj.core_model_settings = saved
            linker._settings_obj._probability_two_random_records_match = saved_p
            linker._populate_m_u_from_trained_values()
            log.warning("EM on blocking rule %s skipped, keeping earlier m values: %s", rule, exc)
    return trained


def _label_pairs(con: duckdb.DuckDBPyConnection) -> int:
    """Pairs of records inside one deterministic group (0 when there is no labelled table)."""
    if not con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [SPLINK_LABELLED]
    ).fetchall()[0][0]:
        return 0
    return int(
        con.execute(
            f"SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM (SELECT count(*) AS n FROM {SPLINK_LABELLED} "
            f"GROUP BY {LABEL_COLUMN})"
        ).fetchall()[0][0]
    )


def _m_from_groups(con: duckdb.DuckDBPyConnection, settings: dict, pairs: int) -> dict:
    """m of every comparison level from the `pairs` pairs of records inside one deterministic group (the same
    email, phone + surname or cross-reference: the same person for certain), each record with its own values."""
    from splink import DuckDBAPI, Linker

    labelled = Linker(
        DuckDBAPI(connection=con).register(SPLINK_LABELLED), settings, log_level=logging.WARNING
    )
    try:
        labelled.training.estimate_m_from_label_column(LABEL_COLUMN)
        # A level no labelled pair falls into (say, two mailboxes at one employer) would keep its prior; it gets
        # Laplace's rule of succession instead, 1 / (pairs + 2): rare among matches, as the data says.
        unseen = 1 / (pairs + 2)
        for comparison in labelled._settings_obj.comparisons:
            for level in comparison._comparison_levels_excluding_null:
                trained = level._trained_m_probabilities
                if trained and not isinstance(trained[-1]["probability"], int | float):
                    level.m_probability = unseen
        return labelled.misc.save_model_to_json()
    finally:
        labelled.table_management.delete_tables_created_by_splink_from_db()


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
            table = SPLINK_INPUT
            if n_records > s.training_sample_records:
                con.execute(
                    # Ordered by a hash of (id, seed): the same sample whatever the thread count (a reservoir
                    # sample is only repeatable single-threaded).
                    f"CREATE OR REPLACE TEMP TABLE {SPLINK_TRAIN_INPUT} AS SELECT * FROM {SPLINK_INPUT} "
                    f"ORDER BY hash(id, {int(s.seed)}), id LIMIT {int(s.training_sample_records)}"
                )
                table = SPLINK_TRAIN_INPUT
            # m from the deterministic groups when there are any (else EM, as with m_from: em)
            label_pairs = _label_pairs(con) if s.m_from == "deterministic_groups" else 0
            # Its own DuckDBAPI: Splink caches tables per API object, and the trainer's are deleted below.
            trainer = Linker(DuckDBAPI(connection=con).register(table), settings, log_level=logging.WARNING)
            try:
                trained = _train(trainer, s, em=label_pairs == 0)
                settings = trainer.misc.save_model_to_json()
            finally:
                trainer.table_management.delete_tables_created_by_splink_from_db()
                con.execute(f"DROP TABLE IF EXISTS {SPLINK_TRAIN_INPUT}")
            if label_pairs:
                settings = _m_from_groups(con, settings, label_pairs)
                trained = True
        linker = Linker(db_api.register(SPLINK_INPUT), settings, log_level=logging.WARNING)
        model = linker.misc.save_model_to_json()
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
        model=model,
    )
