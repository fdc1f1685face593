"""The sample-data generator: real layouts, determinism, ground truth coverage, overlap and variation."""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.commands import sample_data as command
from touchplan_sample_data import crm, generate, mailchimp, zoom

AS_OF = datetime(2026, 3, 4, 10, 15, tzinfo=UTC)
DAY = "2026-03-04"


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("exports")
    generate(folder, contacts=300, seed=7, as_of=AS_OF)
    return folder


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _truth(out: Path) -> list[dict[str, str]]:
    return _rows(out / "_truth/ground_truth.csv")


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path, out):
    again = tmp_path / "again"
    generate(again, contacts=300, seed=7, as_of=AS_OF)
    assert _digest(again) == _digest(out)
    other = tmp_path / "other"
    generate(other, contacts=300, seed=8, as_of=AS_OF)
    assert _digest(other).keys() - {"zoom"} and _digest(other) != _digest(out)
    assert (other / "salesforce/Contact.csv").read_bytes() != (out / "salesforce/Contact.csv").read_bytes()


def test_crm_files_have_the_vendor_headers(out):
    assert _header(out / "salesforce/Contact.csv") == crm.SF_CONTACT_COLUMNS
    assert _header(out / "salesforce/Lead.csv") == crm.SF_LEAD_COLUMNS
    assert _header(out / "salesforce/Opportunity.csv") == crm.SF_OPPORTUNITY_COLUMNS
    assert _header(out / f"hubspot/hubspot-crm-exports-all-contacts-{DAY}.csv") == crm.HS_CONTACT_COLUMNS
    assert _header(out / f"hubspot/hubspot-crm-exports-all-deals-{DAY}.csv") == crm.HS_DEAL_COLUMNS
    # the literal headers from the brief, not only our constants
    assert _header(out / "salesforce/Contact.csv")[:4] == ["Id", "IsDeleted", "MasterRecordId", "AccountId"]
    assert _header(out / "salesforce/Lead.csv")[-1] == "Budget__c"
    assert "Salesforce Contact ID" in _header(out / f"hubspot/hubspot-crm-exports-all-contacts-{DAY}.csv")


def test_salesforce_values_use_export_formats(out):
    contacts = _rows(out / "salesforce/Contact.csv")
    leads = _rows(out / "salesforce/Lead.csv")
    ids = [r["Id"] for r in contacts]
    assert all(len(i) == 18 and i.startswith("003") for i in ids)
    assert all(len(r["Id"]) == 18 and r["Id"].startswith("00Q") for r in leads)
    assert len(set(ids)) == len(ids)
    assert {r["IsDeleted"] for r in contacts} <= {"true", "false"}
    assert all(r["CreatedDate"].endswith(".000Z") and r["CreatedDate"][10] == "T" for r in contacts)
    births = [r["Birthdate"] for r in contacts if r["Birthdate"]]
    assert births and all(len(b) == 10 and b[4] == "-" for b in births)
    # converted leads point to an existing contact; merged duplicates point to a survivor
    converted = [r for r in leads if r["IsConverted"] == "true"]
    assert converted and all(r["ConvertedContactId"] in set(ids) for r in converted)
    merged = [r for r in contacts if r["MasterRecordId"]]
    assert all(r["IsDeleted"] == "true" and r["MasterRecordId"] in set(ids) for r in merged)
    opps = _rows(out / "salesforce/Opportunity.csv")
    assert {"Closed Won", "Closed Lost"} <= {r["StageName"] for r in opps}
    assert all(r["Id"].startswith("006") and r["ContactId"] in set(ids) for r in opps)


