"""Microsoft Dynamics 365 "Export to Excel" (.xlsx) contacts and leads: hidden `(Do Not Modify)` columns found by
name, the GUID as source_record_id, display-label columns, time zones, quarantine and whole-file rejection."""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl

from pipelines.lib.ingest import dynamics
from tests.unit.ingest.conftest import result_for

HIDDEN = ["(Do Not Modify) Contact", "(Do Not Modify) Row Checksum", "(Do Not Modify) Modified On"]
VISIBLE = [
    "Full Name",
    "First Name",
    "Last Name",
    "Email",
    "Business Phone",
    "Mobile Phone",
    "Job Title",
    "Company Name",
    "Address 1: City",
    "Address 1: Country/Region",
    "Do not allow Emails",
    "Do not allow Bulk Emails",
    "Created On",
    "Modified On",
]
GUIDS = [
    "7d8f3b2a-1c4e-4f5a-9b6c-0d1e2f3a4b5c",
    "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
    "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
]


def contact(i: int, **over):
    values = {
        "(Do Not Modify) Contact": GUIDS[i] if i < len(GUIDS) else f"00000000-0000-4000-8000-{i:012d}",
        "(Do Not Modify) Row Checksum": f"kR2pX{i}fG+aQ==",
        "(Do Not Modify) Modified On": datetime(2024, 3, 15, 8, 58, 12),
        "Full Name": f"Zoë Müller{i}",
        "First Name": "Zoë",
        "Last Name": f"Müller{i}",
        "Email": f"zoe{i}@example.de",
        "Business Phone": 4930123456 + i,
        "Mobile Phone": "+49 151 2345678",
        "Job Title": "Head of Marketing",
        "Company Name": "Contoso GmbH",
        "Address 1: City": "Berlin",
        "Address 1: Country/Region": "Germany",
        "Do not allow Emails": "Allow",
        "Do not allow Bulk Emails": "Do Not Allow" if i == 1 else "Allow",
        "Created On": datetime(2024, 1, 10, 9, 30),
        "Modified On": datetime(2024, 3, 15, 9, 58, 12),
    }
    values.update(over)
    return values


def workbook(
    rows: list[dict],
    headers: list[str] | None = None,
    hidden_sheet_first: bool = False,
    title: str = "My Active Contacts",
    trailing: list[list] | None = None,
) -> bytes:
    """An export as Dynamics writes it: the data sheet with the (Do Not Modify) columns hidden, and a hidden
    `hiddenSheet` holding the entity metadata."""
    headers = headers or HIDDEN + VISIBLE
    wb = openpyxl.Workbook()
    data = wb.active
    data.title = title
    meta = wb.create_sheet("hiddenSheet", 0 if hidden_sheet_first else 1)
    meta.append(["contact", "My Active Contacts", "00000000-0000-0000-00aa-000010001003"])
    meta.append(["Allow", "Do Not Allow"])
    meta.sheet_state = "hidden"
    data.append(headers)
    for row in rows:
        data.append([row.get(h) for h in headers])
    for extra in trailing or []:
        data.append(extra)
    for index, header in enumerate(headers, start=1):
        if header.startswith("(Do Not Modify)"):
            data.column_dimensions[openpyxl.utils.get_column_letter(index)].hidden = True
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_workbook_builder_really_hides_the_do_not_modify_columns():
    wb = openpyxl.load_workbook(io.BytesIO(workbook([contact(0)])))
    ws = wb["My Active Contacts"]
    assert [ws.column_dimensions[c].hidden for c in "ABCD"] == [True, True, True, False]
    assert wb["hiddenSheet"].sheet_state == "hidden"


def test_contact_export_detected_from_content_and_loaded_with_guid_and_utc_times(exports):
    exports.sources("sources:\n  dynamics:\n    time_zone: Europe/Berlin\n")
    # The name says nothing (or misleads): detection reads the sheet's header row.
    exports.write("crm/hubspot_contacts.xlsx", workbook([contact(0), contact(1), contact(2)]))
    report = exports.ingest()
    res = result_for(report, "crm/hubspot_contacts.xlsx")
    assert (res.format, res.source_kind, res.status) == ("dynamics_xlsx", "crm", "loaded")
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined) == (3, 3, 0)
    rows = exports.rows(
        "SELECT source_system, record_type, source_record_id, first_name, last_name, email, phone, mobile_phone, "
        "title, company, city, country, has_opted_out_of_email, created_at, updated_at, _source_line, "
        "extra->>'Full Name' FROM raw_crm_contacts ORDER BY _source_line"
    )
    # Berlin is UTC+1 in January, UTC+1 on 15 March (DST starts 31 March 2024).
    assert rows[0] == (
        "dynamics",
        "contact",
        GUIDS[0],
        "Zoë",
        "Müller0",
        "zoe0@example.de",
        "4930123456",
        "+49 151 2345678",
        "Head of Marketing",
        "Contoso GmbH",
        "Berlin",
        "Germany",
        False,
        datetime(2024, 1, 10, 8, 30),
        datetime(2024, 3, 15, 8, 58, 12),
        2,
        "Zoë Müller0",
    )
    assert [r[12] for r in rows] == [False, True, False]  # "Do Not Allow" bulk emails -> opted out
    assert [r[15] for r in rows] == [2, 3, 4]  # sheet rows
    # Hidden checksum is not data anyone needs downstream; no warning about unknown columns.
    assert not any("unknown column" in w for w in res.warnings)
    files = exports.rows(
        "SELECT format, source_kind, rows_read, rows_loaded, rows_quarantined FROM ingest_files"
    )
    assert files == [("dynamics_xlsx", "crm", 3, 3, 0)]


