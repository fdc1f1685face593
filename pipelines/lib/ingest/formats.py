"""The format registry, what a parser sees of a file (`Sniff`, `FileContext`), and the header-mapped CSV base.

Each format family lives in its own module (salesforce.py, hubspot.py, ...) and registers its formats here.
Detection asks each format, in registry order, whether the file's content looks like it; a rule in
config/sources.yaml can name the format of a file glob instead.
"""

from __future__ import annotations

import dataclasses
import itertools
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import duckdb

from pipelines.lib.ingest.encoding import Encoding, read_text_head, utf8_copy
from pipelines.lib.ingest.errors import FileRejected
from pipelines.lib.ingest.mapping import Col, Segment
from pipelines.lib.ingest.tabular import (
    check_headers,
    clean_header,
    guess_delimiter,
    head_rows,
    remember_scan,
    stage_csv,
)

if TYPE_CHECKING:
    # For FileContext's annotations only: sources.py imports this module (its config names formats of FORMATS).
    from pipelines.lib.ingest.sources import FileRule, SourcesConfig

_stage_ids = itertools.count(1)


@dataclass
class Sniff:
    """What detection looks at: the name, and the first rows of text (or the members of a zip / an xlsx)."""

    relative: str
    head_text: str = ""
    delimiter: str = ","
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    zip_members: list[str] = field(default_factory=list)
    is_xlsx: bool = False
    xlsx_rows: list[tuple[int, list[str]]] = field(default_factory=list)  # first rows of an xlsx data sheet
    aliases: dict[str, str] = field(default_factory=dict)  # localized header (casefolded) -> known header

    @property
    def name(self) -> str:
        return Path(self.relative).name.lower()

    @property
    def first_fields(self) -> list[str]:
        return [clean_header(f) for f in self.rows[0][1]] if self.rows else []

    def header_set(self, index: int = 0) -> set[str]:
        if len(self.rows) <= index:
            return set()
        names = (clean_header(f) for f in self.rows[index][1])
        return {self.aliases.get(n.casefold(), n).casefold() for n in names}


def sniff_text(relative: str, text: str) -> Sniff:
    first = text.split("\n", 1)[0]
    delimiter = guess_delimiter(first)
    return Sniff(relative=relative, head_text=text, delimiter=delimiter, rows=head_rows(text, delimiter))


@dataclass
class FileContext:
    con: duckdb.DuckDBPyConnection
    path: Path
    relative: str
    file_hash: str
    encoding: Encoding | None
    config: SourcesConfig
    rule: FileRule | None
    tmpdir: Path
    warnings: list[str] = field(default_factory=list)
    _utf8: Path | None = None

    def utf8_path(self) -> Path:
        if self._utf8 is None:
            assert self.encoding is not None
            self._utf8 = utf8_copy(self.path, self.encoding, self.tmpdir / "utf8.txt")
        remember_scan(self._utf8, self.encoding.lines, self.encoding.has_quote, self.encoding.has_blank)
        return self._utf8

    def new_stage(self) -> str:
        return f"_ingest_stage_{next(_stage_ids)}"

    def zone(self, source: str) -> str:
        return self.config.time_zone(source, self.rule)

    def aliases(self, source: str) -> dict[str, str]:
        return {k.casefold(): v for k, v in self.config.source(source).header_aliases.items()}

    def warn(self, message: str) -> None:
        self.warnings.append(message)


class Format:
    name: ClassVar[str]
    kind: ClassVar[str]  # crm | email | webinar
    source_system: ClassVar[str]

    def detect(self, sniff: Sniff) -> bool:
        return False

    def stage(self, ctx: FileContext, sniff: Sniff) -> list[Segment]:
        raise NotImplementedError


FORMATS: dict[str, Format] = {}


def register(fmt: Format) -> Format:
    FORMATS[fmt.name] = fmt
    return fmt


def has_all(headers: set[str], *names: str) -> bool:
    return all(n.casefold() in headers for n in names)


