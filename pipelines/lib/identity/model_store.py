"""The model of each identity run, kept in the warehouse so that matches can be explained later without
retraining, and the evidence for pairs of records of one customer inside one CRM (the CRM merge suggestions).

Tables (docs/identity.md, "The persisted model"):
- `identity_model`: one row per run (appended): the Splink settings JSON with its trained m/u probabilities and
  the prior (probability_two_random_records_match), and the thresholds a pair had to pass;
- `identity_model_input`: the rows Splink scored in the latest run, one per record (`record_key` + Splink's
  input columns, gaps filled from the record's deterministic group as the run compared them);
- `identity_pair_evidence`: every pair of records of one customer in one CRM, scored by that model: match weight,
  match probability and the comparisons that agreed (count for the match), in words.

Term frequencies are recomputed from `identity_model_input` by Splink itself, as the run computed them.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import duckdb

from pipelines.lib.identity.config import IdentityConfig
from pipelines.lib.sql import quote_ident, sql_literal

MODEL_TABLE = "identity_model"
MODEL_INPUT_TABLE = "identity_model_input"
PAIR_EVIDENCE_TABLE = "identity_pair_evidence"
# Systems whose records an admin merges in the CRM itself (as in the crm_merge_suggestions mart).
CRM_SYSTEMS = ("salesforce", "hubspot", "zoho", "dynamics", "custom")
_PAIR_BLOCK = "_crm_pair_block"


class ModelNotFoundError(LookupError):
    """The warehouse holds no persisted identity model (no run yet, or Splink disabled)."""


@dataclass
class ModelChoice:
    """Whether a run trains the Splink model or reuses a stored one (choose_model), and what it then stores.

    `source`: `trained` (this run trained it), `reused` (the stored model of run `model_run_id`) or `priors` (no
    training: `splink.train` off, or too few records). `reason`: why the run trained (or used the priors)."""

    fingerprint: str
    source: str = "trained"
    reason: str | None = None
    model_run_id: str | None = None
    # the run (as-of) time the model was trained at, and the Splink input records it was trained on
    trained_at: datetime | None = None
    trained_records: int | None = None
    settings: dict | None = None
    m_from_groups: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """`reused model of run X` / `trained (reason: records +14%)`: for the log and the run's metadata."""
        if self.source == "reused":
            return f"reused model of run {self.model_run_id}"
        if self.source == "priors":
            return f"untrained: configured priors ({self.reason})"
        return f"trained (reason: {self.reason})"


def _create_model_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"""
        CREATE TABLE IF NOT EXISTS {MODEL_TABLE} (
            run_id VARCHAR, run_at TIMESTAMP, saved_at TIMESTAMP, splink_trained BOOLEAN,
            probability_two_random_records_match DOUBLE, threshold_match_probability DOUBLE,
            threshold_match_weight DOUBLE, compare VARCHAR, settings_json VARCHAR)
    """)
    # added later (the name-only rule): warehouses made before it get the columns, null for their old runs
    con.execute(f"ALTER TABLE {MODEL_TABLE} ADD COLUMN IF NOT EXISTS threshold_name_only_probability DOUBLE")
    con.execute(f"ALTER TABLE {MODEL_TABLE} ADD COLUMN IF NOT EXISTS name_comparisons VARCHAR")
    # added with the retrain policy (issue #17): whether the run trained or reused which run's model, and what
    # decides whether a later run may reuse it (null for runs saved before; such a model is never reused)
    for column, kind in (
        ("model_source", "VARCHAR"),  # trained | reused | priors
        ("model_run_id", "VARCHAR"),  # the run that trained the model (this run when trained)
        ("retrain_reason", "VARCHAR"),  # why it trained: no model | config changed | records +14% | 31 days
        ("config_fingerprint", "VARCHAR"),  # of the settings that shape the model (model_fingerprint)
        ("trained_records", "BIGINT"),  # Splink input records the model was trained on
        ("model_trained_at", "TIMESTAMP"),  # the (as-of) time of the run that trained it
        ("m_from_groups", "VARCHAR"),  # JSON list: comparisons whose m came from the deterministic groups
    ):
        con.execute(f"ALTER TABLE {MODEL_TABLE} ADD COLUMN IF NOT EXISTS {column} {kind}")


def _percent(change: float, limit: float) -> str:
    """+14%, -12%; one decimal where a whole percent would hide that the change passed `limit` (+10.4%)."""
    return f"{change:+.0%}" if abs(round(change * 100)) > limit * 100 else f"{change:+.1%}"


