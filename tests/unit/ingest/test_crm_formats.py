"""HubSpot (default and localized headers, deals), Zoho (zcrm_ ids, X/X.id pairs, scientific notation),
encodings (UTF-8, BOM, UTF-16 LE/BE, cp1252 give identical rows), and the sample-data generator's output."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from tests.unit.ingest.conftest import result_for, sf_contact_csv

HS_HEADER = (
    "Record ID,First Name,Last Name,Email,Phone Number,Mobile Phone Number,Job Title,Company Name,"
    "Street Address,City,State/Region,Postal Code,Country/Region,Date of birth,Lifecycle Stage,Lead Status,"
    "Marketing contact status,Unsubscribed from all email,Industry,Number of Employees,Annual Revenue,"
    "Time Zone,Salesforce Contact ID,Create Date,Last Modified Date,Contact owner"
)
HS_ROW = (
    "51000281456,William,Mercier,william@flint.example,+1 617 555 0100,,CFO,Flint,1 Main St,Boston,MA,02149,"
    'United States,1970-01-31,customer,Connected,Marketing contact,true,Software,1200,"1,500,000",'
    "America/New_York,0038d000E6r1DddAIE,2026-03-04 10:15,2026-07-01 09:00,Sam Patel"
)


def test_hubspot_contacts_portal_zone_and_xref(exports):
    exports.sources("sources:\n  hubspot:\n    time_zone: America/New_York\n")
    exports.write("hubspot/hubspot-crm-exports-all-contacts-2026-07-02.csv", HS_HEADER + "\n" + HS_ROW + "\n")
    exports.ingest()
    row = exports.rows(
        "SELECT source_system, record_type, source_record_id, xref_salesforce_id, "
        "has_opted_out_of_email, lifecycle_stage, employees, annual_revenue, created_at, updated_at "
        "FROM raw_crm_contacts"
    )[0]
    # New York: EST (UTC-5) on 4 March, EDT (UTC-4) on 1 July.
    assert row == (
        "hubspot",
        "contact",
        "51000281456",
        "0038d000E6r1DddAIE",
        True,
        "customer",
        1200,
        1500000.0,
        datetime(2026, 3, 4, 15, 15),
        datetime(2026, 7, 1, 13, 0),
    )


def test_localized_hubspot_headers_are_mapped_by_the_sources_file(exports):
    exports.sources(
        "sources:\n  hubspot:\n    header_aliases:\n      Datensatz-ID: Record ID\n"
        "      Vorname: First Name\n      Nachname: Last Name\n      E-Mail: Email\n"
    )
    exports.write(
        "hubspot/kontakte.csv",
        "Datensatz-ID,Vorname,Nachname,E-Mail,Lieblingsfarbe\n77,Jürgen,Groß,jg@example.de,blau\n",
    )
    report = exports.ingest()
    res = result_for(report, "hubspot/kontakte.csv")
    assert res.format == "hubspot_contacts"
    assert any("Lieblingsfarbe" in w for w in res.warnings)
    assert exports.rows(
        "SELECT source_record_id, first_name, last_name, email, extra->>'Lieblingsfarbe' FROM "
        "raw_crm_contacts"
    ) == [("77", "Jürgen", "Groß", "jg@example.de", "blau")]


def test_hubspot_deals_use_the_first_associated_contact_and_keep_all(exports):
    exports.write(
        "hubspot/hubspot-crm-exports-all-deals-2026-07-02.csv",
        "Record ID,Deal Name,Deal Stage,Amount,Close Date,Create Date,Pipeline,Deal owner,"
        "Associated Contact IDs,Associated Company\n"
        "9001,Flint - Pro,Closed Won,20900,2026-06-30,2026-05-01 10:00,Sales Pipeline,Sam,51;52,Flint\n"
        "9002,Flint - Add-on,Appointment Scheduled,,,2026-05-02 10:00,Sales Pipeline,Sam,,\n",
    )
    exports.ingest()
    rows = exports.rows(
        "SELECT deal_id, contact_source_record_id, is_won, is_closed, amount, "
        "extra->>'Associated Contact IDs' FROM raw_crm_deals ORDER BY 1"
    )
    assert rows == [("9001", "51", True, True, 20900.0, "51;52"), ("9002", None, False, False, None, None)]


ZOHO = (
    "Record Id,Contact Owner,Contact Owner.id,First Name,Last Name,Email,Account Name,Account Name.id,"
    "Email Opt Out,Created Time,Modified Time\n"
    "zcrm_4876876000000123456,Sam Patel,zcrm_4876876000000000001,Ana,Bauer,ana@example.de,Bauer GmbH,"
    "zcrm_4876876000000222222,false,2026-03-04 10:15:00,2026-03-05 10:15:00\n"
    "4.87687600000012E+18,Sam Patel,zcrm_4876876000000000001,Bo,Li,bo@example.com,,,true,"
    "2026-03-04 10:15:00,2026-03-05 10:15:00\n"
)


def test_zoho_ids_lose_the_prefix_lookups_use_their_id_and_scientific_ids_are_flagged(exports):
    exports.write("zoho/Contacts_001.csv", ZOHO)
    report = exports.ingest()
    res = result_for(report, "zoho/Contacts_001.csv")
    assert (res.format, res.rows_loaded) == ("zoho_crm", 2)
    assert any("scientific notation" in w for w in res.warnings)
    rows = exports.rows(
        "SELECT source_record_id, owner_id, account_id, company, has_opted_out_of_email FROM "
        "raw_crm_contacts ORDER BY _source_line"
    )
    assert rows[0] == (
        "4876876000000123456",
        "4876876000000000001",
        "4876876000000222222",
        "Bauer GmbH",
        False,
    )
    assert rows[1][0] == "4876876000000120000" and rows[1][4] is True


@pytest.mark.parametrize(
    "encoding,bom",
    [("utf-8", ""), ("utf-8", "\ufeff"), ("utf-16-le", "\ufeff"), ("utf-16-be", "\ufeff"), ("cp1252", "")],
)
def test_encodings_give_identical_rows_and_no_bom_in_names(exports, encoding, bom):
    exports.write("reference/Contact.csv", sf_contact_csv(4))
    exports.write("variant/Contact.csv", bom + sf_contact_csv(4, newline="\r\n"), encoding=encoding)
    report = exports.ingest()
    variant = result_for(report, "variant/Contact.csv")
    assert variant.status == "loaded" and variant.rows_loaded == 4 and variant.warnings == []
    diff = exports.one(
        "SELECT count(*) FROM (SELECT * EXCLUDE (_source_file, _file_hash) FROM raw_crm_contacts WHERE "
        "_source_file LIKE 'reference/%' EXCEPT SELECT * EXCLUDE (_source_file, _file_hash) FROM raw_crm_contacts "
        "WHERE _source_file LIKE 'variant/%')"
    )
    assert diff == 0
    assert (
        exports.one(
            "SELECT count(*) FROM raw_crm_contacts WHERE first_name = 'Zoë' AND last_name LIKE 'Müller%'"
        )
        == 8
    )


def test_generator_output_loads_with_nothing_quarantined(tmp_path: Path):
    import duckdb

    from pipelines.lib.ingest import ingest_folder
    from touchplan_sample_data import generate

    out = tmp_path / "exports"
    generate(out, contacts=200, seed=3, as_of=datetime(2026, 11, 1))
    con = duckdb.connect()
    report = ingest_folder(con, out, Path(__file__).resolve().parents[3] / "config")
    assert report.rejected == []
    assert report.totals["rows_quarantined"] == 0
    assert all(f.rows_read == f.rows_loaded > 0 for f in report.files)
    assert not any(f.path.startswith("_truth") for f in report.files)
    kinds = {f.format for f in report.files}
    assert {
        "salesforce_contact",
        "salesforce_lead",
        "salesforce_opportunity",
        "hubspot_contacts",
        "hubspot_deals",
        "mailchimp_zip",
        "sendgrid_events",
        "zoom_webinar_report",
    } <= kinds
    assert (
        con.execute("SELECT count(*) FROM raw_crm_contacts WHERE xref_hubspot_id IS NOT NULL").fetchall()[0][
            0
        ]
        > 0
    )
