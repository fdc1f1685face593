"""HubSpot CRM exports: contacts (the default and the "all properties" variant) and deals.

Headers are the property labels of the portal's language; `sources.hubspot.header_aliases` in
config/sources.yaml maps localized labels to the English ones below. Times are in the portal's time zone.
"""

from __future__ import annotations

from pipelines.lib.ingest.formats import FileContext, Sniff, TabularFormat, register, t
from pipelines.lib.ingest.mapping import Col, Segment

HS = "hubspot"
HS_FORMATS = ["%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M", "%d.%m.%Y %H:%M"]


class HubSpotContacts(TabularFormat):
    name = "hubspot_contacts"
    kind = "crm"
    source_system = HS
    table = "raw_crm_contacts"
    required = ("Record ID",)

    def detect(self, sniff: Sniff) -> bool:
        h = sniff.header_set()
        return "record id" in h and bool(h & {"first name", "last name", "email"}) and "deal stage" not in h

    def columns(self, ctx: FileContext, headers: list[str]) -> list[Col]:
        ts = dict(formats=HS_FORMATS)
        return [
            Col("source_system", const=HS),
            Col("record_type", const="contact"),
            Col("source_record_id", "Record ID", required=True),
            Col("first_name", "First Name"),
            Col("last_name", "Last Name"),
            Col("email", "Email"),
            Col("phone", "Phone Number"),
            Col("mobile_phone", "Mobile Phone Number"),
            Col("title", "Job Title"),
            Col("company", "Company Name"),
            Col("street", "Street Address"),
            Col("city", "City"),
            Col("state", "State/Region"),
            Col("postal_code", "Postal Code"),
            Col("country", "Country/Region"),
            Col("birth_date", "Date of birth", "date"),
            Col("lifecycle_stage", "Lifecycle Stage"),
            Col("lead_status", "Lead Status"),
            Col("marketing_contact_status", "Marketing contact status"),
            Col("has_opted_out_of_email", "Unsubscribed from all email", "bool"),
            Col("industry", "Industry"),
            Col("employees", "Number of Employees", "int"),
            Col("annual_revenue", "Annual Revenue", "double"),
            Col("time_zone", "Time Zone"),
            Col("xref_salesforce_id", "Salesforce Contact ID"),
            t(HS, ctx, "created_at", source="Create Date", **ts),
            t(HS, ctx, "updated_at", source="Last Modified Date", **ts),
            Col("owner_id", "Contact owner"),
            Col("lead_source", "Original Source"),
            Col("account_id", "Associated Company ID"),
            Col("default_phone_region", const=ctx.config.source(HS).default_phone_region),
        ]


class HubSpotDeals(TabularFormat):
    name = "hubspot_deals"
    kind = "crm"
    source_system = HS
    table = "raw_crm_deals"
    required = ("Record ID", "Deal Stage")

    def detect(self, sniff: Sniff) -> bool:
        h = sniff.header_set()
        return "record id" in h and bool(h & {"deal stage", "deal name"})

    def columns(self, ctx: FileContext, headers: list[str]) -> list[Col]:
        ts = dict(formats=HS_FORMATS)
        stage = "lower(NULLIF(TRIM({src}), ''))"
        return [
            Col("source_system", const=HS),
            Col("deal_id", "Record ID", required=True),
            Col("deal_name", "Deal Name"),
            Col("stage", "Deal Stage"),
            Col("amount", "Amount", "double"),
            Col("close_date", "Close Date", "date"),
            t(HS, ctx, "created_at", source="Create Date", **ts),
            t(HS, ctx, "updated_at", source="Last Modified Date", **ts),
            Col("pipeline", "Pipeline"),
            Col("owner_id", "Deal owner"),
            Col("currency", "Currency"),
            Col("deal_type", "Deal Type"),
            Col(
                "contact_source_record_id",
                "Associated Contact IDs",
                sql="NULLIF(TRIM(split_part({src}, ';', 1)), '')",
            ),
            Col("account_name", "Associated Company"),
            Col("account_id", "Associated Company IDs", sql="NULLIF(TRIM(split_part({src}, ';', 1)), '')"),
            Col("is_won", "Deal Stage", sql=f"regexp_matches({stage}, '^closed ?won$')"),
            Col("is_closed", "Deal Stage", sql=f"regexp_matches({stage}, '^closed ?(won|lost)$')"),
        ]

    def segment(self, ctx, headers, stage, header_cols, rejects, raw_sql, nondata=0) -> Segment:
        seg = super().segment(ctx, headers, stage, header_cols, rejects, raw_sql, nondata)
        # All associated contacts stay available, the first is the primary contact.
        for h in headers:
            if (
                h.casefold() in ("associated contact ids", "associated company ids")
                and h not in seg.extra_headers
            ):
                seg.extra_headers.append(h)
        return seg


register(HubSpotDeals())
register(HubSpotContacts())
