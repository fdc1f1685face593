"""Why two records are (or are not) one customer, in words: `touchplan explain-match RECORD_A RECORD_B`.

Scores the pair with Splink's own machinery (`linker.inference.score_pair` and its waterfall data) using the
latest run's persisted model and input (model_store.py): no retraining, the same weights the run used. Then reads
the run's decisions: the customer of each record, the identity edges that joined them (a direct identifier edge,
a Splink edge, or a chain through other records), and the guards that kept them apart.

The returned text holds names and emails: it is for the user's terminal only, never for logs.
"""

from __future__ import annotations

import math
import re
from collections import deque
from dataclasses import dataclass, field

import duckdb

from pipelines.lib.identity.model_store import (
    MODEL_INPUT_TABLE,
    comparison_words,
    latest_model,
    level_words,
    model_linker,
)

# Tables the explanation reads (all written by a run: identity asset and dbt's int_identity_records).
TABLES = (
    "int_identity_records",
    "identity_clusters",
    "identity_edges",
    "identity_guard_events",
    "identity_model",
    MODEL_INPUT_TABLE,
)
RULE_WORDS = {
    "email": "the same email address",
    "phone_surname": "the same phone number and surname",
    "xref": "a cross-reference id in the CRM (one record names the other)",
    "splink": "a Splink match",
}


class ExplainMatchError(ValueError):
    """A record argument that names no record or several; a warehouse without the run's tables."""


@dataclass
class RecordView:
    record_key: str
    source_system: str
    source_record_id: str
    record_type: str | None
    name: str
    email: str | None
    company: str | None
    created_at: object
    updated_at: object
    customer_id: str
    cluster_size: int
    joined_by_rule: str


@dataclass
class ComparisonLine:
    comparison: str
    level: str
    value_l: str
    value_r: str
    match_weight: float
    tf_weight: float | None = None
    key: str = ""  # the comparison's name in config/identity.yaml


@dataclass
class MatchExplanation:
    a: RecordView
    b: RecordView
    run_id: str
    splink_trained: bool
    comparisons: list[ComparisonLine]
    prior_probability: float
    prior_weight: float
    match_weight: float
    match_probability: float
    threshold_probability: float
    threshold_weight: float | None  # None: the model links on the match probability alone
    found_by_blocking_rules: bool
    same_customer: bool
    reasons: list[str] = field(default_factory=list)
    # a pair whose only evidence is the name needs this probability (None: no such rule in that run)
    threshold_name_only: float | None = None
    name_comparisons: list[str] = field(default_factory=list)

    @property
    def name_only(self) -> bool:
        """No comparison outside the name comparisons adds a positive weight: the name is the only evidence."""
        return self.threshold_name_only is not None and not any(
            c.match_weight > 0 for c in self.comparisons if c.key not in self.name_comparisons
        )

    @property
    def needed_probability(self) -> float:
        if self.name_only:
            return max(self.threshold_probability, self.threshold_name_only or 0.0)
        return self.threshold_probability

    @property
    def above_threshold(self) -> bool:
        return self.match_probability >= self.needed_probability and (
            self.threshold_weight is None or self.match_weight >= self.threshold_weight
        )


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def check_tables(con: duckdb.DuckDBPyConnection) -> None:
    present = {
        r[0]
        for r in _rows(
            con, "SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views()"
        )
    }
    missing = [t for t in TABLES if t not in present]
    if missing:
        raise ExplainMatchError(
            f"the warehouse lacks {', '.join(missing)}: run `touchplan run` (with identity resolution) first"
        )


def resolve_record(con: duckdb.DuckDBPyConnection, arg: str) -> str:
    """A record key as in customer_crosswalk / int_identity_records, or an email naming exactly one record."""
    key = arg.strip()
    if _rows(con, "SELECT 1 FROM identity_clusters WHERE record_key = ?", [key]):
        return key
    if "@" in key:
        keys = [
            r[0]
            for r in _rows(
                con,
                "SELECT record_key FROM int_identity_records WHERE lower(trim(email)) = lower(?) ORDER BY record_key",
                [key],
            )
        ]
        if not keys:
            raise ExplainMatchError(f"no record has the email {key}")
        if len(keys) > 1:
            raise ExplainMatchError(
                f"the email {key} is on {len(keys)} records ({', '.join(keys)}): give one record key instead"
            )
        return keys[0]
    raise ExplainMatchError(f"unknown record {key!r}: give a record key (e.g. salesforce:003...) or an email")


