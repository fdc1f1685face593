"""Salesforce Data Loader exports (Contact, Lead, Opportunity) and report exports with footer rows."""

from __future__ import annotations

from datetime import date, datetime

from tests.unit.ingest.conftest import SF_CONTACT_HEADER, result_for, sf_contact_csv, sf_contact_row

LEAD_HEADER = (
    "Id,IsDeleted,MasterRecordId,LastName,FirstName,Salutation,Name,Title,Company,Street,City,State,"
    "PostalCode,Country,Phone,MobilePhone,Email,LeadSource,Status,Industry,Rating,AnnualRevenue,"
    "NumberOfEmployees,HasOptedOutOfEmail,DoNotCall,OwnerId,IsConverted,ConvertedDate,ConvertedAccountId,"
    "ConvertedContactId,ConvertedOpportunityId,CreatedDate,LastModifiedDate,Product_Interest__c,"
    "Purchase_Timeframe__c,Budget__c"
)
LEAD_ROW = (
    '00Q8d00000AbCdEEAV,false,,Nguyen,An,Mr.,An Nguyen,CTO,"Acme, Inc.",2 Side St,Austin,TX,73301,'
    "United States,+1 512 555 0101,,an@acme.example,Webinar,Working - Contacted,Technology,Hot,2500000,"
    "120,true,false,0058d000003QrStAAK,true,2026-04-01,0018d000000AAAAAAA,0038d000000BBBBBBB,,"
    "2026-03-01T08:00:00.000Z,2026-04-01T09:30:00.000Z,Touchplan Pro,6 months,50000"
)
OPP_HEADER = (
    "Id,IsDeleted,AccountId,ContactId,Name,Description,StageName,Amount,Probability,CloseDate,Type,"
    "LeadSource,IsClosed,IsWon,ForecastCategory,CurrencyIsoCode,CreatedDate,LastModifiedDate,Product__c"
)
OPP_ROW = (
    '0068d00000XyZ12AAB,false,0018d0003jrwrK1AAI,0038d000E6r1DddAIE,Flint - Enterprise,"Multi\nline",'
    "Closed Won,120000.50,100,2026-05-31,New Business,Web,true,true,Closed,USD,2026-02-01T10:00:00.000Z,"
    "2026-05-31T17:00:00.000Z,Touchplan Enterprise"
)


def test_contact_columns_map_to_raw_contacts_with_utc_times_and_flags(exports):
    exports.write(
        "salesforce/Contact.csv",
        SF_CONTACT_HEADER
        + "\n"
        + sf_contact_row(1)
        + "\n"
        + sf_contact_row(2, IsDeleted="true", MasterRecordId="0038d0000000000001")
        + "\n",
    )
    report = exports.ingest()
    res = result_for(report, "salesforce/Contact.csv")
    assert (res.format, res.status, res.rows_read, res.rows_loaded) == ("salesforce_contact", "loaded", 2, 2)
    row = exports.rows(
        "SELECT source_system, record_type, source_record_id, first_name, last_name, email, birth_date, "
        "has_opted_out_of_email, do_not_call, created_at, xref_hubspot_id, product_interest, is_deleted, "
        "master_record_id, _source_line, extra FROM raw_crm_contacts ORDER BY _source_line"
    )
    assert row[0][:13] == (
        "salesforce",
        "contact",
        "0038d0000000000001",
        "Zoë",
        "Müller1",
        "zoe1@example.com",
        date(1980, 2, 29),
        False,
        True,
        datetime(2026, 3, 4, 10, 15),
        "51000000001",
        "Touchplan Enterprise",
        False,
    )
    assert row[0][14] == 2 and row[0][15] is None  # Name is known (first + last), nothing unknown
    assert row[1][12:15] == (True, "0038d0000000000001", 3)  # deleted rows stay, flagged


def test_lead_maps_conversion_and_budget(exports):
    exports.write("salesforce/Lead.csv", LEAD_HEADER + "\n" + LEAD_ROW + "\n")
    exports.ingest()
    row = exports.rows(
        "SELECT record_type, company, converted_contact_id, is_converted, converted_at, budget, "
        "employees, annual_revenue, lead_status, has_opted_out_of_email FROM raw_crm_contacts"
    )[0]
    assert row == (
        "lead",
        "Acme, Inc.",
        "0038d000000BBBBBBB",
        True,
        date(2026, 4, 1),
        50000.0,
        120,
        2500000.0,
        "Working - Contacted",
        True,
    )


def test_opportunity_keeps_multiline_description_and_links_contact(exports):
    exports.write("salesforce/Opportunity.csv", OPP_HEADER + "\n" + OPP_ROW + "\n")
    report = exports.ingest()
    assert result_for(report, "salesforce/Opportunity.csv").rows_loaded == 1
    row = exports.rows(
        "SELECT deal_id, contact_source_record_id, account_id, description, amount, is_won, "
        "close_date, currency, product FROM raw_crm_deals"
    )[0]
    assert row == (
        "0068d00000XyZ12AAB",
        "0038d000E6r1DddAIE",
        "0018d0003jrwrK1AAI",
        "Multi\nline",
        120000.5,
        True,
        date(2026, 5, 31),
        "USD",
        "Touchplan Enterprise",
    )


