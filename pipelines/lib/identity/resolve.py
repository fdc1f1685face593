"""Identity resolution: int_identity_records -> edges -> guarded clusters -> stable customer ids.

Everything heavy runs in DuckDB SQL on the caller's connection; working tables are TEMP tables prefixed `_identity_`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from pipelines.lib.identity.blocking import name_pair_sql, name_prefix_sql, soundex_sql, street_head_sql
from pipelines.lib.identity.config import SPLINK_COLUMNS, IdentityConfig
from pipelines.lib.identity.graph import connected_components
from pipelines.lib.identity.model_store import ModelChoice, choose_model, save_model, score_crm_pairs
from pipelines.lib.identity.probabilistic import (
    LABEL_COLUMN,
    SPLINK_INPUT,
    SPLINK_LABELLED,
    full_name_column,
    model_fingerprint,
    splink_edges,
)
from pipelines.lib.identity.stable_ids import assign_customer_ids

SOURCE_TABLE = "int_identity_records"
REQUIRED_COLUMNS = (
    "record_key",
    "source_system",
    "email",
    "phone_e164",
    "first_name_norm",
    "first_name_canonical",
    "last_name_norm",
    "street_norm",
    "city_norm",
    "postal_code_norm",
    "country_code",
    "time_zone",
    "company_norm",
    "title",
    "birth_date",
)
# When a record has several edges, the one that "joined" it: explicit links first, Splink last.
RULE_PRIORITY = {"xref": 1, "email": 2, "phone_surname": 3, "splink": 4}
RULES = tuple(RULE_PRIORITY)
# Rounds of dropping the weakest Splink edges of oversize clusters before their records are kept apart.
MAX_SPLIT_ROUNDS = 64


class IdentityInputError(ValueError):
    """int_identity_records is missing, lacks a column, or has duplicate record keys."""


@dataclass
class IdentityReport:
    run_id: str
    records: int
    clusters: int
    multi_record_clusters: int
    largest_cluster: int
    edges_by_rule: dict[str, int]
    records_by_rule: dict[str, int]
    guard_firings: dict[str, int]
    merges: int
    splits: int
    new_customers: int
    splink_trained: bool
    seconds: dict[str, float] = field(default_factory=dict)
    # Splink's prior (estimated from the deterministic rules when trained): part of every match weight
    splink_prior: float | None = None
    # The trained Splink model as scored (Splink settings JSON: every level's m and u, the prior); not metadata
    splink_settings: dict | None = None
    # Comparisons whose m came from the pairs inside deterministic groups (the others: EM, else the prior)
    splink_m_from_groups: list[str] = field(default_factory=list)
    # `reused model of run X` / `trained (reason: no model | config changed | records +14% | 31 days)`
    splink_model: str | None = None
    # the run whose trained model scored this run's pairs (this run when it trained)
    splink_model_run_id: str | None = None

    def as_metadata(self) -> dict[str, object]:
        """Counts only: safe for logs and Dagster metadata."""
        meta: dict[str, object] = {
            "records": self.records,
            "clusters": self.clusters,
            "multi_record_clusters": self.multi_record_clusters,
            "largest_cluster": self.largest_cluster,
            "merges": self.merges,
            "splits": self.splits,
            "new_customers": self.new_customers,
            "splink_trained": self.splink_trained,
        }
        if self.splink_prior is not None:
            meta["splink_probability_two_random_records_match"] = self.splink_prior
        if self.splink_settings is not None:
            meta["splink_m_from_groups"] = ", ".join(self.splink_m_from_groups) or "none"
        if self.splink_model is not None:
            meta["splink_model"] = self.splink_model
        meta.update({f"edges_{k}": v for k, v in self.edges_by_rule.items()})
        meta.update({f"records_joined_by_{k}": v for k, v in self.records_by_rule.items()})
        meta.update({f"guard_{k}": v for k, v in self.guard_firings.items()})
        meta.update({f"seconds_{k}": round(v, 2) for k, v in self.seconds.items()})
        return meta


def _check_input(con: duckdb.DuckDBPyConnection, config: IdentityConfig, source: str) -> list[str]:
    try:
        columns = {row[0] for row in con.execute(f"DESCRIBE {source}").fetchall()}
    except duckdb.CatalogException as exc:
        raise IdentityInputError(
            f"table {source} not found: build it first (dbt model int_identity_records)"
        ) from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise IdentityInputError(f"table {source} lacks column(s) {', '.join(missing)}")
    dupes = con.execute(
        f"SELECT count(*) FROM (SELECT record_key FROM {source} GROUP BY 1 HAVING count(*) > 1)"
    ).fetchone()[0]
    if dupes:
        raise IdentityInputError(f"table {source}: {dupes} record_key value(s) occur more than once")
    nulls = con.execute(f"SELECT count(*) FROM {source} WHERE record_key IS NULL").fetchone()[0]
    if nulls:
        raise IdentityInputError(f"table {source}: {nulls} row(s) with a null record_key")
    return [c for c in config.xref_columns if c in columns]


def _undouble_surname(last: str, first: str) -> str:
    """SQL: 'adams deborah adams' -> 'adams' (a display name 'Debbie Adams (Deborah Adams)' parsed into the surname
    as '<surname> <first> <surname>'); any other surname unchanged."""
    at = f"strpos({last}, ' ' || {first} || ' ')"
    left = f"substr({last}, 1, {at} - 1)"
    right = f"substr({last}, {at} + length({first}) + 2)"
    return f"CASE WHEN {first} IS NOT NULL AND {at} > 1 AND {left} = {right} THEN {left} ELSE {last} END"


def _prepare_records(con: duckdb.DuckDBPyConnection, source: str, xref_cols: list[str]) -> None:
    xrefs = "".join(f", nullif(trim(CAST({c} AS VARCHAR)), '') AS {c}" for c in xref_cols)
    surname = _undouble_surname(
        _undouble_surname("nullif(last_name_norm, '')", "nullif(first_name_canonical, '')"),
        "nullif(first_name_norm, '')",
    )
    # one row per input record: normalised attributes, blocking keys and a dense BIGINT id
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _identity_records AS
        WITH normalised AS (
        SELECT row_number() OVER (ORDER BY record_key)::BIGINT AS id, record_key, source_system,
               nullif(trim(email), '') AS email,
               split_part(nullif(trim(email), ''), '@', 1) AS email_local,
               nullif(trim(phone_e164), '') AS phone_e164,
               nullif(first_name_canonical, '') AS first_name_canonical,
               {surname} AS last_name_norm,
               nullif(street_norm, '') AS street_norm,
               nullif(city_norm, '') AS city_norm,
               nullif(postal_code_norm, '') AS postal_code_norm,
               nullif(country_code, '') AS country_code,
               nullif(trim(time_zone), '') AS time_zone,
               nullif(company_norm, '') AS company_norm,
               nullif(lower(trim(title)), '') AS title_norm,
               TRY_CAST(birth_date AS DATE) AS birth_date,
               nullif(regexp_replace(coalesce(company_norm, ''), '[^a-z0-9]', '', 'g'), '') AS company_key,
               nullif(regexp_replace(split_part(split_part(nullif(trim(email), ''), '@', 2), '.', 1), '[^a-z0-9]',
                                     '', 'g'), '') AS email_org,
               right(CAST(year(TRY_CAST(birth_date AS DATE)) AS VARCHAR), 2) AS birth_year2,
               nullif(regexp_extract(split_part(nullif(trim(email), ''), '@', 1), '[^0-9]([0-9]{{2}})$', 1), '')
                   AS email_year2,
               coalesce(nullif(first_name_canonical, ''), '?') || '|' || {surname} AS person_name
               {xrefs}
        FROM {source}
        )
        -- a work mailbox: an email whose domain is some record's employer (company 'metro works europe',
        -- email x@metroworkseurope.com), as opposed to a free-mail or personal address
        SELECT normalised.*,
               CASE WHEN normalised.email_org IN (SELECT company_key FROM normalised WHERE company_key IS NOT NULL)
                    THEN normalised.email END AS work_email,
               -- blocking keys that survive typos (pipelines/lib/identity/blocking.py)
               {soundex_sql("normalised.first_name_canonical")} AS first_name_soundex,
               {soundex_sql("normalised.last_name_norm")} AS last_name_soundex,
               {name_pair_sql(soundex_sql("normalised.first_name_canonical"), soundex_sql("normalised.last_name_norm"))}
                   AS name_soundex_pair,
               {name_prefix_sql("normalised.last_name_norm", 3)} AS last_name_prefix3,
               {name_prefix_sql("normalised.first_name_canonical", 3)} AS first_name_prefix3,
               left(normalised.postal_code_norm, 3) AS postal_code_prefix3,
               {street_head_sql("normalised.street_norm")} AS street_head
        FROM normalised
    """)


