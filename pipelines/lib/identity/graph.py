"""Connected components in DuckDB SQL: min-label propagation with pointer jumping (no per-row Python)."""

from __future__ import annotations

import duckdb


def connected_components(
    con: duckdb.DuckDBPyConnection, nodes_sql: str, edges_sql: str, out_table: str, max_iterations: int = 200
) -> int:
    """Write `out_table(id, comp)`: comp = the smallest id in the node's component.

    nodes_sql selects `id` (BIGINT); edges_sql selects `id_l, id_r` between those nodes. Returns the iterations.
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE _cc_nodes AS SELECT DISTINCT id FROM ({nodes_sql})")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cc_edges AS
        WITH e AS (SELECT id_l, id_r FROM ({edges_sql}) WHERE id_l <> id_r)
        SELECT DISTINCT a, b FROM (SELECT id_l AS a, id_r AS b FROM e UNION ALL SELECT id_r, id_l FROM e)
    """)
    con.execute("CREATE OR REPLACE TEMP TABLE _cc_label AS SELECT id, id AS comp FROM _cc_nodes")
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        # Each node takes the smallest label among itself and its neighbours, then jumps to its label's label.
        con.execute("""
            CREATE OR REPLACE TEMP TABLE _cc_step AS
            WITH nb AS (
                SELECT e.a AS id, min(l.comp) AS m FROM _cc_edges e JOIN _cc_label l ON l.id = e.b GROUP BY e.a
            )
            SELECT l.id, least(l.comp, coalesce(nb.m, l.comp)) AS comp
            FROM _cc_label l LEFT JOIN nb USING (id)
        """)
        con.execute("""
            CREATE OR REPLACE TEMP TABLE _cc_next AS
            SELECT s.id, least(s.comp, p.comp) AS comp FROM _cc_step s JOIN _cc_step p ON p.id = s.comp
        """)
        changed = con.execute("""
            SELECT count(*) FROM _cc_next n JOIN _cc_label l USING (id) WHERE n.comp <> l.comp
        """).fetchone()[0]
        con.execute("CREATE OR REPLACE TEMP TABLE _cc_label AS SELECT * FROM _cc_next")
        if changed == 0:
            break
    else:
        raise RuntimeError(f"connected components did not converge in {max_iterations} iterations")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {out_table} AS SELECT id, comp FROM _cc_label")
    for t in ("_cc_nodes", "_cc_edges", "_cc_label", "_cc_step", "_cc_next"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return iterations