def _record_view(con: duckdb.DuckDBPyConnection, key: str) -> RecordView:
    row = _rows(
        con,
        """
        SELECT r.record_key, r.source_system, r.source_record_id, r.record_type,
               nullif(trim(concat_ws(' ', r.first_name, r.last_name)), ''), r.email, r.company,
               r.created_at, r.updated_at, c.customer_id, c.cluster_size, c.joined_by_rule
        FROM identity_clusters c LEFT JOIN int_identity_records r USING (record_key)
        WHERE c.record_key = ?
        """,
        [key],
    )[0]
    return RecordView(
        record_key=key,
        source_system=row[1] or key.split(":", 1)[0],
        source_record_id=row[2] or "",
        record_type=row[3],
        name=row[4] or "(no name)",
        email=row[5],
        company=row[6],
        created_at=row[7],
        updated_at=row[8],
        customer_id=row[9],
        cluster_size=row[10],
        joined_by_rule=row[11],
    )


def _score(con: duckdb.DuckDBPyConnection, settings: dict, key_a: str, key_b: str) -> tuple[dict, list[dict]]:
    """Splink's score_pair on the two persisted input rows; returns the scored record and its waterfall data."""
    from splink.internals.waterfall_chart import records_to_waterfall_data

    linker, db_api = model_linker(con, settings)
    try:
        frames = []
        for side, key in (("l", key_a), ("r", key_b)):
            table = f"_explain_match_{side}"
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * EXCLUDE (record_key) FROM {MODEL_INPUT_TABLE} "
                "WHERE record_key = ?",
                [key],
            )
            # the same input row for both records (groups mode, one deterministic group): ids must differ
            if side == "r":
                con.execute(f"UPDATE {table} SET id = -id WHERE id = (SELECT id FROM _explain_match_l)")
            frames.append(db_api.register(table))
        scored = linker.inference.score_pair(frames[0], frames[1], include_found_by_blocking_rules=True)
        record = scored.as_record_list()[0]
        waterfall = records_to_waterfall_data([record], linker._settings_obj, hide_details=False)
        return record, waterfall
    finally:
        linker.table_management.delete_tables_created_by_splink_from_db()
        for side in ("l", "r"):
            con.execute(f"DROP TABLE IF EXISTS _explain_match_{side}")


def _comparison_lines(waterfall: list[dict]) -> list[ComparisonLine]:
    lines: list[ComparisonLine] = []
    for rec in waterfall:
        name = rec["column_name"]
        if name in ("Prior", "Final score"):
            continue
        if rec["term_frequency_adjustment"]:
            if lines and rec["log2_bayes_factor"]:
                lines[-1].tf_weight = rec["log2_bayes_factor"]
                lines[-1].match_weight += rec["log2_bayes_factor"]
            continue
        lines.append(
            ComparisonLine(
                comparison=comparison_words(name),
                level=level_words(rec["label_for_charts"] or ""),
                value_l=_value(rec["value_l"]),
                value_r=_value(rec["value_r"]),
                match_weight=rec["log2_bayes_factor"],
                key=name,
            )
        )
    return lines


def _value(text: str) -> str:
    """A compared value as Splink prints it, without list brackets and quotes (`['a', 'b']` -> `a / b`)."""
    text = re.sub(r"\[([^\]]*)\]", lambda m: m.group(1).replace("', '", " / ").strip("'") or "-", text)
    return "-" if text in ("", "None") else text.replace("None", "-")


