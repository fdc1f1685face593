"""Identity resolution benchmark on the real chain: pairwise precision/recall/F1 against the generator's ground
truth, wall time and peak RSS per stage, and Splink alone on the same records for comparison.

    .venv/bin/python -m benchmarks.bench_identity --contacts 10000 --seed 1
    .venv/bin/python -m benchmarks.bench_identity --exports DIR            # existing generator output
    .venv/bin/python -m benchmarks.bench_identity --warehouse W --truth DIR/_truth/ground_truth.csv
    .venv/bin/python -m benchmarks.bench_identity --contacts 10000 --sweep --analyse
    .venv/bin/python -m benchmarks.bench_identity --suite --workdir W          # labelled data sets, one table
    .venv/bin/python -m benchmarks.bench_identity --suite-sweep --workdir W    # the same at many thresholds

Stages (each a child process under /usr/bin/time, so its wall time and peak RSS are its own):
`touchplan sample-data` -> `touchplan ingest` -> `dbt build --select +int_identity_records` (seeds and models; dbt
tests only with --dbt-tests) -> `resolve_identities` -> `dbt build --select dim_customers` (with --dim-customers)
-> Splink alone (same Splink model plus email as a comparison and blocking rule, no deterministic rules or guards,
clustered by Splink's own connected components).

Scores (pipelines.lib.identity.scoring): overall; the pairs touching a record that shares no email, phone or
cross-reference with another record of its person ("no shared identifier": Splink must find them); and the
recall ceiling: records with no name, address or birth date whose email/phone no other record carries can be
linked by no method; they are counted, never dropped. --sweep scores every match-weight threshold from one run;
--analyse counts the missed and wrong pairs by what the two records have (counts only, no personal data).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SWEEP_FLOOR = -30.0  # match weight kept on Splink edges in a --sweep run
SWEEP_WEIGHTS = tuple(range(-30, 21, 2))
# --suite-sweep: match-probability thresholds scored from one scoring of each data set
SUITE_SWEEP_PROBABILITIES = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)


# ---------------------------------------------------------------------------------------------------- stages


def _timed(
    name: str, cmd: list[str], cwd: Path = ROOT, env: dict | None = None, allow_fail: bool = False
) -> dict:
    """Run cmd under /usr/bin/time; return wall seconds, peak RSS (MB) and the RESULT json it printed, if any.
    allow_fail: a non-zero exit is reported (`returncode`, the output's tail) instead of stopping the benchmark."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        full = ["/usr/bin/time", "-f", "%e %M %U %S", "-o", tf.name, *cmd]
        proc = subprocess.run(
            full, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, check=False
        )
        lines = Path(tf.name).read_text().split()
    if proc.returncode != 0 and not allow_fail:
        raise SystemExit(
            f"stage {name} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    wall, rss_kb, cpu = float(lines[-4]), int(lines[-3]), float(lines[-2]) + float(lines[-1])
    out: dict = {
        "stage": name,
        "returncode": proc.returncode,
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "peak_rss_mb": rss_kb / 1024,
        "load_average": os.getloadavg()[0],
    }
    if proc.returncode != 0:
        out["output_tail"] = (proc.stdout[-2000:] + proc.stderr[-2000:]).strip()
        print(f"  {name}: exit {proc.returncode}\n{out['output_tail']}", flush=True)
    result = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    if result:
        out["result"] = json.loads(result[-1][len("RESULT ") :])
    print(
        f"  {name:<18} wall {wall:8.1f} s  cpu {cpu:8.1f} s  peak RSS {rss_kb / 1024:6.0f} MB  "
        f"load {out['load_average']:.1f}",
        flush=True,
    )
    return out


def _dbt(warehouse: Path, select: str, tests: bool) -> list[str]:
    cmd = [str(BIN / "dbt"), "build", "--profiles-dir", ".", "--select", select, "--quiet"]
    if not tests:
        cmd += ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
    return cmd


def build_chain(args: argparse.Namespace, work: Path) -> tuple[Path, Path, list[dict]]:
    """generate -> ingest -> dbt +int_identity_records; returns the warehouse, the truth CSV and stage timings."""
    stages = []
    exports = Path(args.exports) if args.exports else work / "exports"
    if not args.exports:
        stages.append(
            _timed(
                "generate",
                [
                    str(BIN / "touchplan"),
                    "sample-data",
                    "--out",
                    str(exports),
                    "--contacts",
                    str(args.contacts),
                    "--seed",
                    str(args.seed),
                ],
            )
        )
    warehouse = work / "warehouse.duckdb"
    stages.append(
        _timed(
            "ingest",
            [str(BIN / "touchplan"), "ingest", "--exports", str(exports), "--warehouse", str(warehouse)],
        )
    )
    stages.append(
        _timed(
            "dbt_identity_in",
            _dbt(warehouse, "+int_identity_records", args.dbt_tests),
            cwd=ROOT / "dbt_project",
            env={"TOUCHPLAN_WAREHOUSE": str(warehouse)},
        )
    )
    return warehouse, exports / "_truth" / "ground_truth.csv", stages


# ---------------------------------------------------------------------------------------------------- children


def _splink_alone(con: duckdb.DuckDBPyConnection, config) -> None:
    """Splink on its own: identifiers as comparisons and blocking rules, Splink's clustering, no guards."""
    from splink import DuckDBAPI, Linker

    from pipelines.lib.identity import resolve as rs
    from pipelines.lib.identity.probabilistic import SPLINK_INPUT, _train, build_settings

    rs._prepare_records(con, "int_identity_records", [])
    con.execute("CREATE OR REPLACE TEMP TABLE _identity_blocked_phones (phone_e164 VARCHAR)")
    con.execute("CREATE OR REPLACE TEMP TABLE _identity_blocked_emails (email VARCHAR)")
    cfg = config.model_copy(deep=True)
    cfg.splink.m_from = "em"  # Splink's own unsupervised training: no deterministic groups to learn from
    rs._splink_input(con, cfg, None)  # one row per record
    cfg.splink.blocking_rules = [*cfg.splink.blocking_rules, ["email"]]
    n = con.execute(f"SELECT count(*) FROM {SPLINK_INPUT}").fetchall()[0][0]
    db_api = DuckDBAPI(connection=con)
    settings = build_settings(cfg)
    s = cfg.splink
    if n > s.training_sample_records:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _sa_train AS SELECT * FROM {SPLINK_INPUT} "
            f"ORDER BY hash(id, {int(s.seed)}), id LIMIT {int(s.training_sample_records)}"
        )
        trainer = Linker(DuckDBAPI(connection=con).register("_sa_train"), settings, log_level=40)
        _train(trainer, s)
        settings = trainer.misc.save_model_to_json()
    linker = Linker(db_api.register(SPLINK_INPUT), settings, log_level=40)
    if n <= s.training_sample_records:
        _train(linker, s)
    chunks = -(-n // s.predict_chunk_records)
    pred = linker.inference.predict(
        threshold_match_probability=cfg.thresholds.match_probability,
        num_chunks_left=chunks if chunks > 1 else None,
        warning_mode="never",
    )
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        pred, threshold_match_probability=cfg.thresholds.match_probability
    )
    con.execute(f"""
        CREATE OR REPLACE TABLE splink_alone_clusters AS
        SELECT r.record_key, CAST(c.cluster_id AS VARCHAR) AS customer_id
        FROM {clusters.physical_name} c JOIN _identity_records r ON r.id = c.id
    """)
    linker.table_management.delete_tables_created_by_splink_from_db()


def probability_sweep(
    con: duckdb.DuckDBPyConnection, config, truth: Path, probabilities: list[float]
) -> list[dict]:
    """Resolution as resolve_identities does it (same guards, same clustering), with Splink scored once down to
    the lowest threshold; then, per threshold, the Splink edges at or above it are clustered with every guard and
    scored. Keeps the scored pairs with their comparison levels in `bench_sweep_pairs` and the clusters of each
    threshold in `bench_sweep_clusters` (for looking at wrong and missed pairs)."""
    from pipelines.lib.identity import resolve as res
    from pipelines.lib.identity import score_pairs
    from pipelines.lib.identity.graph import connected_components
    from pipelines.lib.identity.probabilistic import splink_edges
    from pipelines.lib.identity.scoring import drop_evidence

    # Scored down to the lowest threshold; the name-only rule's own threshold is applied per threshold below
    # (a name-only edge needs max(threshold, name_only_match_probability)).
    name_only_floor = config.thresholds.name_only_match_probability
    config.thresholds.match_probability = min(probabilities)
    config.thresholds.match_weight = None
    if name_only_floor is not None:
        config.thresholds.name_only_match_probability = min(probabilities)
    xref_cols = res._check_input(con, config, res.SOURCE_TABLE)
    res._prepare_records(con, res.SOURCE_TABLE, xref_cols)
    res._guards_on_identifiers(con, config)
    res._deterministic_edges(con, config, xref_cols)
    connected_components(
        con,
        "SELECT id FROM _identity_records",
        "SELECT id_l, id_r FROM _identity_edges",
        "_identity_deterministic_groups",
    )
    res._splink_input(
        con, config, "_identity_deterministic_groups", per_record=config.splink.compare == "records"
    )
    result = splink_edges(con, config, "_identity_splink_edges", weights_table="_sw_mw")
    con.execute("""
        DELETE FROM _identity_splink_edges e
        WHERE (SELECT comp FROM _identity_deterministic_groups WHERE id = e.id_l) = (SELECT comp FROM _identity_deterministic_groups WHERE id = e.id_r)
    """)
    res._group_profiles(con)
    con.execute("CREATE OR REPLACE TEMP TABLE _sw_scored AS SELECT * FROM _identity_splink_edges")
    res._drop_conflicting_splink_edges(con, config)
    con.execute(
        "INSERT INTO _identity_edges SELECT id_l, id_r, 'splink', match_weight, match_probability FROM _identity_splink_edges"
    )
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _sw_all AS
        SELECT e.*, coalesce(k.name_only, false) AS name_only
        FROM _identity_edges e
        LEFT JOIN _identity_splink_edges k ON e.rule = 'splink' AND k.id_l = e.id_l AND k.id_r = e.id_r
    """)
    con.execute("""
        CREATE OR REPLACE TABLE bench_sweep_pairs AS
        SELECT l.record_key AS record_key_l, r.record_key AS record_key_r, s.match_weight, s.match_probability,
               s.name_only,
               NOT EXISTS (SELECT 1 FROM _identity_splink_edges k WHERE k.id_l = s.id_l AND k.id_r = s.id_r)
                   AS conflict_dropped,
               g.* EXCLUDE (id_l, id_r)
        FROM _sw_scored s JOIN _identity_records l ON l.id = s.id_l JOIN _identity_records r ON r.id = s.id_r
        LEFT JOIN _sw_mw g ON g.id_l = s.id_l AND g.id_r = s.id_r
    """)
    con.execute(
        "CREATE OR REPLACE TABLE bench_sweep_clusters (threshold DOUBLE, record_key VARCHAR, customer_id VARCHAR)"
    )
    rows = []
    for t in sorted(probabilities):
        name_only_t = max(float(t), name_only_floor if name_only_floor is not None else 0.0)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _identity_edges AS SELECT * EXCLUDE (name_only) FROM _sw_all "
            f"WHERE rule <> 'splink' OR (match_probability >= {float(t)} "
            f"AND (NOT name_only OR match_probability >= {name_only_t}))"
        )
        res._cluster(con, config, with_groups=config.splink.enabled)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _sw_clusters AS SELECT r.record_key, CAST(c.comp AS VARCHAR) AS customer_id "
            "FROM _identity_records r JOIN _identity_record_clusters c USING (id)"
        )
        con.execute(f"INSERT INTO bench_sweep_clusters SELECT {float(t)}, * FROM _sw_clusters")
        s = score_pairs(con, truth, clusters_table="_sw_clusters", keep_evidence=True)
        o = s.overall
        rows.append({"match_probability": t, **_scores_dict(s)})
        print(f"  p >= {t:<6}: P {o.precision:.4f} R {o.recall:.4f} F1 {o.f1:.4f}", flush=True)
    drop_evidence(con)
    res._drop_work_tables(con)
    return [{"prior": result.probability_two_random_records_match, "splink_trained": result.trained}, *rows]


def child(args: argparse.Namespace) -> None:
    """One resolution (ours or Splink alone) on the warehouse; prints its report as JSON."""
    from pipelines.lib.identity import load_identity_config, resolve_identities

    config = load_identity_config(Path(args.config_dir))
    if args.sweep:
        config.thresholds.match_probability = 1e-6
        config.thresholds.match_weight = SWEEP_FLOOR
        # a weight sweep scores every pair by its weight alone (--suite-sweep applies the name-only rule)
        config.thresholds.name_only_match_probability = None
    con = duckdb.connect(args.warehouse)
    con.execute(f"SET threads = {args.threads}")
    con.execute(f"SET memory_limit = '{args.memory_limit}'")
    started = time.perf_counter()
    if args.child == "splink_standard":
        from benchmarks.identity_suite import splink_standard

        splink_standard(con)
        con.close()
        print("RESULT " + json.dumps({"seconds_total": time.perf_counter() - started}))
        return
    # A fresh key map and no stored model each time, so every run is a first run (and trains its model).
    for table in ("customer_key_map", "customer_merge_log", "identity_model"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    if args.child == "splink_alone":
        _splink_alone(con, config)
        out: dict[str, object] = {}
    elif args.child == "probability_sweep":
        probabilities = [float(x) for x in args.probabilities.split(",")]
        out = {"sweep": probability_sweep(con, config, Path(args.truth), probabilities)}
    else:
        out = resolve_identities(con, config, run_id="bench", now=datetime.now(UTC)).as_metadata()
    out["seconds_total"] = time.perf_counter() - started
    con.close()
    print("RESULT " + json.dumps(out))


def _child_cmd(args: argparse.Namespace, warehouse: Path, mode: str, sweep: bool = False) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.bench_identity",
        "--child",
        mode,
        "--warehouse",
        str(warehouse),
        "--config-dir",
        str(Path(args.config_dir).resolve()),
        "--threads",
        str(args.threads),
        "--memory-limit",
        args.memory_limit,
    ]
    return [*cmd, "--sweep"] if sweep else cmd


def run_suite_sweep(args: argparse.Namespace, work: Path) -> None:
    """--suite-sweep: per data set (warehouses a suite run left in --workdir), P / R / F1 at each match-probability
    threshold from one scoring; then one line per threshold with the issue #13 targets it misses."""
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    per: dict[str, dict[float, dict]] = {}
    for name in names:
        warehouse = work / name / "warehouse.duckdb"
        truth = work / name / "exports" / "_truth" / "ground_truth.csv"
        if not warehouse.exists():
            raise SystemExit(f"{warehouse}: no warehouse; run the suite (--suite) for {name} first")
        cmd = [
            *_child_cmd(args, warehouse, "probability_sweep"),
            "--truth",
            str(truth),
            "--probabilities",
            args.probabilities,
        ]
        out = _timed(f"{name} sweep", cmd)
        rows = out["result"]["sweep"]
        print(f"== {name}: prior {rows[0]['prior']} ==")
        per[name] = {r["match_probability"]: r for r in rows[1:]}
        earlier = work / name / "suite_result.json"
        alone = json.loads(earlier.read_text()).get("splink_alone") if earlier.exists() else None
        for r in per[name].values():
            r["splink_alone_f1"] = alone["overall"]["f1"] if alone else None
    print("\n| match_probability | " + " | ".join(f"{n} P / R / F1" for n in names) + " | targets missed |")
    print("|---" * (len(names) + 2) + "|")
    for t in sorted({t for rows in per.values() for t in rows}):
        cells, missed = [], []
        for name in names:
            r = per[name].get(t)
            if r is None:
                cells.append("-")
                continue
            o = r["overall"]
            cells.append(f"{o['precision']:.4f} / {o['recall']:.4f} / {o['f1']:.4f}")
            row = {
                "name": name,
                "pipeline": r,
                "splink_alone": {"overall": {"f1": r["splink_alone_f1"] or 0}},
            }
            miss = _targets(row)
            if miss != "ok":
                missed.append(f"{name}: {miss}")
        print(f"| {t} | " + " | ".join(cells) + f" | {'; '.join(missed) or 'none'} |")
    if args.json:
        Path(args.json).write_text(json.dumps(per, indent=1, default=str))


# ---------------------------------------------------------------------------------------------------- scoring


def _scores_dict(scores) -> dict:
    return {
        "records": scores.records_scored,
        "overall": scores.overall.as_dict(),
        "no_shared_identifier_records": scores.no_shared_identifier_records,
        "no_shared_identifier": scores.no_shared_identifier.as_dict(),
        "unlinkable_records": scores.unlinkable_records,
        "recall_ceiling": scores.recall_ceiling,
        "linkable": scores.linkable.as_dict() if scores.linkable else None,
        "name_only_ambiguous_pairs": scores.name_only_ambiguous_pairs,
        "name_only_ambiguous_linked": scores.name_only_ambiguous_linked,
        "name_only_ambiguous_bare_pairs": scores.name_only_ambiguous_bare_pairs,
        "evidence_recall_ceiling": scores.evidence_recall_ceiling,
        "best_f1_at_evidence_ceiling": scores.best_f1_at_evidence_ceiling,
    }


def _print_scores(label: str, scores) -> None:
    def line(name: str, m, n: int) -> None:
        print(
            f"  {name:>22}: records {n:>8}, true pairs {m.true_pairs:>8}, predicted {m.predicted_pairs:>8}, "
            f"P {m.precision:.4f}  R {m.recall:.4f}  F1 {m.f1:.4f}"
        )

    print(f"== {label} ==")
    line("overall", scores.overall, scores.records_scored)
    line("no shared identifier", scores.no_shared_identifier, scores.no_shared_identifier_records)
    if scores.linkable is not None:
        line("linkable records", scores.linkable, scores.records_scored - scores.unlinkable_records)
        print(
            f"  {'recall ceiling':>22}: {scores.recall_ceiling:.4f} ({scores.unlinkable_records} records carry "
            "only an email/phone no other record has, and no name, address or birth date)"
        )
    if scores.reachable_pairs is not None:
        print(
            f"  {'evidence ceiling':>22}: recall {scores.evidence_recall_ceiling:.4f}, F1 at precision 1 "
            f"{scores.best_f1_at_evidence_ceiling:.4f} ({scores.name_only_ambiguous_pairs} true pairs share only "
            f"a name another person carries too, {scores.name_only_ambiguous_bare_pairs} of them with a side that has "
            f"no attribute at all; {scores.name_only_ambiguous_linked} of them linked)"
        )


def sweep(con: duckdb.DuckDBPyConnection, truth: Path) -> list[dict]:
    """Scores when Splink edges need match_weight >= w, for each w, from one run kept down to SWEEP_FLOOR."""
    from pipelines.lib.identity import score_pairs
    from pipelines.lib.identity.graph import connected_components
    from pipelines.lib.identity.scoring import drop_evidence

    con.execute(
        "CREATE OR REPLACE TEMP TABLE _sw_nodes AS SELECT row_number() OVER (ORDER BY record_key) AS id, "
        "record_key FROM identity_clusters"
    )
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _sw_edges AS
        SELECT l.id AS id_l, r.id AS id_r, e.rule, e.match_weight FROM identity_edges e
        JOIN _sw_nodes l ON l.record_key = e.record_key_l JOIN _sw_nodes r ON r.record_key = e.record_key_r
    """)
    rows = []
    for w in SWEEP_WEIGHTS:
        connected_components(
            con,
            "SELECT id FROM _sw_nodes",
            f"SELECT id_l, id_r FROM _sw_edges WHERE rule <> 'splink' OR match_weight >= {w}",
            "_sw_comp",
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _sw_clusters AS SELECT n.record_key, "
            "CAST(c.comp AS VARCHAR) AS customer_id FROM _sw_nodes n JOIN _sw_comp c USING (id)"
        )
        # the evidence components do not depend on the threshold: computed once
        s = score_pairs(con, truth, clusters_table="_sw_clusters", keep_evidence=True)
        rows.append({"min_match_weight": w, **_scores_dict(s)})
        o, n = s.overall, s.no_shared_identifier
        print(
            f"  weight >= {w:>3}: P {o.precision:.4f} R {o.recall:.4f} F1 {o.f1:.4f} | no-shared-id "
            f"P {n.precision:.4f} R {n.recall:.4f} F1 {n.f1:.4f}"
        )
    drop_evidence(con)
    return rows


def analyse(con: duckdb.DuckDBPyConnection, truth: Path, clusters_table: str = "identity_clusters") -> None:
    """Missed pairs (same person, different customer) and wrong pairs (same customer, different persons), by the
    kind of the two records: counts only."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _an_truth AS
        SELECT source_system || ':' || source_record_id AS record_key, any_value(person_id) AS person_id,
               bool_or(is_role_mailbox = 'true') AS is_role_mailbox
        FROM read_csv(?, header = true, all_varchar = true) GROUP BY 1
    """,
        [str(truth)],
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _an AS
        SELECT r.record_key, t.person_id, c.customer_id, r.email, r.phone_e164, r.first_name_canonical,
               r.last_name_norm, r.birth_date,
               r.source_system || CASE WHEN t.is_role_mailbox THEN '+role' ELSE '' END
               || CASE WHEN r.last_name_norm IS NULL THEN ':noname'
                       WHEN r.street_norm IS NULL AND r.birth_date IS NULL THEN ':name_only' ELSE ':name_addr' END
                   AS kind
        FROM int_identity_records r JOIN _an_truth t USING (record_key) JOIN {clusters_table} c USING (record_key)
    """)
    pair_kind = """
        least(a.kind, b.kind) || ' ~ ' || greatest(a.kind, b.kind) AS pair_kind,
        CASE WHEN a.first_name_canonical = b.first_name_canonical AND a.last_name_norm = b.last_name_norm
             THEN 'same name' WHEN a.last_name_norm = b.last_name_norm THEN 'same surname'
             WHEN a.last_name_norm IS NULL OR b.last_name_norm IS NULL THEN 'a name missing'
             ELSE 'names differ' END AS names,
        CASE WHEN a.birth_date = b.birth_date THEN 'same birth date' ELSE '' END AS birth"""
    print("-- missed pairs (top 25 kinds)")
    print(
        con.sql(f"""
        SELECT {pair_kind}, count(*) AS pairs FROM _an a JOIN _an b
          ON a.person_id = b.person_id AND a.record_key < b.record_key AND a.customer_id <> b.customer_id
        GROUP BY ALL ORDER BY pairs DESC LIMIT 25
    """)
        .df()
        .to_string(index=False)
    )
    print("-- wrong pairs (top 25 kinds)")
    print(
        con.sql(f"""
        SELECT {pair_kind}, count(*) AS pairs FROM _an a JOIN _an b
          ON a.customer_id = b.customer_id AND a.record_key < b.record_key AND a.person_id <> b.person_id
        GROUP BY ALL ORDER BY pairs DESC LIMIT 25
    """)
        .df()
        .to_string(index=False)
    )


