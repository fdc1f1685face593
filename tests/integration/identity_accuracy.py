"""The bar for identity accuracy on generated data, shared by the accuracy test and the end-to-end test.

Pairwise precision and recall of same-person pairs (pipelines.lib.identity.scoring.score_pairs) of
customer_crosswalk against the generator's `_truth/ground_truth.csv`.

Where the bar comes from (docs/benchmarks.md "Quality", docs/identity.md "Results"): the shipped model scores
P 0.9997 / R 0.9837 (10k persons, seed 2) and P 0.9989 / R 0.9859 (10k, seed 1); the identity work aims at
P >= 0.998 with F1 >= 0.99 (so R >= 0.982) at 10k. A test of a few hundred to a thousand persons has far fewer
namesakes (pairs of persons grow with the square of the size), so a good model's precision there is at least its
10k precision, and recall is about the same (the same mix of records per person).

- PRECISION_MIN 0.995: the 0.998 target less a margin of 0.003 (at 1,000 persons, ~3,870 true pairs, that
  allows ~19 wrong pairs). Merging namesakes costs more: measured 0.9912 at 1,000 persons, seed 3.
- RECALL_MIN 0.96: the lowest shipped 10k recall (0.9837) less a margin of ~0.024, as small runs score a little
  lower (main, 2026-12-07: R 0.9853 at 1,000 persons, 0.9753 at 400). Deterministic rules alone (Splink off)
  miss far more: measured R 0.886 at 1,000 persons, seed 3.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.lib.identity.scoring import PairMetrics, score_pairs

PRECISION_MIN = 0.995
RECALL_MIN = 0.96


def crosswalk_metrics(
    con: duckdb.DuckDBPyConnection, truth_csv: Path, clusters_table: str = "customer_crosswalk"
) -> PairMetrics:
    """Overall pairwise metrics of `clusters_table` (record_key -> customer_id) against the ground truth."""
    scores = score_pairs(con, truth_csv, clusters_table=clusters_table)
    # every generated record is scored (a record left out of the clustering would be left out of the score too)
    truth_records = con.execute(
        "SELECT count(DISTINCT source_system || ':' || source_record_id) FROM read_csv(?, all_varchar = true)",
        [str(truth_csv)],
    ).fetchone()[0]
    clustered = con.execute(f"SELECT count(*) FROM {clusters_table}").fetchone()[0]
    assert scores.records_scored == clustered == truth_records, (
        scores.records_scored,
        clustered,
        truth_records,
    )
    return scores.overall


def describe(metrics: PairMetrics) -> str:
    return (
        f"P {metrics.precision:.4f} R {metrics.recall:.4f} F1 {metrics.f1:.4f} "
        f"({metrics.true_positive_pairs} of {metrics.predicted_pairs} predicted pairs right, "
        f"{metrics.true_pairs} true pairs)"
    )


def meets_the_bar(metrics: PairMetrics) -> bool:
    return metrics.precision >= PRECISION_MIN and metrics.recall >= RECALL_MIN
