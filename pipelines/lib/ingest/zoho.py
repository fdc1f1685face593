"""Zoho CRM module exports (Contacts, Leads): `zcrm_` ids, lookups as `X` + `X.id` pairs, and ids that spreadsheet
programs turned into scientific notation (kept as digits, with a warning: their last digits may be lost)."""

from __future__ import annotations

from pipelines.lib.ingest.formats import FileContext, Sniff, TabularFormat, register, timestamp_col
from pipelines.lib.ingest.mapping import Col, Segment

ZOHO = "zoho"
SCI = r"^[0-9]+(\.[0-9]+)?[eE]\+?[0-9]+$"
# zcrm_ prefix dropped; 1.23E+18 -> 1230000000000000000
ID_SQL = (
    "CASE WHEN regexp_matches(regexp_replace({src}, '^zcrm_', ''), '" + SCI + "') "
    "THEN CAST(TRY_CAST(regexp_replace({src}, '^zcrm_', '') AS DECIMAL(38,0)) AS VARCHAR) "
    "ELSE regexp_replace({src}, '^zcrm_', '') END"
)
ZOHO_FORMATS = ["%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%b %d, %Y %I:%M %p"]


class ZohoCrm(TabularFormat):
    name = "zoho_crm"
    kind = "crm"
    source_system = ZOHO
    table = "raw_crm_contacts"
    required = ("Record Id",)

    def detect(self, sniff: Sniff) -> bool:
        h = sniff.header_set()
        if "record id" not in h:
            return False
        has_pairs = any(x.endswith(".id") and x[:-3] in h for x in h)
        zcrm = any(f.startswith("zcrm_") for _, row in sniff.rows[1:6] for f in row)
        return has_pairs or zcrm

    def columns(self, ctx: FileContext, headers: list[str]) -> list[Col]:
        folded = {h.casefold() for h in headers}
        is_lead = "lead owner" in folded or "lead status" in folded
        owner = "Lead Owner" if is_lead else "Contact Owner"
        ts = dict(formats=ZOHO_FORMATS)
        address = (
            ("Street", "City", "State", "Zip Code", "Country")
            if is_lead
            else ("Mailing Street", "Mailing City", "Mailing State", "Mailing Zip", "Mailing Country")
        )
        return [
            Col("source_system", const=ZOHO),
            Col("record_type", const="lead" if is_lead else "contact"),
            Col("source_record_id", "Record Id", sql=ID_SQL, required=True),
            Col("owner_id", f"{owner}.id", sql=ID_SQL),
            Col("first_name", "First Name"),
            Col("last_name", "Last Name"),
            Col("salutation", "Salutation"),
            Col("email", "Email"),
            Col("phone", "Phone"),
            Col("mobile_phone", "Mobile"),
            Col("title", "Title"),
            Col("department", "Department"),
            Col("company", "Company" if is_lead else "Account Name"),
            Col("account_id", "Account Name.id", sql=ID_SQL),
            Col("street", address[0]),
            Col("city", address[1]),
            Col("state", address[2]),
            Col("postal_code", address[3]),
            Col("country", address[4]),
            Col("birth_date", "Date of Birth", "date"),
            Col("lead_source", "Lead Source"),
            Col("lead_status", "Lead Status"),
            Col("industry", "Industry"),
            Col("employees", "No. of Employees", "int"),
            Col("annual_revenue", "Annual Revenue", "double"),
            Col("has_opted_out_of_email", "Email Opt Out", "bool"),
            Col("rating", "Rating"),
            timestamp_col(ZOHO, ctx, "created_at", source="Created Time", **ts),
            timestamp_col(ZOHO, ctx, "updated_at", source="Modified Time", **ts),
            Col("default_phone_region", const=ctx.config.source(ZOHO).default_phone_region),
        ]

    def segment(self, ctx, headers, stage, header_cols, rejects, raw_sql, nondata=0) -> Segment:
        seg = super().segment(ctx, headers, stage, header_cols, rejects, raw_sql, nondata)
        # `X` of an `X.id` pair is the lookup's display name: keep it in extra without a warning.
        folded = {h.casefold() for h in headers}
        ids = [
            h
            for h in headers
            if h.casefold() in ("record id", "contact owner.id", "lead owner.id", "account name.id")
            or (h.casefold().endswith(".id") and h.casefold()[:-3] in folded)
        ]
        sci = 0
        for h in ids:
            col = header_cols[h]
            sci += ctx.con.execute(
                f"SELECT count(*) FROM {stage} WHERE regexp_matches(regexp_replace(trim({col}), '^zcrm_', ''), "
                f"'{SCI}')"
            ).fetchall()[0][0]
        if sci:
            ctx.warn(
                f"{ctx.relative}: {sci} id value(s) in scientific notation (opened in a spreadsheet?): "
                "loaded as digits, but their last digits may be wrong; export again as CSV without Excel"
            )
        return seg


register(ZohoCrm())