def _path(
    con: duckdb.DuckDBPyConnection, key_a: str, key_b: str, customer_id: str
) -> list[tuple[str, str, str]]:
    """The shortest chain of kept identity edges from a to b inside their customer: [(from, rule words, to)]."""
    edges = _rows(
        con,
        """
        SELECT e.record_key_l, e.record_key_r, e.rule, e.match_probability FROM identity_edges e
        WHERE e.record_key_l IN (SELECT record_key FROM identity_clusters WHERE customer_id = ?)
        """,
        [customer_id],
    )
    graph: dict[str, list[tuple[str, str]]] = {}
    for left, right, rule, prob in edges:
        label = rule if rule != "splink" else f"splink, probability {prob:.6f}" if prob is not None else rule
        graph.setdefault(left, []).append((right, label))
        graph.setdefault(right, []).append((left, label))
    previous: dict[str, tuple[str, str]] = {key_a: ("", "")}
    queue = deque([key_a])
    while queue:
        node = queue.popleft()
        if node == key_b:
            break
        for nxt, label in sorted(graph.get(node, [])):
            if nxt not in previous:
                previous[nxt] = (node, label)
                queue.append(nxt)
    if key_b not in previous:
        return []
    steps = []
    node = key_b
    while node != key_a:
        before, label = previous[node]
        steps.append((before, label, node))
        node = before
    return steps[::-1]


def _guard_reasons(con: duckdb.DuckDBPyConnection, a: RecordView, b: RecordView) -> list[str]:
    """Guard events of the run that touch records of both customers (they may have kept the two apart)."""
    rows = _rows(
        con,
        """
        WITH ka AS (SELECT list(record_key) AS keys FROM identity_clusters WHERE customer_id = ?),
             kb AS (SELECT list(record_key) AS keys FROM identity_clusters WHERE customer_id = ?)
        SELECT g.guard, g.detail FROM identity_guard_events g, ka, kb
        WHERE list_has_any(g.record_keys, ka.keys) AND list_has_any(g.record_keys, kb.keys)
        ORDER BY g.guard, g.detail
        """,
        [a.customer_id, b.customer_id],
    )
    return [f"guard {guard}: {detail}" for guard, detail in rows]


def explain_match(con: duckdb.DuckDBPyConnection, arg_a: str, arg_b: str) -> MatchExplanation:
    """Explain the pair named by `arg_a` and `arg_b` (record keys or emails) with the latest run's model."""
    check_tables(con)
    key_a, key_b = resolve_record(con, arg_a), resolve_record(con, arg_b)
    if key_a == key_b:
        raise ExplainMatchError(f"both arguments name the same record {key_a}")
    model = latest_model(con)
    if model["settings"] is None:
        raise ExplainMatchError(
            f"run {model['run_id']} has no Splink model (Splink disabled, or too few records): nothing to score"
        )
    a, b = _record_view(con, key_a), _record_view(con, key_b)
    for view in (a, b):
        if not _rows(con, f"SELECT 1 FROM {MODEL_INPUT_TABLE} WHERE record_key = ?", [view.record_key]):
            raise ExplainMatchError(
                f"record {view.record_key} is not in {MODEL_INPUT_TABLE}: rerun `touchplan run`"
            )
    record, waterfall = _score(con, model["settings"], key_a, key_b)
    prior = model["settings"]["probability_two_random_records_match"]
    expl = MatchExplanation(
        a=a,
        b=b,
        run_id=model["run_id"],
        splink_trained=bool(model["splink_trained"]),
        comparisons=_comparison_lines(waterfall),
        prior_probability=prior,
        prior_weight=math.log2(prior / (1 - prior)),
        match_weight=record["match_weight"],
        match_probability=record["match_probability"],
        threshold_probability=model["threshold_match_probability"],
        threshold_weight=model["threshold_match_weight"],
        found_by_blocking_rules=bool(record["found_by_blocking_rules"]),
        same_customer=a.customer_id == b.customer_id,
        threshold_name_only=model["threshold_name_only_probability"],
        name_comparisons=model["name_comparisons"],
    )
    expl.reasons = _reasons(con, expl)
    return expl


