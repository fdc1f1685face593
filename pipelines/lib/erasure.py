"""Erasure (right to be forgotten): remove a person's personal data from the warehouse and the output files, and
keep only a salted hash of their address so that a later export cannot bring them back.

- The erasure list holds `sha256(salt || ':' || lower(trim(email)))` per erased address (hex), never the address.
  The salt is a secret from the environment (`TOUCHPLAN_ERASURE_SALT`): without it an unsalted hash of an address
  could be reversed by hashing a list of candidate addresses. The list is a table (`erasure_list`) and a file
  (`<output>/erasure/erasure_list.csv`), so a warehouse rebuilt from the exports still knows it.
- Which tables and columns: found from the warehouse's schema (information_schema), not a list of tables. A row
  belongs to the person when an email column holds one of their addresses, its `customer_id` is theirs, its
  (source_system, source_record_id) or `record_key` is one of their CRM records, or any text column contains
  their address. In those rows the personal columns (by name: emails, names, phones, addresses, birth date, IPs,
  user agents, free-text payloads; plus any text column that contains the address) are set to NULL; ids, flags,
  dates and counts stay, so counts still reconcile (ingest_files) and the send ledger still knows what was sent.
  Nothing is deleted from the warehouse: an erased CRM record keeps its ids, so its customer can be suppressed.
- Every ingest applies the list to the rows it loads (`apply_erasure_list`): a re-exported record is stripped of
  its personal columns as it lands and recorded in `erased_records` (table, source system, record id, hash);
  planning turns those records' customers into suppression rows with reason `erased` on every channel.
- Output files: SendGrid bodies to or about the person are deleted; rows of CSV files (audiences, sales tasks,
  HubSpot tasks, CRM fix files) that name the person are removed; the address is replaced in any other text file.

Logs name customer ids and hash prefixes, never the address.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.lib import warehouse
from pipelines.lib.settings import Settings
from pipelines.lib.sql import quote_ident, sql_literal

log = logging.getLogger("touchplan.erasure")

ENV_SALT = "TOUCHPLAN_ERASURE_SALT"
ERASURE_TABLE = "erasure_list"
ERASED_RECORDS = "erased_records"
ERASURE_FILE = Path("erasure") / "erasure_list.csv"  # below the output folder
ERASURE_LOG = (
    Path("erasure") / "erasure_log.jsonl"
)  # one line per erasure: time, customer ids, hashes, counts
ERASED_REASON = "erased"

# Column names (split on `_`) that hold personal data wherever they appear.
_PERSONAL_TOKENS = {
    "email",
    "emails",
    "phone",
    "mobile",
    "e164",
    "street",
    "address",
    "postal",
    "zip",
    "birth",
    "ip",
    "useragent",
    "latitude",
    "longitude",
    "salutation",
    "payload",
    "notes",
}
_PERSONAL_NAMES = {"first_name", "last_name", "full_name", "name", "title", "department", "city", "extra"}
# `<who>_name` / `<who>_email`: a person's name in a pair or merge table (survivor_name, keep_name, ...)
_PERSON_PREFIXES = {
    "survivor",
    "duplicate",
    "keep",
    "merge",
    "customer",
    "contact",
    "person",
    "display",
    "user",
}
_NOT_PERSONAL_LAST = {"source", "id", "clicks", "count", "region", "records"}
_TEXT_TYPES = ("VARCHAR", "JSON")
_EMAIL_IN_TEXT = r"[A-Za-z0-9._%+'=-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"


class ErasureError(ValueError):
    """Erasure cannot run (no salt, no warehouse, nothing to erase): one line for the user."""


def require_salt() -> str:
    salt = os.environ.get(ENV_SALT, "")
    if not salt:
        raise ErasureError(
            f"{ENV_SALT} is not set: erasure keeps a salted hash of each erased address and needs a secret salt "
            "from the environment (the same value for every run)"
        )
    return salt


def normalise_email(email: str) -> str:
    return email.strip().lower()


def erasure_hash(email: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{normalise_email(email)}".encode()).hexdigest()


def hash_sql(expr: str, salt: str) -> str:
    """The DuckDB expression of `erasure_hash` for a text column (NULL for NULL)."""
    return f"sha256({sql_literal(salt + ':')} || lower(trim({expr})))"


def is_personal_column(name: str) -> bool:
    lowered = name.lower()
    tokens = lowered.split("_")
    # not the value itself: which source supplied it, an id, a count, a flag, a region setting
    if tokens[-1] in _NOT_PERSONAL_LAST or tokens[0] in ("has", "is") or lowered.startswith("emails_"):
        return False
    # a personal column and its derivations: first_name_norm, last_name_soundex, city_norm, title_norm, ...
    if any(lowered == stem or lowered.startswith(stem + "_") for stem in _PERSONAL_NAMES):
        return True
    if _PERSONAL_TOKENS & set(tokens):
        return True
    return len(tokens) == 2 and tokens[0] in _PERSON_PREFIXES and tokens[1] == "name"


def is_email_column(name: str) -> bool:
    return "email" in name.lower().split("_")


# ------------------------------------------------------------------------------------------- the list


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {ERASURE_TABLE} (erasure_hash VARCHAR PRIMARY KEY, erased_at TIMESTAMP)"
    )
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {ERASED_RECORDS} (table_name VARCHAR, source_system VARCHAR,
            source_record_id VARCHAR, erasure_hash VARCHAR, erased_at TIMESTAMP)"""
    )