def _guards_on_identifiers(con: duckdb.DuckDBPyConnection, config: IdentityConfig) -> None:
    """Role mailboxes and identifiers shared by too many people: excluded from edges and from Splink."""
    g = config.guards
    # one row per guard firing (written to identity_guard_events at the end)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _identity_guard_events (
            guard VARCHAR, detail VARCHAR, record_keys VARCHAR[], identifier_kind VARCHAR, record_count BIGINT)
    """)
    con.execute(
        """
        -- one row per email that makes no edge (role mailbox or shared by too many people)
        CREATE OR REPLACE TEMP TABLE _identity_blocked_emails AS
        SELECT email, 'role_mailbox' AS guard, any_value(email_local) AS local_part, count(*) AS n,
               NULL::BIGINT AS people, list(record_key ORDER BY record_key) AS record_keys
        FROM _identity_records WHERE email IS NOT NULL AND list_contains(?, email_local)
        GROUP BY email
    """,
        [g.role_mailboxes],
    )
    con.execute(
        """
        INSERT INTO _identity_blocked_emails
        SELECT email, 'shared_identifier', NULL, count(*), count(DISTINCT person_name),
               list(record_key ORDER BY record_key)
        FROM _identity_records WHERE email IS NOT NULL AND NOT list_contains(?, email_local)
        GROUP BY email HAVING count(DISTINCT person_name) > ?
    """,
        [g.role_mailboxes, g.max_people_per_identifier],
    )
    con.execute(
        """
        -- one row per phone shared by too many people (makes no edge)
        CREATE OR REPLACE TEMP TABLE _identity_blocked_phones AS
        SELECT phone_e164, count(*) AS n, count(DISTINCT person_name) AS people,
               list(record_key ORDER BY record_key) AS record_keys
        FROM _identity_records WHERE phone_e164 IS NOT NULL
        GROUP BY phone_e164 HAVING count(DISTINCT person_name) > ?
    """,
        [g.max_people_per_identifier],
    )
    # A role mailbox on a single record blocks nothing: only record it when it would have joined records.
    con.execute(
        """
        INSERT INTO _identity_guard_events
        SELECT guard,
               CASE WHEN guard = 'role_mailbox'
                    THEN format('role mailbox {}@ on {} records: no email edge', local_part, n)
                    ELSE format('email shared by {} distinct people on {} records (limit {}): no email edge',
                                people, n, ?) END,
               record_keys, 'email', n
        FROM _identity_blocked_emails WHERE n >= 2
    """,
        [g.max_people_per_identifier],
    )
    con.execute(
        """
        INSERT INTO _identity_guard_events
        SELECT 'shared_identifier',
               format('phone shared by {} distinct people on {} records (limit {}): no phone edge', people, n, ?),
               record_keys, 'phone', n
        FROM _identity_blocked_phones
    """,
        [g.max_people_per_identifier],
    )


def _deterministic_edges(
    con: duckdb.DuckDBPyConnection, config: IdentityConfig, xref_cols: list[str]
) -> None:
    """Identifier groups become star edges to their smallest record (same components, linear edge count)."""
    # one row per edge between two records (deterministic now, Splink later), id_l < id_r
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _identity_edges (
            id_l BIGINT, id_r BIGINT, rule VARCHAR, match_weight DOUBLE, match_probability DOUBLE)
    """)
    con.execute("""
        INSERT INTO _identity_edges
        SELECT hub, id, 'email', NULL, NULL FROM (
            SELECT id, min(id) OVER (PARTITION BY email) AS hub FROM _identity_records
            WHERE email IS NOT NULL AND email NOT IN (SELECT email FROM _identity_blocked_emails)
        ) WHERE id <> hub
    """)
    con.execute("""
        INSERT INTO _identity_edges
        SELECT hub, id, 'phone_surname', NULL, NULL FROM (
            SELECT id, min(id) OVER (PARTITION BY phone_e164, last_name_norm) AS hub FROM _identity_records
            WHERE phone_e164 IS NOT NULL AND last_name_norm IS NOT NULL
              AND phone_e164 NOT IN (SELECT phone_e164 FROM _identity_blocked_phones)
        ) WHERE id <> hub
    """)
    for col in xref_cols:
        system = config.xref_columns[col]
        con.execute(
            f"""
            INSERT INTO _identity_edges
            SELECT DISTINCT least(referring.id, referred.id), greatest(referring.id, referred.id), 'xref', NULL, NULL
            FROM _identity_records AS referring
            JOIN _identity_records AS referred ON referred.record_key = ? || ':' || referring.{col}
            WHERE referring.{col} IS NOT NULL AND referring.id <> referred.id
        """,
            [system],
        )