# ---------------------------------------------------------------------------------------------------- suite

SUITE_DATASETS = (
    "febrl1",
    "febrl2",
    "gen10k_s1",
    "gen10k_s2",
    "gen10k_noids",
    "gen10k_typos",
    "gen100k_s1",
)
# The 1M figures are not rerun by the suite (about 10 minutes of generation and ingestion on an idle machine):
# the last measurement (2026-12-07 evening, docs/identity.md "Identity at 1M"), identity stage only, under load
# (wall 1,004 s for 328 s of CPU); Splink alone from 2026-12-06.
LAST_1M = {
    "name": "gen1M_s2 (cited)",
    "records": 1_124_658,
    "pipeline": (0.9977, 0.9761, 0.9868, 1004.3, 2844),
    "splink_alone": (0.9225, 0.7268, 0.8130, 28.3, 2076),
    "evidence_ceiling_f1": 0.9912,
    "note": "measured 2026-12-07 evening, resolve_identities only (not touchplan run), under load: 328 s CPU; "
    "Splink alone 2026-12-06; not rerun",
}


def _suite_exports(name: str, work: Path, cache: Path) -> Path:
    """The exports folder of data set `name` under work/<name>/exports (built once, then reused)."""
    from benchmarks import identity_suite as suite

    exports = work / name / "exports"
    if (exports / "_truth" / "ground_truth.csv").exists():
        return exports
    if name in ("febrl1", "febrl2"):
        counts = suite.dress_febrl(suite.febrl_rows(int(name[-1]), cache), exports)
        print(f"  {name}: {counts['salesforce']} Salesforce contacts, {counts['hubspot']} HubSpot contacts")
    elif name in ("gen10k_noids", "gen10k_typos"):
        base = _suite_exports("gen10k_s1", work, cache)
        (suite.variant_no_ids if name == "gen10k_noids" else suite.variant_typos)(base, exports)
    elif name.startswith("gen"):
        size, seed = name[3:].split("_s")
        contacts = int(size[:-1]) * 1000
        _timed(
            f"{name} generate",
            [
                str(BIN / "touchplan"),
                "sample-data",
                "--out",
                str(exports),
                "--contacts",
                str(contacts),
                "--seed",
                seed,
            ],
        )
    else:
        raise SystemExit(f"unknown data set {name!r}; expected one of {', '.join(SUITE_DATASETS)}")
    return exports


