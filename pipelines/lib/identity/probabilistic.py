"""Probabilistic edges with Splink 5 (DuckDB backend) on names, address, company, title, birth date, phone, email.

The model starts from the priors in config (m/u of each exact level); with enough records it is trained without
any hand-made labels: the share of matching pairs from deterministic rules, u by random sampling, m from the pairs
of records inside deterministic groups (the same email, phone + surname or cross-reference), or by EM on each
training blocking rule (`splink.m_from: em`, and whenever there are no such groups). Pairs above both thresholds
become `splink` edges, keeping weight and probability.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import math
import time
from dataclasses import dataclass, field

import duckdb

from pipelines.lib.identity.config import Comparison, IdentityConfig
from pipelines.lib.sql import quote_ident

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
    # the final Splink model (settings JSON with every level's m and u and the prior), as scored
    settings: dict | None = None
    # comparisons whose m came from the labelled pairs of deterministic groups (the rest: EM, else the prior)
    m_from_groups: list[str] = field(default_factory=list)
    # seconds per phase (blocking_keys, train, m_from_groups, calibrate, predict)
    phase_seconds: dict[str, float] = field(default_factory=dict)
    # the run scored with a stored model (`model` of splink_edges) instead of training one
    reused: bool = False
    # Splink input records (rows of SPLINK_INPUT) this run scored
    records: int = 0


# Part of the model fingerprint: bump when the training code changes what a configuration trains into (then every
# stored model is retrained once). The comparisons' SQL is in the fingerprint itself (build_settings).
MODEL_CODE_VERSION = 1
# Settings that do not shape the model: how predictions are chunked, and the retrain policy itself.
_NOT_IN_FINGERPRINT = ("predict_chunk_records", "retrain_when_records_change", "retrain_after_days")


def model_fingerprint(config: IdentityConfig) -> str:
    """A hash of everything that shapes the trained model: the whole identity configuration (comparisons, training,
    thresholds, the configured blocking rules and key cap, guards, cross-references) but for _NOT_IN_FINGERPRINT,
    plus the Splink comparisons as this code builds them (their level SQL and prior m/u). The data-dependent part
    of the blocking (which rules cap_blocking_keys capped on a run's data) is not in it."""
    dumped = config.model_dump(mode="json")
    for key in _NOT_IN_FINGERPRINT:
        dumped["splink"].pop(key, None)
    comparisons = build_settings(config).create_settings_dict("duckdb")["comparisons"]
    text = json.dumps(
        {"code": MODEL_CODE_VERSION, "config": dumped, "comparisons": comparisons},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _side(column: str, side: str) -> str:
    """The quoted name of `column` on one side of a Splink pair (`side` l or r): `"email_l"`."""
    return quote_ident(f"{column}_{side}")


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
    if comp.kind == "swap":
        return _swap_levels(comp)
    if comp.kind == "date":
        return _date_levels(comp)
    if comp.kind == "employer":
        return _employer_levels(comp)
    if comp.kind == "cross":
        a, b = col, comp.other_column

        # Both columns are lists (every value of the record group, see resolve._splink_input).
        def empty(x: str) -> str:
            return f"coalesce(len({quote_ident(x)}), 0) = 0"

        null = cll.CustomLevel(
            f"({empty(a + '_l')} OR {empty(b + '_r')}) AND ({empty(a + '_r')} OR {empty(b + '_l')})",
            label_for_charts="nothing to compare",
        ).configure(is_null_level=True)
        same = cll.CustomLevel(
            f"list_has_any({_side(a, 'l')}, {_side(b, 'r')}) OR list_has_any({_side(a, 'r')}, {_side(b, 'l')})",
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


# Birth dates further apart than this are "far apart" (the last level of a `date` comparison).
FAR_APART_DAYS = 3653


def _date_levels(comp: Comparison) -> tuple[list, list[float], list[float]]:
    """Levels of a `date` comparison (after Splink's DateOfBirthComparison): exact, one typo or transposition in the
    ISO text, within ten years, and more than ten years apart. The last is the evidence against a match (a father
    and son of one name at one address); training gives it its weight (EM, or the deterministic groups: never seen
    among matches there, about -15 at 10k generator contacts); its prior m is a tenth of what the exact level
    leaves, so even the untrained model counts a birth date decades off as strong evidence against."""
    import splink.comparison_level_library as cll

    col = comp.column
    levels = [
        cll.NullLevel(col),
        cll.ExactMatchLevel(col, term_frequency_adjustments=comp.term_frequency),
        cll.CustomLevel(
            f"damerau_levenshtein(CAST({_side(col, 'l')} AS VARCHAR), CAST({_side(col, 'r')} AS VARCHAR)) <= 1",
            label_for_charts="one typo or transposition",
        ),
        cll.CustomLevel(
            f"abs(date_diff('day', {_side(col, 'l')}, {_side(col, 'r')})) <= {FAR_APART_DAYS}",
            label_for_charts="within ten years",
        ),
        cll.ElseLevel(),
    ]
    rest = 1 - comp.m_exact
    m = [comp.m_exact, rest * 0.5, rest * 0.4, rest * 0.1]
    u = [comp.u_exact, comp.u_exact * 4, 0.25]
    u.append(1 - sum(u))
    return levels, m, u


def _employer_levels(comp: Comparison) -> tuple[list, list[float], list[float]]:
    """Levels of an `employer` comparison (columns: company, company key list, email organisation list): the same
    company, similar companies, one record's company key is an organisation of the other's email domains, else
    different; null when neither a company on both sides nor a company against an email domain can be compared."""
    import splink.comparison_level_library as cll

    company, key, org = comp.columns

    def empty(x: str) -> str:
        return f"coalesce(len({quote_ident(x)}), 0) = 0"

    cross_null = (
        f"({empty(key + '_l')} OR {empty(org + '_r')}) AND ({empty(key + '_r')} OR {empty(org + '_l')})"
    )
    null = cll.CustomLevel(
        f"({_side(company, 'l')} IS NULL OR {_side(company, 'r')} IS NULL) AND {cross_null}",
        label_for_charts="nothing to compare",
    ).configure(is_null_level=True)
    levels = [
        null,
        cll.ExactMatchLevel(company, term_frequency_adjustments=comp.term_frequency),
        *[cll.JaroWinklerLevel(company, t) for t in comp.thresholds],
        cll.CustomLevel(
            f"list_has_any({_side(key, 'l')}, {_side(org, 'r')}) OR list_has_any({_side(key, 'r')}, {_side(org, 'l')})",
            label_for_charts="company = the other record's email domain",
        ),
        cll.ElseLevel(),
    ]
    m = [comp.m_exact] + [0.1 / max(len(comp.thresholds), 1)] * len(comp.thresholds) + [0.1]
    u = [comp.u_exact] + [comp.u_exact * 4] * len(comp.thresholds) + [comp.u_exact]
    m.append(max(1 - sum(m), 1e-4))
    u.append(max(1 - sum(u), 1e-4))
    return levels, m, u


def _mailbox_levels(comp: Comparison) -> tuple[list, list[float], list[float]]:
    """Levels of a `mailbox` comparison: the lists of work addresses (every address of the record's group, see
    resolve._splink_input) share an address, else share a domain but not an address, else neither."""
    import splink.comparison_level_library as cll

    col = comp.column

    def domains(side: str) -> str:
        return f"list_transform({_side(col, side)}, lambda x: split_part(x, '@', 2))"

    null = cll.CustomLevel(
        f"coalesce(len({_side(col, 'l')}), 0) = 0 OR coalesce(len({_side(col, 'r')}), 0) = 0",
        label_for_charts="nothing to compare",
    ).configure(is_null_level=True)
    same = cll.CustomLevel(
        f"list_has_any({_side(col, 'l')}, {_side(col, 'r')})", label_for_charts="same mailbox"
    )
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
        return f"{_side(c, 'l')} = {_side(c, 'r')}"

    def similar(c: str, t: float) -> str:
        return f"jaro_winkler_similarity({_side(c, 'l')}, {_side(c, 'r')}) >= {t}"

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
        f"({_side(first, 'l')} IS NULL AND {_side(last, 'l')} IS NULL) OR ({_side(first, 'r')} IS NULL AND {_side(last, 'r')} IS NULL)",
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


def _swap_levels(comp: Comparison) -> tuple[list, list[float], list[float]]:
    """Levels of a `swap` comparison: the two `columns` (first name, surname) of one record equal the other's in
    the reverse order (a surname typed into the first-name field and back), then similar in the reverse order
    (Jaro-Winkler >= each threshold on both crossings), else nothing. The first-name and surname comparisons see a
    swapped pair as two disagreements; this comparison is what tells it apart from two strangers."""
    import splink.comparison_level_library as cll

    a, b = comp.columns

    def crossed(t: float | None) -> str:
        if t is None:
            return f"{_side(a, 'l')} = {_side(b, 'r')} AND {_side(b, 'l')} = {_side(a, 'r')} AND {_side(a, 'l')} <> {_side(b, 'l')}"
        return (
            f"jaro_winkler_similarity({_side(a, 'l')}, {_side(b, 'r')}) >= {t} AND jaro_winkler_similarity({_side(b, 'l')}, {_side(a, 'r')}) >= {t}"
            f" AND NOT ({_side(a, 'l')} = {_side(a, 'r')} OR {_side(b, 'l')} = {_side(b, 'r')})"
        )

    null = cll.CustomLevel(
        " OR ".join(f"{_side(c, side)} IS NULL" for c in (a, b) for side in "lr"),
        label_for_charts="a name part missing",
    ).configure(is_null_level=True)
    levels = [null, cll.CustomLevel(crossed(None), label_for_charts="first name and surname swapped")]
    levels += [
        cll.CustomLevel(crossed(t), label_for_charts=f"swapped, Jaro-Winkler >= {t}") for t in comp.thresholds
    ]
    levels.append(cll.ElseLevel())
    m = [comp.m_exact] + [comp.m_exact / 2] * len(comp.thresholds)
    u = [comp.u_exact] + [comp.u_exact * 4] * len(comp.thresholds)
    m.append(max(1 - sum(m), 1e-4))
    u.append(max(1 - sum(u), 1e-4))
    return levels, m, u


def _hierarchy_levels(comp: Comparison) -> tuple[list, list[float], list[float]]:
    """Levels of a `hierarchy` comparison (columns most specific first), with their prior m and u.

    First column equal, then within each edit distance; then for each later column: equal where no more specific
    column is present on both sides, and equal although a more specific column (present on both sides) differs.
    Earlier levels win, so at a later level every more specific column is either missing on a side or different."""
    import splink.comparison_level_library as cll

    cols = comp.columns

    def both(c: str) -> str:
        return f"({_side(c, 'l')} IS NOT NULL AND {_side(c, 'r')} IS NOT NULL)"

    def equal(c: str) -> str:
        return f"{_side(c, 'l')} = {_side(c, 'r')}"

    null = cll.CustomLevel(
        " AND ".join(f"NOT {both(c)}" for c in cols), label_for_charts="nothing to compare"
    ).configure(is_null_level=True)
    first = cols[0]
    levels: list = [cll.CustomLevel(equal(first), label_for_charts=f"same {first}")]
    levels += [
        cll.CustomLevel(
            f"{both(first)} AND levenshtein({_side(first, 'l')}, {_side(first, 'r')}) <= {int(t)}",
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


def key_fits_column(rule_index: int) -> str:
    """The input column that marks, for blocking rule `rule_index`, a record whose key is shared by at most
    `splink.max_records_per_blocking_key` records (TRUE; NULL otherwise, so that the rule pairs nothing there)."""
    return f"blocking_key_fits_{rule_index}"


def cap_blocking_keys(con: duckdb.DuckDBPyConnection, config: IdentityConfig, table: str) -> list[list[str]]:
    """The blocking rules as scored: a rule with a key shared by more than `splink.max_records_per_blocking_key`
    records of `table` gets the column key_fits_column(i) (added to `table`, TRUE where the record's key is small
    enough) as one more column to agree on, so its oversize keys pair nothing. The other rules are unchanged (and
    `table` gains no column for them): on data without oversize keys the model is what it was."""
    rules = [list(rule) for rule in config.splink.blocking_rules]
    cap = config.splink.max_records_per_blocking_key
    if cap is None:
        return rules
    capped = []
    for i, rule in enumerate(rules):
        present = " AND ".join(f"{quote_ident(c)} IS NOT NULL" for c in rule)
        largest = con.execute(
            f"SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM {table} WHERE {present} "
            f"GROUP BY {', '.join(quote_ident(c) for c in rule)})"
        ).fetchall()[0][0]
        if largest > cap:
            capped.append(i)
    if not capped:
        return rules
    # one hash aggregate per capped rule (its keys small enough), joined back on the key columns
    joins = []
    for i in capped:
        cols = ", ".join(quote_ident(c) for c in rules[i])
        present = " AND ".join(f"{quote_ident(c)} IS NOT NULL" for c in rules[i])
        joins.append(
            f"LEFT JOIN (SELECT {cols}, true AS {key_fits_column(i)} FROM {table} WHERE {present} "
            f"GROUP BY {cols} HAVING count(*) <= {int(cap)}) AS fits_{i} USING ({cols})"
        )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {table}.*, "
        f"{', '.join(key_fits_column(i) for i in capped)} FROM {table} {' '.join(joins)} ORDER BY id"
    )
    for i in capped:
        rules[i].append(key_fits_column(i))
    return rules


def build_settings(
    config: IdentityConfig,
    probability_two_random_records_match: float | None = None,
    blocking_rules: list[list[str]] | None = None,
):
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
        blocking_rules_to_generate_predictions=[
            block_on(*rule) for rule in (blocking_rules or config.splink.blocking_rules)
        ],
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


def _comparison_columns(comp: Comparison) -> list[str]:
    return [c for c in (comp.column, comp.other_column, *comp.columns) if c]


def _labelled_pairs_per_comparison(con: duckdb.DuckDBPyConnection, config: IdentityConfig) -> dict[str, int]:
    """For each comparison: the labelled pairs (two records of one deterministic group) in which both records carry
    a value of one of its columns (the most for any one column: a lower bound for hierarchies)."""
    columns = sorted({c for comp in config.splink.comparisons for c in _comparison_columns(comp)})
    counts = ", ".join(f"count({c}) AS k{i}" for i, c in enumerate(columns))
    sums = ", ".join(f"coalesce(sum(k{i} * (k{i} - 1) // 2), 0)" for i in range(len(columns)))
    row = con.execute(
        f"SELECT {sums} FROM (SELECT {counts} FROM {SPLINK_LABELLED} GROUP BY {LABEL_COLUMN})"
    ).fetchall()[0]
    per_column = dict(zip(columns, row, strict=True))
    return {
        comp.name: int(max(per_column[c] for c in _comparison_columns(comp)))
        for comp in config.splink.comparisons
    }


def _m_from_groups(
    con: duckdb.DuckDBPyConnection, config: IdentityConfig, settings: dict, pairs: int
) -> tuple[dict, list[str]]:
    """m of the comparison levels from the `pairs` pairs of records inside one deterministic group (the same
    email, phone + surname or cross-reference: the same person for certain), each record with its own values.

    Only for comparisons with at least `splink.min_labelled_pairs` such pairs where both records carry a value:
    the others keep the m they came with (EM's, else the prior). Where the email-joined records carry no address
    (a CRM without emails: the groups are newsletter and webinar records), labelled pairs say nothing about the
    address and EM is the better estimate. Returns the settings and the comparisons whose m came from the groups."""
    from splink import DuckDBAPI, Linker

    enough = {
        name
        for name, n in _labelled_pairs_per_comparison(con, config).items()
        if n >= config.splink.min_labelled_pairs
    }
    if not enough:
        return settings, []
    labelled = Linker(
        DuckDBAPI(connection=con).register(SPLINK_LABELLED), settings, log_level=logging.WARNING
    )
    try:
        labelled.training.estimate_m_from_label_column(LABEL_COLUMN)
        # A level no labelled pair falls into (say, two mailboxes at one employer) would keep its prior; it gets
        # Laplace's rule of succession instead, 1 / (pairs + 2): rare among matches, as the data says.
        unseen = 1 / (pairs + 2)
        for comparison in labelled._settings_obj.comparisons:
            if comparison.output_column_name not in enough:
                continue
            for level in comparison._comparison_levels_excluding_null:
                trained = level._trained_m_probabilities
                if trained and not isinstance(trained[-1]["probability"], int | float):
                    level.m_probability = unseen
        out = labelled.misc.save_model_to_json()
    finally:
        labelled.table_management.delete_tables_created_by_splink_from_db()
    # comparisons without enough labelled pairs: m as it came (from EM or the prior)
    before = {c["output_column_name"]: c for c in settings["comparisons"]}
    for comp in out["comparisons"]:
        if comp["output_column_name"] not in enough:
            kept = before[comp["output_column_name"]]["comparison_levels"]
            for level, old in zip(comp["comparison_levels"], kept, strict=True):
                if "m_probability" in old:
                    level["m_probability"] = old["m_probability"]
    return out, sorted(enough)


# Pairs below this probability (under the prior the training gave) are left out of the prior's calibration.
CALIBRATION_FLOOR = 1e-3


def _logit2(p: float) -> float:
    return math.log2(p / (1 - p))


def _calibrate_prior(con: duckdb.DuckDBPyConnection, predictions: str, prior: float, n_records: int) -> float:
    """The share of matching pairs that agrees with the model: the fixed point of
    prior = (sum over scored pairs of their match probability under that prior) / (all pairs of records),
    i.e. expectation maximisation of the prior alone, m and u held. The deterministic rules' estimate (pairs they
    find / an assumed recall) is only the start: it is off by the recall's error, 2x on FEBRL, where no
    identifier exists and few pairs agree exactly on name and birth date. Pairs outside the blocking rules, or
    below CALIBRATION_FLOOR, count as non-matches."""
    total = n_records * (n_records - 1) / 2
    base = _logit2(prior)
    current = prior
    for _ in range(100):
        expected = con.execute(
            f"SELECT coalesce(sum(1 / (1 + pow(2, -(match_weight - ? + ?)))), 0) FROM {predictions}",
            [base, _logit2(current)],
        ).fetchall()[0][0]
        new = min(max(expected / total, 1e-12), 0.5)
        if abs(new - current) <= 1e-4 * current:
            return new
        current = new
    return current


# Rounds of (u among non-matches under the calibrated prior, then the prior calibrated again under that u).
U_CORRECTION_ROUNDS = 2


def _level_u(settings: dict) -> dict[str, list[float | None]]:
    """u of every non-null level of every comparison, by comparison name (None where Splink has none)."""
    return {
        c["output_column_name"]: [
            lv.get("u_probability") for lv in c["comparison_levels"] if not lv.get("is_null_level")
        ]
        for c in settings["comparisons"]
    }


def _u_among_non_matches(
    settings: dict, observed: dict[str, list[float | None]], prior: float, sampled: float
) -> dict:
    """`settings` with u of each level taken among non-matching pairs: random sampling measured u over all pairs,
    a share `prior` of them matches, which fall in each level in proportion to its m; so
    u' = (u - prior * m) / (1 - prior), at least half a sampled pair (0.5 / `sampled`), renormalised to sum to 1."""
    out = copy.deepcopy(settings)
    out["probability_two_random_records_match"] = prior
    floor = 0.5 / max(sampled, 1.0)
    for comp in out["comparisons"]:
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        us = observed[comp["output_column_name"]]
        if any(u is None or "m_probability" not in lv for lv, u in zip(levels, us, strict=True)):
            continue
        new = [
            max((u - prior * lv["m_probability"]) / (1 - prior), floor)
            for lv, u in zip(levels, us, strict=True)
        ]
        total = sum(new)
        for lv, u in zip(levels, new, strict=True):
            lv["u_probability"] = u / total
    return out


def _keep_match_weights(settings, keep: bool):
    """Settings that keep each comparison's match weight in the predictions (`mw_<comparison>`,
    `mw_tf_adj_<comparison>`) when the name-only rule or a benchmark needs them."""
    if not keep:
        return settings
    if isinstance(settings, dict):
        return {**settings, "retain_intermediate_calculation_columns": True}
    settings.retain_intermediate_calculation_columns = True
    return settings


def name_only_sql(config: IdentityConfig, columns: set[str]) -> str:
    """SQL (over Splink's predictions with intermediate columns) that is true when no comparison outside
    `thresholds.name_comparisons` adds a positive match weight (term-frequency adjustment included): the pair's
    only evidence is the name. `false` when the rule is off."""
    t = config.thresholds
    if t.name_only_match_probability is None:
        return "false"
    terms = []
    for comp in config.splink.comparisons:
        if comp.name in t.name_comparisons:
            continue
        weight = [f"coalesce(mw_{comp.name}, 0)"]
        if f"mw_tf_adj_{comp.name}" in columns:
            weight.append(f"coalesce(mw_tf_adj_{comp.name}, 0)")
        if f"mw_{comp.name}" not in columns:
            raise RuntimeError(f"Splink's predictions lack mw_{comp.name}: cannot tell name-only pairs")
        terms.append(f"({' + '.join(weight)}) > 0")
    return f"NOT ({' OR '.join(terms)})" if terms else "true"


def _reused_settings(config: IdentityConfig, stored: dict, blocking_rules: list[list[str]]) -> dict:
    """A stored model (settings JSON: comparisons with their m and u, the calibrated prior) with this run's blocking
    rules: which keys are capped depends on the data (cap_blocking_keys)."""
    settings = copy.deepcopy(stored)
    settings.pop("linker_uid", None)
    settings["blocking_rules_to_generate_predictions"] = build_settings(
        config, blocking_rules=blocking_rules
    ).create_settings_dict("duckdb")["blocking_rules_to_generate_predictions"]
    return settings


def splink_edges(
    con: duckdb.DuckDBPyConnection,
    config: IdentityConfig,
    out_table: str,
    weights_table: str | None = None,
    model: dict | None = None,
) -> SplinkResult:
    """Score the blocked pairs of table SPLINK_INPUT (id + comparison columns); write edges to `out_table`
    (id_l, id_r, match_weight, match_probability, name_only) for pairs above the thresholds: match_probability,
    and name_only_match_probability for a pair whose only evidence is the name. With `weights_table`, also
    (for benchmarks) those pairs with each comparison's match weight (`mw_<comparison>`, `mw_tf_adj_<comparison>`)
    in that temp table.

    With more than `splink.training_sample_records` records the model is trained, and its prior calibrated, on a
    reproducible random sample (the share of matching pairs, u and m do not depend on the sample size), then every
    blocked pair of the full table is scored once, at the threshold, in ceil(records / predict_chunk_records)
    chunks. Blocking keys shared by more than `splink.max_records_per_blocking_key` records pair nothing under
    their rule (cap_blocking_keys).

    With `model` (a stored trained model's settings JSON, see model_store.choose_model) nothing is trained: the
    stored comparisons, m, u and calibrated prior score every blocked pair (this run's blocking rules) once, at the
    threshold."""
    from splink import DuckDBAPI, Linker

    s = config.splink
    # the name-only rule reads each comparison's weight from the predictions
    keep_weights = bool(weights_table) or config.thresholds.name_only_match_probability is not None
    n_records = con.execute(f"SELECT count(*) FROM {SPLINK_INPUT}").fetchone()[0]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {out_table} (id_l BIGINT, id_r BIGINT, match_weight DOUBLE, "
        "match_probability DOUBLE, name_only BOOLEAN)"
    )
    if n_records < 2:
        return SplinkResult(0, False, s.probability_two_random_records_match, records=n_records)

    started = time.perf_counter()
    phases: dict[str, float] = {}
    lap_at = started

    def lap(name: str) -> None:
        nonlocal lap_at
        phases[name] = phases.get(name, 0.0) + time.perf_counter() - lap_at
        lap_at = time.perf_counter()

    blocking_rules = cap_blocking_keys(con, config, SPLINK_INPUT)
    settings = build_settings(config, blocking_rules=blocking_rules)
    lap("blocking_keys")
    trained = False
    from_groups: list[str] = []
    linker = None
    training_records = n_records
    # the records the model is trained on and its prior calibrated on: all of them, or a reproducible sample
    sample = SPLINK_INPUT

    def predict(linker, records: int, threshold: float):
        chunks = -(-records // s.predict_chunk_records)
        return linker.inference.predict(
            threshold_match_probability=threshold,
            warning_mode="never",
            num_chunks_left=chunks if chunks > 1 else None,
        )

    def new_linker(table: str, model):
        return Linker(
            DuckDBAPI(connection=con).register(table),
            _keep_match_weights(model, keep_weights),
            log_level=logging.WARNING,
        )

    try:
        if model is not None:
            # a stored model: no training, no calibration; this run's blocking rules, every pair scored once
            linker = new_linker(SPLINK_INPUT, _reused_settings(config, model, blocking_rules))
            trained_at = time.perf_counter()
            prior = trained_prior = linker._settings_obj._probability_two_random_records_match
            threshold = config.thresholds.match_probability
            predictions = predict(linker, n_records, threshold)
            trained = True
        else:
            if s.train and n_records >= s.min_records_for_training:
                training_records = min(n_records, s.training_sample_records)
                if n_records > s.training_sample_records:
                    con.execute(
                        # Ordered by a hash of (id, seed): the same sample whatever the thread count (a reservoir
                        # sample is only repeatable single-threaded).
                        f"CREATE OR REPLACE TEMP TABLE {SPLINK_TRAIN_INPUT} AS SELECT * FROM {SPLINK_INPUT} "
                        f"ORDER BY hash(id, {int(s.seed)}), id LIMIT {int(s.training_sample_records)}"
                    )
                    sample = SPLINK_TRAIN_INPUT
                # m by EM on the em_blocking_rules (unsupervised: works with no shared identifier at all), then, with
                # m_from: deterministic_groups, from the labelled pairs for every comparison they cover well enough
                label_pairs = _label_pairs(con) if s.m_from == "deterministic_groups" else 0
                # Its own DuckDBAPI: Splink caches tables per API object, and the trainer's are deleted below.
                trainer = Linker(
                    DuckDBAPI(connection=con).register(sample), settings, log_level=logging.WARNING
                )
                try:
                    trained = _train(trainer, s, em=True)
                    settings = trainer.misc.save_model_to_json()
                finally:
                    trainer.table_management.delete_tables_created_by_splink_from_db()
                lap("train")
                if label_pairs:
                    settings, from_groups = _m_from_groups(con, config, settings, label_pairs)
                    trained = trained or bool(from_groups)
                    lap("m_from_groups")
            trained_at = time.perf_counter()
            threshold = config.thresholds.match_probability
            calibrate = trained and s.calibrate_prior
            # Calibration (the prior, then u among non-matches) scores the pairs of the training records down to
            # CALIBRATION_FLOOR, three times; on a sample that costs a fraction of one scoring of the full table, and
            # the share of matching pairs among a uniform sample's pairs is the full table's.
            linker = new_linker(sample if calibrate else SPLINK_INPUT, settings)
            prior = trained_prior = linker._settings_obj._probability_two_random_records_match
            if calibrate:
                floor = min(threshold, CALIBRATION_FLOOR)
                predictions = predict(linker, training_records, floor)
                prior = _calibrate_prior(con, predictions.physical_name, prior, training_records)
                linker._settings_obj._probability_two_random_records_match = prior
                if s.u_among_non_matches:
                    observed = _level_u(linker.misc.save_model_to_json())
                    sampled = min(s.u_max_pairs, training_records * (training_records - 1) / 2)
                    for _ in range(U_CORRECTION_ROUNDS):
                        corrected = _u_among_non_matches(
                            linker.misc.save_model_to_json(), observed, prior, sampled
                        )
                        linker.table_management.delete_tables_created_by_splink_from_db()
                        linker = new_linker(sample, corrected)
                        trained_prior = prior
                        predictions = predict(linker, training_records, floor)
                        prior = _calibrate_prior(con, predictions.physical_name, prior, training_records)
                        linker._settings_obj._probability_two_random_records_match = prior
                lap("calibrate")
                if sample != SPLINK_INPUT:
                    # the model is final: every blocked pair of the full table scored once, at the threshold
                    final = linker.misc.save_model_to_json()
                    linker.table_management.delete_tables_created_by_splink_from_db()
                    linker = new_linker(SPLINK_INPUT, final)
                    trained_prior = prior = linker._settings_obj._probability_two_random_records_match
                    predictions = predict(linker, n_records, threshold)
            else:
                predictions = predict(linker, n_records, threshold)
        # match weight and probability under the (calibrated) prior: the weight moves by the change in log-odds
        shift = _logit2(prior) - _logit2(trained_prior)
        predicted_columns = {r[0] for r in con.execute(f"DESCRIBE {predictions.physical_name}").fetchall()}
        thresholds = config.thresholds
        con.execute(
            f"""
            INSERT INTO {out_table}
            SELECT least(id_l, id_r), greatest(id_l, id_r), w, p, name_only
            FROM (
                SELECT id_l, id_r, w, 1 / (1 + pow(2, -w)) AS p, name_only
                FROM (
                    SELECT id_l, id_r, match_weight + ? AS w,
                           {name_only_sql(config, predicted_columns)} AS name_only
                    FROM {predictions.physical_name}
                )
            )
            WHERE w >= coalesce(?, w) AND p >= ? AND (NOT name_only OR p >= coalesce(?, 0))
        """,
            [
                shift,
                thresholds.match_weight,
                thresholds.match_probability,
                thresholds.name_only_match_probability,
            ],
        )
        lap("predict")
        if weights_table:
            con.execute(
                f"""
                CREATE OR REPLACE TEMP TABLE {weights_table} AS
                SELECT least(id_l, id_r) AS id_l, greatest(id_l, id_r) AS id_r, COLUMNS('^mw_')
                FROM (SELECT *, match_weight + ? AS _w FROM {predictions.physical_name})
                WHERE _w >= coalesce(?, _w) AND 1 / (1 + pow(2, -_w)) >= ?
            """,
                [shift, config.thresholds.match_weight, config.thresholds.match_probability],
            )
        prob = prior
        final_settings = linker.misc.save_model_to_json()
    finally:
        if linker is not None:
            linker.table_management.delete_tables_created_by_splink_from_db()
        con.execute(f"DROP TABLE IF EXISTS {SPLINK_TRAIN_INPUT}")
    edges = con.execute(f"SELECT count(*) FROM {out_table}").fetchone()[0]
    return SplinkResult(
        edges=edges,
        trained=trained,
        probability_two_random_records_match=prob,
        train_seconds=trained_at - started,
        predict_seconds=time.perf_counter() - trained_at,
        settings=final_settings,
        m_from_groups=from_groups,
        phase_seconds=phases,
        reused=model is not None,
        records=n_records,
    )