def _splink_input(
    con: duckdb.DuckDBPyConnection, config: IdentityConfig, components: str | None, per_record: bool = False
) -> None:
    """Splink's input, from the groups of records already joined by deterministic edges (`components`: a table
    (id, comp), comp = the group's smallest record id; None: every record is its own group).

    A group's value of a scalar attribute is the value of its richest record that has one (most of names, address,
    birth date, company filled; then smallest id), so a Mailchimp member joined by email to a CRM contact is
    compared with that contact's address and birth date. Columns used by `cross` comparisons are lists of every
    distinct value in the group (a person's old and new company, several emails). per_record: one row per record
    (id = record id) with its own values, gaps filled with the group's; else one row per group (id = its smallest
    record id). Role mailboxes and over-shared identifiers stay hidden."""
    list_cols = {
        col for c in config.splink.comparisons if c.kind == "cross" for col in (c.column, c.other_column)
    } | {c.column for c in config.splink.comparisons if c.kind == "mailbox"}
    list_cols |= {col for c in config.splink.comparisons if c.kind == "employer" for col in c.columns[1:]}
    comp_sql = components or "(SELECT id, id AS comp FROM _identity_records)"
    email_cols = {"email", "email_org", "email_year2", "work_email"}
    selects: list[str] = []
    record_selects: list[str] = []
    values: list[str] = []
    for col in SPLINK_COLUMNS:
        value = col
        if col in email_cols:
            value = f"CASE WHEN blocked THEN NULL ELSE {col} END"
        elif col == "phone_e164":
            value = "CASE WHEN phone_blocked THEN NULL ELSE phone_e164 END"
        values.append(value)
        if col in list_cols:
            selects.append(
                f"list_sort(list(DISTINCT {value}) FILTER (WHERE {value} IS NOT NULL)) AS group_{col}"
            )
            record_selects.append(f"group_{col} AS {col}")
        else:
            selects.append(
                f"first({value} ORDER BY richness DESC, id) FILTER (WHERE {value} IS NOT NULL) AS group_{col}"
            )
            record_selects.append(f"coalesce({value}, group_{col}) AS {col}")
    group_selects = [f"group_{col} AS {col}" for col in SPLINK_COLUMNS]
    # each record with its group (comp), whether its email / phone are hidden, and how rich it is
    records_sql = f"""
        WITH grouped_records AS (
            SELECT rec.*, grp.comp,
                   email IS NOT NULL AND email IN (SELECT email FROM _identity_blocked_emails) AS blocked,
                   phone_e164 IS NOT NULL AND phone_e164 IN (SELECT phone_e164 FROM _identity_blocked_phones)
                       AS phone_blocked,
                   (first_name_canonical IS NOT NULL)::INT + (last_name_norm IS NOT NULL)::INT
                   + (street_norm IS NOT NULL)::INT + (postal_code_norm IS NOT NULL)::INT
                   + (birth_date IS NOT NULL)::INT + (company_norm IS NOT NULL)::INT AS richness
            FROM _identity_records AS rec JOIN {comp_sql} AS grp USING (id)
        )"""
    if components is not None:
        # Training pairs for m: each record with its own values (nothing filled from its group) and its group as
        # the label; only groups of two or more records make pairs.
        own = []
        for col, value in zip(SPLINK_COLUMNS, values, strict=True):
            own.append(
                f"CASE WHEN {value} IS NULL THEN NULL::VARCHAR[] ELSE [{value}] END AS {col}"
                if col in list_cols
                else f"{value} AS {col}"
            )
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {SPLINK_LABELLED} AS
            {records_sql}
            SELECT id, {", ".join(own)}, comp AS {LABEL_COLUMN}
            FROM grouped_records WHERE comp IN (SELECT comp FROM {comp_sql} GROUP BY comp HAVING count(*) > 1)
        """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {SPLINK_INPUT} AS
        {records_sql}
        , group_values AS (SELECT comp, {", ".join(selects)} FROM grouped_records GROUP BY comp)
        {
        f"SELECT grouped_records.id, {', '.join(record_selects)} FROM grouped_records JOIN group_values USING (comp)"
        if per_record
        else f"SELECT comp AS id, {', '.join(group_selects)} FROM group_values"
    }
    """)
    # `name` comparisons weigh a shared full name by its own frequency: a column of first name + surname, made
    # after the group filling so that it matches the two columns compared
    for comp in config.splink.comparisons:
        if comp.kind != "name":
            continue
        first, last = comp.columns
        key = full_name_column(comp)
        tables = [SPLINK_INPUT] + ([SPLINK_LABELLED] if components is not None else [])
        for table in tables:
            con.execute(f"""
                CREATE OR REPLACE TEMP TABLE {table} AS
                SELECT *, CASE WHEN {first} IS NOT NULL AND {last} IS NOT NULL THEN {first} || ' ' || {last} END
                       AS {key}
                FROM {table}
            """)