def _reasons(con: duckdb.DuckDBPyConnection, e: MatchExplanation) -> list[str]:
    direct = _rows(
        con,
        """
        SELECT rule, match_probability FROM identity_edges
        WHERE (record_key_l = ? AND record_key_r = ?) OR (record_key_l = ? AND record_key_r = ?)
        ORDER BY CASE rule WHEN 'xref' THEN 1 WHEN 'email' THEN 2 WHEN 'phone_surname' THEN 3 ELSE 4 END
        """,
        [e.a.record_key, e.b.record_key, e.b.record_key, e.a.record_key],
    )
    reasons = []
    if e.same_customer:
        if direct:
            for rule, prob in direct:
                extra = f" (probability {prob:.6f})" if rule == "splink" and prob is not None else ""
                reasons.append(f"direct {rule} edge: {RULE_WORDS.get(rule, rule)}{extra}")
        else:
            steps = _path(con, e.a.record_key, e.b.record_key, e.a.customer_id)
            if steps:
                reasons.append("no direct edge; joined through other records of the customer:")
                reasons += [f"  {left} --[{label}]-- {right}" for left, label, right in steps]
        return reasons
    if not e.found_by_blocking_rules:
        reasons.append("the run never compared them: the pair shares no blocking rule's columns")
    elif not e.above_threshold:
        weight = (
            "" if e.threshold_weight is None else f" or weight {e.match_weight:.2f} < {e.threshold_weight}"
        )
        if e.match_probability >= e.threshold_probability and e.match_probability < e.needed_probability:
            reasons.append(
                f"only the name agrees (no other comparison adds evidence), and such a pair needs probability "
                f">= {e.threshold_name_only} (it has {e.match_probability:.6g}): not a match"
            )
        else:
            reasons.append(
                f"the Splink score is below the threshold (probability {e.match_probability:.6g} < "
                f"{e.threshold_probability}{weight}): not a match"
            )
    guards = _guard_reasons(con, e.a, e.b)
    reasons += guards
    if e.found_by_blocking_rules and e.above_threshold and not guards:
        reasons.append("the score is above the threshold but the run kept no edge between their customers")
    return reasons


def _fmt_ts(value: object) -> str:
    return "-" if value is None else str(value)[:19]


def format_explanation(e: MatchExplanation) -> str:
    """The explanation in words, for the terminal (holds personal data)."""
    out = []
    for tag, r in (("A", e.a), ("B", e.b)):
        kind = f"{r.source_system} {r.record_type or 'record'} {r.source_record_id}".strip()
        out.append(f"{tag}  {r.record_key}  ({kind})")
        out.append(f"   {r.name} <{r.email or '-'}>, company {r.company or '-'}")
        out.append(
            f"   created {_fmt_ts(r.created_at)}, modified {_fmt_ts(r.updated_at)}; customer {r.customer_id}"
        )
    trained = "trained" if e.splink_trained else "untrained: configured priors"
    out.append("")
    out.append(f"Splink model of run {e.run_id} ({trained}); values as the run compared them, A | B:")
    width = max((len(c.comparison) for c in e.comparisons), default=10)
    for c in e.comparisons:
        tf = f" (term frequency adjustment {c.tf_weight:+.2f} included)" if c.tf_weight else ""
        out.append(
            f"  {c.comparison:<{width}}  {c.level} ({c.value_l} | {c.value_r}): match weight {c.match_weight:+.2f}{tf}"
        )
    out.append(
        f"  {'prior':<{width}}  probability two random records match {e.prior_probability:.6g}: "
        f"match weight {e.prior_weight:+.2f}"
    )
    out.append(f"Total match weight {e.match_weight:+.2f}, match probability {e.match_probability:.6f}")
    verdict = "above" if e.above_threshold else "below"
    weight = "" if e.threshold_weight is None else f" and weight >= {e.threshold_weight}"
    name_only = (
        f" (only the name agrees: a name-only pair needs probability >= {e.threshold_name_only})"
        if e.name_only and e.needed_probability > e.threshold_probability
        else ""
    )
    out.append(
        f"Threshold: probability >= {e.needed_probability}{weight}{name_only}: {verdict} "
        f"the threshold" + ("" if e.found_by_blocking_rules else " (but no blocking rule pairs them)")
    )
    out.append("")
    if e.same_customer:
        out.append(f"Same customer: yes, {e.a.customer_id} ({e.a.cluster_size} records)")
    else:
        out.append(f"Same customer: no ({e.a.customer_id} and {e.b.customer_id})")
    out += [f"  {reason}" for reason in e.reasons]
    return "\n".join(out)