def read_list_file(path: Path) -> list[tuple[str, datetime | None]]:
    if not path.exists():
        return []
    rows = []
    with path.open(newline="", encoding="utf-8") as handle:
        for n, row in enumerate(csv.DictReader(handle), start=2):
            value = (row.get("erasure_hash") or "").strip()
            if not re.fullmatch(r"[0-9a-f]{64}", value):
                raise ErasureError(
                    f"{path}: line {n}: erasure_hash {value[:80]!r} is not a SHA-256 hex digest"
                )
            at = row.get("erased_at") or None
            rows.append((value, datetime.fromisoformat(at) if at else None))
    return rows


def sync_list(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Union of the table and the file, written back to both; returns the number of erased addresses."""
    ensure_tables(con)
    for value, at in read_list_file(path):
        con.execute(
            f"INSERT INTO {ERASURE_TABLE} VALUES (?, ?) ON CONFLICT DO NOTHING",
            [value, at],
        )
    rows = con.execute(
        f"SELECT erasure_hash, erased_at FROM {ERASURE_TABLE} ORDER BY erasure_hash"
    ).fetchall()
    if rows or path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["erasure_hash", "erased_at"])
        writer.writerows((h, at.isoformat(sep=" ") if at else "") for h, at in rows)
        tmp = path.with_suffix(".csv.tmp")
        tmp.write_text(buffer.getvalue(), encoding="utf-8")
        tmp.replace(path)
    return len(rows)


# ------------------------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str

    @property
    def is_text(self) -> bool:
        return self.data_type.upper() in _TEXT_TYPES

    @property
    def is_text_list(self) -> bool:
        return self.data_type.upper() == "VARCHAR[]"


@dataclass(frozen=True)
class Table:
    name: str
    is_view: bool
    columns: tuple[Column, ...]
    constrained: frozenset[str] = frozenset()  # NOT NULL, primary key or unique columns

    def has(self, name: str) -> bool:
        return any(c.name == name for c in self.columns)

    @property
    def text_columns(self) -> list[Column]:
        return [c for c in self.columns if c.is_text]

    @property
    def personal_columns(self) -> list[Column]:
        return [c for c in self.columns if is_personal_column(c.name)]

    @property
    def email_columns(self) -> list[Column]:
        return [c for c in self.columns if is_email_column(c.name) and c.is_text]


def warehouse_tables(con: duckdb.DuckDBPyConnection) -> list[Table]:
    """Every table and view of the warehouse's current schema, with its columns."""
    kinds = dict(
        con.execute(
            "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchall()
    )
    columns: dict[str, list[Column]] = {}
    for table, name, dtype in con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    ).fetchall():
        columns.setdefault(table, []).append(Column(name, dtype))
    constrained: dict[str, set[str]] = {}
    for table, names in con.execute(
        "SELECT table_name, constraint_column_names FROM duckdb_constraints() "
        "WHERE constraint_type IN ('NOT NULL', 'PRIMARY KEY', 'UNIQUE') AND schema_name = current_schema()"
    ).fetchall():
        constrained.setdefault(table, set()).update(names or [])
    return [
        Table(name, kinds.get(name) == "VIEW", tuple(cols), frozenset(constrained.get(name, ())))
        for name, cols in sorted(columns.items())
        if name in kinds
    ]


# ------------------------------------------------------------------------------------------- ingest hook


def apply_erasure_list(
    con: duckdb.DuckDBPyConnection,
    list_path: Path,
    raw_tables: list[str],
    file_hashes: list[str] | None = None,
) -> int:
    """Strip the personal columns of raw rows whose address is on the erasure list, record them in erased_records.

    `file_hashes`: only rows of these files (those an ingest just loaded); None: every row. Returns the rows
    stripped. Without entries on the list nothing is read and no salt is needed."""
    if sync_list(con, list_path) == 0:
        return 0
    salt = require_salt()
    tables = {t.name: t for t in warehouse_tables(con)}
    stripped = 0
    for name in raw_tables:
        table = tables.get(name)
        if table is None or table.is_view:
            continue
        where_file = ""
        if file_hashes is not None:
            if not file_hashes or not table.has("_file_hash"):
                continue
            where_file = "AND _file_hash IN (" + ", ".join(sql_literal(h) for h in file_hashes) + ")"
        if table.name == "ingest_quarantine" or not table.email_columns:
            continue
        # one pass: the hash of each address once, the matching rows by rowid
        hashes = [hash_sql(quote_ident(c.name), salt) for c in table.email_columns]
        first_hit = (
            "CASE "
            + " ".join(f"WHEN {h} IN (SELECT erasure_hash FROM {ERASURE_TABLE}) THEN {h}" for h in hashes)
            + " END"
        )
        system = "CAST(source_system AS VARCHAR)" if table.has("source_system") else "NULL"
        record = "CAST(source_record_id AS VARCHAR)" if table.has("source_record_id") else "NULL"
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _erasure_hits AS
                SELECT * FROM (SELECT rowid AS rid, {system} AS source_system, {record} AS source_record_id,
                                      {first_hit} AS erasure_hash
                               FROM {quote_ident(name)} WHERE true {where_file})
                WHERE erasure_hash IS NOT NULL"""
        )
        n = con.execute("SELECT count(*) FROM _erasure_hits").fetchone()[0]
        if not n:
            continue
        con.execute(
            f"""INSERT INTO {ERASED_RECORDS}
                SELECT {sql_literal(name)}, source_system, source_record_id, erasure_hash, now()::TIMESTAMP
                FROM _erasure_hits"""
        )
        sets = ", ".join(f"{quote_ident(c.name)} = NULL" for c in table.personal_columns)
        if sets:
            con.execute(
                f"UPDATE {quote_ident(name)} SET {sets} WHERE rowid IN (SELECT rid FROM _erasure_hits)"
            )
        stripped += n
    _strip_quarantine(con, tables.get("ingest_quarantine"), salt, file_hashes)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _erased_dedup AS SELECT DISTINCT * EXCLUDE (erased_at),
            min(erased_at) OVER (PARTITION BY table_name, source_system, source_record_id, erasure_hash) AS erased_at
            FROM {ERASED_RECORDS}"""
    )
    con.execute(f"DELETE FROM {ERASED_RECORDS}")
    con.execute(f"INSERT INTO {ERASED_RECORDS} SELECT DISTINCT * FROM _erased_dedup")
    if stripped:
        log.info("erasure list: personal columns of %d re-imported raw row(s) removed", stripped)
    return stripped


