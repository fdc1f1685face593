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
    """From _id_comp(id, comp) and _id_records: write TEMP tables _id_customer(comp, customer_id) and
    _id_log(event, customer_id, other_customer_ids, reason, record_count)."""
    ensure_tables(con)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _id_members AS
        SELECT c.comp, r.record_key, k.customer_id AS old_id, k.first_seen_at
        FROM _id_comp c JOIN _id_records r ON r.id = c.id
        LEFT JOIN customer_key_map k ON k.record_key = r.record_key
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _id_comp_info AS
        SELECT comp, count(*) AS size, min(record_key) AS min_key FROM _id_members GROUP BY comp
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _id_cand AS
        SELECT m.comp, m.old_id, count(*) AS n, min(m.first_seen_at) AS first_seen, any_value(i.min_key) AS min_key
        FROM _id_members m JOIN _id_comp_info i USING (comp)
        WHERE m.old_id IS NOT NULL GROUP BY m.comp, m.old_id
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _id_home AS
        SELECT * FROM _id_cand
        QUALIFY row_number() OVER (PARTITION BY old_id ORDER BY n DESC, first_seen, min_key) = 1
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _id_survivor AS
        SELECT comp, old_id AS customer_id,
               row_number() OVER (PARTITION BY comp ORDER BY first_seen, n DESC, old_id) AS rank
        FROM _id_home
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _id_log (
            event VARCHAR, customer_id VARCHAR, other_customer_ids VARCHAR[], reason VARCHAR, record_count BIGINT)
    """)
    con.execute("""
        INSERT INTO _id_log
        SELECT 'merge', s.customer_id,
               list(o.customer_id ORDER BY o.customer_id),
               format('{} customers joined into one cluster of {} records; the id with the oldest records survives',
                      count(*) + 1, any_value(i.size)),
               any_value(i.size)
        FROM _id_survivor s JOIN _id_survivor o ON o.comp = s.comp AND o.rank > 1
        JOIN _id_comp_info i ON i.comp = s.comp
        WHERE s.rank = 1 GROUP BY s.comp, s.customer_id
    """)
    # Clusters without a surviving id: split parts (their records had ids living on elsewhere) or brand new.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _id_unassigned AS
        SELECT i.comp, i.min_key, i.size,
               (SELECT list(DISTINCT c.old_id ORDER BY c.old_id) FROM _id_cand c WHERE c.comp = i.comp) AS lost_ids
        FROM _id_comp_info i
        WHERE i.comp NOT IN (SELECT comp FROM _id_survivor)
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _id_new_ids AS
        SELECT comp, min_key, size, lost_ids, 'cus_' || substr(sha256(min_key), 1, 16) AS customer_id
        FROM _id_unassigned
    """)
    _resolve_collisions(con)
    con.execute("""
        INSERT INTO _id_log
        SELECT CASE WHEN len(coalesce(lost_ids, [])) > 0 THEN 'split' ELSE 'new' END, customer_id,
               coalesce(lost_ids, []),
               CASE WHEN len(coalesce(lost_ids, [])) > 0
                    THEN format('{} record(s) split off from {} customer(s) whose id lives on elsewhere',
                                size, len(lost_ids))
                    ELSE format('new cluster of {} record(s)', size) END,
               size
        FROM _id_new_ids
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _id_customer AS
        SELECT comp, customer_id FROM _id_survivor WHERE rank = 1
        UNION ALL SELECT comp, customer_id FROM _id_new_ids
    """)


def _resolve_collisions(con: duckdb.DuckDBPyConnection) -> None:
    """A derived id that is taken (kept by another cluster, or ever issued before) gets salted."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _id_taken AS
        SELECT customer_id FROM _id_survivor WHERE rank = 1
        UNION SELECT customer_id FROM customer_key_map
        UNION SELECT customer_id FROM customer_merge_log
    """)
    clashes = con.execute("""
        SELECT n.comp, n.min_key FROM _id_new_ids n
        WHERE n.customer_id IN (SELECT customer_id FROM _id_taken)
           OR n.customer_id IN (SELECT customer_id FROM _id_new_ids GROUP BY 1 HAVING count(*) > 1)
        ORDER BY n.min_key
    """).fetchall()
    if not clashes:
        return
    clash_comps = {comp for comp, _ in clashes}
    taken = {row[0] for row in con.execute("SELECT customer_id FROM _id_taken").fetchall()}
    taken |= {
        row[0]
        for row in con.execute(
            "SELECT customer_id FROM _id_new_ids WHERE comp NOT IN (SELECT unnest(?))", [list(clash_comps)]
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
    con.executemany("UPDATE _id_new_ids SET customer_id = ? WHERE comp = ?", fixes)
