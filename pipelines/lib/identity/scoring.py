"""Pairwise precision / recall / F1 of same-person pairs against the generator's ground truth.

The truth file is `<exports>/_truth/ground_truth.csv` with columns source_system, source_record_id, person_id.
Besides the overall figures, the pairs that involve a record sharing no identifier (email, phone or an explicit
cross-reference) with any other record of the same person are scored on their own: those are the pairs only
probabilistic matching can find.

Nothing is excluded silently: records that carry nothing a matcher could use (no name, no address, no birth
date, and only an email/phone that no other record carries: e.g. a SendGrid recipient on a one-off address) are
counted as `unlinkable_records`; `recall_ceiling` is the share of true pairs that do not touch one of them (the
best recall any method can reach), and `linkable` scores only the pairs among the other records.

A stricter ceiling, for methods that must keep precision: split each person's records into evidence components
(records joined, directly or through other records of that person, by a shared email, phone, cross-reference,
street, postal code, city, birth date, company or title). Two records in different components have nothing in
common but their names. When one of the person's full names (first + last) is also carried by another person, no
method can tell such a pair from a pair of namesakes: those are the `name_only_ambiguous_pairs`.
`evidence_recall_ceiling` is the share of true pairs that are neither ambiguous nor touch an unlinkable record,
`name_only_ambiguous_linked` counts the ambiguous pairs the clustering linked anyway (luck, paid for in precision
on the namesakes' pairs), and `best_f1_at_evidence_ceiling` is F1 with perfect precision at that recall. The
ceiling is an estimate, not a proof: a namesake can sometimes be ruled out by elimination (the other Ann Lee has a
birth date this record contradicts). `name_only_ambiguous_bare_pairs` are the ambiguous pairs where one side
carries no attribute at all (only a name and an email or phone its person shares with no other record): nothing
there contradicts any namesake, so linking them is a guess among two or more equally likely people.
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
    reachable_pairs: int | None = None
    name_only_ambiguous_pairs: int = 0
    name_only_ambiguous_linked: int = 0
    name_only_ambiguous_bare_pairs: int = 0

    @property
    def recall_ceiling(self) -> float:
        """Best reachable recall: true pairs among linkable records / all true pairs."""
        if self.linkable is None or not self.overall.true_pairs:
            return 1.0
        return self.linkable.true_pairs / self.overall.true_pairs

    @property
    def evidence_recall_ceiling(self) -> float:
        """True pairs that share evidence beyond a name carried by several people / all true pairs."""
        if self.reachable_pairs is None or not self.overall.true_pairs:
            return 1.0
        return self.reachable_pairs / self.overall.true_pairs

    @property
    def best_f1_at_evidence_ceiling(self) -> float:
        r = self.evidence_recall_ceiling
        return 2 * r / (1 + r)


# Attributes that, shared by two records of one person, are evidence beyond the name (see the module docstring).
_EVIDENCE_COLUMNS = (
    "street_norm",
    "postal_code_norm",
    "city_norm",
    "birth_date",
    "company_norm",
    "title",
)


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
    keep_evidence: bool = False,
) -> PairScores:
    """keep_evidence: keep the evidence components for the next call on the same records and truth (a threshold
    sweep), and reuse those of the previous call; drop_evidence() drops them."""
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
    evidence = [c for c in _EVIDENCE_COLUMNS if c in columns]
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _sc_rec AS
        SELECT r.record_key, t.person_id, nullif(r.email, '') AS email, nullif(r.phone_e164, '') AS phone,
               list_filter({xref_list}, lambda x: x IS NOT NULL) AS xrefs,
               {", ".join(f"nullif(CAST(r.{c} AS VARCHAR), '') AS ev_{c}" for c in evidence)},
               nullif(r.first_name_canonical, '') AS fn, nullif(r.last_name_norm, '') AS ln,
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
    kept = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name IN ('_sc_ev', '_sc_name_shared') AND temporary"
    ).fetchall()[0][0]
    if not (keep_evidence and kept == 2):
        _evidence_components(con, evidence)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _sc_scored AS
        SELECT c.record_key, c.customer_id, t.person_id,
               c.record_key NOT IN (SELECT record_key FROM _sc_shared) AS is_no_shared_identifier,
               c.record_key IN (SELECT record_key FROM _sc_unlinkable) AS is_unlinkable,
               _sc_ev.comp AS ev_comp, t.person_id IN (SELECT person_id FROM _sc_name_shared) AS name_shared
        FROM {clusters_table} c JOIN _sc_truth t USING (record_key) JOIN _sc_ev USING (record_key)
    """)
    total = _counts(con, "true")
    others = _counts(con, "NOT is_no_shared_identifier")
    linkable = _counts(con, "NOT is_unlinkable")
    n_records, n_subset, n_unlinkable = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE is_no_shared_identifier), count(*) FILTER (WHERE is_unlinkable) "
        "FROM _sc_scored"
    ).fetchone()
    # ambiguous pairs with a side whose records carry no attribute at all (only a name and an email or phone no
    # other record of the person has): nothing on that side can rule a namesake out
    bare = con.execute("""
        WITH c AS (
            SELECT s.person_id, s.ev_comp, count(*) AS n, bool_and(e.bare) AS bare
            FROM _sc_scored s JOIN _sc_ev e USING (record_key) WHERE s.name_shared GROUP BY ALL
        )
        SELECT coalesce(sum(a.n * b.n), 0) FROM c a JOIN c b
          ON a.person_id = b.person_id AND a.ev_comp < b.ev_comp AND (a.bare OR b.bare)
    """).fetchall()[0][0]
    reachable, ambiguous, ambiguous_linked = con.execute("""
        WITH s AS (SELECT * FROM _sc_scored WHERE NOT is_unlinkable),
        a AS (SELECT * FROM _sc_scored WHERE name_shared)
        SELECT
            (SELECT coalesce(sum(n * (n - 1) // 2), 0)
             FROM (SELECT count(*) AS n FROM s WHERE NOT name_shared GROUP BY person_id))
          + (SELECT coalesce(sum(n * (n - 1) // 2), 0)
             FROM (SELECT count(*) AS n FROM s WHERE name_shared GROUP BY person_id, ev_comp)),
            (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM (SELECT count(*) AS n FROM a GROUP BY person_id))
          - (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM (SELECT count(*) AS n FROM a GROUP BY person_id, ev_comp)),
            (SELECT coalesce(sum(n * (n - 1) // 2), 0)
             FROM (SELECT count(*) AS n FROM a GROUP BY person_id, customer_id))
          - (SELECT coalesce(sum(n * (n - 1) // 2), 0)
             FROM (SELECT count(*) AS n FROM a GROUP BY person_id, ev_comp, customer_id))
    """).fetchall()[0]
    for t in ("_sc_truth", "_sc_rec", "_sc_shared", "_sc_unlinkable", "_sc_scored"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    if not keep_evidence:
        drop_evidence(con)
    return PairScores(
        records_scored=int(n_records),
        overall=PairMetrics(*total),
        no_shared_identifier_records=int(n_subset),
        # Pairs touching at least one no-shared-identifier record = all pairs minus pairs among the others.
        no_shared_identifier=PairMetrics(*(a - b for a, b in zip(total, others, strict=True))),
        unlinkable_records=int(n_unlinkable),
        linkable=PairMetrics(*linkable),
        reachable_pairs=int(reachable),
        name_only_ambiguous_pairs=int(ambiguous),
        name_only_ambiguous_linked=int(ambiguous_linked),
        name_only_ambiguous_bare_pairs=int(bare),
    )


def drop_evidence(con: duckdb.DuckDBPyConnection) -> None:
    for t in ("_sc_ev", "_sc_name_shared"):
        con.execute(f"DROP TABLE IF EXISTS {t}")


def _evidence_components(con: duckdb.DuckDBPyConnection, evidence: list[str]) -> None:
    """_sc_ev(record_key, comp): each person's records split by shared evidence (email, phone, cross-reference or
    one of `evidence`); _sc_name_shared(person_id): persons with a full name that another person carries too."""
    from pipelines.lib.identity.graph import connected_components

    con.execute(
        "CREATE OR REPLACE TEMP TABLE _sc_ev_nodes AS "
        "SELECT row_number() OVER (ORDER BY record_key) AS id, * FROM _sc_rec"
    )
    shared = " OR ".join(
        [
            "a.email = b.email",
            "a.phone = b.phone",
            "list_contains(a.xrefs, b.record_key)",
            "list_contains(b.xrefs, a.record_key)",
            *(f"a.ev_{c} = b.ev_{c}" for c in evidence),
        ]
    )
    connected_components(
        con,
        "SELECT id FROM _sc_ev_nodes",
        f"SELECT a.id AS id_l, b.id AS id_r FROM _sc_ev_nodes a JOIN _sc_ev_nodes b "
        f"ON a.person_id = b.person_id AND a.id < b.id AND ({shared})",
        "_sc_ev_comp",
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _sc_ev AS "
        "SELECT n.record_key, c.comp, "
        f"coalesce({', '.join(['NULL'] + [f'n.ev_{c}' for c in evidence])}) IS NULL AS bare "
        "FROM _sc_ev_nodes n JOIN _sc_ev_comp c USING (id)"
    )
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _sc_name_shared AS
        WITH names AS (
            SELECT fn, ln FROM _sc_rec WHERE fn IS NOT NULL AND ln IS NOT NULL
            GROUP BY fn, ln HAVING count(DISTINCT person_id) > 1
        )
        SELECT DISTINCT r.person_id FROM _sc_rec r JOIN names USING (fn, ln)
    """)
    for t in ("_sc_ev_nodes", "_sc_ev_comp"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