def _group_profiles(con: duckdb.DuckDBPyConnection) -> None:
    """Per deterministic group (`_identity_deterministic_groups`): every birth date and postal code its records carry."""
    # one row per deterministic group (dcomp): its record count, birth dates and postal codes
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _identity_group_profiles AS
        SELECT grp.comp AS dcomp, count(*) AS records,
               list(DISTINCT CAST(rec.birth_date AS VARCHAR)) FILTER (WHERE rec.birth_date IS NOT NULL) AS birth_dates,
               list(DISTINCT rec.postal_code_norm) FILTER (WHERE rec.postal_code_norm IS NOT NULL) AS postal_codes
        FROM _identity_records AS rec JOIN _identity_deterministic_groups AS grp USING (id)
        GROUP BY grp.comp
    """)


def _conflict_sql(config: IdentityConfig, x: str, y: str) -> str | None:
    """SQL: profiles `x` and `y` (aliases of two _identity_group_profiles rows) contradict each other; None when no conflict guard is on.

    Only when one side at least is a group of several records (joined by an identifier): Splink saw one value per
    group, so the group's other birth dates and postal codes are the guard's to check. Between two single records
    Splink compared the very values; its weight for the difference (a typo beyond one edit, a swapped day and
    month, an old address) stands."""

    def disjoint(col: str, distance: str) -> str:
        close = (
            f"list_bool_or(list_transform({x}.{col}, lambda a: list_bool_or(list_transform({y}.{col}, "
            f"lambda b: {distance}(a, b) <= 1))))"
        )
        return f"coalesce(len({x}.{col}) > 0 AND len({y}.{col}) > 0 AND NOT {close}, false)"

    parts = []
    if config.guards.conflicting_birth_date:
        parts.append(disjoint("birth_dates", "damerau_levenshtein"))
    if config.guards.conflicting_postal_code:
        parts.append(disjoint("postal_codes", "levenshtein"))
    if not parts:
        return None
    return f"(({x}.records > 1 OR {y}.records > 1) AND (" + " OR ".join(parts) + "))"


def _drop_conflicting_splink_edges(con: duckdb.DuckDBPyConnection, config: IdentityConfig) -> None:
    """Splink edges between deterministic groups that contradict each other are not kept (guard event each)."""
    conflict = _conflict_sql(config, "profile_l", "profile_r")
    if conflict is None:
        return
    # one row per Splink edge whose two groups contradict each other
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _identity_conflicting_edges AS
        SELECT edge.id_l, edge.id_r, edge.match_weight
        FROM _identity_splink_edges AS edge
        JOIN _identity_deterministic_groups AS group_l ON group_l.id = edge.id_l
        JOIN _identity_deterministic_groups AS group_r ON group_r.id = edge.id_r
        JOIN _identity_group_profiles AS profile_l ON profile_l.dcomp = group_l.comp
        JOIN _identity_group_profiles AS profile_r ON profile_r.dcomp = group_r.comp
        WHERE {conflict}
    """)
    con.execute("""
        DELETE FROM _identity_splink_edges AS edge
        WHERE EXISTS (SELECT 1 FROM _identity_conflicting_edges AS conflicting
                      WHERE conflicting.id_l = edge.id_l AND conflicting.id_r = edge.id_r)
    """)
    con.execute("""
        INSERT INTO _identity_guard_events
        SELECT 'conflicting_attributes',
               format('Splink edge (match weight {:.1f}) between records whose groups carry contradicting birth '
                      'dates or postal codes: dropped', conflicting.match_weight),
               [record_l.record_key, record_r.record_key], 'edge', 2
        FROM _identity_conflicting_edges AS conflicting
        JOIN _identity_records AS record_l ON record_l.id = conflicting.id_l
        JOIN _identity_records AS record_r ON record_r.id = conflicting.id_r
    """)


