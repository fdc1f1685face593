"""Stable customer ids: a cluster keeps the id its records had; merges and splits are logged.

Rules (each old id lives on in at most one cluster):
- an old id's *home* is the new cluster holding most of its records (ties: the oldest records, then the smallest
  cluster);
- a cluster that is home to several old ids keeps the id whose records are oldest (then most records, then the
  smallest id) and logs a `merge` naming the others;
- a cluster that holds records with old ids but is home to none lost its id in a `split`: it gets a new id;
- a cluster of records never seen gets a new id, logged as `new`.
New ids are 'cus_' + the first 16 hex digits of sha256(smallest record_key), so the same input gives the same ids;
an id already used (now or before) is salted ('#1', '#2', ...) instead.
"""

from __future__ import annotations

import hashlib

import duckdb

KEY_MAP_DDL = """
CREATE TABLE IF NOT EXISTS customer_key_map (
    record_key VARCHAR PRIMARY KEY, customer_id VARCHAR NOT NULL,
    first_seen_at TIMESTAMP NOT NULL, last_seen_at TIMESTAMP NOT NULL)
"""
MERGE_LOG_DDL = """
CREATE TABLE IF NOT EXISTS customer_merge_log (
    event_at TIMESTAMP NOT NULL, event VARCHAR NOT NULL, customer_id VARCHAR NOT NULL,
    other_customer_ids VARCHAR[], reason VARCHAR, run_id VARCHAR NOT NULL, record_count BIGINT)
"""


def new_customer_id(smallest_record_key: str, salt: int = 0) -> str:
    text = smallest_record_key if salt == 0 else f"{smallest_record_key}#{salt}"
    return "cus_" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(KEY_MAP_DDL)
    con.execute(MERGE_LOG_DDL)


