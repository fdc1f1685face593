"""Connected components in DuckDB SQL: min-label propagation with pointer jumping (no per-row Python)."""

from __future__ import annotations

import duckdb


def connected_components(
    con: duckdb.DuckDBPyConnection, nodes_sql: str, edges_sql: str, out_table: str, max_iterations: int = 200
) -> int:
    """Write `out_table(id, comp)`: comp = the smallest id in the node's component.

    nodes_sql selects `id` (BIGINT); edges_sql selects `id_l, id_r` between those nodes. Returns the iterations.
    """
    # one row per node
    con.execute(f"CREATE OR REPLACE TEMP TABLE _components_nodes AS SELECT DISTINCT id FROM ({nodes_sql})")
    # one row per edge direction: node -> neighbour
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _components_edges AS
        WITH edges AS (SELECT id_l, id_r FROM ({edges_sql}) WHERE id_l <> id_r)
        SELECT DISTINCT node, neighbour
        FROM (SELECT id_l AS node, id_r AS neighbour FROM edges UNION ALL SELECT id_r, id_l FROM edges)
    """)
    # one row per node: its current label (the smallest id seen so far)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _components_labels AS SELECT id, id AS comp FROM _components_nodes"
    )
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        # Each node takes the smallest label among itself and its neighbours, then jumps to its label's label.
        con.execute("""
            CREATE OR REPLACE TEMP TABLE _components_min_neighbour AS
            WITH neighbour_min AS (
                SELECT edge.node AS id, min(label.comp) AS min_label
                FROM _components_edges AS edge JOIN _components_labels AS label ON label.id = edge.neighbour
                GROUP BY edge.node
            )
            SELECT label.id, least(label.comp, coalesce(neighbour_min.min_label, label.comp)) AS comp
            FROM _components_labels AS label LEFT JOIN neighbour_min USING (id)
        """)
        con.execute("""
            CREATE OR REPLACE TEMP TABLE _components_next_labels AS
            SELECT node.id, least(node.comp, parent.comp) AS comp
            FROM _components_min_neighbour AS node JOIN _components_min_neighbour AS parent ON parent.id = node.comp
        """)
        changed = con.execute("""
            SELECT count(*) FROM _components_next_labels AS next_label JOIN _components_labels AS label USING (id)
            WHERE next_label.comp <> label.comp
        """).fetchone()[0]
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _components_labels AS SELECT * FROM _components_next_labels"
        )
        if changed == 0:
            break
    else:
        raise RuntimeError(f"connected components did not converge in {max_iterations} iterations")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {out_table} AS SELECT id, comp FROM _components_labels")
    for t in (
        "_components_nodes",
        "_components_edges",
        "_components_labels",
        "_components_min_neighbour",
        "_components_next_labels",
    ):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return iterations
