"""HubSpot exports that repeat column names themselves: the "with associated company properties" contacts export
(the company's properties after `Record ID - Company` repeat the contact's labels) and the "all properties"
export (association labels such as `Billing Contact` twice). Both load; nothing is rejected."""

from __future__ import annotations

from datetime import datetime

from tests.unit.ingest.conftest import result_for


def _hubspot_csv(rows: list[list[str]]) -> bytes:
    """HubSpot's CSV export: UTF-8 with BOM, every field quoted, LF rows."""
    lines = [",".join('"' + v.replace('"', '""') + '"' for v in row) for row in rows]
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


ASSOCIATED = [
    [
        "Record ID - Contact",
        "First Name",
        "Last Name",
        "Email",
        "Phone Number",
        "Create Date",
        "Last Activity Date",
        "Country/Region",
        "Lifecycle Stage",
        "Record ID - Company",
        "Company name",
        "Create Date",
        "Phone Number",
        "Last Activity Date",
        "Country/Region",
        "Industry",
    ],
    [
        "51000281456",
        "William",
        "Mercier",
        "william@flint.example",
        "+1 617 555 0100",
        "2026-03-04 10:15",
        "2026-06-30 08:00",
        "United States",
        "customer",
        "9100001",
        "Flint Ltd",
        "2019-01-02 09:00",
        "+44 20 7946 0000",
        "2026-07-01 12:00",
        "United Kingdom",
        "SOFTWARE",
    ],
    [
        "51000281457",
        "Ana",
        "Bauer",
        "ana@example.de",
        "",
        "2026-03-05 11:00",
        "",
        "Germany",
        "lead",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ],
]


def test_contacts_with_associated_company_properties_load_the_company_apart(exports):
    exports.write(
        "hubspot/hubspot-crm-exports-contacts-with-companies-2026-07-02.csv", _hubspot_csv(ASSOCIATED)
    )
    report = exports.ingest()
    res = result_for(report, "hubspot/hubspot-crm-exports-contacts-with-companies-2026-07-02.csv")
    assert (res.format, res.status, res.rows_read, res.rows_loaded, res.rows_quarantined) == (
        "hubspot_contacts",
        "loaded",
        2,
        2,
        0,
    )
    assert any("associated company's" in w for w in res.warnings)
    rows = exports.rows(
        "SELECT source_record_id, email, phone, country, created_at, company, account_id, industry, "
        "extra->>'company_Phone Number', extra->>'company_Country/Region', extra->>'company_Create Date', "
        "extra->>'Last Activity Date', extra->>'company_Last Activity Date' FROM raw_crm_contacts ORDER BY 1"
    )
    assert rows == [
        (
            "51000281456",
            "william@flint.example",
            "+1 617 555 0100",  # the contact's phone, not the company's
            "United States",
            datetime(2026, 3, 4, 10, 15),  # the contact's Create Date
            "Flint Ltd",
            "9100001",
            "SOFTWARE",
            "+44 20 7946 0000",
            "United Kingdom",
            "2019-01-02 09:00",
            "2026-06-30 08:00",
            "2026-07-01 12:00",
        ),
        ("51000281457", "ana@example.de", None, "Germany", datetime(2026, 3, 5, 11, 0), None, None, None)
        + (None,) * 5,
    ]


def test_all_properties_export_keeps_repeated_association_labels_apart_by_position(exports):
    rows = [
        [
            "Record ID",
            "First Name",
            "Last Name",
            "Email",
            "Billing Contact",
            "Billing Contact IDs",
            "Lifecycle Stage",
            "Billing Contact",
            "Billing Contact IDs",
        ],
        ["101", "Zoë", "Müller", "zoe@example.com", "Finance team", "201;202", "lead", "Accounts", "301"],
    ]
    exports.write("hubspot/all-contacts-all-properties.csv", _hubspot_csv(rows))
    report = exports.ingest()
    res = result_for(report, "hubspot/all-contacts-all-properties.csv")
    assert (res.status, res.rows_loaded, res.rows_quarantined) == ("loaded", 1, 0)
    assert any("Billing Contact (columns 5, 8)" in w for w in res.warnings)
    assert exports.rows(
        "SELECT first_name, lifecycle_stage, extra->>'Billing Contact', extra->>'Billing Contact IDs', "
        "extra->>'Billing Contact [column 8]', extra->>'Billing Contact IDs [column 9]' FROM raw_crm_contacts"
    ) == [("Zoë", "lead", "Finance team", "201;202", "Accounts", "301")]