REPORT = """"Contact ID","First Name","Last Name","Title","Account Name","Mailing City","Email","Email Opt Out","Created Date"
"0038d000001","Ada","Lovelace","CEO","Engines Ltd","London","ada@engines.example","0","3/4/2026, 10:15 AM"
"0038d000002","Alan","Turing","","Bletchley","","alan@bp.example","1","3/30/2026, 9:00 AM"

"Grand Totals (2 records)"

"Confidential Information - Do Not Distribute"
"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."
"""


def test_report_export_footer_rows_are_not_data_and_times_use_the_source_zone(exports):
    exports.sources("sources:\n  salesforce:\n    time_zone: Europe/London\n")
    exports.write("salesforce/contacts_report.csv", REPORT)
    report = exports.ingest()
    res = result_for(report, "salesforce/contacts_report.csv")
    assert (res.format, res.rows_read, res.rows_loaded, res.rows_quarantined) == (
        "salesforce_report",
        2,
        2,
        0,
    )
    assert exports.one("SELECT count(*) FROM ingest_quarantine") == 0
    rows = exports.rows(
        "SELECT source_record_id, has_opted_out_of_email, created_at FROM raw_crm_contacts ORDER BY 1"
    )
    # London: GMT on 4 March, BST (UTC+1) from 29 March.
    assert rows == [
        ("0038d000001", False, datetime(2026, 3, 4, 10, 15)),
        ("0038d000002", True, datetime(2026, 3, 30, 8, 0)),
    ]


def test_missing_required_column_rejects_the_whole_file_naming_it(exports):
    header = SF_CONTACT_HEADER.replace("Id,", "", 1)
    rows = [",".join(sf_contact_row(i).split(",")[1:]) for i in range(3)]
    exports.write("salesforce/Contact.csv", "\n".join([header, *rows]) + "\n")
    report = exports.ingest()
    res = result_for(report, "salesforce/Contact.csv")
    assert res.status == "rejected"
    assert "salesforce/Contact.csv" in res.error and "missing required column(s): Id" in res.error
    assert exports.one("SELECT count(*) FROM raw_crm_contacts") == 0
    assert exports.one("SELECT count(*) FROM ingest_quarantine") == 0
    assert exports.rows("SELECT status, rows_loaded FROM ingest_files") == [("rejected", 0)]


def test_duplicate_header_names_reject_the_whole_file(exports):
    header = SF_CONTACT_HEADER + ",Email"
    exports.write("salesforce/Contact.csv", header + "\n" + sf_contact_row(1) + ",x@y.example\n")
    report = exports.ingest()
    res = result_for(report, "salesforce/Contact.csv")
    assert res.status == "rejected" and "duplicate column name(s): Email" in res.error
    assert "salesforce/Contact.csv" in res.error
    assert exports.one("SELECT count(*) FROM raw_crm_contacts") == 0


def test_unknown_columns_are_kept_in_extra_with_a_warning(exports):
    header = SF_CONTACT_HEADER + ",Favourite_Colour__c"
    exports.write("salesforce/Contact.csv", header + "\n" + sf_contact_row(1) + ",teal\n")
    report = exports.ingest()
    res = result_for(report, "salesforce/Contact.csv")
    assert res.status == "loaded"
    assert any("Favourite_Colour__c" in w and "extra" in w for w in res.warnings)
    assert exports.one("SELECT extra->>'Favourite_Colour__c' FROM raw_crm_contacts") == "teal"


def test_contact_csv_with_crlf_line_endings_loads_the_same(exports):
    exports.write("salesforce/Contact.csv", sf_contact_csv(3, newline="\r\n"))
    report = exports.ingest()
    assert result_for(report, "salesforce/Contact.csv").rows_loaded == 3
    assert exports.rows(
        "SELECT DISTINCT last_name LIKE 'Müller%', length(HubSpot) FROM (SELECT last_name, "
        "xref_hubspot_id AS HubSpot FROM raw_crm_contacts)"
    ) == [(True, 11)]


# The weekly Data Export writes every value quoted, CRLF rows, and `000000000000000AAA` for each empty lookup
# (some orgs' files the 15-character `000000000000000`).
NULL18, NULL15 = "000000000000000AAA", "000000000000000"


def _quoted(*values: str) -> str:
    return ",".join('"' + v.replace('"', '""') + '"' for v in values)