def test_hidden_columns_are_found_by_header_name_not_position(exports):
    moved = VISIBLE[:5] + HIDDEN[::-1] + VISIBLE[5:]
    exports.write("a.xlsx", workbook([contact(0), contact(1)]))
    exports.write("b.xlsx", workbook([contact(0), contact(1)], headers=moved, hidden_sheet_first=True))
    report = exports.ingest()
    assert [(f.format, f.rows_loaded) for f in report.files] == [("dynamics_xlsx", 2), ("dynamics_xlsx", 2)]
    cols = "source_record_id, email, phone, has_opted_out_of_email, created_at, updated_at"
    a = exports.rows(f"SELECT {cols} FROM raw_crm_contacts WHERE _source_file = 'a.xlsx' ORDER BY 1")
    b = exports.rows(f"SELECT {cols} FROM raw_crm_contacts WHERE _source_file = 'b.xlsx' ORDER BY 1")
    assert a == b and sorted(r[0] for r in a) == sorted(GUIDS[:2])


def test_bad_rows_are_quarantined_with_reasons_and_counts_reconcile(exports):
    rows = [
        contact(0),
        contact(1, **{"(Do Not Modify) Contact": None}),  # no GUID
        contact(2, **{"Created On": "31/31/2024"}),  # not a date
        contact(3, **{"Do not allow Bulk Emails": "Maybe"}),  # neither Allow nor Do Not Allow
        contact(4, **{"(Do Not Modify) Contact": "{ABCDEF01-2345-4678-9ABC-DEF012345678}"}),
    ]
    trailing = [[None] * 17, [GUIDS[2]] + [None] * 16 + ["stray value"]]  # a blank row, a row too wide
    exports.write("dyn/contacts.xlsx", workbook(rows, trailing=trailing))
    report = exports.ingest()
    res = result_for(report, "dyn/contacts.xlsx")
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined) == (6, 2, 4)
    assert res.rows_read == res.rows_loaded + res.rows_quarantined
    quarantine = exports.rows(
        "SELECT line_number, reason, format, target_table FROM ingest_quarantine ORDER BY line_number"
    )
    assert quarantine == [
        (3, "(Do Not Modify) Contact is empty", "dynamics_xlsx", "raw_crm_contacts"),
        (4, "Created On: 31/31/2024 is not a date and time", "dynamics_xlsx", "raw_crm_contacts"),
        (
            5,
            "Do not allow Bulk Emails / Do not allow Emails: Maybe is not a yes/no value",
            "dynamics_xlsx",
            "raw_crm_contacts",
        ),
        (
            8,
            "malformed row: value(s) in column(s) [18] beyond the 17 headed columns",
            "dynamics_xlsx",
            "raw_crm_contacts",
        ),
    ]
    # The raw text of a quarantined row is the row as the sheet has it (original "Maybe", tab-separated).
    raw = exports.one("SELECT raw_text FROM ingest_quarantine WHERE line_number = 5")
    assert raw.startswith("00000000-0000-4000-8000-000000000003\t") and "\tMaybe\t" in raw
    # Braces around a GUID are dropped and it is lower-cased, as Dataverse ids are compared.
    assert exports.rows("SELECT source_record_id FROM raw_crm_contacts ORDER BY _source_line") == [
        (GUIDS[0],),
        ("abcdef01-2345-4678-9abc-def012345678",),
    ]
    assert any("1 empty sheet row(s) skipped" in w for w in res.warnings)