def _suite_one(args: argparse.Namespace, name: str, work: Path, cache: Path) -> dict:
    from pipelines.lib.identity import score_pairs

    exports = _suite_exports(name, work, cache)
    truth = exports / "_truth" / "ground_truth.csv"
    warehouse = work / name / "warehouse.duckdb"
    result_file = work / name / "suite_result.json"
    earlier = json.loads(result_file.read_text()) if result_file.exists() else {}
    row: dict = {"name": name}
    if args.suite_stage == "pipeline" or not warehouse.exists():
        for leftover in (warehouse, warehouse.with_suffix(".duckdb.wal")):
            leftover.unlink(missing_ok=True)
        stage = _timed(
            f"{name} touchplan run",
            [
                str(BIN / "touchplan"),
                "run",
                "--exports",
                str(exports),
                "--warehouse",
                str(warehouse),
                "--output",
                str(work / name / "out"),
                "--config",
                str(Path(args.config_dir).resolve()),
            ],
            allow_fail=True,
        )
        clusters = "customer_crosswalk"
        row["pipeline_stage"] = "touchplan run"
    else:
        stage = _timed(f"{name} identity", _child_cmd(args, warehouse, "resolve"))
        clusters = "identity_clusters"
        row["pipeline_stage"] = "resolve_identities only"
    row["pipeline_exit"] = stage["returncode"]
    row["pipeline_wall"], row["pipeline_rss_mb"] = stage["wall_seconds"], stage["peak_rss_mb"]
    with duckdb.connect(str(warehouse)) as con:
        row["records"] = con.execute("SELECT count(*) FROM int_identity_records").fetchone()[0]
        s = score_pairs(con, truth, clusters_table=clusters)
    row["pipeline"] = _scores_dict(s)
    row["evidence_ceiling_f1"] = s.best_f1_at_evidence_ceiling
    if args.reuse_splink_alone and "splink_alone" in earlier:
        for key in ("splink_alone", "splink_alone_wall", "splink_alone_rss_mb"):
            row[key] = earlier[key]
    else:
        alone = _timed(f"{name} Splink alone", _child_cmd(args, warehouse, "splink_standard"))
        row["splink_alone_wall"], row["splink_alone_rss_mb"] = alone["wall_seconds"], alone["peak_rss_mb"]
        with duckdb.connect(str(warehouse)) as con:
            row["splink_alone"] = _scores_dict(
                score_pairs(con, truth, clusters_table="splink_alone_clusters")
            )
    result_file.write_text(json.dumps(row, indent=1))
    return row


