"""HubSpot CRM exports: contacts (the default and the "all properties" variant, with or without associated
company properties) and deals.

Headers are the property labels of the portal's language; `sources.hubspot.header_aliases` in
config/sources.yaml maps localized labels to the English ones below. Times are in the portal's time zone.

HubSpot repeats column names itself, and neither kind of repeat is an error here:
- An export "with associated company properties" has `Record ID - Contact`, the contact's properties, then
  `Record ID - Company` and the company's properties, whose labels repeat the contact's (`Create Date`,
  `Phone Number`, `Last Activity Date`, `Country/Region`...). Every column after `Record ID - Company` belongs to
  the company: it is renamed `company_<label>`; what the contact row has a column for is mapped (`Company name` ->
  `company` unless the contact has its own `Company Name`, `Record ID - Company` -> `account_id` unless the
  contact has `Associated Company ID`, `Industry`, `Number of Employees`, `Annual Revenue`), the rest is kept in
  `extra` under its `company_` name.
- Any other repeated label (the "all properties" export repeats association labels such as `Billing Contact`,
  `Billing Contact IDs`): the first column keeps the name, each later one is kept apart in `extra` as
  `<label> [column N]` (N = 1-based column position), with a warning.
"""

from __future__ import annotations

from pipelines.lib.ingest.formats import FileContext, Sniff, TabularFormat, register, timestamp_col
from pipelines.lib.ingest.mapping import Col, Segment

HS = "hubspot"
HS_FORMATS = ["%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M", "%d.%m.%Y %H:%M"]
CONTACT_RECORD_ID = "record id - contact"
COMPANY_RECORD_ID = "record id - company"
COMPANY_PREFIX = "company_"
# Company properties that have a column on the contact row: company label (casefolded) -> raw column.
COMPANY_MAPPED = {
    "company name": "company",
    "name": "company",
    "industry": "industry",
    "number of employees": "employees",
    "annual revenue": "annual_revenue",
}


def resolve_repeats(relative: str, line: int, headers: list[str]) -> tuple[list[str], list[str]]:
    """(unique headers, warnings): the company block renamed `company_<label>`, other repeats by position."""
    folded = [h.casefold() for h in headers]
    out = list(headers)
    warnings: list[str] = []
    if CONTACT_RECORD_ID in folded and "record id" not in folded:
        out[folded.index(CONTACT_RECORD_ID)] = "Record ID"
    if COMPANY_RECORD_ID in folded:
        start = folded.index(COMPANY_RECORD_ID)
        for i in range(start, len(out)):
            if out[i]:
                out[i] = COMPANY_PREFIX + ("Record ID" if i == start else out[i])
        warnings.append(
            f"{relative}: line {line}: columns {start + 1}-{len(out)} (from `{headers[start]}`) are the "
            f"associated company's: kept apart as company_<label> (see docs/formats.md)"
        )
    seen: dict[str, int] = {}
    repeated: dict[str, list[int]] = {}
    for i, h in enumerate(out):
        if not h:
            continue
        key = h.casefold()
        if key in seen:
            repeated.setdefault(h, [seen[key] + 1]).append(i + 1)
            out[i] = f"{h} [column {i + 1}]"
        else:
            seen[key] = i
    if repeated:
        shown = "; ".join(f"{h} (columns {', '.join(map(str, cols))})" for h, cols in repeated.items())
        warnings.append(
            f"{relative}: line {line}: repeated column name(s) kept apart by position, the later ones in "
            f"`extra` as '<name> [column N]': {shown}"
        )
    return out, warnings


class HubSpotContacts(TabularFormat):
    name = "hubspot_contacts"
    kind = "crm"
    source_system = HS
    table = "raw_crm_contacts"
    required = ("Record ID",)

    def detect(self, sniff: Sniff) -> bool:
        h = sniff.header_set()
        return (
            bool(h & {"record id", CONTACT_RECORD_ID})
            and bool(h & {"first name", "last name", "email"})
            and "deal stage" not in h
        )

    def file_headers(self, ctx: FileContext, fields: list[str], line: int) -> list[str]:
        headers, warnings = resolve_repeats(ctx.relative, line, super().file_headers(ctx, fields, line))
        for warning in warnings:
            ctx.warn(warning)
        return headers

    def columns(self, ctx: FileContext, headers: list[str]) -> list[Col]:
        ts = dict(formats=HS_FORMATS)
        folded = {h.casefold(): h for h in headers if h}
        company_cols: list[Col] = []
        for label, target in COMPANY_MAPPED.items():
            source = folded.get(COMPANY_PREFIX + label)
            contact_has = any(
                label_ in folded for label_, target_ in COMPANY_MAPPED.items() if target_ == target
            )
            if source and not contact_has and target not in {c.target for c in company_cols}:
                kind = {"employees": "int", "annual_revenue": "double"}.get(target, "text")
                company_cols.append(Col(target, source, kind))
        account = next(
            (folded[h] for h in ("associated company id", "primary associated company id") if h in folded),
            folded.get(COMPANY_PREFIX + "record id"),
        )
        taken = {c.target for c in company_cols}
        cols = [
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
            timestamp_col(HS, ctx, "created_at", source="Create Date", **ts),
            timestamp_col(HS, ctx, "updated_at", source="Last Modified Date", **ts),
            Col("owner_id", "Contact owner"),
            Col("lead_source", "Original Source"),
            Col("account_id", account),
            Col("default_phone_region", const=ctx.config.source(HS).default_phone_region),
        ]
        return [c for c in cols if c.target not in taken] + company_cols


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
            timestamp_col(HS, ctx, "created_at", source="Create Date", **ts),
            timestamp_col(HS, ctx, "updated_at", source="Last Modified Date", **ts),
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
