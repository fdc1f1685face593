"""Microsoft Dynamics 365 (Dataverse) "Export to Excel" of a Contacts or Leads view (.xlsx).

The data sheet starts with three hidden columns, `(Do Not Modify) <Entity>` (the record GUID),
`(Do Not Modify) Row Checksum` and `(Do Not Modify) Modified On`, then the view's columns under their display
labels (`Full Name`, `Email`, `Business Phone`, `Address 1: City`, `Do not allow Bulk Emails`, `Created On`...).
Every column is found by its header name, never by its position, so a view whose columns were reordered (or whose
hidden columns were unhidden and moved) reads the same. Dynamics exports at most 100,000 rows per file.

The workbook is read with openpyxl in read-only mode, streamed in batches into a DuckDB staging table (all text);
typing, time zones and quarantine reasons are the same SQL as for the CSV formats. Times shown in the sheet are in
the exporting user's time zone: `sources.dynamics.time_zone`.
"""

from __future__ import annotations

from pipelines.lib.ingest.errors import FileRejected
from pipelines.lib.ingest.formats import FileContext, Format, Sniff, make_segment, register, timestamp_col
from pipelines.lib.ingest.mapping import FALSE_WORDS, TRUE_WORDS, Col, Segment
from pipelines.lib.ingest.tabular import check_headers, clean_header, header_map
from pipelines.lib.ingest.xlsx import data_sheet, iter_rows, open_workbook

DYNAMICS = "dynamics"
HIDDEN = "(do not modify) "
CHECKSUM = "(Do Not Modify) Row Checksum"
HIDDEN_MODIFIED = "(Do Not Modify) Modified On"
ENTITIES = {"contact": "contact", "lead": "lead"}
EXPORT_LIMIT = 100_000
BATCH = 10_000

# raw column -> header labels, first present wins (contact labels, then lead labels, then older versions).
LABELS: dict[str, tuple[str, ...]] = {
    "first_name": ("First Name",),
    "last_name": ("Last Name",),
    "salutation": ("Salutation",),
    "email": ("Email", "E-mail"),
    "phone": ("Business Phone",),
    "mobile_phone": ("Mobile Phone",),
    "title": ("Job Title",),
    "department": ("Department",),
    "company": ("Company Name", "Account Name", "Parent Customer"),
    "street": ("Address 1: Street 1", "Street 1"),
    "city": ("Address 1: City", "City"),
    "state": ("Address 1: State/Province", "State/Province"),
    "postal_code": ("Address 1: ZIP/Postal Code", "ZIP/Postal Code"),
    "country": ("Address 1: Country/Region", "Address 1: Country", "Country/Region", "Country"),
    "lead_source": ("Lead Source",),
    "lead_status": ("Status Reason",),
    "rating": ("Rating",),
    "industry": ("Industry",),
    "purchase_timeframe": ("Purchase Timeframe",),
}
TYPED: dict[str, tuple[str, tuple[str, ...]]] = {
    "birth_date": ("date", ("Birthday", "Birth Date")),
    "employees": ("int", ("No. of Employees", "Number of Employees")),
    "annual_revenue": ("double", ("Annual Revenue",)),
    "budget": ("double", ("Budget Amount",)),
}
OPT_OUT = ("Do not allow Bulk Emails", "Do not allow Emails")
DO_NOT_CALL = ("Do not allow Phone Calls",)
# Known columns kept in `extra` without a warning.
KEPT = (
    "Full Name",
    "Owner",
    "Status",
    "Topic",
    "Preferred Method of Contact",
    "Email Address 2",
    "Email Address 3",
    "Description",
    "Parent Customer",
    "Account Name",
    "Modified On",
    "Created On",
)
# "Do Not Allow" / "Allow" (how Dynamics writes its do-not-contact flags) -> the yes/no words of mapping.py.
TRUE_FALSE = tuple(TRUE_WORDS + FALSE_WORDS)
ALLOW_SQL = "CASE lower(trim({c})) WHEN 'do not allow' THEN 'true' WHEN 'allow' THEN 'false' ELSE {c} END"


def _fold(headers: list[str]) -> dict[str, str]:
    return {h.casefold(): h for h in headers if h}


def _first(headers: dict[str, str], labels: tuple[str, ...]) -> str | None:
    for label in labels:
        if label.casefold() in headers:
            return headers[label.casefold()]
    return None


def _id_header(headers: list[str]) -> str | None:
    """`(Do Not Modify) <Entity>`: the hidden GUID column (whatever its position)."""
    for h in headers:
        if h.casefold().startswith(HIDDEN) and h.casefold() not in (
            CHECKSUM.casefold(),
            HIDDEN_MODIFIED.casefold(),
        ):
            return h
    return None