def _strip_quarantine(con, table: Table | None, salt: str, file_hashes: list[str] | None) -> None:
    """Quarantined rows keep the raw text of the line: null every text column that holds an erased address."""
    if table is None or table.is_view:
        return
    where_file = ""
    if file_hashes is not None and table.has("_file_hash"):
        where_file = "AND _file_hash IN (" + ", ".join(sql_literal(h) for h in file_hashes or ["-"]) + ")"
    for column in table.text_columns:
        ident = quote_ident(column.name)
        con.execute(
            f"""UPDATE {quote_ident(table.name)} SET {ident} = NULL
                WHERE {ident} IS NOT NULL {where_file} AND EXISTS (
                    SELECT 1 FROM (SELECT unnest(regexp_extract_all(CAST({ident} AS VARCHAR),
                                                                    {sql_literal(_EMAIL_IN_TEXT)})) AS e) AS x
                    WHERE {hash_sql("x.e", salt)} IN (SELECT erasure_hash FROM {ERASURE_TABLE}))"""
        )


def apply_after_ingest(con: duckdb.DuckDBPyConnection, list_path: Path, report) -> int:
    """The ingest hook: strip the erased people from the rows of the files this ingest loaded."""
    from pipelines.lib.ingest.schema import TABLE_NAMES

    loaded = [f.file_hash for f in report.files if f.status == "loaded"]
    return apply_erasure_list(con, list_path, list(TABLE_NAMES), file_hashes=loaded)