def _targets(row: dict) -> str:
    """Which of issue #13's targets a row misses ('ok' when none)."""
    p, a = row["pipeline"]["overall"], row["splink_alone"]["overall"]
    missed = []
    if p["f1"] < a["f1"]:
        missed.append("F1 < Splink alone")
    if p["precision"] < 0.998:
        missed.append("P < 0.998")
    name = row["name"]
    if name.startswith("febrl") and p["f1"] < 0.995:
        missed.append("F1 < 0.995")
    if name.startswith(("gen10k_s", "gen100k")) and p["f1"] < 0.99:
        missed.append("F1 < 0.99")
    return ", ".join(missed) or "ok"


def print_suite_table(rows: list[dict]) -> None:
    def prf(m: dict) -> str:
        return f"{m['precision']:.4f} / {m['recall']:.4f} / {m['f1']:.4f}"

    print()
    print(
        "| data set | records | pipeline P / R / F1 | pipeline wall, peak RSS | Splink alone P / R / F1 | "
        "Splink alone wall, peak RSS | evidence ceiling F1 | targets |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        exit_note = "" if r.get("pipeline_exit", 0) == 0 else f" (exit {r['pipeline_exit']})"
        print(
            f"| {r['name']} | {r['records']:,} | {prf(r['pipeline']['overall'])} | "
            f"{r['pipeline_wall']:.0f} s, {r['pipeline_rss_mb']:,.0f} MB{exit_note} | "
            f"{prf(r['splink_alone']['overall'])} | {r['splink_alone_wall']:.0f} s, "
            f"{r['splink_alone_rss_mb']:,.0f} MB | {r['evidence_ceiling_f1']:.4f} | {_targets(r)} |"
        )
    c = LAST_1M
    pp, sa = c["pipeline"], c["splink_alone"]
    print(
        f"| {c['name']} | {c['records']:,} | {pp[0]:.4f} / {pp[1]:.4f} / {pp[2]:.4f} | {pp[3]:.0f} s, {pp[4]:,} MB | "
        f"{sa[0]:.4f} / {sa[1]:.4f} / {sa[2]:.4f} | {sa[3]:.0f} s, {sa[4]:,} MB | {c['evidence_ceiling_f1']:.4f} | "
        f"{c['note']} |"
    )
    stages = {r.get("pipeline_stage") for r in rows}
    print(
        f"\npipeline = {' / '.join(sorted(s for s in stages if s))} on the exports folder, scored on "
        "customer_crosswalk (identity_clusters with --suite-stage identity); Splink alone = the standard "
        "configuration (benchmarks/identity_suite.py) on the same int_identity_records, its own wall time and RSS."
    )


def run_suite(args: argparse.Namespace, work: Path) -> None:
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    unknown = [n for n in names if n not in SUITE_DATASETS]
    if unknown:
        raise SystemExit(f"unknown data set(s) {', '.join(unknown)}; expected {', '.join(SUITE_DATASETS)}")
    print(f"suite work folder {work}")
    # variants copy the 10k seed-1 exports: build those first, then run the data sets (args.jobs at a time)
    for name in names:
        _suite_exports(name, work, Path(args.cache))
    if args.jobs > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            rows = list(pool.map(lambda n: _suite_one(args, n, work, Path(args.cache)), names))
    else:
        rows = [_suite_one(args, n, work, Path(args.cache)) for n in names]
    print_suite_table(rows)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "cited_1m": LAST_1M}, indent=1))