class DynamicsExcel(Format):
    name = "dynamics_xlsx"
    kind = "crm"
    source_system = DYNAMICS

    def _header(self, sniff: Sniff, aliases: dict[str, str] | None = None) -> tuple[int, list[str]] | None:
        """The header row, with localized labels mapped by `header_aliases` (e.g. `(Nicht ändern) Kontakt`)."""
        aliases = sniff.aliases if aliases is None else aliases
        for line, fields in sniff.xlsx_rows[:5]:
            headers = [aliases.get(clean_header(f).casefold(), clean_header(f)) for f in fields]
            folded = {h.casefold() for h in headers}
            if CHECKSUM.casefold() in folded and _id_header(headers):
                return line, headers
        return None

    def detect(self, sniff: Sniff) -> bool:
        return sniff.is_xlsx and self._header(sniff) is not None

    def stage(self, ctx: FileContext, sniff: Sniff) -> list[Segment]:
        found = self._header(sniff, {**sniff.aliases, **ctx.aliases(DYNAMICS)})
        if found is None:
            raise FileRejected(
                f"{ctx.relative}: no Dynamics header row with `(Do Not Modify) ...` columns found "
                "in the first rows of the first visible sheet"
            )
        header_line, headers = found
        # Trailing columns without a header (empty cells Excel kept) are not columns.
        while headers and not headers[-1]:
            headers.pop()
        id_header = _id_header(headers)
        assert id_header is not None
        entity = id_header[len(HIDDEN) :].strip()
        record_type = ENTITIES.get(entity.casefold())
        if record_type is None:
            raise FileRejected(
                f"{ctx.relative}: line {header_line}: a Dynamics export of {entity!r} records "
                f"(column {id_header!r}); only Contact and Lead exports are loaded"
            )
        check_headers(ctx.relative, headers, [id_header], header_line, "sheet header")
        stage, rejects, nondata, data_rows = self._stream(ctx, headers, header_line)
        if data_rows >= EXPORT_LIMIT:
            ctx.warn(
                f"{ctx.relative}: {data_rows} rows, Dynamics' export limit is {EXPORT_LIMIT:,}: the view may "
                "hold more records than the file (export it in parts, e.g. filtered by Created On)"
            )
        if nondata:
            ctx.warn(f"{ctx.relative}: {nondata} empty sheet row(s) skipped (not data rows)")
        cols_map = header_map(headers)
        folded = _fold(headers)
        self._normalise_flags(ctx, stage, cols_map, folded)
        columns, header_cols, extra_kept, ignored = self._columns(
            ctx, headers, cols_map, folded, id_header, record_type
        )
        seg = make_segment(
            ctx,
            self.name,
            "raw_crm_contacts",
            columns,
            headers,
            stage,
            header_cols,
            rejects,
            raw_sql="_raw",
            ignored=tuple(ignored),
        )
        seg.extra_headers = seg.extra_headers + [h for h in extra_kept if h not in seg.extra_headers]
        return [seg]

    def _stream(self, ctx: FileContext, headers: list[str], header_line: int) -> tuple[str, str, int, int]:
        """Stream the sheet rows after the header into a staging table (c0..cN, _line, _raw, _member)."""
        import pyarrow as pa  # here, not at import: pyarrow costs about 1 s of CPU to load

        n = len(headers)
        stage = ctx.new_stage()
        rejects = f"{stage}_rej"
        names = [f"c{i}" for i in range(n)]
        ddl = ", ".join(f"{c} VARCHAR" for c in names)
        ctx.con.execute(f"CREATE TEMP TABLE {stage} ({ddl}, _line BIGINT, _raw VARCHAR, _member VARCHAR)")
        ctx.con.execute(
            f"CREATE TEMP TABLE {rejects} (_line BIGINT, _raw VARCHAR, _member VARCHAR, reason VARCHAR)"
        )
        schema = pa.schema(
            [(c, pa.string()) for c in names]
            + [("_line", pa.int64()), ("_raw", pa.string()), ("_member", pa.string())]
        )
        batch: list[tuple[int, str, list[str | None]]] = []
        bad: list[tuple[int, str, str]] = []
        nondata = data_rows = 0

        def flush() -> None:
            if batch:
                data = {c: [r[2][i] for r in batch] for i, c in enumerate(names)}
                data["_line"] = [r[0] for r in batch]
                data["_raw"] = [r[1] for r in batch]
                data["_member"] = [None] * len(batch)
                ctx.con.register(f"{stage}_arrow", pa.table(data, schema=schema))
                ctx.con.execute(f"INSERT INTO {stage} SELECT * FROM {stage}_arrow")
                ctx.con.unregister(f"{stage}_arrow")
                batch.clear()
            if bad:
                table = pa.table(
                    {
                        "_line": pa.array([b[0] for b in bad], pa.int64()),
                        "_raw": pa.array([b[1] for b in bad], pa.string()),
                        "_member": pa.array([None] * len(bad), pa.string()),
                        "reason": pa.array([b[2] for b in bad], pa.string()),
                    }
                )
                ctx.con.register(f"{stage}_rej_arrow", table)
                ctx.con.execute(f"INSERT INTO {rejects} SELECT * FROM {stage}_rej_arrow")
                ctx.con.unregister(f"{stage}_rej_arrow")
                bad.clear()

        workbook = open_workbook(ctx.path)
        try:
            for line, values in iter_rows(data_sheet(workbook)):
                if line <= header_line:
                    continue
                values = [None if v is None or not str(v).strip() else v for v in values]
                if not any(values):
                    nondata += 1
                    continue
                data_rows += 1
                raw = "\t".join(v or "" for v in values).rstrip("\t")
                beyond = [i for i, v in enumerate(values[n:], start=n + 1) if v is not None]
                if beyond:
                    bad.append(
                        (
                            line,
                            raw,
                            f"malformed row: value(s) in column(s) {beyond} beyond the {n} headed columns",
                        )
                    )
                else:
                    batch.append((line, raw, values[:n] + [None] * (n - len(values))))
                if len(batch) >= BATCH:
                    flush()
            flush()
        finally:
            workbook.close()
        # Trailing empty rows Excel keeps after the data are not data rows either (counted above).
        return stage, rejects, nondata, data_rows

    @staticmethod
    def _normalise_flags(
        ctx: FileContext, stage: str, cols_map: dict[str, str], folded: dict[str, str]
    ) -> None:
        """`Do Not Allow` / `Allow` -> true / false in the staged do-not-contact columns (the raw text keeps them),
        and `_opt_out`: true when either email flag says "Do Not Allow"; an unreadable flag is passed on as it is,
        so that the row is quarantined with it."""
        sets = []
        for label in (*OPT_OUT, *DO_NOT_CALL):
            header = folded.get(label.casefold())
            if header is not None:
                c = cols_map[header]
                sets.append(f"{c} = {ALLOW_SQL.format(c=c)}")
        if sets:
            ctx.con.execute(f"UPDATE {stage} SET {', '.join(sets)}")
        opt = [cols_map[folded[x.casefold()]] for x in OPT_OUT if x.casefold() in folded]
        if opt:
            staged = [f"NULLIF(TRIM({c}), '')" for c in opt]
            invalid = ", ".join(f"CASE WHEN lower({s}) NOT IN {TRUE_FALSE} THEN {s} END" for s in staged)
            any_true = " OR ".join(f"lower({s}) IN {TRUE_WORDS}" for s in staged)
            any_false = " OR ".join(f"lower({s}) IN {FALSE_WORDS}" for s in staged)
            ctx.con.execute(f"ALTER TABLE {stage} ADD COLUMN _opt_out VARCHAR")
            ctx.con.execute(
                f"UPDATE {stage} SET _opt_out = coalesce({invalid}, CASE WHEN {any_true} THEN 'true' "
                f"WHEN {any_false} THEN 'false' END)"
            )

    def _columns(
        self,
        ctx: FileContext,
        headers: list[str],
        cols_map: dict[str, str],
        folded: dict[str, str],
        id_header: str,
        record_type: str,
    ) -> tuple[list[Col], dict[str, str], list[str], list[str]]:
        header_cols = dict(cols_map)
        guid = "lower(regexp_replace({src}, '^[{{]|[}}]$', '', 'g'))"  # {GUID} -> guid
        cols = [
            Col("source_system", const=DYNAMICS),
            Col("record_type", const=record_type),
            Col("source_record_id", id_header, sql=guid, required=True),
            Col("default_phone_region", const=ctx.config.source(DYNAMICS).default_phone_region),
        ]
        for target, labels in LABELS.items():
            header = _first(folded, labels)
            if header is not None:
                cols.append(Col(target, header))
        for target, (kind, labels) in TYPED.items():
            header = _first(folded, labels)
            if header is not None:
                cols.append(Col(target, header, kind))
        # Times: the visible columns are in the exporting user's zone; the hidden `(Do Not Modify) Modified On`
        # is only used when the view does not show `Modified On`.
        created = _first(folded, ("Created On",))
        modified = _first(folded, ("Modified On",)) or _first(folded, (HIDDEN_MODIFIED,))
        if created:
            cols.append(timestamp_col(DYNAMICS, ctx, "created_at", source=created))
        if modified:
            cols.append(timestamp_col(DYNAMICS, ctx, "updated_at", source=modified))
        # Do-not-contact flags: opted out of email when either "Do not allow" email flag says so.
        opt = [folded[x.casefold()] for x in OPT_OUT if x.casefold() in folded]
        if opt:
            header_cols["_opt_out"] = "_opt_out"
            cols.append(Col("has_opted_out_of_email", "_opt_out", "bool", label=" / ".join(opt)))
        call = _first(folded, DO_NOT_CALL)
        if call:
            cols.append(Col("do_not_call", call, "bool"))
        used = {c.source.casefold() for c in cols if c.source}
        kept = [folded[k.casefold()] for k in KEPT if k.casefold() in folded and k.casefold() not in used]
        ignored = [*kept, *opt, CHECKSUM]
        if modified != folded.get(HIDDEN_MODIFIED.casefold()):
            ignored.append(HIDDEN_MODIFIED)
        return cols, header_cols, kept, ignored


register(DynamicsExcel())