def test_mailchimp_zip_has_three_member_files_with_their_columns(out):
    with zipfile.ZipFile(out / "mailchimp/audience_export.zip") as zf:
        names = zf.namelist()
        assert len(names) == 3
        for status in ("subscribed", "unsubscribed", "cleaned"):
            (name,) = [n for n in names if n.startswith(f"{status}_members_export_")]
            header = next(csv.reader(io.StringIO(zf.read(name).decode("utf-8"))))
            assert header == mailchimp.COLUMNS[status]
        unsub = zf.read([n for n in names if n.startswith("unsubscribed")][0]).decode("utf-8")
    assert "LAST_CHANGED,UNSUB_TIME,UNSUB_CAMPAIGN_TITLE" in unsub.splitlines()[0]
    assert '"""' in unsub  # TAGS as Mailchimp quotes them


def test_sendgrid_events_are_a_json_array_of_webhook_events(out):
    events = json.loads((out / "sendgrid/events.json").read_text(encoding="utf-8"))
    kinds = {e["event"] for e in events}
    assert {"processed", "delivered", "open", "click", "bounce"} <= kinds
    assert all(
        {"email", "timestamp", "event", "sg_event_id", "category", "campaign_id"} <= e.keys() for e in events
    )
    assert any(isinstance(e["category"], list) for e in events)
    assert any(isinstance(e["category"], str) for e in events)
    assert all("reason" not in e for e in events if e["event"] == "processed")  # absent keys, not nulls
    bounces = [e for e in events if e["event"] == "bounce"]
    assert {b["type"] for b in bounces} <= {"bounce", "blocked"}


def test_zoom_reports_have_the_sections_in_order(out):
    reports = sorted((out / "zoom").glob("*_attendee_report.csv"))
    assert 12 <= len(reports) <= 20  # every other week over the ~9 months of history
    text = reports[0].read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0].startswith("Attendee Report,")
    assert lines[1].startswith("Report Generated:,")
    assert lines[2] == ",".join(zoom.SUMMARY_COLUMNS)
    positions = [
        lines.index(next(line for line in lines if line.startswith(s)))
        for s in ("Host Details,", "Panelist Details,", "Attendee Details,", "Other Attended,")
    ]
    assert positions == sorted(positions)
    attendee_header = lines[positions[2] + 1]
    assert attendee_header == ",".join(zoom.ATTENDEE_COLUMNS)
    section = lines[positions[2] + 2 : positions[3]]
    rows = list(csv.reader(section))
    emails = [r[4] for r in rows if r[0] == "Yes"]
    assert len(emails) > len(set(e.strip().lower() for e in emails)), "someone joins more than once"
    other = list(csv.reader(lines[positions[3] + 2 :]))
    assert other and all(len(r) == len(zoom.OTHER_COLUMNS) for r in other)


def test_ground_truth_covers_every_crm_and_audience_record(out):
    truth = _truth(out)
    keys = {(t["source_system"], t["source_record_id"]) for t in truth}
    for row in _rows(out / "salesforce/Contact.csv") + _rows(out / "salesforce/Lead.csv"):
        assert ("salesforce", row["Id"]) in keys
    for row in _rows(out / f"hubspot/hubspot-crm-exports-all-contacts-{DAY}.csv"):
        assert ("hubspot", row["Record ID"]) in keys
    with zipfile.ZipFile(out / "mailchimp/audience_export.zip") as zf:
        for name in zf.namelist():
            for row in csv.DictReader(io.StringIO(zf.read(name).decode("utf-8"))):
                assert ("mailchimp", row["LEID"]) in keys
    events = json.loads((out / "sendgrid/events.json").read_text(encoding="utf-8"))
    assert {("sendgrid", e["email"].strip().lower()) for e in events} <= keys
    assert len(keys) == len(truth)