def choose_model(
    con: duckdb.DuckDBPyConnection,
    config: IdentityConfig,
    fingerprint: str,
    records: int,
    now: datetime,
    retrain: bool = False,
) -> ModelChoice:
    """Reuse the latest stored trained model (identity_model) or train? Reuse when all hold: a trained model is
    stored, it was trained with the same `fingerprint` (model_fingerprint of the config), Splink's input `records`
    differ by at most `splink.retrain_when_records_change` (a share) from the records it was trained on, and it is
    at most `splink.retrain_after_days` old at `now` (the run's as-of time, naive UTC). `retrain` forces training.
    The rule does not look at --full-refresh: a full refresh and a daily run decide alike (docs/operations.md)."""
    s = config.splink
    if not s.train or records < s.min_records_for_training:
        why = (
            "splink.train is off"
            if not s.train
            else f"{records} records, fewer than {s.min_records_for_training}"
        )
        return ModelChoice(fingerprint, source="priors", reason=why)
    if retrain:
        return ModelChoice(fingerprint, reason="--retrain-identity")
    try:
        cursor = con.execute(f"""
            SELECT run_id, model_run_id, config_fingerprint, trained_records, model_trained_at, settings_json,
                   m_from_groups
            FROM {MODEL_TABLE}
            WHERE splink_trained AND settings_json IS NOT NULL
            ORDER BY saved_at DESC, run_id DESC LIMIT 1
        """)
    except duckdb.CatalogException:
        return ModelChoice(fingerprint, reason="no model")
    except duckdb.BinderException:  # saved before the retrain policy: no fingerprint to compare
        return ModelChoice(fingerprint, reason="config changed")
    row = cursor.fetchone()
    if row is None:
        return ModelChoice(fingerprint, reason="no model")
    run_id, model_run_id, stored_fingerprint, trained_records, trained_at, settings_json, from_groups = row
    if stored_fingerprint != fingerprint or not trained_records or trained_at is None:
        return ModelChoice(fingerprint, reason="config changed")
    reasons = []
    change = (records - trained_records) / trained_records
    if abs(change) > s.retrain_when_records_change:
        reasons.append(f"records {_percent(change, s.retrain_when_records_change)}")
    age = now - trained_at
    if age > timedelta(days=s.retrain_after_days):
        reasons.append(f"{round(age / timedelta(days=1), 1):g} days")
    if reasons:
        return ModelChoice(fingerprint, reason=", ".join(reasons))
    return ModelChoice(
        fingerprint,
        source="reused",
        model_run_id=model_run_id or run_id,
        trained_at=trained_at,
        trained_records=trained_records,
        settings=json.loads(settings_json),
        m_from_groups=json.loads(from_groups) if from_groups else [],
    )


