"""The shared CSV mechanism on files shaped like real exports: the encoding decided from all bytes, quoted line
breaks, broken quotes that cost only their own record, editor line numbers with line reconciliation, the date
order chosen per column from all values, and warehouse files in the exports folder."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime

import duckdb
import pytest

from pipelines.lib.ingest.encoding import detect_encoding
from tests.unit.ingest.conftest import SF_CONTACT_HEADER, result_for, sf_contact_row

HEADERS = SF_CONTACT_HEADER.split(",")


def fields(i: int, **over: str) -> list[str]:
    return next(csv.reader([sf_contact_row(i, **over)]))


def quoted(values: list[str]) -> str:
    """A Data Export row: every value quoted, quotes doubled."""
    return ",".join('"' + v.replace('"', '""') + '"' for v in values)


def breaks(text: str) -> int:
    return len(re.findall(r"\r\n|\r|\n", text))


# ---------------------------------------------------------------- the 976-row Salesforce Contact file

CORRUPT = {
    100: "unterminated",
    200: "after_quote",
    250: "stray_unquoted",
    300: "not_utf8",
    400: "unterminated",
    500: "surplus",
    600: "truncated",
    650: "inner_quotes",
    700: "bad_date",
    750: "bad_bool",
    850: "year_1850",
}
REASONS = {
    "unterminated": "malformed row: unbalanced quote in field 5 (a quote not closed, or not doubled)",
    "after_quote": "malformed row: unbalanced quote in field 6",
    "stray_unquoted": "malformed row: stray quote inside unquoted field 5",
    "not_utf8": "bytes that are not valid UTF-8",
    "surplus": "malformed row: expected 28 fields, found 29",
    "truncated": "malformed row: expected 28 fields, found 25",
    "inner_quotes": "malformed row: text after the closing quote of field 5",
    "bad_date": "Birthdate: 31/31/1999 is not a date",
    "bad_bool": "HasOptedOutOfEmail: perhaps is not a yes/no value",
    "year_1850": "Birthdate: 1850-03-01 is a date before 1900",
}


def contact_export() -> tuple[bytes, dict[int, int], dict[int, int], int]:
    """A Salesforce Data Export Contact.csv (all values quoted, CRLF) of 976 contacts, 11 of them corrupted, a
    third of them in Kraków, two with a line break inside the quoted Mailing Street (one CRLF, one LF).

    Returns the bytes, record number -> first physical line, record number -> lines, physical lines."""
    out: list[bytes] = [(quoted(HEADERS) + "\r\n").encode()]
    first_line: dict[int, int] = {}
    span: dict[int, int] = {}
    line = 2
    for i in range(1, 977):
        city = "Kraków" if i % 3 == 0 else "Boston"
        kind = CORRUPT.get(i)
        over = {"MailingCity": city}
        if i == 50:
            over["MailingStreet"] = "12 Rynek Główny\r\nApt 4"
        if i == 70:
            over["MailingStreet"] = "Flat 2\nHigh St"
        if i == 60:
            over["FirstName"] = 'John "Jack"'
        if kind == "bad_date":
            over["Birthdate"] = "31/31/1999"
        if kind == "bad_bool":
            over["HasOptedOutOfEmail"] = "perhaps"
        if kind == "year_1850":
            over["Birthdate"] = "1850-03-01"
        values = fields(i, **over)
        text = quoted(values)
        if kind == "unterminated":  # the closing quote of LastName is lost
            text = text.replace(f'"Müller{i}",', f'"Müller{i},', 1)
        elif kind == "after_quote":  # an unescaped quote inside a quoted FirstName
            text = text.replace('"Zoë"', '"Zo"ë"', 1)
        elif kind == "stray_unquoted":  # a hand-edited, unquoted LastName with a quote in it
            text = text.replace(f'"Müller{i}"', f'O"Müller{i}', 1)
        elif kind == "surplus":
            text += ',"surplus"'
        elif kind == "truncated":
            text = quoted(values[:25])
        elif kind == "inner_quotes":  # quotes inside a quoted value, not doubled: the count stays even
            text = text.replace(f'"Müller{i}"', f'"Müller "the boss" {i}"', 1)
        data = (text + "\r\n").encode()
        if kind == "not_utf8":
            data = data.replace("Kraków".encode(), "Kraków".encode("cp1252"))
            assert b"\xf3" in data
        first_line[i] = line
        span[i] = breaks(text) + 1
        line += span[i]
        out.append(data)
    return b"".join(out), first_line, span, line - 1


def test_976_contacts_with_11_corrupted_lines_load_every_valid_contact_at_its_editor_line(exports):
    data, first_line, span, physical = contact_export()
    assert physical == 1 + 976 + 2  # header, one line per contact, two quoted line breaks
    exports.write("salesforce/Contact.csv", data)
    res = result_for(exports.ingest(), "salesforce/Contact.csv")
    assert (res.status, res.encoding, res.format) == ("loaded", "utf-8", "salesforce_contact")
    assert (res.rows_read, res.rows_loaded, res.rows_quarantined) == (976, 965, 11)
    # Physical lines reconcile: every line is loaded, quarantined or skipped (the header).
    assert (res.lines_read, res.lines_loaded, res.lines_quarantined, res.lines_skipped) == (
        physical,
        967,
        11,
        1,
    )
    assert exports.rows(
        "SELECT lines_read, lines_loaded + lines_quarantined + lines_skipped, lines_quarantined FROM ingest_files"
    ) == [(physical, physical, 11)]
    # Each corrupted line is quarantined alone, at its editor line, with its reason.
    quarantine = exports.rows("SELECT line_number, reason FROM ingest_quarantine ORDER BY line_number")
    assert [q[0] for q in quarantine] == [first_line[i] for i in sorted(CORRUPT)]
    for (line, reason), i in zip(quarantine, sorted(CORRUPT), strict=True):
        assert REASONS[CORRUPT[i]] in reason, (i, line, reason)
    # Every valid contact loads, with the line its record starts on (neighbours of broken lines included).
    loaded = dict(exports.rows("SELECT source_record_id, _source_line FROM raw_crm_contacts"))
    expected = {f"0038d000{i:010d}": first_line[i] for i in range(1, 977) if i not in CORRUPT}
    assert loaded == expected
    for i in CORRUPT:
        assert f"0038d000{i + 1:010d}" in loaded
    # UTF-8 kept for the whole file: nothing garbled, the damaged line quarantined, not decoded as cp1252.
    assert (
        exports.one("SELECT count(*) FROM raw_crm_contacts WHERE city LIKE '%Ã%' OR city LIKE '%\ufffd%'")
        == 0
    )
    krakow = sum(1 for i in range(3, 977, 3) if i not in CORRUPT)
    assert exports.one("SELECT count(*) FROM raw_crm_contacts WHERE city = 'Kraków'") == krakow
    streets = dict(exports.rows("SELECT _source_line, street FROM raw_crm_contacts"))
    assert streets[first_line[50]] == "12 Rynek Główny\r\nApt 4"
    assert streets[first_line[70]] == "Flat 2\nHigh St"
    assert first_line[51] == first_line[50] + 2
    assert exports.one(f"SELECT first_name FROM raw_crm_contacts WHERE _source_line = {first_line[60]}") == (
        'John "Jack"'
    )
    assert any(f"1 line(s) of bytes that are not UTF-8 (line {first_line[300]})" in w for w in res.warnings)


# ---------------------------------------------------------------- encodings


def test_a_genuine_cp1252_file_still_decodes_as_cp1252(exports):
    text = (
        "\r\n".join([SF_CONTACT_HEADER, sf_contact_row(1), sf_contact_row(2, MailingCity="Kraków")]) + "\r\n"
    )
    exports.write("salesforce/Contact.csv", text.encode("cp1252"))
    res = result_for(exports.ingest(), "salesforce/Contact.csv")
    assert (res.status, res.encoding, res.rows_loaded, res.rows_quarantined) == ("loaded", "cp1252", 2, 0)
    assert exports.rows("SELECT last_name, city FROM raw_crm_contacts ORDER BY 1") == [
        ("Müller1", "Boston"),
        ("Müller2", "Kraków"),
    ]


@pytest.mark.parametrize(
    ("codec", "bom", "label"),
    [
        ("utf-8", "\ufeff", "utf-8-bom"),
        ("utf-16-le", "\ufeff", "utf-16-le-bom"),
        ("utf-16-be", "\ufeff", "utf-16-be-bom"),
    ],
)
def test_utf16_and_bom_files_keep_quoted_line_breaks_and_editor_lines(exports, codec, bom, label):
    rows = [quoted(fields(1, MailingStreet="1 Main St\r\nApt 2", MailingCity="Kraków")), quoted(fields(2))]
    text = bom + "\r\n".join([quoted(HEADERS), *rows]) + "\r\n"
    exports.write("salesforce/Contact.csv", text.encode(codec))
    res = result_for(exports.ingest(), "salesforce/Contact.csv")
    assert (res.status, res.encoding, res.rows_loaded) == ("loaded", label, 2)
    assert (res.lines_read, res.lines_loaded, res.lines_skipped) == (4, 3, 1)
    assert exports.rows("SELECT _source_line, street, city FROM raw_crm_contacts ORDER BY 1") == [
        (2, "1 Main St\r\nApt 2", "Kraków"),
        (4, "1 Main St", "Boston"),
    ]


def test_encoding_is_decided_from_all_bytes_not_the_head(tmp_path):
    path = tmp_path / "late.csv"
    head = "Id,City\n" + "".join(f"{i},Boston\n" for i in range(10_000))  # far beyond any head sample
    path.write_bytes(head.encode() + "1,Kraków\n".encode() + "2,Kraków\n".encode("cp1252"))
    enc = detect_encoding(path)
    assert (enc.name, enc.bad_lines, enc.lines) == ("utf-8", (10_003,), 10_003)
    path.write_bytes(head.encode() + "2,Kraków\n".encode("cp1252"))
    assert detect_encoding(path).name == "cp1252"


# ---------------------------------------------------------------- Salesforce report export: quoted line breaks

REPORT_HEADER = (
    '"Contact ID","First Name","Last Name","Title","Account Name","Mailing Street","Mailing City","Email",'
    '"Email Opt Out","Created Date"'
)


def report_export(created: list[str], newline_rows: list[str] | None = None) -> str:
    rows = [
        '"0038d000001","Ada","Lovelace","CEO","Engines Ltd","12 Rynek Główny\r\nApt 4","Kraków",'
        f'"ada@engines.example","0","{created[0]}"',
        f'"0038d000002","Alan","Turing","","Bletchley","1 Park Rd\nFlat 3","","alan@bp.example","1","{created[1]}"',
        f'"0038d000003","Grace","Hopper","","Navy","","","grace@navy.example","0","{created[2]}"',
    ]
    ends = newline_rows or ["\r\n", "\n", "\r\n"]
    body = REPORT_HEADER + "\r\n" + "".join(r + e for r, e in zip(rows, ends, strict=True))
    footer = (
        '\r\n"Grand Totals (3 records)"\r\n\r\n"Confidential Information - Do Not Distribute"\r\n'
        '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\r\n'
    )
    return body + footer


US = ["3/4/2026, 10:15 AM", "3/30/2026, 9:00 AM", "12/1/2025, 4:05 PM"]


def test_report_export_with_a_line_break_in_mailing_street_and_mixed_line_endings_loads(exports):
    exports.write("salesforce/report1.csv", report_export(US))
    res = result_for(exports.ingest(), "salesforce/report1.csv")
    assert (res.status, res.format, res.rows_loaded, res.rows_quarantined) == (
        "loaded",
        "salesforce_report",
        3,
        0,
    )
    assert res.error is None
    assert exports.rows("SELECT _source_line, street, created_at FROM raw_crm_contacts ORDER BY 1") == [
        (2, "12 Rynek Główny\r\nApt 4", datetime(2026, 3, 4, 10, 15)),
        (4, "1 Park Rd\nFlat 3", datetime(2026, 3, 30, 9, 0)),
        (6, None, datetime(2025, 12, 1, 16, 5)),
    ]
    # 11 lines: header, 5 lines of records, blank, 3 footer lines ... and the blank line between them.
    assert (res.lines_read, res.lines_loaded, res.lines_quarantined, res.lines_skipped) == (11, 5, 0, 6)


# ---------------------------------------------------------------- dates


def teams_report(stamp: str) -> bytes:
    """A Teams meeting attendance report downloaded in a day-first locale with two-digit years."""
    lines = [
        "1. Summary",
        "Meeting title\tQuarterly review",
        f"Start time\t{stamp.format(h='09:30:46')}",
        "",
        "2. Participants",
        "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail\tParticipant ID (UPN)\tRole",
        f"Ola Nowak\t{stamp.format(h='09:30:46')}\t{stamp.format(h='10:30:00')}\t59m 14s\tola@example.pl\t"
        "ola@example.pl\tOrganizer",
        f"Jan Kowal\t{stamp.format(h='09:35:00')}\t{stamp.format(h='10:01:10')}\t26m 10s\tjan@example.pl\t"
        "jan@example.pl\tAttendee",
    ]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-16-le")


@pytest.mark.parametrize("stamp", ["14/11/22, {h}", "14.11.22, {h}"])
def test_two_digit_years_never_load_as_year_22(exports, stamp):
    exports.write("teams/attendance.csv", teams_report(stamp))
    res = result_for(exports.ingest(), "teams/attendance.csv")
    assert (res.status, res.rows_loaded, res.rows_quarantined) == ("loaded", 2, 0), res.error
    assert exports.rows(
        "SELECT joined_at, left_at, webinar_start_at FROM raw_webinar_attendance ORDER BY 1"
    ) == [
        (
            datetime(2022, 11, 14, 9, 30, 46),
            datetime(2022, 11, 14, 10, 30),
            datetime(2022, 11, 14, 9, 30, 46),
        ),
        (datetime(2022, 11, 14, 9, 35), datetime(2022, 11, 14, 10, 1, 10), datetime(2022, 11, 14, 9, 30, 46)),
    ]


DAY_FIRST = ["03/04/2022 10:15", "05/06/2022 09:00", "01/02/2022 16:05"]


def test_ambiguous_day_month_dates_refuse_the_file_with_one_line_naming_the_setting(exports):
    exports.write("salesforce/report1.csv", report_export(DAY_FIRST))
    res = result_for(exports.ingest(), "salesforce/report1.csv")
    assert res.status == "rejected"
    assert "\n" not in res.error
    assert res.error.startswith(
        "salesforce/report1.csv: Created Date: dates read both day first and month first"
    )
    assert "date_order: DMY or MDY" in res.error and "config/sources.yaml" in res.error
    assert exports.one("SELECT count(*) FROM raw_crm_contacts") == 0


def test_date_order_setting_resolves_ambiguous_dates(exports):
    exports.sources("sources:\n  salesforce:\n    date_order: DMY\n")
    exports.write("salesforce/report1.csv", report_export(DAY_FIRST))
    res = result_for(exports.ingest(), "salesforce/report1.csv")
    assert (res.status, res.rows_loaded) == ("loaded", 3), res.error
    assert [r[0] for r in exports.rows("SELECT created_at FROM raw_crm_contacts ORDER BY _source_line")] == [
        datetime(2022, 4, 3, 10, 15),
        datetime(2022, 6, 5, 9, 0),
        datetime(2022, 2, 1, 16, 5),
    ]


def test_one_day_above_12_decides_the_order_of_the_whole_column(exports):
    exports.write(
        "salesforce/report1.csv", report_export(["03/04/2022 10:15", "14/06/2022 09:00", "01/02/2022 16:05"])
    )
    res = result_for(exports.ingest(), "salesforce/report1.csv")
    assert (res.status, res.rows_loaded) == ("loaded", 3), res.error
    assert [
        r[0].date() for r in exports.rows("SELECT created_at FROM raw_crm_contacts ORDER BY _source_line")
    ] == [
        date(2022, 4, 3),
        date(2022, 6, 14),
        date(2022, 2, 1),
    ]


# ---------------------------------------------------------------- warehouse files in the exports folder


def test_a_warehouse_and_its_wal_inside_the_exports_folder_are_skipped(exports):
    warehouse = exports.dir / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE TABLE t AS SELECT 1 AS x")
    con.close()
    (exports.dir / "warehouse.duckdb.wal").write_bytes(b"\x00" * 64)
    (exports.dir / "backup.db").write_bytes(warehouse.read_bytes())  # a warehouse by content, not by name
    exports.write(
        "salesforce/Contact.csv", io.StringIO(SF_CONTACT_HEADER + "\n" + sf_contact_row(1) + "\n").read()
    )
    report = exports.ingest()
    assert [f.path for f in report.files] == ["salesforce/Contact.csv"]
    assert exports.rows("SELECT source_file FROM ingest_files") == [("salesforce/Contact.csv",)]
    skipped = [w for w in report.warnings if "not an export: skipped" in w]
    assert sorted(w.split(":")[0] for w in skipped) == [
        "backup.db",
        "warehouse.duckdb",
        "warehouse.duckdb.wal",
    ]


@pytest.mark.parametrize("blank", [False, True])
def test_lf_export_with_quoted_line_breaks_keeps_editor_lines_with_or_without_blank_lines(exports, blank):
    """LF rows (DuckDB reads these itself): its row numbers are not lines once a record spans two lines or a
    blank line is skipped; the staged lines must still be the editor's."""
    rows = [
        quoted(fields(i, MailingStreet="1 Main St\nApt 2" if i % 3 == 0 else "1 Main St"))
        for i in range(1, 8)
    ]
    if blank:
        rows.insert(4, "")
    exports.write("salesforce/Contact.csv", "\n".join([quoted(HEADERS), *rows]) + "\n")
    res = result_for(exports.ingest(), "salesforce/Contact.csv")
    assert (res.status, res.rows_loaded, res.rows_quarantined) == ("loaded", 7, 0)
    expected, line = {}, 2
    for row in rows:
        if row:
            expected[next(csv.reader([row.split("\n")[0]]))[0]] = line
        line += breaks(row) + 1
    assert dict(exports.rows("SELECT source_record_id, _source_line FROM raw_crm_contacts")) == expected
    assert res.lines_read == line - 1 == res.lines_loaded + res.lines_quarantined + res.lines_skipped