def _cluster(con: duckdb.DuckDBPyConnection, config: IdentityConfig, with_groups: bool) -> None:
    """Components over accepted edges; oversize components lose their weakest Splink edges until they fit."""
    limit = config.guards.max_cluster_size
    # one row per edge left out of the clusters (weakest Splink edges of oversize clusters, edges of kept-apart records)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _identity_dropped_edges (id_l BIGINT, id_r BIGINT, rule VARCHAR)"
    )
    # one row per record kept in a cluster of its own (an oversize cluster with no Splink edge left to drop)
    con.execute("CREATE OR REPLACE TEMP TABLE _identity_records_kept_apart (id BIGINT)")
    connected_components(
        con,
        "SELECT id FROM _identity_records",
        "SELECT id_l, id_r FROM _identity_edges",
        "_identity_record_clusters",
    )
    conflict = _conflict_sql(config, "profile_l", "profile_r") if with_groups else None
    oversize_seen: dict[int, int] = {}
    conflicting_seen: dict[int, int] = {}
    for _round in range(MAX_SPLIT_ROUNDS):
        oversize = con.execute(
            """
            SELECT comp, count(*) FROM _identity_record_clusters GROUP BY comp HAVING count(*) > ? ORDER BY comp
        """,
            [limit],
        ).fetchall()
        if _round == 0:
            oversize_seen = dict(oversize)
        # Clusters joining deterministic groups that contradict each other (through other groups).
        # one row per cluster that joins deterministic groups contradicting each other
        con.execute("CREATE OR REPLACE TEMP TABLE _identity_conflicting_clusters (comp BIGINT)")
        if conflict is not None:
            con.execute(
                f"""
                INSERT INTO _identity_conflicting_clusters
                WITH cluster_groups AS (
                    SELECT DISTINCT cluster.comp, grp.comp AS dcomp
                    FROM _identity_record_clusters AS cluster JOIN _identity_deterministic_groups AS grp USING (id)
                ),
                multi_group_clusters AS (
                    SELECT comp FROM cluster_groups GROUP BY comp HAVING count(*) > 1 AND count(*) <= ?
                ),
                groups_of_multi AS (
                    SELECT * FROM cluster_groups WHERE comp IN (SELECT comp FROM multi_group_clusters)
                )
                SELECT DISTINCT group_l.comp
                FROM groups_of_multi AS group_l
                JOIN groups_of_multi AS group_r ON group_l.comp = group_r.comp AND group_l.dcomp < group_r.dcomp
                JOIN _identity_group_profiles AS profile_l ON profile_l.dcomp = group_l.dcomp
                JOIN _identity_group_profiles AS profile_r ON profile_r.dcomp = group_r.dcomp
                WHERE {conflict}
            """,
                [limit],
            )
            if _round == 0:
                conflicting_seen = dict(
                    con.execute(
                        "SELECT comp, count(*) FROM _identity_record_clusters WHERE comp IN (SELECT comp FROM _identity_conflicting_clusters) "
                        "GROUP BY comp"
                    ).fetchall()
                )
        n_conflicting = con.execute("SELECT count(*) FROM _identity_conflicting_clusters").fetchone()[0]
        if not oversize and not n_conflicting:
            break
        # one row per record of a cluster to split (oversize or conflicting), with that cluster
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _identity_records_to_split AS SELECT id, comp FROM _identity_record_clusters WHERE comp IN "
            "(SELECT comp FROM _identity_record_clusters GROUP BY comp HAVING count(*) > ?) "
            "OR comp IN (SELECT comp FROM _identity_conflicting_clusters)",
            [limit],
        )
        # Drop, in each oversize component, its weakest Splink edge(s); after the last round keep records apart.
        dropped = con.execute(
            """
            INSERT INTO _identity_dropped_edges
            WITH splink_edges AS (
                SELECT edge.id_l, edge.id_r, edge.match_weight, to_split.comp
                FROM _identity_edges AS edge JOIN _identity_records_to_split AS to_split ON to_split.id = edge.id_l
                WHERE edge.rule = 'splink'
                  AND NOT EXISTS (SELECT 1 FROM _identity_dropped_edges AS dropped
                                  WHERE dropped.id_l = edge.id_l AND dropped.id_r = edge.id_r
                                    AND dropped.rule = 'splink')
            ), weakest AS (SELECT comp, min(match_weight) AS min_weight FROM splink_edges GROUP BY comp)
            SELECT splink_edges.id_l, splink_edges.id_r, 'splink' FROM splink_edges JOIN weakest USING (comp)
            WHERE splink_edges.match_weight <= weakest.min_weight AND ? < ?
        """,
            [_round, MAX_SPLIT_ROUNDS - 1],
        ).fetchone()
        n_dropped = dropped[0] if dropped else 0
        if not n_dropped:
            # No Splink edge left to drop: the records of what is still oversize stay apart.
            con.execute(
                "INSERT INTO _identity_records_kept_apart SELECT id FROM _identity_records_to_split WHERE comp IN "
                "(SELECT comp FROM _identity_record_clusters GROUP BY comp HAVING count(*) > ?)",
                [limit],
            )
            con.execute("""
                INSERT INTO _identity_dropped_edges
                SELECT edge.id_l, edge.id_r, edge.rule FROM _identity_edges AS edge
                WHERE edge.id_l IN (SELECT id FROM _identity_records_kept_apart)
                   OR edge.id_r IN (SELECT id FROM _identity_records_kept_apart)
            """)
        connected_components(
            con,
            "SELECT id FROM _identity_records_to_split",
            """SELECT edge.id_l, edge.id_r FROM _identity_edges AS edge
               WHERE edge.id_l IN (SELECT id FROM _identity_records_to_split)
                 AND edge.id_r IN (SELECT id FROM _identity_records_to_split)
                 AND NOT EXISTS (SELECT 1 FROM _identity_dropped_edges AS dropped
                                 WHERE dropped.id_l = edge.id_l AND dropped.id_r = edge.id_r
                                   AND dropped.rule = edge.rule)""",
            "_identity_split_clusters",
        )
        con.execute("""
            CREATE OR REPLACE TEMP TABLE _identity_record_clusters AS
            SELECT cluster.id, coalesce(split.comp, cluster.comp) AS comp
            FROM _identity_record_clusters AS cluster LEFT JOIN _identity_split_clusters AS split USING (id)
        """)
    _record_size_guard_events(con, oversize_seen, limit)
    _record_conflict_guard_events(con, conflicting_seen)