# ---------------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=10_000, help="persons for the sample-data generator")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--exports", help="use this generator output instead of generating")
    parser.add_argument(
        "--warehouse", help="use this warehouse (with int_identity_records) as is; needs --truth"
    )
    parser.add_argument("--truth", help="ground truth CSV for --warehouse")
    parser.add_argument("--workdir", help="keep exports and warehouse here (default: a temporary folder)")
    parser.add_argument("--config-dir", default=str(ROOT / "config"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="3GB")
    parser.add_argument(
        "--dbt-tests", action="store_true", help="run the dbt tests of +int_identity_records too"
    )
    parser.add_argument(
        "--dim-customers",
        action="store_true",
        help="also time dbt build --select +dim_customers --exclude +int_identity_records",
    )
    parser.add_argument("--skip-splink-alone", action="store_true")
    parser.add_argument("--sweep", action="store_true", help="score each Splink match-weight threshold")
    parser.add_argument("--analyse", action="store_true", help="missed / wrong pairs by record kind")
    parser.add_argument("--json", help="write all figures to this JSON file")
    parser.add_argument(
        "--suite",
        action="store_true",
        help="the labelled data sets (FEBRL1/2 as CRM exports, generator 10k/100k and variants): one table",
    )
    parser.add_argument(
        "--datasets",
        default=",".join(SUITE_DATASETS),
        help=f"with --suite: comma-separated subset of {SUITE_DATASETS}",
    )
    parser.add_argument(
        "--suite-stage",
        choices=["pipeline", "identity"],
        default="pipeline",
        help="with --suite: `pipeline` runs `touchplan run` on the exports (the figures to publish); `identity` "
        "reruns only identity resolution on the warehouses a pipeline run left in --workdir (for iterating)",
    )
    parser.add_argument(
        "--reuse-splink-alone",
        action="store_true",
        help="with --suite: take Splink-alone figures from an earlier suite run in --workdir when there are some",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="with --suite: data sets run at the same time (times are then shared)",
    )
    parser.add_argument(
        "--cache", default=str(Path.home() / ".cache" / "touchplan"), help="FEBRL wheel cache"
    )
    parser.add_argument(
        "--suite-sweep",
        action="store_true",
        help="with --workdir of an earlier --suite run: P / R / F1 of each data set at each match-probability "
        "threshold (--probabilities), from one scoring of each, with every guard",
    )
    parser.add_argument("--probabilities", default=",".join(str(p) for p in SUITE_SWEEP_PROBABILITIES))
    parser.add_argument(
        "--child",
        choices=["resolve", "splink_alone", "splink_standard", "probability_sweep"],
        help=argparse.SUPPRESS,
    )
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return
    if args.suite_sweep:
        if not args.workdir:
            parser.error("--suite-sweep needs --workdir (the folder of an earlier --suite run)")
        run_suite_sweep(args, Path(args.workdir))
        return
    if args.suite:
        work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench_identity_suite_"))
        work.mkdir(parents=True, exist_ok=True)
        try:
            run_suite(args, work)
        finally:
            if not args.workdir:
                shutil.rmtree(work, ignore_errors=True)
        return

    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="bench_identity_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        _run(args, parser, work)
    finally:
        # a temporary work folder holds a copy of the warehouse (GBs at 1M records): never left behind
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser, work: Path) -> None:
    from pipelines.lib.identity import score_pairs

    figures: dict = {"contacts": args.contacts, "seed": args.seed, "stages": []}
    print(f"work folder {work}")
    if args.warehouse:
        if not args.truth:
            parser.error("--warehouse needs --truth")
        warehouse = work / "warehouse.duckdb"
        if Path(args.warehouse).resolve() != warehouse.resolve():
            shutil.copy(args.warehouse, warehouse)
        truth = Path(args.truth)
    else:
        warehouse, truth, stages = build_chain(args, work)
        figures["stages"] += stages
    with duckdb.connect(str(warehouse), read_only=True) as con:
        figures["records"] = con.execute("SELECT count(*) FROM int_identity_records").fetchone()[0]
    print(f"int_identity_records: {figures['records']} records")

    ours = _timed("resolve", _child_cmd(args, warehouse, "resolve"))
    figures["stages"].append(ours)
    if args.dim_customers:
        figures["stages"].append(
            _timed(
                "dbt_dim_customers",
                # dim_customers and what it needs beyond int_identity_records: customer_crosswalk,
                # fct_touchpoints and the CRM deal staging models.
                [*_dbt(warehouse, "+dim_customers", False), "--exclude", "+int_identity_records"],
                cwd=ROOT / "dbt_project",
                env={"TOUCHPLAN_WAREHOUSE": str(warehouse)},
            )
        )
    with duckdb.connect(str(warehouse)) as con:
        scores = score_pairs(con, truth)
        figures["resolve_scores"] = _scores_dict(scores)
        print(json.dumps(ours.get("result", {})))
        _print_scores(f"resolve_identities on {figures['records']} records", scores)
        if args.analyse:
            analyse(con, truth)

    if args.sweep:
        print("== threshold sweep (Splink edges with match_weight >= w) ==")
        _timed("resolve_sweep", _child_cmd(args, warehouse, "resolve", sweep=True))
        with duckdb.connect(str(warehouse)) as con:
            figures["sweep"] = sweep(con, truth)

    if not args.skip_splink_alone:
        alone = _timed("splink_alone", _child_cmd(args, warehouse, "splink_alone"))
        figures["stages"].append(alone)
        with duckdb.connect(str(warehouse)) as con:
            s2 = score_pairs(con, truth, clusters_table="splink_alone_clusters")
        figures["splink_alone_scores"] = _scores_dict(s2)
        _print_scores("Splink alone on the same records", s2)

    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1, default=str))


if __name__ == "__main__":
    main()