def assign_customer_ids(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """From _identity_record_clusters(id, comp) and _identity_records: write TEMP tables _identity_cluster_customer_ids(comp, customer_id) and
    _identity_merge_events(event, customer_id, other_customer_ids, reason, record_count)."""
    ensure_tables(con)
    # one row per record: its cluster and the customer id it had before this run (if any)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _identity_cluster_members AS
        SELECT cluster.comp, rec.record_key, known.customer_id AS old_id, known.first_seen_at
        FROM _identity_record_clusters AS cluster JOIN _identity_records AS rec ON rec.id = cluster.id
        LEFT JOIN customer_key_map AS known ON known.record_key = rec.record_key
    """)
    # one row per cluster: size and smallest record key
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _identity_cluster_info AS
        SELECT comp, count(*) AS size, min(record_key) AS min_key FROM _identity_cluster_members GROUP BY comp
    """)
    # one row per (cluster, previous customer id of some of its records): how many records carry it
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _identity_previous_ids AS
        SELECT member.comp, member.old_id, count(*) AS n, min(member.first_seen_at) AS first_seen,
               any_value(info.min_key) AS min_key
        FROM _identity_cluster_members AS member JOIN _identity_cluster_info AS info USING (comp)
        WHERE member.old_id IS NOT NULL GROUP BY member.comp, member.old_id
    """)
    # one row per previous customer id: the cluster that keeps most of its records (its home)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _identity_previous_id_homes AS
        SELECT * FROM _identity_previous_ids
        QUALIFY row_number() OVER (PARTITION BY old_id ORDER BY n DESC, first_seen, min_key) = 1
    """)
    # one row per (cluster, previous id at home there), ranked: rank 1 is the id the cluster keeps
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _identity_surviving_ids AS
        SELECT comp, old_id AS customer_id,
               row_number() OVER (PARTITION BY comp ORDER BY first_seen, n DESC, old_id) AS rank
        FROM _identity_previous_id_homes
    """)
    # one row per merge / split / new event (appended to customer_merge_log)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _identity_merge_events (
            event VARCHAR, customer_id VARCHAR, other_customer_ids VARCHAR[], reason VARCHAR, record_count BIGINT)
    """)
    con.execute("""
        INSERT INTO _identity_merge_events
        SELECT 'merge', survivor.customer_id,
               list(merged.customer_id ORDER BY merged.customer_id),
               format('{} customers joined into one cluster of {} records; the id with the oldest records survives',
                      count(*) + 1, any_value(info.size)),
               any_value(info.size)
        FROM _identity_surviving_ids AS survivor
        JOIN _identity_surviving_ids AS merged ON merged.comp = survivor.comp AND merged.rank > 1
        JOIN _identity_cluster_info AS info ON info.comp = survivor.comp
        WHERE survivor.rank = 1 GROUP BY survivor.comp, survivor.customer_id
    """)
    # Clusters without a surviving id: split parts (their records had ids living on elsewhere) or brand new.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _identity_unassigned_clusters AS
        SELECT info.comp, info.min_key, info.size,
               (SELECT list(DISTINCT previous.old_id ORDER BY previous.old_id) FROM _identity_previous_ids AS previous
                WHERE previous.comp = info.comp) AS lost_ids
        FROM _identity_cluster_info AS info
        WHERE info.comp NOT IN (SELECT comp FROM _identity_surviving_ids)
    """)
    # one row per cluster without a surviving id: its new id (derived from its smallest record key)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _identity_new_customer_ids AS
        SELECT comp, min_key, size, lost_ids, 'cus_' || substr(sha256(min_key), 1, 16) AS customer_id
        FROM _identity_unassigned_clusters
    """)
    _resolve_collisions(con)
    con.execute("""
        INSERT INTO _identity_merge_events
        SELECT CASE WHEN len(coalesce(lost_ids, [])) > 0 THEN 'split' ELSE 'new' END, customer_id,
               coalesce(lost_ids, []),
               CASE WHEN len(coalesce(lost_ids, [])) > 0
                    THEN format('{} record(s) split off from {} customer(s) whose id lives on elsewhere',
                                size, len(lost_ids))
                    ELSE format('new cluster of {} record(s)', size) END,
               size
        FROM _identity_new_customer_ids
    """)
    # one row per cluster: its customer id
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _identity_cluster_customer_ids AS
        SELECT comp, customer_id FROM _identity_surviving_ids WHERE rank = 1
        UNION ALL SELECT comp, customer_id FROM _identity_new_customer_ids
    """)


def _resolve_collisions(con: duckdb.DuckDBPyConnection) -> None:
    """A derived id that is taken (kept by another cluster, or ever issued before) gets salted."""
    # one row per customer id that a new cluster may not take
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _identity_taken_customer_ids AS
        SELECT customer_id FROM _identity_surviving_ids WHERE rank = 1
        UNION SELECT customer_id FROM customer_key_map
        UNION SELECT customer_id FROM customer_merge_log
    """)
    clashes = con.execute("""
        SELECT new_id.comp, new_id.min_key FROM _identity_new_customer_ids AS new_id
        WHERE new_id.customer_id IN (SELECT customer_id FROM _identity_taken_customer_ids)
           OR new_id.customer_id IN (SELECT customer_id FROM _identity_new_customer_ids GROUP BY 1 HAVING count(*) > 1)
        ORDER BY new_id.min_key
    """).fetchall()
    if not clashes:
        return
    clash_comps = {comp for comp, _ in clashes}
    taken = {row[0] for row in con.execute("SELECT customer_id FROM _identity_taken_customer_ids").fetchall()}
    taken |= {
        row[0]
        for row in con.execute(
            "SELECT customer_id FROM _identity_new_customer_ids WHERE comp NOT IN (SELECT unnest(?))",
            [list(clash_comps)],
        ).fetchall()
    }
    fixes = []
    for comp, min_key in clashes:
        salt = 0
        candidate = new_customer_id(min_key)
        while candidate in taken:
            salt += 1
            candidate = new_customer_id(min_key, salt)
        taken.add(candidate)
        fixes.append((candidate, comp))
    con.executemany("UPDATE _identity_new_customer_ids SET customer_id = ? WHERE comp = ?", fixes)