def _record_conflict_guard_events(con: duckdb.DuckDBPyConnection, conflicting: dict[int, int]) -> None:
    """One event per cluster that joined contradicting groups (by its original smallest id)."""
    if not conflicting:
        return
    con.execute("CREATE OR REPLACE TEMP TABLE _identity_conflicted_clusters (comp BIGINT, size BIGINT)")
    con.executemany("INSERT INTO _identity_conflicted_clusters VALUES (?, ?)", list(conflicting.items()))
    connected_components(
        con,
        "SELECT id FROM _identity_records",
        "SELECT id_l, id_r FROM _identity_edges",
        "_identity_original_clusters",
    )
    con.execute("""
        INSERT INTO _identity_guard_events
        SELECT 'conflicting_attributes',
               format('cluster of {} records joined groups with contradicting birth dates or postal codes: '
                      '{} Splink edge(s) dropped, now {} cluster(s)', flagged.size,
                      count(DISTINCT dropped.id_l || '-' || dropped.id_r) FILTER (WHERE dropped.rule = 'splink'),
                      count(DISTINCT cluster.comp)),
               list_sort(list(DISTINCT rec.record_key)), 'cluster', flagged.size
        FROM _identity_conflicted_clusters AS flagged
        JOIN _identity_original_clusters AS original ON original.comp = flagged.comp
        JOIN _identity_records AS rec ON rec.id = original.id
        JOIN _identity_record_clusters AS cluster ON cluster.id = original.id
        LEFT JOIN _identity_dropped_edges AS dropped ON dropped.id_l = original.id
        GROUP BY flagged.comp, flagged.size
    """)


def _record_size_guard_events(con: duckdb.DuckDBPyConnection, oversize: dict[int, int], limit: int) -> None:
    """One event per component that was over the limit (by its original smallest id)."""
    if not oversize:
        return
    con.execute("CREATE OR REPLACE TEMP TABLE _identity_oversize_clusters (comp BIGINT, size BIGINT)")
    con.executemany("INSERT INTO _identity_oversize_clusters VALUES (?, ?)", list(oversize.items()))
    # Members of an original oversize component: the nodes reachable over all edges from its smallest id.
    connected_components(
        con,
        "SELECT id FROM _identity_records",
        "SELECT id_l, id_r FROM _identity_edges",
        "_identity_original_clusters",
    )
    con.execute(
        """
        INSERT INTO _identity_guard_events
        SELECT 'max_cluster_size',
               format('cluster of {} records over the limit of {}: {} Splink edge(s) dropped, {} record(s) kept '
                      'apart, now {} cluster(s)', flagged.size, ?,
                      count(DISTINCT dropped.id_l || '-' || dropped.id_r) FILTER (WHERE dropped.rule = 'splink'),
                      count(DISTINCT apart.id), count(DISTINCT cluster.comp)),
               list_sort(list(DISTINCT rec.record_key)), 'cluster', flagged.size
        FROM _identity_oversize_clusters AS flagged
        JOIN _identity_original_clusters AS original ON original.comp = flagged.comp
        JOIN _identity_records AS rec ON rec.id = original.id
        JOIN _identity_record_clusters AS cluster ON cluster.id = original.id
        LEFT JOIN _identity_dropped_edges AS dropped ON dropped.id_l = original.id
        LEFT JOIN _identity_records_kept_apart AS apart ON apart.id = original.id
        GROUP BY flagged.comp, flagged.size
    """,
        [limit],
    )


