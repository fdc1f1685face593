"""Helpers: write export files into a temporary exports folder and ingest them into an in-memory DuckDB."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.lib.ingest import IngestReport, ingest_folder

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

SF_CONTACT_HEADER = (
    "Id,IsDeleted,MasterRecordId,AccountId,LastName,FirstName,Salutation,Name,MailingStreet,MailingCity,"
    "MailingState,MailingPostalCode,MailingCountry,Phone,MobilePhone,Email,Title,Department,LeadSource,Birthdate,"
    "HasOptedOutOfEmail,DoNotCall,OwnerId,CreatedDate,LastModifiedDate,Product_Interest__c,Purchase_Timeframe__c,"
    "HubSpot_Contact_ID__c"
)


def sf_contact_row(i: int, **over: str) -> str:
    values = {
        "Id": f"0038d000{i:010d}",
        "IsDeleted": "false",
        "MasterRecordId": "",
        "AccountId": f"0018d000{i:010d}",
        "LastName": f"Müller{i}",
        "FirstName": "Zoë",
        "Salutation": "Ms.",
        "Name": f"Zoë Müller{i}",
        "MailingStreet": "1 Main St",
        "MailingCity": "Boston",
        "MailingState": "MA",
        "MailingPostalCode": "02149",
        "MailingCountry": "United States",
        "Phone": "+1 617 555 0100",
        "MobilePhone": "",
        "Email": f"zoe{i}@example.com",
        "Title": "CFO",
        "Department": "Finance",
        "LeadSource": "Web",
        "Birthdate": "1980-02-29",
        "HasOptedOutOfEmail": "false",
        "DoNotCall": "true",
        "OwnerId": "0058d000003QrStAAK",
        "CreatedDate": "2026-03-04T10:15:00.000Z",
        "LastModifiedDate": "2026-03-05T11:00:00.000Z",
        "Product_Interest__c": "Touchplan Enterprise",
        "Purchase_Timeframe__c": "3 months",
        "HubSpot_Contact_ID__c": f"5100{i:07d}",
    }
    values.update(over)
    return ",".join(_csv(values[h]) for h in SF_CONTACT_HEADER.split(","))


def _csv(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value


def sf_contact_csv(n: int = 3, newline: str = "\n") -> str:
    return newline.join([SF_CONTACT_HEADER, *sf_contact_rows(range(1, n + 1))]) + newline


def sf_contact_rows(numbers) -> list[str]:
    """Fast: the same rows as sf_contact_row(i) for each i (one template, str.format per row)."""
    template = sf_contact_row(
        0,
        Id="\x01",
        AccountId="\x02",
        LastName="Müller\x03",
        Name="Zoë Müller\x03",
        Email="zoe\x03@example.com",
        HubSpot_Contact_ID__c="\x04",
    )
    template = (
        template.replace("{", "{{")
        .replace("}", "}}")
        .replace("\x01", "0038d000{i:010d}")
        .replace("\x02", "0018d000{i:010d}")
        .replace("\x03", "{i}")
        .replace("\x04", "5100{i:07d}")
    )
    return [template.format(i=i) for i in numbers]


class Exports:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / "exports"
        self.dir.mkdir()
        self.config = root / "config"
        self.config.mkdir()
        self.con = duckdb.connect()

    def write(self, relative: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = self.dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_bytes(content.encode(encoding))
        else:
            path.write_bytes(content)
        return path

    def sources(self, yaml_text: str) -> None:
        (self.config / "sources.yaml").write_text(yaml_text, encoding="utf-8")

    def ingest(self) -> IngestReport:
        return ingest_folder(self.con, self.dir, self.config)

    def rows(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def one(self, sql: str):
        return self.con.execute(sql).fetchall()[0][0]


@pytest.fixture
def exports(tmp_path: Path) -> Exports:
    ex = Exports(tmp_path)
    yield ex
    ex.con.close()


def result_for(report: IngestReport, relative: str):
    matches = [f for f in report.files if f.path == relative]
    assert matches, f"{relative} not in report: {[f.path for f in report.files]}"
    return matches[0]