def test_emails_belong_to_one_person_except_marked_role_mailboxes(out):
    con = duckdb.connect()
    con.execute(
        f"create table t as select * from read_csv('{out}/_truth/ground_truth.csv', all_varchar=true)"
    )
    con.execute(f"""create table c as select Id, lower(trim(Email)) as email
                    from read_csv('{out}/salesforce/Contact.csv', all_varchar=true) where Email is not null""")
    shared = con.execute("""
        select c.email, count(distinct t.person_id) as persons, bool_and(t.is_role_mailbox = 'true') as marked
        from c join t on t.source_system = 'salesforce' and t.source_record_id = c.Id
        group by c.email having count(distinct t.person_id) > 1""").fetchall()
    assert all(marked for _email, _n, marked in shared)
    assert all(
        email.split("@")[0] in {"info", "sales", "marketing", "office", "contact"} for email, _n, _m in shared
    )
    dupes = con.execute("""select source_record_id from t where source_system in ('sendgrid', 'zoom')
                           group by source_system, source_record_id having count(distinct person_id) > 1""").fetchall()
    assert dupes == []


def test_persons_appear_in_several_systems_with_variation(out):
    con = duckdb.connect()
    con.execute(
        f"create table t as select * from read_csv('{out}/_truth/ground_truth.csv', all_varchar=true)"
    )
    multi = con.execute("""select count(*) from (select person_id from t group by person_id
                           having count(distinct source_system) >= 2)""").fetchone()[0]
    assert multi > 100
    # the same person under a nickname or with different email case in another system
    hs = f"{out}/hubspot/hubspot-crm-exports-all-contacts-{DAY}.csv"
    con.execute(f"""create table r as
        select t.person_id, 'salesforce' as sys, c.FirstName as first_name, c.Email as email, c.Phone as phone
        from read_csv('{out}/salesforce/Contact.csv', all_varchar=true) c
        join t on t.source_system = 'salesforce' and t.source_record_id = c.Id
        union all
        select t.person_id, 'hubspot', h."First Name", h.Email, h."Phone Number"
        from read_csv('{hs}', all_varchar=true) h
        join t on t.source_system = 'hubspot' and t.source_record_id = h."Record ID" """)
    pairs = con.execute("""
        select count(*) filter (where a.first_name <> b.first_name) as name_differs,
               count(*) filter (where a.email <> b.email and lower(trim(a.email)) = lower(trim(b.email))) as case_only,
               count(*) filter (where lower(trim(coalesce(a.email, ''))) <> lower(trim(coalesce(b.email, '')))
                                and (a.phone is null or b.phone is null)) as no_shared_id
        from r a join r b on a.person_id = b.person_id and a.sys = 'salesforce' and b.sys = 'hubspot'""").fetchone()
    assert pairs[0] > 0 and pairs[1] > 0 and pairs[2] > 0


def test_every_buyer_profile_occurs_and_counts_scale_with_contacts(tmp_path, out):
    persons = _rows(out / "_truth/persons.csv")
    profiles = {p["buyer_profile"] for p in persons}
    assert {"new", "active", "repeat", "lapsing", "lapsed", "reactivated", "open", "lost"} <= profiles
    bigger = tmp_path / "bigger"
    generate(bigger, contacts=900, seed=7, as_of=AS_OF)
    small = len(_rows(out / "salesforce/Contact.csv"))
    large = len(_rows(bigger / "salesforce/Contact.csv"))
    assert 2.2 * small < large < 3.8 * small
    assert 0.45 * 900 < large < 0.75 * 900


def test_cli_writes_the_files_and_exits_zero(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    args = parser.parse_args(
        [
            "sample-data",
            "--out",
            str(tmp_path / "x"),
            "--contacts",
            "120",
            "--seed",
            "3",
            "--as-of",
            "2026-03-04",
        ]
    )
    assert args.func(args) == 0
    assert (tmp_path / "x/salesforce/Contact.csv").is_file()
    assert (tmp_path / "x/_truth/ground_truth.csv").is_file()
    captured = capsys.readouterr()
    assert "salesforce/Contact.csv" in captured.err
    assert "wrote" in captured.out


def test_cli_rejects_too_few_contacts(tmp_path):
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    args = parser.parse_args(["sample-data", "--out", str(tmp_path / "x"), "--contacts", "3"])
    with pytest.raises(command.CommandError, match="--contacts"):
        args.func(args)
