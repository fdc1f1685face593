"""`ingest_folder`: every export file below a folder into the raw tables, nothing lost, nothing twice.

Per file: sha256 of the bytes; a hash already loaded is a duplicate (nothing new is written); otherwise the
encoding is detected, the format detected from the content (or named by a rule in config/sources.yaml), the rows
staged (header problems reject the whole file at this point, before anything is written), then in one transaction:
rows of an earlier version of the same path are removed (that version becomes `superseded`), good rows go to the
raw table, bad rows to `ingest_quarantine`, and the file to `ingest_files`. A file that fails is rolled back and
recorded as `rejected` with its error; the other files still load.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.lib.ingest.encoding import detect_encoding, file_sha256
from pipelines.lib.ingest.errors import FileRejected
from pipelines.lib.ingest.formats import FORMATS, FileContext, Format, detect_format, sniff_file
from pipelines.lib.ingest.mapping import AmbiguousDates, choose_formats, count_rows, lit, write_segment
from pipelines.lib.ingest.report import FileResult, IngestReport
from pipelines.lib.ingest.schema import RAW_TABLES, TABLE_NAMES, create_tables
from pipelines.lib.ingest.sources import SourcesConfig, load_sources_config

log = logging.getLogger(__name__)

TABLE_KIND = {
    "raw_crm_contacts": "crm",
    "raw_crm_deals": "crm",
    "raw_email_events": "email",
    "raw_email_suppressions": "email",
    "raw_email_audience": "email",
    "raw_webinar_attendance": "webinar",
    "raw_webinar_registrations": "webinar",
    "raw_unsubscribe_requests": "email",
}


WAREHOUSE_SUFFIXES = (".duckdb", ".duckdb.wal", ".duckdb.tmp", ".wal")


def is_warehouse_file(path: Path) -> bool:
    """A DuckDB database (a warehouse, maybe the run's own) or its write-ahead log: never an export."""
    if path.name.lower().endswith(WAREHOUSE_SUFFIXES):
        return True
    try:
        with open(path, "rb") as handle:
            return handle.read(12)[8:12] == b"DUCK"
    except OSError:
        return False


def _candidate_files(exports_dir: Path) -> list[Path]:
    exports_dir = Path(exports_dir)
    if not exports_dir.is_dir():
        raise FileNotFoundError(f"{exports_dir}: exports folder not found")
    out = []
    for path in sorted(exports_dir.rglob("*")):
        rel = path.relative_to(exports_dir)
        if any(part.startswith(("_", ".")) for part in rel.parts) or not path.is_file():
            continue
        out.append(path)
    return out


def list_export_files(exports_dir: Path) -> list[Path]:
    """Every file below `exports_dir`, except under path components starting with `_` or `.`, and except
    DuckDB warehouse files and their `.wal` (a warehouse kept inside the exports folder is not an export)."""
    return [p for p in _candidate_files(exports_dir) if not is_warehouse_file(p)]


def ingest_folder(
    con: duckdb.DuckDBPyConnection,
    exports_dir: Path,
    config_dir: Path | None = None,
    *,
    now: datetime | None = None,
    on_file: Callable[[int, int, FileResult], None] | None = None,  # (n, total, result) after each file
) -> IngestReport:
    config, warning = load_sources_config(Path(config_dir) if config_dir is not None else None)
    report = IngestReport()
    if warning:
        report.warnings.append(warning)
    create_tables(con)
    con.execute("SET enable_progress_bar = false")
    ingested_at = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    exports_dir = Path(exports_dir)
    paths = []
    for path in _candidate_files(exports_dir):
        if is_warehouse_file(path):
            relative = path.relative_to(exports_dir).as_posix()
            report.warnings.append(
                f"{relative}: a DuckDB database file (a warehouse), not an export: skipped"
            )
        else:
            paths.append(path)
    for n, path in enumerate(paths, start=1):
        result = ingest_file(con, path, path.relative_to(exports_dir).as_posix(), config, ingested_at)
        report.files.append(result)
        if on_file is not None:
            on_file(n, len(paths), result)
    for table in TABLE_NAMES:
        report.table_counts[table] = int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
    report.warnings.extend(report.source_kind_warnings())
    return report


def _format_for(sniff, rule, relative: str) -> Format:
    if rule is not None:
        return FORMATS[rule.format]
    fmt = detect_format(sniff)
    if fmt is None:
        header = ", ".join(sniff.first_fields[:8]) if sniff.rows else "(binary or empty)"
        raise FileRejected(
            f"{relative}: format not recognised (first line: {header}); name it in "
            "config/sources.yaml under `files:`"
        )
    return fmt


def _kind(fmt: Format, ctx_rule) -> str:
    if fmt.name == "custom_csv" and ctx_rule is not None and ctx_rule.table:
        return TABLE_KIND[ctx_rule.table]
    return fmt.kind


def ingest_file(
    con: duckdb.DuckDBPyConnection, path: Path, relative: str, config: SourcesConfig, ingested_at: datetime
) -> FileResult:
    stat = path.stat()
    file_hash = file_sha256(path)
    mtime = datetime.fromtimestamp(stat.st_mtime, UTC).replace(tzinfo=None)
    loaded_before = con.execute(
        "SELECT source_file, format, source_kind FROM ingest_files WHERE file_hash = ? AND status = 'loaded'",
        [file_hash],
    ).fetchall()
    if loaded_before:
        first, first_format, first_kind = loaded_before[0]
        result = FileResult(
            relative,
            file_hash,
            first_format,
            first_kind,
            "duplicate",
            warnings=[f"{relative}: same content as {first} (already loaded): nothing new loaded"],
        )
        recorded = con.execute(
            "SELECT count(*) FROM ingest_files WHERE file_hash = ? AND source_file = ?", [file_hash, relative]
        ).fetchall()[0][0]
        if not recorded:
            _record(con, result, None, stat.st_size, mtime, ingested_at)
        return result

    rule = config.rule_for(relative)
    result = FileResult(relative, file_hash, rule.format if rule else None, None, "rejected")
    in_transaction = False
    try:
        with tempfile.TemporaryDirectory(prefix="touchplan-ingest-") as tmp:
            with open(path, "rb") as handle:
                is_zip = handle.read(4).startswith(b"PK\x03\x04")
            encoding = None if is_zip else detect_encoding(path)
            result.encoding = encoding.name + ("-bom" if encoding.bom_length else "") if encoding else "zip"
            sniff = sniff_file(path, relative, encoding)
            sniff.aliases = {
                k.casefold(): v for src in config.sources.values() for k, v in src.header_aliases.items()
            }
            fmt = _format_for(sniff, rule, relative)
            result.format, result.source_kind = fmt.name, _kind(fmt, rule)
            ctx = FileContext(
                con=con,
                path=path,
                relative=relative,
                file_hash=file_hash,
                encoding=encoding,
                config=config,
                rule=rule,
                tmpdir=Path(tmp),
                warnings=result.warnings,
            )
            segments = fmt.stage(ctx, sniff)  # header problems raise FileRejected here: nothing written yet
            order = _date_order(config, rule, fmt)
            try:
                segments = [choose_formats(con, seg, order) for seg in segments]
            except AmbiguousDates as exc:
                raise FileRejected(f"{relative}: {exc}") from exc
            rows_read = sum(count_rows(con, seg) for seg in segments)
            bad_lines = encoding.bad_lines if encoding is not None else ()
            meta = {
                "_source_file": relative,
                "_file_hash": file_hash,
                "_format": fmt.name,
                "_ingested_at": ingested_at.isoformat(sep=" "),
            }
            con.execute("BEGIN TRANSACTION")
            in_transaction = True
            result.superseded = _supersede(con, relative, file_hash)
            written = [write_segment(con, seg, meta, bad_lines) for seg in segments]
            loaded = sum(w.loaded for w in written)
            quarantined = sum(w.quarantined for w in written)
            if loaded + quarantined != rows_read:
                raise RuntimeError(
                    f"{relative}: {rows_read} rows read but {loaded} loaded + {quarantined} "
                    "quarantined (ingest bug: nothing written)"
                )
            result.rows_read, result.rows_loaded, result.rows_quarantined = rows_read, loaded, quarantined
            _reconcile_lines(result, encoding, segments, written)
            if bad_lines:
                shown = ", ".join(str(n) for n in bad_lines[:10]) + (" ..." if len(bad_lines) > 10 else "")
                result.warnings.append(
                    f"{relative}: UTF-8 file with {len(bad_lines)} line(s) of bytes that are not UTF-8 (line "
                    f"{shown}): their rows are quarantined, the rest decoded as UTF-8"
                )
            result.status = "loaded"
            if quarantined:
                result.warnings.append(
                    f"{relative}: {quarantined} row(s) quarantined (see ingest_quarantine)"
                )
            _record(con, result, None, stat.st_size, mtime, ingested_at)
            con.execute("COMMIT")
            in_transaction = False
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the others
        if in_transaction:
            con.execute("ROLLBACK")
        result.status = "rejected"
        result.rows_read = result.rows_loaded = result.rows_quarantined = 0
        result.lines_read = result.lines_loaded = result.lines_quarantined = result.lines_skipped = None
        result.superseded = []
        message = str(exc) if isinstance(exc, FileRejected) else f"{relative}: {type(exc).__name__}: {exc}"
        result.error = message if message.startswith(relative) else f"{relative}: {message}"
        con.execute(
            "DELETE FROM ingest_files WHERE file_hash = ? AND source_file = ? AND status = 'rejected'",
            [file_hash, relative],
        )
        _record(con, result, result.error, stat.st_size, mtime, ingested_at)
        if not isinstance(exc, FileRejected):
            log.exception("ingest of %s failed", relative)
    finally:
        _drop_stages(con)
    return result


def _date_order(config: SourcesConfig, rule, fmt: Format) -> str | None:
    """The `date_order` stated for the file (its rule) or its source system, if any."""
    if rule is not None and rule.date_order:
        return rule.date_order
    source = (
        rule.source if rule is not None and rule.source and fmt.name == "custom_csv" else fmt.source_system
    )
    return config.source(source).date_order


def _reconcile_lines(result: FileResult, encoding, segments: list, written: list) -> None:
    """Physical lines: read = loaded + quarantined + skipped (header, footers, blank lines, section titles).

    For a delimited file staged in one piece the skipped lines are counted as they are dropped, and the
    equation is checked (a mismatch is an ingest bug: nothing is written). For the other parsers (sections,
    zip members...) the skipped lines are the remainder."""
    if encoding is None or encoding.lines is None:
        return
    result.lines_read = encoding.lines
    result.lines_loaded = sum(w.lines_loaded for w in written)
    result.lines_quarantined = sum(w.lines_quarantined for w in written)
    if len(segments) == 1 and segments[0].lines_skipped is not None and not segments[0].row_filter:
        result.lines_skipped = segments[0].lines_skipped
        total = result.lines_loaded + result.lines_quarantined + result.lines_skipped
        if total != result.lines_read:
            raise RuntimeError(
                f"{result.path}: {result.lines_read} lines read but {result.lines_loaded} loaded + "
                f"{result.lines_quarantined} quarantined + {result.lines_skipped} skipped (ingest bug: nothing "
                "written)"
            )
    else:
        result.lines_skipped = result.lines_read - result.lines_loaded - result.lines_quarantined


def _supersede(con: duckdb.DuckDBPyConnection, relative: str, file_hash: str) -> list[str]:
    """A new version of a path replaces the rows of the version loaded before it."""
    old = [
        r[0]
        for r in con.execute(
            "SELECT file_hash FROM ingest_files WHERE source_file = ? AND status = 'loaded' AND file_hash <> ?",
            [relative, file_hash],
        ).fetchall()
    ]
    for old_hash in old:
        for table in RAW_TABLES:
            con.execute(
                f"DELETE FROM {table} WHERE _source_file = ? AND _file_hash = ?", [relative, old_hash]
            )
        con.execute(
            "DELETE FROM ingest_quarantine WHERE source_file = ? AND _file_hash = ?", [relative, old_hash]
        )
        con.execute(
            "UPDATE ingest_files SET status = 'superseded', superseded_by = ? WHERE source_file = ? AND "
            "file_hash = ? AND status = 'loaded'",
            [file_hash, relative, old_hash],
        )
    return old


def _record(
    con, result: FileResult, error: str | None, size: int, mtime: datetime, ingested_at: datetime
) -> None:
    con.execute(
        "INSERT INTO ingest_files (file_hash, source_file, format, source_kind, encoding, status, rows_read, "
        "rows_loaded, rows_quarantined, lines_read, lines_loaded, lines_quarantined, lines_skipped, error, "
        "warnings, file_size, file_mtime, ingested_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            result.file_hash,
            result.path,
            result.format,
            result.source_kind,
            result.encoding,
            result.status,
            result.rows_read,
            result.rows_loaded,
            result.rows_quarantined,
            result.lines_read,
            result.lines_loaded,
            result.lines_quarantined,
            result.lines_skipped,
            error,
            result.warnings,
            size,
            mtime,
            ingested_at,
        ],
    )


def _drop_stages(con: duckdb.DuckDBPyConnection) -> None:
    names = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name LIKE '\\_ingest\\_stage\\_%' "
            "ESCAPE '\\'"
        ).fetchall()
    ]
    for name in names:
        con.execute(f"DROP TABLE IF EXISTS temp.{name}")
    _ = lit