def erased_customers_sql(con: duckdb.DuckDBPyConnection) -> str:
    """SELECT customer_id of every customer with an erased record (empty when the tables are missing)."""
    names = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchall()
    }
    if ERASED_RECORDS not in names or "customer_crosswalk" not in names:
        return "SELECT CAST(NULL AS VARCHAR) AS customer_id WHERE false"
    return f"""SELECT DISTINCT CAST(x.customer_id AS VARCHAR) AS customer_id
               FROM customer_crosswalk AS x JOIN {ERASED_RECORDS} AS e
                 ON e.source_system = CAST(x.source_system AS VARCHAR)
                AND e.source_record_id = CAST(x.source_record_id AS VARCHAR)
               WHERE x.customer_id IS NOT NULL"""


# ------------------------------------------------------------------------------------------- erase one person


@dataclass
class ErasureReport:
    customer_ids: list[str]
    hashes: list[str]
    tables: dict[str, int] = field(default_factory=dict)  # table -> rows whose personal columns were nulled
    files_deleted: list[str] = field(default_factory=list)
    files_rewritten: list[str] = field(default_factory=list)
    found: bool = True

    def summary(self) -> str:
        who = ", ".join(self.customer_ids) or "no customer in the warehouse"
        tables = ", ".join(f"{t} {n}" for t, n in sorted(self.tables.items())) or "none"
        return (
            f"erased {who} (erasure hash {', '.join(h[:12] for h in self.hashes) or 'none'}): rows stripped per "
            f"table: {tables}; output files deleted: {len(self.files_deleted)}, rewritten: "
            f"{len(self.files_rewritten)}"
        )


def _person(
    con: duckdb.DuckDBPyConnection, tables: dict[str, Table], target: str
) -> tuple[set, set, set, set]:
    """(addresses, customer ids, (source_system, source_record_id) records, record keys) of the person."""
    emails: set[str] = set()
    customers: set[str] = set()
    if "@" in target:
        emails.add(normalise_email(target))
    else:
        customers.add(target.strip())
    crosswalk = tables.get("customer_crosswalk")
    for _ in range(2):  # address -> customers -> their records' addresses -> customers
        if "dim_customers" in tables and tables["dim_customers"].has("email") and emails:
            customers |= {
                r[0]
                for r in con.execute(
                    "SELECT DISTINCT CAST(customer_id AS VARCHAR) FROM dim_customers "
                    "WHERE lower(trim(email)) IN (SELECT unnest(?::VARCHAR[]))",
                    [sorted(emails)],
                ).fetchall()
                if r[0]
            }
        records = _records(con, crosswalk, customers)
        for raw in ("raw_crm_contacts", "raw_email_audience"):
            table = tables.get(raw)
            if table is None or not (table.has("source_system") and table.has("source_record_id")):
                continue
            if emails and crosswalk is not None:
                found = con.execute(
                    f"""SELECT DISTINCT CAST(x.customer_id AS VARCHAR) FROM {raw} AS r
                        JOIN customer_crosswalk AS x ON CAST(x.source_system AS VARCHAR) = r.source_system
                         AND CAST(x.source_record_id AS VARCHAR) = CAST(r.source_record_id AS VARCHAR)
                        WHERE lower(trim(r.email)) IN (SELECT unnest(?::VARCHAR[]))""",
                    [sorted(emails)],
                ).fetchall()
                customers |= {r[0] for r in found if r[0]}
            if records:
                found = con.execute(
                    f"""SELECT DISTINCT lower(trim(email)) FROM {raw}
                        WHERE email IS NOT NULL
                          AND struct_pack(s := CAST(source_system AS VARCHAR), r := CAST(source_record_id AS VARCHAR))
                              IN (SELECT unnest(?::STRUCT(s VARCHAR, r VARCHAR)[]))""",
                    [[{"s": s, "r": r} for s, r in sorted(records)]],
                ).fetchall()
                emails |= {r[0] for r in found if r[0]}
        if "dim_customers" in tables and tables["dim_customers"].has("email") and customers:
            emails |= {
                r[0]
                for r in con.execute(
                    "SELECT DISTINCT lower(trim(email)) FROM dim_customers WHERE email IS NOT NULL "
                    "AND CAST(customer_id AS VARCHAR) IN (SELECT unnest(?::VARCHAR[]))",
                    [sorted(customers)],
                ).fetchall()
                if r[0]
            }
    records = _records(con, crosswalk, customers)
    # event-only sources (SendGrid, Zoom, Teams) are keyed by the address itself: the person's other addresses
    emails |= {normalise_email(r) for _, r in records if "@" in r}
    keys = {f"{s}:{r}" for s, r in records}
    if crosswalk is not None and crosswalk.has("record_key") and customers:
        keys |= {
            r[0]
            for r in con.execute(
                "SELECT DISTINCT CAST(record_key AS VARCHAR) FROM customer_crosswalk "
                "WHERE CAST(customer_id AS VARCHAR) IN (SELECT unnest(?::VARCHAR[]))",
                [sorted(customers)],
            ).fetchall()
            if r[0]
        }
    return emails, customers, records, keys