def save_model(
    con: duckdb.DuckDBPyConnection,
    config: IdentityConfig,
    run_id: str,
    now: datetime,
    model: dict | None,
    trained: bool,
    splink_input: str,
    per_record: bool,
    choice: ModelChoice | None = None,
) -> None:
    """Append the run's model to `identity_model` and replace `identity_model_input` with what Splink scored;
    `choice`: whether the run trained it or reused which run's model (choose_model, completed by the run).

    Reads the resolver's work tables `_identity_records` (id, record_key) and, in `groups` mode, `_identity_deterministic_groups` (id, comp):
    Splink's input then has one row per deterministic group (id = comp), shared by each of its records."""
    _create_model_table(con)
    con.execute(f"DELETE FROM {MODEL_TABLE} WHERE run_id = ?", [run_id])
    prior = model.get("probability_two_random_records_match") if model else None
    has_model = model is not None and choice is not None and choice.source != "priors" and trained
    con.execute(
        f"""INSERT INTO {MODEL_TABLE} (run_id, run_at, saved_at, splink_trained,
            probability_two_random_records_match, threshold_match_probability, threshold_match_weight, compare,
            settings_json, threshold_name_only_probability, name_comparisons, model_source, model_run_id,
            retrain_reason, config_fingerprint, trained_records, model_trained_at, m_from_groups)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            run_id,
            now,
            datetime.now(UTC).replace(tzinfo=None),
            trained if model else False,
            prior,
            config.thresholds.match_probability,
            config.thresholds.match_weight,
            config.splink.compare,
            json.dumps(model) if model else None,
            config.thresholds.name_only_match_probability,
            json.dumps(config.thresholds.name_comparisons),
            choice.source if choice and model else None,
            choice.model_run_id if has_model else None,
            choice.reason if choice and model else None,
            choice.fingerprint if choice and model else None,
            choice.trained_records if has_model else None,
            choice.trained_at if has_model else None,
            json.dumps(choice.m_from_groups) if has_model else None,
        ],
    )
    if model is None:
        con.execute(
            f"CREATE OR REPLACE TABLE {MODEL_INPUT_TABLE} AS SELECT record_key, id FROM _identity_records WHERE false"
        )
        return
    join = "splink_row.id = rec.id" if per_record else "splink_row.id = grp.comp"
    groups = "" if per_record else "JOIN _identity_deterministic_groups AS grp ON grp.id = rec.id"
    con.execute(f"""
        CREATE OR REPLACE TABLE {MODEL_INPUT_TABLE} AS
        SELECT rec.record_key, splink_row.*
        FROM _identity_records AS rec {groups} JOIN {splink_input} AS splink_row ON {join}
    """)


def latest_model(con: duckdb.DuckDBPyConnection) -> dict:
    """The row of `identity_model` saved last (the run whose input is in `identity_model_input`; an as-of run
    may act as of an earlier time), settings parsed; ModelNotFoundError when there is none."""
    try:
        cursor = con.execute(f"SELECT * FROM {MODEL_TABLE} ORDER BY saved_at DESC, run_id DESC LIMIT 1")
    except duckdb.CatalogException as exc:
        raise ModelNotFoundError(
            f"no table {MODEL_TABLE}: run `touchplan run` (identity resolution) first"
        ) from exc
    names = [d[0] for d in cursor.description]
    row = cursor.fetchall()
    if not row:
        raise ModelNotFoundError(f"{MODEL_TABLE} is empty: run `touchplan run` (identity resolution) first")
    # a warehouse saved before the name-only rule lacks its columns: its runs had no such rule
    stored = {
        "threshold_name_only_probability": None,
        "name_comparisons": None,
        **dict(zip(names, row[0], strict=True)),
    }
    out = {
        key: stored[key]
        for key in (
            "run_id",
            "run_at",
            "splink_trained",
            "probability_two_random_records_match",
            "threshold_match_probability",
            "threshold_match_weight",
            "compare",
            "threshold_name_only_probability",
        )
    }
    out["settings"] = json.loads(stored["settings_json"]) if stored["settings_json"] else None
    out["name_comparisons"] = json.loads(stored["name_comparisons"]) if stored["name_comparisons"] else []
    return out


def model_linker(con: duckdb.DuckDBPyConnection, settings: dict, input_table: str = MODEL_INPUT_TABLE):
    """A Splink linker over the persisted input with the persisted settings (intermediate columns kept, so every
    comparison's level and Bayes factor come out), its term-frequency tables computed from that input."""
    from splink import DuckDBAPI, Linker

    settings = dict(settings)
    settings["retain_matching_columns"] = True
    settings["retain_intermediate_calculation_columns"] = True
    db_api = DuckDBAPI(connection=con)
    linker = Linker(db_api.register(input_table), settings, log_level=logging.WARNING)
    for column in linker._settings_obj._term_frequency_columns:
        linker.table_management.compute_tf_table(column.unquote().name)
    return linker, db_api


# Splink input columns in words (for level labels such as `same street_norm`).
COLUMN_WORDS = {
    "first_name_canonical": "first name",
    "last_name_norm": "surname",
    "street_norm": "street",
    "postal_code_norm": "postal code",
    "city_norm": "city",
    "company_norm": "company",
    "company_key": "company",
    "email_org": "email domain",
    "birth_year2": "birth year",
    "email_year2": "the year in the email",
    "title_norm": "title",
    "phone_e164": "phone",
    "work_email": "work email",
    "birth_date": "birth date",
}


def level_words(label: str) -> str:
    """Splink's chart label of a comparison level in plain words: `Exact match on x` -> `exact match`,
    `Jaro-Winkler distance of x >= 0.92` -> `Jaro-Winkler >= 0.92`, `same street_norm` -> `same street`."""
    label = label.strip()
    lower = label.lower()
    if lower.startswith("exact match"):
        return "exact match"
    if lower.startswith("all other"):
        return "different"
    if lower.endswith("is null"):
        return "missing on a side"
    for prefix, words in (
        ("jaro-winkler distance of", "Jaro-Winkler"),
        ("levenshtein distance of", "edit distance"),
    ):
        if lower.startswith(prefix):
            rest = label[len(prefix) :].strip()
            return f"{words} {rest.split(' ', 1)[1] if ' ' in rest else rest}"
    label = label.replace(" = other ", " = the other record's ")
    for column in sorted(COLUMN_WORDS, key=len, reverse=True):
        label = re.sub(rf"\b{column}\b", COLUMN_WORDS[column], label)
    return label


def comparison_words(name: str) -> str:
    """`first_name` -> `first name`."""
    return name.replace("_", " ")


def _agreed_sql(linker) -> str:
    """SQL over Splink's predictions: the comparisons with a positive match weight (term-frequency adjustment
    included), '; '-separated, each as `<comparison>: <level> (+w.w)`."""
    parts = []
    for comp in linker._settings_obj.comparisons:
        weight = quote_ident(comp._mw_column_name)
        if comp._has_tf_adjustments:
            weight = f"({weight} + coalesce({quote_ident(comp._mw_tf_adj_column_name)}, 0))"
        cases = " ".join(
            f"WHEN {level.comparison_vector_value} THEN {sql_literal(level_words(level.label_for_charts))}"
            for level in comp.comparison_levels
            if not level.is_null_level
        )
        label = f"CASE {quote_ident(comp._gamma_column_name)} {cases} END"
        parts.append(
            f"CASE WHEN {weight} > 0 THEN {sql_literal(comparison_words(comp.output_column_name) + ': ')} || {label} "
            f"|| ' (' || printf('%+.1f', {weight}) || ')' END"
        )
    return "concat_ws('; ', " + ", ".join(parts) + ")" if parts else "NULL"


def score_crm_pairs(con: duckdb.DuckDBPyConnection, model: dict | None) -> int:
    """Replace `identity_pair_evidence` with every pair of records of one customer inside one CRM (from
    identity_clusters and _identity_records), scored by `model` on `identity_model_input`; returns the pair count.

    Splink's own predict (`predict_within`, blocking on customer + CRM) computes each pair's levels and weights,
    with term frequencies from the whole persisted input, as in the run."""
    con.execute(f"""
        CREATE OR REPLACE TABLE {PAIR_EVIDENCE_TABLE} (
            record_key_l VARCHAR, record_key_r VARCHAR, match_weight DOUBLE, match_probability DOUBLE,
            agreed_comparisons VARCHAR)
    """)
    if model is None:
        return 0
    systems = ", ".join(sql_literal(s) for s in CRM_SYSTEMS)
    # one row per model-input record of a CRM that holds another record of the same customer
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _identity_pair_input AS
        SELECT model_input.* REPLACE (row_number() OVER (ORDER BY model_input.record_key)::BIGINT AS id),
               cluster.cluster_id || '|' || rec.source_system AS {_PAIR_BLOCK}
        FROM {MODEL_INPUT_TABLE} AS model_input
        JOIN identity_clusters AS cluster USING (record_key)
        JOIN _identity_records AS rec USING (record_key)
        WHERE rec.source_system IN ({systems}) AND cluster.cluster_size > 1
        QUALIFY count(*) OVER (PARTITION BY cluster.cluster_id, rec.source_system) > 1
    """)
    if not con.execute("SELECT count(*) FROM _identity_pair_input").fetchall()[0][0]:
        con.execute("DROP TABLE _identity_pair_input")
        return 0
    from splink import block_on

    linker, db_api = model_linker(con, model)
    try:
        predictions = linker.inference.predict_within(
            db_api.register("_identity_pair_input"),
            blocking_rules_to_generate_predictions=[block_on(_PAIR_BLOCK)],
            warning_mode="never",
        )
        con.execute(f"""
            INSERT INTO {PAIR_EVIDENCE_TABLE}
            SELECT least(record_l.record_key, record_r.record_key), greatest(record_l.record_key, record_r.record_key),
                   p.match_weight, p.match_probability, nullif({_agreed_sql(linker)}, '')
            FROM {predictions.physical_name} p
            JOIN _identity_pair_input AS record_l ON record_l.id = p.id_l
            JOIN _identity_pair_input AS record_r ON record_r.id = p.id_r
            ORDER BY 1, 2
        """)
    finally:
        linker.table_management.delete_tables_created_by_splink_from_db()
        con.execute("DROP TABLE IF EXISTS _identity_pair_input")
    return con.execute(f"SELECT count(*) FROM {PAIR_EVIDENCE_TABLE}").fetchall()[0][0]
