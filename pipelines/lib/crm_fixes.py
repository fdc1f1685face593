"""CRM fix-list files from the `crm_merge_suggestions` mart: one merge per row, both records side by side, so an
admin can review each merge without SQL and then apply it with the CRM's own merge (docs/single_customer_view.md).

Each file starts with the two ids the CRM's merge takes, named as that merge names them:
- Salesforce (`salesforce_merge_contacts_<date>.csv`, `salesforce_merge_leads_<date>.csv`; contacts and leads
  cannot be merged with each other): `MasterRecordId,DuplicateRecordId`, the `masterRecord` and one of the
  `recordToMergeIds` of the SOAP API's `merge()` call (Apex `Database.merge`); up to three records per call.
- HubSpot (`hubspot_merge_<date>.csv`): `primaryObjectId,objectIdToMerge`, the body of
  `POST /crm/v3/objects/contacts/merge`.
- Zoho CRM (`zoho_merge_<date>.csv`): `MasterRecordId,DuplicateRecordId`, the master record kept by Zoho's merge
  (the Merge Records API, or the Deduplicate / Find and Merge tool in the UI).
- Dynamics 365 (`dynamics_merge_<date>.csv`): `TargetId,SubordinateId`, the `Target` and `Subordinate` of the
  Web API's `Merge` action (or Merge in the UI).

Then, the same for every CRM: the evidence (identity rule, Splink match probability of the pair, the comparisons
that agreed) and both records side by side (name, email, company, the CRM's own created / modified timestamps).

A record appears at most once as a duplicate; survivors are never duplicates of another pair (the mart picks one
survivor per customer, CRM and object). Files are written even when empty (header only) so an operator can see the
run produced nothing to fix. The files hold names and emails: they are for the CRM's admins, like the CRM itself.
Text cells that start like a spreadsheet formula (`=`, `+`, `-`, `@`, TAB, CR) get a leading `'` (csv_safe).
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import duckdb

from pipelines.lib.csv_safe import escape_cell

SALESFORCE_HEADER = ("MasterRecordId", "DuplicateRecordId")
HUBSPOT_HEADER = ("primaryObjectId", "objectIdToMerge")
ZOHO_HEADER = ("MasterRecordId", "DuplicateRecordId")
DYNAMICS_HEADER = ("TargetId", "SubordinateId")
# The review columns after the two ids, the same in every file.
REVIEW_HEADER = (
    "Evidence",
    "MatchProbability",
    "AgreedComparisons",
    "KeepName",
    "MergeName",
    "KeepEmail",
    "MergeEmail",
    "KeepCompany",
    "MergeCompany",
    "KeepCreatedAt",
    "MergeCreatedAt",
    "KeepModifiedAt",
    "MergeModifiedAt",
)
_REVIEW_COLUMNS = (
    "evidence",
    "match_probability",
    "agreed_comparisons",
    "survivor_name",
    "duplicate_name",
    "survivor_email",
    "duplicate_email",
    "survivor_company",
    "duplicate_company",
    "survivor_created_at",
    "duplicate_created_at",
    "survivor_updated_at",
    "duplicate_updated_at",
)

# file stem -> (source system, object type or None for all, id header)
_FILES = {
    "salesforce_merge_contacts": ("salesforce", "contact", SALESFORCE_HEADER),
    "salesforce_merge_leads": ("salesforce", "lead", SALESFORCE_HEADER),
    "hubspot_merge": ("hubspot", None, HUBSPOT_HEADER),
    "zoho_merge": ("zoho", None, ZOHO_HEADER),
    "dynamics_merge": ("dynamics", None, DYNAMICS_HEADER),
}


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")  # the mart's timestamps are UTC
    if isinstance(value, float):
        return f"{value:.6f}"
    return escape_cell(str(value))  # text a spreadsheet could run as a formula gets a leading '


def _rows(con: duckdb.DuckDBPyConnection, source_system: str, object_type: str | None) -> list[list[str]]:
    sql = (
        f"select survivor_record_id, duplicate_record_id, {', '.join(_REVIEW_COLUMNS)} from crm_merge_suggestions "
        "where source_system = ? and (? is null or object_type = ?) "
        "order by survivor_record_id, duplicate_record_id"
    )
    return [
        [_cell(v) for v in row]
        for row in con.execute(sql, [source_system, object_type, object_type]).fetchall()
    ]


def write_crm_fix_files(
    con: duckdb.DuckDBPyConnection, out_dir: Path, as_of: date | None = None
) -> list[Path]:
    """Write the merge files for Salesforce (contacts, leads), HubSpot, Zoho and Dynamics into `out_dir`; return
    their paths."""
    stamp = (as_of or date.today()).isoformat()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for stem, (source_system, object_type, header) in _FILES.items():
        path = out_dir / f"{stem}_{stamp}.csv"
        rows = _rows(con, source_system, object_type)
        tmp = path.with_suffix(".csv.tmp")
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            # RFC 4180 line ends: Python 3.11's csv quotes a cell only for the characters of the line terminator,
            # so with "\r\n" a CR or LF inside a name stays inside its quoted cell.
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow((*header, *REVIEW_HEADER))
            writer.writerows(rows)
        tmp.replace(path)
        paths.append(path)
    return paths


def count_rows(path: Path) -> int:
    """Data rows of a written fix file (header excluded; a quoted value may span lines)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return max(sum(1 for _ in csv.reader(handle)) - 1, 0)
