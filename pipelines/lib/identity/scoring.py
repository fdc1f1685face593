"""Pairwise precision / recall / F1 of same-person pairs against the generator's ground truth.

The truth file is `<exports>/_truth/ground_truth.csv` with columns source_system, source_record_id, person_id.
Besides the overall figures, the pairs that involve a record sharing no identifier (email, phone or an explicit
cross-reference) with any other record of the same person are scored on their own: those are the pairs only
probabilistic matching can find.

Nothing is excluded silently: records that carry nothing a matcher could use (no name, no address, no birth
date, and only an email/phone that no other record carries: e.g. a SendGrid recipient on a one-off address) are
counted as `unlinkable_records`; `recall_ceiling` is the share of true pairs that do not touch one of them (the
best recall any method can reach), and `linkable` scores only the pairs among the other records.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb


@dataclass
class PairMetrics:
    true_pairs: int
    predicted_pairs: int
    true_positive_pairs: int

    @property
    def precision(self) -> float:
        return self.true_positive_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positive_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1}


@dataclass
class PairScores:
    records_scored: int
    overall: PairMetrics
    no_shared_identifier_records: int
    no_shared_identifier: PairMetrics
    unlinkable_records: int = 0
    linkable: PairMetrics | None = None

    @property
    def recall_ceiling(self) -> float:
        """Best reachable recall: true pairs among linkable records / all true pairs."""
        if self.linkable is None or not self.overall.true_pairs:
            return 1.0
        return self.linkable.true_pairs / self.overall.true_pairs


def _counts(con: duckdb.DuckDBPyConnection, where: str) -> tuple[int, int, int]:
    row = con.execute(f"""
        WITH s AS (SELECT * FROM _sc_scored WHERE {where})
        SELECT
            (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM (SELECT count(*) AS n FROM s GROUP BY person_id)),
            (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM (SELECT count(*) AS n FROM s GROUP BY customer_id)),
            (SELECT coalesce(sum(n * (n - 1) // 2), 0)
             FROM (SELECT count(*) AS n FROM s GROUP BY customer_id, person_id))
    """).fetchone()
    return int(row[0]), int(row[1]), int(row[2])


def score_pairs(
    con: duckdb.DuckDBPyConnection,
    truth_csv: str | Path,
    records_table: str = "int_identity_records",
    clusters_table: str = "identity_clusters",
) -> PairScores:
    truth = Path(truth_csv)
    if not truth.exists():
        raise FileNotFoundError(f"{truth}: ground truth file not found")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _sc_truth AS
        SELECT source_system || ':' || source_record_id AS record_key, any_value(person_id) AS person_id
        FROM read_csv(?, header = true, all_varchar = true)
        GROUP BY 1
    """,
        [str(truth)],
    )
    columns = {row[0] for row in con.execute(f"DESCRIBE {records_table}").fetchall()}
    xref_targets = [
        f"'{system}:' || r.{col}"
        for col, system in (
            ("xref_hubspot_id", "hubspot"),
            ("xref_salesforce_id", "salesforce"),
            ("converted_contact_id", "salesforce"),
            ("master_record_id", "salesforce"),
        )
        if col in columns
    ]
    xref_list = f"[{', '.join(xref_targets)}]" if xref_targets else "[]::VARCHAR[]"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _sc_rec AS
        SELECT r.record_key, t.person_id, nullif(r.email, '') AS email, nullif(r.phone_e164, '') AS phone,
               list_filter({xref_list}, lambda x: x IS NOT NULL) AS xrefs,
               coalesce(nullif(r.first_name_norm, ''), nullif(r.last_name_norm, ''), nullif(r.street_norm, ''),
                        nullif(r.postal_code_norm, ''), CAST(r.birth_date AS VARCHAR)) IS NULL AS has_no_attributes
        FROM {records_table} r JOIN _sc_truth t USING (record_key)
    """)
    # No attributes, and no email/phone/cross-reference shared with any other record (of anyone).
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _sc_unlinkable AS
        WITH shared_email AS (SELECT email FROM _sc_rec WHERE email IS NOT NULL GROUP BY 1 HAVING count(*) > 1),
        shared_phone AS (SELECT phone FROM _sc_rec WHERE phone IS NOT NULL GROUP BY 1 HAVING count(*) > 1),
        referenced AS (SELECT DISTINCT unnest(xrefs) AS record_key FROM _sc_rec)
        SELECT a.record_key FROM _sc_rec a
        WHERE a.has_no_attributes AND len(a.xrefs) = 0
          AND a.record_key NOT IN (SELECT record_key FROM referenced)
          AND (a.email IS NULL OR a.email NOT IN (SELECT email FROM shared_email))
          AND (a.phone IS NULL OR a.phone NOT IN (SELECT phone FROM shared_phone))
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _sc_shared AS
        SELECT DISTINCT a.record_key FROM _sc_rec a JOIN _sc_rec b
          ON a.person_id = b.person_id AND a.record_key <> b.record_key
         AND (a.email = b.email OR a.phone = b.phone OR list_contains(a.xrefs, b.record_key)
              OR list_contains(b.xrefs, a.record_key))
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _sc_scored AS
        SELECT c.record_key, c.customer_id, t.person_id,
               c.record_key NOT IN (SELECT record_key FROM _sc_shared) AS is_no_shared_identifier,
               c.record_key IN (SELECT record_key FROM _sc_unlinkable) AS is_unlinkable
        FROM {clusters_table} c JOIN _sc_truth t USING (record_key)
    """)
    total = _counts(con, "true")
    others = _counts(con, "NOT is_no_shared_identifier")
    linkable = _counts(con, "NOT is_unlinkable")
    n_records, n_subset, n_unlinkable = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE is_no_shared_identifier), count(*) FILTER (WHERE is_unlinkable) "
        "FROM _sc_scored"
    ).fetchone()
    for t in ("_sc_truth", "_sc_rec", "_sc_shared", "_sc_unlinkable", "_sc_scored"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return PairScores(
        records_scored=int(n_records),
        overall=PairMetrics(*total),
        no_shared_identifier_records=int(n_subset),
        # Pairs touching at least one no-shared-identifier record = all pairs minus pairs among the others.
        no_shared_identifier=PairMetrics(*(a - b for a, b in zip(total, others, strict=True))),
        unlinkable_records=int(n_unlinkable),
        linkable=PairMetrics(*linkable),
    )