def _records(con, crosswalk: Table | None, customers: set[str]) -> set[tuple[str, str]]:
    if crosswalk is None or not customers:
        return set()
    return {
        (s, r)
        for s, r in con.execute(
            "SELECT DISTINCT CAST(source_system AS VARCHAR), CAST(source_record_id AS VARCHAR) FROM customer_crosswalk "
            "WHERE CAST(customer_id AS VARCHAR) IN (SELECT unnest(?::VARCHAR[]))",
            [sorted(customers)],
        ).fetchall()
        if s and r
    }


def erase_person(
    con: duckdb.DuckDBPyConnection, output: Path, target: str, *, now: datetime | None = None
) -> ErasureReport:
    """Erase the person named by an address or a customer id from every table and every file below `output`."""
    salt = require_salt()
    target = target.strip()
    if not target:
        raise ErasureError("erase: give an email address or a customer id")
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    ensure_tables(con)
    tables = {t.name: t for t in warehouse_tables(con)}
    emails, customers, records, keys = _person(con, tables, target)
    if not emails and not customers:
        raise ErasureError(f"erase: customer id {target!r} not found in dim_customers or customer_crosswalk")
    hashes = sorted({erasure_hash(e, salt) for e in emails})
    report = ErasureReport(sorted(customers), hashes)
    if "@" in target and not customers:
        report.found = False

    con.execute("BEGIN TRANSACTION")
    try:
        for value in hashes:
            con.execute(f"INSERT INTO {ERASURE_TABLE} VALUES (?, ?) ON CONFLICT DO NOTHING", [value, now])
        # the CRM records, so planning suppresses the customer even after the warehouse is rebuilt
        for system, record in sorted(r for r in records if "@" not in r[1]):  # an address is no record id
            con.execute(
                f"INSERT INTO {ERASED_RECORDS} VALUES ('customer_crosswalk', ?, ?, ?, ?)",
                [system, record, hashes[0] if hashes else None, now],
            )
        for table in tables.values():
            if table.is_view or table.name in (ERASURE_TABLE, ERASED_RECORDS):
                continue
            condition = _rows_of_person(table, emails, customers, records, keys)
            if condition is None:
                continue
            n = _strip_rows(con, table, condition, emails, salt)
            if n:
                report.tables[table.name] = n
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    sync_list(con, output / ERASURE_FILE)
    con.execute("CHECKPOINT")
    _erase_files(output, emails, customers, records, report)
    _append_log(output / ERASURE_LOG, report, now)
    log.info(report.summary())
    return report


def _append_log(path: Path, report: ErasureReport, now: datetime) -> None:
    """The audit trail of erasures: ids, hashes and counts, never the address."""
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {
        "erased_at": now.isoformat(sep=" "),
        "customer_ids": report.customer_ids,
        "erasure_hashes": report.hashes,
        "rows_stripped": report.tables,
        "files_deleted": report.files_deleted,
        "files_rewritten": report.files_rewritten,
    }
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")