def test_lead_export_loads_as_leads(exports):
    headers = [
        "(Do Not Modify) Lead",
        "(Do Not Modify) Row Checksum",
        "(Do Not Modify) Modified On",
        "Topic",
        "First Name",
        "Last Name",
        "Company Name",
        "Email",
        "Status Reason",
        "Lead Source",
        "No. of Employees",
        "Budget Amount",
        "Created On",
    ]
    lead = {
        "(Do Not Modify) Lead": GUIDS[2],
        "(Do Not Modify) Row Checksum": "x",
        "Topic": "Wants a demo",
        "First Name": "Bo",
        "Last Name": "Li",
        "Company Name": "Fabrikam",
        "Email": "bo@fabrikam.example",
        "Status Reason": "New",
        "Lead Source": "Web",
        "No. of Employees": 250,
        "Budget Amount": 12500.5,
        "Created On": "3/15/2024 9:58 AM",
    }
    exports.write("leads.xlsx", workbook([lead], headers=headers, title="My Open Leads"))
    report = exports.ingest()
    assert result_for(report, "leads.xlsx").rows_loaded == 1
    row = exports.rows(
        "SELECT record_type, source_record_id, company, lead_status, lead_source, employees, budget, "
        "created_at, extra->>'Topic' FROM raw_crm_contacts"
    )[0]
    assert row == (
        "lead",
        GUIDS[2],
        "Fabrikam",
        "New",
        "Web",
        250,
        12500.5,
        datetime(2024, 3, 15, 9, 58),
        "Wants a demo",
    )


def test_duplicate_header_rejects_the_whole_file_before_anything_is_written(exports):
    headers = HIDDEN + VISIBLE + ["Email"]
    exports.write("dup.xlsx", workbook([contact(0)], headers=headers))
    report = exports.ingest()
    res = result_for(report, "dup.xlsx")
    assert res.status == "rejected"
    assert res.error == "dup.xlsx: line 1 (sheet header): duplicate column name(s): Email"
    assert exports.one("SELECT count(*) FROM raw_crm_contacts") == 0
    assert exports.one("SELECT count(*) FROM ingest_quarantine") == 0


def test_export_of_another_entity_is_rejected_with_the_file_and_column(exports):
    headers = [
        "(Do Not Modify) Account",
        "(Do Not Modify) Row Checksum",
        "(Do Not Modify) Modified On",
        "Account Name",
        "Main Phone",
    ]
    exports.write(
        "accounts.xlsx",
        workbook([{"(Do Not Modify) Account": GUIDS[0], "Account Name": "Contoso"}], headers=headers),
    )
    res = result_for(exports.ingest(), "accounts.xlsx")
    assert res.status == "rejected"
    assert res.error.startswith("accounts.xlsx: line 1: a Dynamics export of 'Account' records")


def test_xlsx_without_dynamics_columns_is_not_recognised(exports):
    exports.write("contacts.xlsx", workbook([{"Email": "a@b.example"}], headers=["Email", "First Name"]))
    res = result_for(exports.ingest(), "contacts.xlsx")
    assert res.status == "rejected" and "format not recognised" in res.error


def test_a_file_at_the_export_limit_warns_that_it_may_be_cut(exports, monkeypatch):
    monkeypatch.setattr(dynamics, "EXPORT_LIMIT", 3)
    exports.write("big.xlsx", workbook([contact(i) for i in range(3)]))
    res = result_for(exports.ingest(), "big.xlsx")
    assert res.rows_loaded == 3
    assert any("Dynamics' export limit" in w for w in res.warnings)


GERMAN = """sources:
  dynamics:
    time_zone: Europe/Berlin
    header_aliases:
      (Nicht ändern) Kontakt: (Do Not Modify) Contact
      (Nicht ändern) Zeilenprüfsumme: (Do Not Modify) Row Checksum
      (Nicht ändern) Geändert am: (Do Not Modify) Modified On
      Vorname: First Name
      Nachname: Last Name
      E-Mail: Email
      Erstellt am: Created On
"""


def test_localized_export_reads_through_header_aliases(exports):
    exports.sources(GERMAN)
    german = {
        "(Do Not Modify) Contact": "(Nicht ändern) Kontakt",
        "(Do Not Modify) Row Checksum": "(Nicht ändern) Zeilenprüfsumme",
        "(Do Not Modify) Modified On": "(Nicht ändern) Geändert am",
        "First Name": "Vorname",
        "Last Name": "Nachname",
        "Email": "E-Mail",
        "Created On": "Erstellt am",
    }
    english = list(german)
    rows = [{german[k]: v for k, v in contact(0).items() if k in german}]
    exports.write("kontakte.xlsx", workbook(rows, headers=[german[h] for h in english]))
    res = result_for(exports.ingest(), "kontakte.xlsx")
    assert (res.format, res.rows_loaded) == ("dynamics_xlsx", 1)
    assert exports.rows("SELECT source_record_id, first_name, email, created_at FROM raw_crm_contacts") == [
        (GUIDS[0], "Zoë", "zoe0@example.de", datetime(2024, 1, 10, 8, 30))
    ]
