"""CRM fix-list files from the `crm_merge_suggestions` mart, in the shapes the CRMs' own tools accept.

- Salesforce: one CSV per object (`salesforce_merge_contacts_<date>.csv`, `salesforce_merge_leads_<date>.csv`)
  with `MasterRecordId,DuplicateRecordId`: the pair layout that Data Loader-driven merge jobs and DemandTools
  imports read (contacts and leads cannot be merged with each other, so they are separate files).
- HubSpot: `hubspot_merge_<date>.csv` with `primaryObjectId,objectIdToMerge`, the two fields of the CRM merge API
  (POST /crm/v3/objects/contacts/merge) body, one merge per row.

A record appears at most once as a duplicate; survivors are never duplicates of another pair (the mart picks one
survivor per customer, CRM and object). Files are written even when empty (header only) so an operator can see the
run produced nothing to fix. Only ids are written: no names or emails.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import duckdb

SALESFORCE_HEADER = ("MasterRecordId", "DuplicateRecordId")
HUBSPOT_HEADER = ("primaryObjectId", "objectIdToMerge")

# file stem -> (source system, object type or None for all, header)
_FILES = {
    "salesforce_merge_contacts": ("salesforce", "contact", SALESFORCE_HEADER),
    "salesforce_merge_leads": ("salesforce", "lead", SALESFORCE_HEADER),
    "hubspot_merge": ("hubspot", None, HUBSPOT_HEADER),
}


def _pairs(
    con: duckdb.DuckDBPyConnection, source_system: str, object_type: str | None
) -> list[tuple[str, str]]:
    sql = (
        "select survivor_record_id, duplicate_record_id from crm_merge_suggestions "
        "where source_system = ? and (? is null or object_type = ?) "
        "order by survivor_record_id, duplicate_record_id"
    )
    return [
        (str(a), str(b)) for a, b in con.execute(sql, [source_system, object_type, object_type]).fetchall()
    ]


def write_crm_fix_files(
    con: duckdb.DuckDBPyConnection, out_dir: Path, as_of: date | None = None
) -> list[Path]:
    """Write the merge files for Salesforce (contacts, leads) and HubSpot into `out_dir`; return their paths."""
    stamp = (as_of or date.today()).isoformat()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for stem, (source_system, object_type, header) in _FILES.items():
        path = out_dir / f"{stem}_{stamp}.csv"
        rows = _pairs(con, source_system, object_type)
        tmp = path.with_suffix(".csv.tmp")
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
        tmp.replace(path)
        paths.append(path)
    return paths


def count_rows(path: Path) -> int:
    """Data rows of a written fix file (header excluded)."""
    with path.open(encoding="utf-8") as handle:
        return max(sum(1 for _ in handle) - 1, 0)