def _replace_sql(expr: str, emails: set[str], salt: str) -> str:
    """`expr` with every erased address (any case) replaced by `erased:<hash prefix>`, so keys stay unique."""
    for email in sorted(emails):
        pattern = "(?i)" + "".join(c if c.isalnum() else "\\" + c for c in email)
        expr = f"regexp_replace({expr}, {sql_literal(pattern)}, {sql_literal('erased:' + erasure_hash(email, salt)[:16])}, 'g')"
    return expr


def _strip_rows(con, table: Table, condition: str, emails: set[str], salt: str) -> int:
    """In the rows of `condition`: personal columns, and any other text column that contains an address, NULL;
    where a constraint forbids NULL (a key such as customer_key_map.record_key = 'zoom:<address>') and in text
    lists, the address is replaced by `erased:<hash prefix>`. Returns the rows touched."""
    n = con.execute(f"SELECT count(*) FROM {quote_ident(table.name)} WHERE {condition}").fetchone()[0]
    if not n:
        return 0
    sets = []
    for column in table.columns:
        ident = quote_ident(column.name)
        personal = is_personal_column(column.name)
        if personal and column.name not in table.constrained:
            sets.append(f"{ident} = NULL")
        elif emails and column.is_text and (personal or _contains_any(con, table, column, emails, condition)):
            if column.name in table.constrained:  # a key: keep it unique and present, without the address
                replaced = _replace_sql(f"CAST({ident} AS VARCHAR)", emails, salt)
                sets.append(f"{ident} = CAST({replaced} AS {column.data_type})")
            else:  # free text around the address (a raw line, a message) may name the person too
                sets.append(f"{ident} = NULL")
        elif emails and column.is_text_list and _contains_any(con, table, column, emails, condition):
            sets.append(f"{ident} = list_transform({ident}, lambda x: {_replace_sql('x', emails, salt)})")
    if not sets:
        return 0
    con.execute(f"UPDATE {quote_ident(table.name)} SET {', '.join(sets)} WHERE {condition}")
    return n


def _rows_of_person(table: Table, emails, customers, records, keys) -> str | None:
    parts = []
    email_list = "[" + ", ".join(sql_literal(e) for e in sorted(emails)) + "]"
    if emails:
        for c in table.email_columns:
            parts.append(f"list_contains({email_list}, lower(trim(CAST({quote_ident(c.name)} AS VARCHAR))))")
        for c in (*table.text_columns, *(c for c in table.columns if c.is_text_list)):
            # any text that contains the address (payloads, raw lines, messages, record keys)
            ident = f"lower(CAST({quote_ident(c.name)} AS VARCHAR))"
            parts.extend(f"contains({ident}, {sql_literal(e)})" for e in sorted(emails))
    if customers and table.has("customer_id"):
        ids = "[" + ", ".join(sql_literal(c) for c in sorted(customers)) + "]"
        parts.append(f"list_contains({ids}, CAST(customer_id AS VARCHAR))")
    if records and table.has("source_system"):
        pairs = (
            "["
            + ", ".join(f"{{'s': {sql_literal(s)}, 'r': {sql_literal(r)}}}" for s, r in sorted(records))
            + "]"
        )
        for id_column in ("source_record_id", "survivor_record_id", "duplicate_record_id"):
            if table.has(id_column):
                parts.append(
                    f"list_contains({pairs}, {{'s': CAST(source_system AS VARCHAR), "
                    f"'r': CAST({id_column} AS VARCHAR)}})"
                )
    if keys:
        key_list = "[" + ", ".join(sql_literal(k) for k in sorted(keys)) + "]"
        for c in table.columns:
            if c.name.endswith("record_key") and c.is_text:
                parts.append(f"list_contains({key_list}, CAST({quote_ident(c.name)} AS VARCHAR))")
    return " OR ".join(f"({p})" for p in parts) if parts else None


def _contains_any(con, table: Table, column: Column, emails: set[str], condition: str) -> bool:
    ident = f"lower(CAST({quote_ident(column.name)} AS VARCHAR))"
    hits = " OR ".join(f"contains({ident}, {sql_literal(e)})" for e in sorted(emails))
    return bool(
        con.execute(
            f"SELECT count(*) FROM {quote_ident(table.name)} WHERE ({condition}) AND ({hits})"
        ).fetchone()[0]
    )