class TabularFormat(Format):
    """A delimited file with one header row whose columns map onto a raw table."""

    table: ClassVar[str]
    required: ClassVar[tuple[str, ...]] = ()
    signature: ClassVar[tuple[str, ...]] = ()  # headers that identify the format (besides `required`)
    ignored: ClassVar[tuple[str, ...]] = ()  # known headers deliberately not loaded (no warning)
    alias_source: ClassVar[str | None] = None  # whose header_aliases apply

    def columns(self, ctx: FileContext, headers: list[str]) -> list[Col]:
        raise NotImplementedError

    def detect(self, sniff: Sniff) -> bool:
        return bool(sniff.rows) and has_all(sniff.header_set(), *self.required, *self.signature)

    def header_row(self, sniff: Sniff) -> tuple[int, list[str]]:
        if not sniff.rows:
            raise FileRejected(f"{sniff.relative}: the file is empty (no header row)")
        return sniff.rows[0]

    def stage(self, ctx: FileContext, sniff: Sniff) -> list[Segment]:
        line, fields = self.header_row(sniff)
        return [self.stage_file(ctx, ctx.utf8_path(), fields, line, sniff.delimiter)]

    def file_headers(self, ctx: FileContext, fields: list[str], line: int) -> list[str]:
        """The header row's names as the mapping reads them: cleaned, with the source's configured aliases."""
        aliases = ctx.aliases(self.alias_source or self.source_system)
        return [aliases.get(clean_header(f).casefold(), clean_header(f)) for f in fields]

    def stage_file(
        self,
        ctx: FileContext,
        path: Path,
        fields: list[str],
        line: int,
        delimiter: str,
        member: str | None = None,
    ) -> Segment:
        headers = self.file_headers(ctx, fields, line)
        where = f"{member}" if member else ""
        check_headers(ctx.relative, headers, list(self.required), line, where)
        staged = stage_csv(ctx.con, path, ctx.new_stage(), headers, line, delimiter, member)
        seg = self.segment(
            ctx, headers, staged.stage, staged.headers, staged.rejects, staged.raw_sql, staged.nondata
        )
        seg.lines_skipped = staged.lines_skipped
        return seg

    def segment(
        self,
        ctx: FileContext,
        headers: list[str],
        stage: str,
        header_cols: dict[str, str],
        rejects: str | None,
        raw_sql: str,
        nondata: int = 0,
    ) -> Segment:
        return make_segment(
            ctx,
            self.name,
            self.table,
            self.columns(ctx, headers),
            headers,
            stage,
            header_cols,
            rejects,
            raw_sql,
            nondata,
            self.ignored,
        )


def make_segment(
    ctx: FileContext,
    fmt: str,
    table: str,
    columns: list[Col],
    headers: list[str],
    stage: str,
    header_cols: dict[str, str],
    rejects: str | None,
    raw_sql: str = "_raw",
    nondata: int = 0,
    ignored: tuple[str, ...] = (),
    what: str = "",
) -> Segment:
    """Bind columns to the file's headers (case-insensitively); unknown headers go to `extra` with a warning."""
    by_fold = {h.casefold(): h for h in headers if h}
    cols = []
    for col in columns:
        if col.source is not None:
            col = dataclasses.replace(col, source=by_fold.get(col.source.casefold(), col.source))
        cols.append(col)
    known = {c.source.casefold() for c in cols if c.source} | {h.casefold() for h in ignored}
    extra = [h for h in headers if h and h.casefold() not in known]
    where = f" ({what})" if what else ""
    if extra:
        shown = ", ".join(extra[:10]) + (" ..." if len(extra) > 10 else "")
        ctx.warn(f"{ctx.relative}{where}: {len(extra)} unknown column(s) kept in `extra`: {shown}")
    if nondata:
        ctx.warn(f"{ctx.relative}{where}: {nondata} footer/blank line(s) skipped (not data rows)")
    return Segment(
        table=table,
        stage=stage,
        columns=cols,
        format=fmt,
        headers=header_cols,
        extra_headers=extra,
        rejects=rejects,
        raw_sql=raw_sql,
    )


def zip_names(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            return [i.filename for i in archive.infolist() if not i.is_dir()]
    except zipfile.BadZipFile:
        return []


def sniff_file(path: Path, relative: str, encoding: Encoding | None) -> Sniff:
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic.startswith(b"PK\x03\x04"):
        members = zip_names(path)
        if any(m.startswith("xl/") for m in members):
            from pipelines.lib.ingest.xlsx import head_rows as xlsx_head_rows

            try:
                xlsx_rows = xlsx_head_rows(path)
            except Exception:  # noqa: BLE001 - an unreadable workbook is "format not recognised"
                xlsx_rows = []
            return Sniff(relative=relative, is_xlsx=True, zip_members=members, xlsx_rows=xlsx_rows)
        return Sniff(relative=relative, zip_members=members)
    assert encoding is not None
    return sniff_text(relative, read_text_head(path, encoding))


# Most specific first: Zoho before HubSpot (both have "Record Id"), Salesforce Opportunity and Lead before Contact.
DETECTION_ORDER = (
    "dynamics_xlsx",
    "teams_attendance",
    "teams_live_events",
    "teams_attendance_list",
    "zoom_webinar_report",
    "zoom_participants",
    "sendgrid_events",
    "sendgrid_suppressions_json",
    "mailchimp_zip",
    "mailchimp_members",
    "salesforce_opportunity",
    "salesforce_lead",
    "salesforce_contact",
    "salesforce_report",
    "zoho_crm",
    "hubspot_deals",
    "hubspot_contacts",
    "sendgrid_suppressions",
)


def detect_format(sniff: Sniff) -> Format | None:
    ordered = [FORMATS[n] for n in DETECTION_ORDER if n in FORMATS]
    for fmt in ordered + [f for n, f in FORMATS.items() if n not in DETECTION_ORDER]:
        if fmt.detect(sniff):
            return fmt
    return None


def timestamp_col(system: str, ctx: FileContext, target: str, **kw) -> Col:
    """A timestamp column of `system`'s export, read in that system's time zone (config/sources.yaml)."""
    return Col(target, kind="timestamp", zone=ctx.zone(system), **kw)
