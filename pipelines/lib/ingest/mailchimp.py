"""Mailchimp audience export: a zip of subscribed / unsubscribed / cleaned member CSVs, or those CSVs alone.

Times (OPTIN_TIME, CONFIRM_TIME, LAST_CHANGED, UNSUB_TIME, CLEAN_TIME) carry no zone: the zone of
`sources.mailchimp.time_zone` applies (default UTC).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from pipelines.lib.ingest.encoding import Encoding, detect_encoding, read_text_head, utf8_copy
from pipelines.lib.ingest.formats import (
    FileContext,
    Format,
    Sniff,
    TabularFormat,
    register,
    sniff_text,
    timestamp_col,
)
from pipelines.lib.ingest.mapping import Col, Segment

MC = "mailchimp"
STATUS = re.compile(r"(unsubscribed|cleaned|subscribed)", re.IGNORECASE)


def status_from_name(name: str) -> str | None:
    match = STATUS.search(Path(name).name)
    return match.group(1).lower() if match else None


class MailchimpMembers(TabularFormat):
    name = "mailchimp_members"
    kind = "email"
    source_system = MC
    table = "raw_email_audience"
    required = ("Email Address",)
    ignored = ("GMTOFF", "DSTOFF")

    def detect(self, sniff: Sniff) -> bool:
        h = sniff.header_set()
        return "email address" in h and bool(h & {"member_rating", "leid", "euid", "optin_time"})

    def columns(self, ctx: FileContext, headers: list[str]) -> list[Col]:
        folded = {h.casefold() for h in headers}
        return [
            Col("source_system", const=MC),
            Col("email", "Email Address", required=True),
            Col("first_name", "First Name"),
            Col("last_name", "Last Name"),
            Col("address", "Address"),
            Col("phone", "Phone Number"),
            Col("member_rating", "MEMBER_RATING", "int"),
            timestamp_col(MC, ctx, "optin_at", source="OPTIN_TIME"),
            Col("optin_ip", "OPTIN_IP"),
            timestamp_col(MC, ctx, "confirm_at", source="CONFIRM_TIME"),
            Col("confirm_ip", "CONFIRM_IP"),
            Col("latitude", "LATITUDE", "double"),
            Col("longitude", "LONGITUDE", "double"),
            Col("timezone", "TIMEZONE"),
            Col("country_code", "CC"),
            Col("region", "REGION"),
            timestamp_col(MC, ctx, "last_changed_at", source="LAST_CHANGED"),
            Col("leid", "LEID"),
            Col("euid", "EUID"),
            Col("notes", "NOTES"),
            Col("tags", "TAGS"),
            timestamp_col(MC, ctx, "unsubscribed_at", source="UNSUB_TIME"),
            Col("unsub_campaign_id", "UNSUB_CAMPAIGN_ID"),
            Col("unsub_reason", "UNSUB_REASON"),
            timestamp_col(MC, ctx, "cleaned_at", source="CLEAN_TIME"),
            Col("clean_campaign_id", "CLEAN_CAMPAIGN_ID"),
            Col("clean_reason", "CLEAN_REASON"),
            Col("source_record_id", sql=self._record_id(headers)),
            Col(
                "list_status",
                const="unsubscribed"
                if "unsub_time" in folded
                else "cleaned"
                if "clean_time" in folded
                else "subscribed",
            ),
        ]

    @staticmethod
    def _record_id(headers: list[str]) -> str:
        return "NULL"  # replaced in segment() once the staged column names are known

    def segment(self, ctx, headers, stage, header_cols, rejects, raw_sql, nondata=0) -> Segment:
        seg = super().segment(ctx, headers, stage, header_cols, rejects, raw_sql, nondata)
        by_fold = {h.casefold(): header_cols[h] for h in headers if h}
        parts = [f"NULLIF(TRIM({by_fold[k]}), '')" for k in ("leid", "euid", "email address") if k in by_fold]
        seg.columns = [
            Col("source_record_id", sql=f"COALESCE({', '.join(parts)})")
            if c.target == "source_record_id"
            else c
            for c in seg.columns
        ]
        status = status_from_name(ctx.relative) if ctx.relative.lower().endswith(".csv") else None
        if status:
            seg.columns = [
                Col("list_status", const=status) if c.target == "list_status" else c for c in seg.columns
            ]
        return seg


MEMBERS = MailchimpMembers()


class MailchimpZip(Format):
    name = "mailchimp_zip"
    kind = "email"
    source_system = MC

    def detect(self, sniff: Sniff) -> bool:
        return (
            bool(sniff.zip_members)
            and not sniff.is_xlsx
            and any(m.lower().endswith(".csv") and "members_export" in m.lower() for m in sniff.zip_members)
        )

    def stage(self, ctx: FileContext, sniff: Sniff) -> list[Segment]:
        segments: list[Segment] = []
        with zipfile.ZipFile(ctx.path) as archive:
            for index, member in enumerate(
                sorted(m for m in sniff.zip_members if m.lower().endswith(".csv"))
            ):
                raw = ctx.tmpdir / f"member_{index}.csv"
                with archive.open(member) as src, open(raw, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
                encoding = detect_encoding(raw)
                path = utf8_copy(raw, encoding, ctx.tmpdir / f"member_{index}.utf8.csv")
                msniff = sniff_text(f"{ctx.relative}!{member}", read_text_head(path, Encoding("utf-8")))
                line, fields = MEMBERS.header_row(msniff)
                seg = MEMBERS.stage_file(ctx, path, fields, line, msniff.delimiter, member=member)
                status = status_from_name(member)
                if status:
                    seg.columns = [
                        Col("list_status", const=status) if c.target == "list_status" else c
                        for c in seg.columns
                    ]
                segments.append(seg)
        if not segments:
            from pipelines.lib.ingest.errors import FileRejected

            raise FileRejected(f"{ctx.relative}: the zip holds no members CSV")
        return segments


register(MailchimpZip())
register(MEMBERS)