# ------------------------------------------------------------------------------------------- files


def _erase_files(output: Path, emails: set[str], customers: set[str], records, report: ErasureReport) -> None:
    if not output.exists():
        return
    plain = {e for e in emails}
    hashed = {hashlib.sha256(e.encode()).hexdigest() for e in emails}  # audience files' email_sha256
    ids = set(customers) | {r for _, r in records}
    needles = [n for n in (*plain, *hashed) if n]
    for path in sorted(p for p in output.rglob("*") if p.is_file()):
        if (
            path.name in (ERASURE_FILE.name, ERASURE_LOG.name)
            or path.suffix in (".duckdb", ".wal")
            or path.name.endswith(".duckdb.wal")
        ):
            continue
        try:
            with path.open(encoding="utf-8", newline="") as handle:  # line ends kept as written
                text = handle.read()
        except (UnicodeDecodeError, OSError):
            continue
        lowered = text.lower()
        mentions = any(n in lowered for n in needles)
        relative = path.relative_to(output).as_posix()
        if path.suffix == ".csv":
            kept, removed = _filter_csv(text, needles, ids)
            if removed:
                with path.open("w", encoding="utf-8", newline="") as handle:
                    handle.write(kept)
                report.files_rewritten.append(relative)
            continue
        if (
            path.suffix == ".json"
            and mentions
            and path.parent.name == "sendgrid"
            and path.name != "manifest.json"
        ):
            path.unlink()  # a mail body to the person
            report.files_deleted.append(relative)
            continue
        if mentions:
            for needle in needles:
                text = re.sub(re.escape(needle), "[erased]", text, flags=re.IGNORECASE)
            with path.open("w", encoding="utf-8", newline="") as handle:
                handle.write(text)
            report.files_rewritten.append(relative)


def _filter_csv(text: str, needles: list[str], ids: set[str]) -> tuple[str, int]:
    """The CSV without rows that contain the person's address (or its hash) or name one of their ids."""
    terminator = "\r\n" if "\r\n" in text else "\n"
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        return text, 0
    kept = [rows[0]]
    removed = 0
    for row in rows[1:]:
        cells = [c.lstrip("'").strip() for c in row]
        lowered = " ".join(cells).lower()
        if any(n in lowered for n in needles) or any(c in ids for c in cells if c):
            removed += 1
        else:
            kept.append(row)
    if not removed:
        return text, 0
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=terminator).writerows(kept)
    return buffer.getvalue(), removed


def plain_address_locations(con: duckdb.DuckDBPyConnection, email: str) -> list[str]:
    """`table.column` of every text, JSON or text-list column (tables and views) that still contains the address:
    for tests and the command's final check."""
    needle = sql_literal(normalise_email(email))
    found = []
    for table in warehouse_tables(con):
        for column in (*table.text_columns, *(c for c in table.columns if c.is_text_list)):
            ident = f"lower(CAST({quote_ident(column.name)} AS VARCHAR))"
            hit = con.execute(
                f"SELECT count(*) FROM {quote_ident(table.name)} WHERE contains({ident}, {needle})"
            ).fetchone()[0]
            if hit:
                found.append(f"{table.name}.{column.name}")
    return found


def compact_warehouse(path: Path, settings: Settings | None = None) -> None:
    """Rewrite the DuckDB file table by table into a new file and swap it in.

    An UPDATE leaves the old values in the file's freed blocks until DuckDB reuses them; a copy holds only the
    current rows, so the erased address is gone from the bytes on disk too. Needs the warehouse closed."""
    tmp = path.with_name(path.name + ".erase-tmp")
    for stale in (tmp, tmp.with_name(tmp.name + ".wal")):
        stale.unlink(missing_ok=True)
    con = warehouse.connect(tmp, settings=settings)
    try:
        con.execute(f"ATTACH {sql_literal(str(path))} AS erase_src (READ_ONLY)")
        target = con.execute("SELECT current_database()").fetchone()[0]
        con.execute(f"COPY FROM DATABASE erase_src TO {quote_ident(target)}")
        con.execute("DETACH erase_src")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, path)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)