def test_data_export_all_zero_ids_are_null_so_a_lead_is_not_converted(exports):
    header = LEAD_HEADER.split(",")
    converted = dict(zip(header, next(iter(__import__("csv").reader([LEAD_ROW]))), strict=True))
    plain = {
        **converted,
        "Id": "00Q8d00000AbCdFEAV",
        "Email": "bo@acme.example",
        "IsConverted": "false",
        "ConvertedDate": "",
        "ConvertedAccountId": NULL18,
        "ConvertedContactId": NULL18,
        "ConvertedOpportunityId": NULL18,
        "MasterRecordId": NULL18,
        "OwnerId": NULL15,
        "Budget__c": "not a number",  # quarantined: the raw text keeps the zeros as written
    }
    plain2 = {**plain, "Id": "00Q8d00000AbCdGEAV", "Budget__c": "", "ConvertedContactId": NULL15}
    lines = [_quoted(*header)] + [_quoted(*(row[h] for h in header)) for row in (converted, plain, plain2)]
    exports.write("salesforce/Lead.csv", "\r\n".join(lines) + "\r\n")
    report = exports.ingest()
    res = result_for(report, "salesforce/Lead.csv")
    assert (res.format, res.rows_read, res.rows_loaded, res.rows_quarantined) == ("salesforce_lead", 3, 2, 1)
    rows = exports.rows(
        "SELECT source_record_id, is_converted, converted_contact_id, converted_account_id, "
        "converted_opportunity_id, master_record_id, owner_id FROM raw_crm_contacts ORDER BY 1"
    )
    assert rows == [
        (
            "00Q8d00000AbCdEEAV",
            True,
            "0038d000000BBBBBBB",
            "0018d000000AAAAAAA",
            None,
            None,
            "0058d000003QrStAAK",
        ),
        ("00Q8d00000AbCdGEAV", False, None, None, None, None, None),
    ]
    raw = exports.one("SELECT raw_text FROM ingest_quarantine")
    assert f",{NULL18}," in raw and "not a number" in raw


def test_data_export_all_zero_contact_id_does_not_point_an_opportunity_at_a_contact(exports):
    header = [h.upper() for h in OPP_HEADER.split(",")] + ["PRIMARY_CONTACT__C", "CREATEDBYID"]
    rows = [
        [
            "0068d00000XyZ12AAB",
            "false",
            NULL18,
            NULL18,
            "Flint",
            "",
            "Prospecting",
            "100",
            "10",
            "2026-05-31",
            "",
            "",
            "false",
            "false",
            "Pipeline",
            "USD",
            "2026-02-01T10:00:00.000Z",
            "2026-02-01T10:00:00.000Z",
            "",
            NULL18,
            NULL15,
        ],
        [
            "0068d00000XyZ13AAB",
            "false",
            "0018d0003jrwrK1AAI",
            "0038d000E6r1DddAIE",
            "Acme",
            "",
            "Closed Won",
            "200",
            "100",
            "2026-05-31",
            "",
            "",
            "true",
            "true",
            "Closed",
            "USD",
            "2026-02-01T10:00:00.000Z",
            "2026-02-01T10:00:00.000Z",
            "",
            "0038d000E6r1DddAIE",
            "0058d000003QrStAAK",
        ],
    ]
    exports.write(
        "salesforce/Opportunity.csv", "\r\n".join([_quoted(*header)] + [_quoted(*r) for r in rows]) + "\r\n"
    )
    report = exports.ingest()
    res = result_for(report, "salesforce/Opportunity.csv")
    assert (res.format, res.rows_loaded, res.rows_quarantined) == ("salesforce_opportunity", 2, 0)
    got = exports.rows(
        "SELECT deal_id, contact_source_record_id, account_id, extra->>'PRIMARY_CONTACT__C', "
        "extra->>'CREATEDBYID' FROM raw_crm_deals ORDER BY 1"
    )
    assert got == [
        ("0068d00000XyZ12AAB", None, None, None, None),
        (
            "0068d00000XyZ13AAB",
            "0038d000E6r1DddAIE",
            "0018d0003jrwrK1AAI",
            "0038d000E6r1DddAIE",
            "0058d000003QrStAAK",
        ),
    ]


def test_report_export_all_zero_account_id_is_null(exports):
    header = "Contact ID,First Name,Last Name,Email,Account ID,Account Name"
    body = [
        "0038d000001,Ada,Lovelace,ada@example.com,000000000000000,",
        '"0038d000002","Alan","Turing","alan@example.com","001000000000001",Bletchley',
        "",
        '"Grand Totals (2 records)"',
    ]
    exports.write("salesforce/contacts_report.csv", "\r\n".join([header, *body]) + "\r\n")
    report = exports.ingest()
    res = result_for(report, "salesforce/contacts_report.csv")
    assert (res.format, res.rows_loaded, res.rows_quarantined) == ("salesforce_report", 2, 0)
    assert exports.rows("SELECT source_record_id, account_id FROM raw_crm_contacts ORDER BY 1") == [
        ("0038d000001", None),
        ("0038d000002", "001000000000001"),
    ]