def _write_outputs(con: duckdb.DuckDBPyConnection, run_id: str, now: datetime) -> None:
    """Replace the per-run tables, upsert the key map and append to the merge log, in one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("""
            CREATE OR REPLACE TABLE identity_edges AS
            SELECT record_l.record_key AS record_key_l, record_r.record_key AS record_key_r, kept.rule,
                   kept.match_weight, kept.match_probability
            FROM (SELECT id_l, id_r, rule, max(match_weight) AS match_weight,
                         max(match_probability) AS match_probability
                  FROM _identity_edges AS edge
                  WHERE NOT EXISTS (SELECT 1 FROM _identity_dropped_edges AS dropped
                                    WHERE dropped.id_l = edge.id_l AND dropped.id_r = edge.id_r AND dropped.rule = edge.rule)
                  GROUP BY id_l, id_r, rule) AS kept
            JOIN _identity_records AS record_l ON record_l.id = kept.id_l
            JOIN _identity_records AS record_r ON record_r.id = kept.id_r
            ORDER BY record_key_l, record_key_r, rule
        """)
        con.execute("""
            CREATE OR REPLACE TABLE identity_clusters AS
            WITH used AS (
                SELECT edge.id_l AS id, edge.rule, edge.match_weight FROM _identity_edges AS edge
                WHERE NOT EXISTS (SELECT 1 FROM _identity_dropped_edges AS dropped
                                  WHERE dropped.id_l = edge.id_l AND dropped.id_r = edge.id_r AND dropped.rule = edge.rule)
                UNION ALL
                SELECT edge.id_r, edge.rule, edge.match_weight FROM _identity_edges AS edge
                WHERE NOT EXISTS (SELECT 1 FROM _identity_dropped_edges AS dropped
                                  WHERE dropped.id_l = edge.id_l AND dropped.id_r = edge.id_r AND dropped.rule = edge.rule)
            ), best AS (
                SELECT id, rule, match_weight FROM used
                QUALIFY row_number() OVER (
                    PARTITION BY id
                    ORDER BY CASE rule WHEN 'xref' THEN 1 WHEN 'email' THEN 2 WHEN 'phone_surname' THEN 3 ELSE 4 END,
                             match_weight DESC NULLS LAST) = 1
            )
            SELECT rec.record_key, info.min_key AS cluster_id, customer.customer_id,
                   coalesce(best.rule, 'singleton') AS joined_by_rule, best.match_weight, info.size AS cluster_size
            FROM _identity_records AS rec
            JOIN _identity_record_clusters AS cluster ON cluster.id = rec.id
            JOIN _identity_cluster_info AS info ON info.comp = cluster.comp
            JOIN _identity_cluster_customer_ids AS customer ON customer.comp = cluster.comp
            LEFT JOIN best ON best.id = rec.id
            ORDER BY rec.record_key
        """)
        con.execute(
            """
            INSERT OR REPLACE INTO customer_key_map
            SELECT cluster.record_key, cluster.customer_id, coalesce(known.first_seen_at, ?::TIMESTAMP), ?::TIMESTAMP
            FROM identity_clusters AS cluster LEFT JOIN customer_key_map AS known USING (record_key)
        """,
            [now, now],
        )
        con.execute(
            """
            INSERT INTO customer_merge_log
            SELECT ?::TIMESTAMP, event, customer_id, other_customer_ids, reason, ?, record_count
            FROM _identity_merge_events ORDER BY event, customer_id
        """,
            [now, run_id],
        )
        con.execute(
            """
            CREATE OR REPLACE TABLE identity_guard_events AS
            SELECT guard, detail, record_keys, identifier_kind, record_count, ?::TIMESTAMP AS event_at,
                   ? AS run_id
            FROM _identity_guard_events ORDER BY guard, record_keys
        """,
            [now, run_id],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def _drop_work_tables(con: duckdb.DuckDBPyConnection) -> None:
    names = [
        row[0]
        for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name LIKE '\\_identity\\_%' ESCAPE '\\'"
        ).fetchall()
    ]
    for name in names:
        con.execute(f"DROP TABLE IF EXISTS temp.{name}")


def resolve_identities(
    con: duckdb.DuckDBPyConnection,
    config: IdentityConfig,
    run_id: str,
    now: datetime,
    source_table: str = SOURCE_TABLE,
    retrain: bool = False,
) -> IdentityReport:
    """Read `int_identity_records`; write identity_edges, identity_clusters, customer_key_map,
    customer_merge_log and identity_guard_events.

    The Splink model is trained, or the latest stored one reused, by the retrain policy (model_store.choose_model;
    `retrain` forces training)."""
    now_utc = (now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)).replace(tzinfo=None)
    seconds: dict[str, float] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        seconds[name] = time.perf_counter() - t
        t = time.perf_counter()

    xref_cols = _check_input(con, config, source_table)
    _prepare_records(con, source_table, xref_cols)
    _guards_on_identifiers(con, config)
    _deterministic_edges(con, config, xref_cols)
    lap("deterministic")
    trained = False
    prior = None
    splink_settings: dict | None = None
    m_from_groups: list[str] = []
    choice: ModelChoice | None = None
    if config.splink.enabled:
        # Records joined by deterministic edges are one person already: Splink compares those groups.
        connected_components(
            con,
            "SELECT id FROM _identity_records",
            "SELECT id_l, id_r FROM _identity_edges",
            "_identity_deterministic_groups",
        )
        _splink_input(
            con, config, "_identity_deterministic_groups", per_record=config.splink.compare == "records"
        )
        n_input = con.execute(f"SELECT count(*) FROM {SPLINK_INPUT}").fetchone()[0]
        choice = choose_model(con, config, model_fingerprint(config), n_input, now_utc, retrain=retrain)
        result = splink_edges(con, config, "_identity_splink_edges", model=choice.settings)
        trained = result.trained
        prior = result.probability_two_random_records_match
        splink_settings, m_from_groups = result.settings, result.m_from_groups
        if result.reused:
            m_from_groups = choice.m_from_groups
        elif result.trained:
            choice.source, choice.model_run_id = "trained", run_id
            choice.trained_at, choice.trained_records = now_utc, result.records
            choice.m_from_groups = m_from_groups
        elif choice.source == "trained":  # training found nothing to learn from: the configured priors
            choice.source = "priors"
            choice.reason = f"training failed ({choice.reason})"
        seconds["splink_train"] = result.train_seconds
        seconds["splink_predict"] = result.predict_seconds
        seconds.update({f"splink_{phase}_phase": v for phase, v in result.phase_seconds.items()})
        # Pairs inside one deterministic group add nothing.
        con.execute("""
            DELETE FROM _identity_splink_edges AS edge
            WHERE (SELECT comp FROM _identity_deterministic_groups WHERE id = edge.id_l)
                = (SELECT comp FROM _identity_deterministic_groups WHERE id = edge.id_r)
        """)
        _group_profiles(con)
        _drop_conflicting_splink_edges(con, config)
        con.execute(
            "INSERT INTO _identity_edges SELECT id_l, id_r, 'splink', match_weight, match_probability "
            "FROM _identity_splink_edges"
        )
    lap("splink")
    _cluster(con, config, with_groups=config.splink.enabled)
    lap("clustering")
    assign_customer_ids(con, run_id)
    _write_outputs(con, run_id, now_utc)
    lap("stable_ids")
    # the model, what it scored, and the evidence for each same-customer pair inside one CRM (explanations)
    save_model(
        con,
        config,
        run_id,
        now_utc,
        splink_settings,
        trained,
        SPLINK_INPUT,
        per_record=config.splink.compare == "records",
        choice=choice,
    )
    score_crm_pairs(con, splink_settings)
    lap("explanations")

    stats = con.execute("""
        SELECT count(*), count(DISTINCT customer_id),
               (SELECT count(*) FROM (SELECT customer_id FROM identity_clusters GROUP BY 1 HAVING count(*) > 1)),
               (SELECT max(cluster_size) FROM identity_clusters)
        FROM identity_clusters
    """).fetchone()
    edges = dict(con.execute("SELECT rule, count(*) FROM identity_edges GROUP BY rule").fetchall())
    joined = dict(con.execute("SELECT joined_by_rule, count(*) FROM identity_clusters GROUP BY 1").fetchall())
    guards = dict(con.execute("SELECT guard, count(*) FROM identity_guard_events GROUP BY 1").fetchall())
    events = dict(con.execute("SELECT event, count(*) FROM _identity_merge_events GROUP BY 1").fetchall())
    _drop_work_tables(con)
    return IdentityReport(
        run_id=run_id,
        records=stats[0],
        clusters=stats[1],
        multi_record_clusters=stats[2],
        largest_cluster=stats[3] or 0,
        edges_by_rule={rule: edges.get(rule, 0) for rule in RULES},
        records_by_rule={rule: joined.get(rule, 0) for rule in (*RULES, "singleton")},
        guard_firings={
            g: guards.get(g, 0)
            for g in ("role_mailbox", "shared_identifier", "max_cluster_size", "conflicting_attributes")
        },
        merges=events.get("merge", 0),
        splits=events.get("split", 0),
        new_customers=events.get("new", 0),
        splink_trained=trained,
        splink_prior=prior,
        splink_settings=splink_settings,
        splink_m_from_groups=m_from_groups,
        splink_model=choice.describe() if choice else None,
        splink_model_run_id=choice.model_run_id if choice else None,
        seconds=seconds,
    )
