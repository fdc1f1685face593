"""What an ingest run did, per file and in total."""

from __future__ import annotations

from dataclasses import dataclass, field

SOURCE_KINDS = ("crm", "email", "webinar")


@dataclass
class FileResult:
    path: str  # relative to the exports folder
    file_hash: str
    format: str | None
    source_kind: str | None
    status: str  # loaded | duplicate | rejected (superseded is what an older file becomes)
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    # Physical lines as a text editor counts them (text files): lines_read = lines_loaded + lines_quarantined +
    # lines_skipped (header, footers, blank lines). A record over several lines counts all of them.
    lines_read: int | None = None
    lines_loaded: int | None = None
    lines_quarantined: int | None = None
    lines_skipped: int | None = None
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    superseded: list[str] = field(default_factory=list)  # hashes of the files this one replaced


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)
    table_counts: dict[str, int] = field(default_factory=dict)
    empty_kinds: list[str] = field(default_factory=list)  # source kinds with no file at all
    warnings: list[str] = field(default_factory=list)

    def source_kind_warnings(self) -> list[str]:
        """Per source kind (crm, email, webinar) with no new rows: whether its files are missing, or were all
        already loaded (a rerun over the same exports), or were all rejected. Sets `empty_kinds`."""
        warnings = []
        self.empty_kinds = []
        for kind in SOURCE_KINDS:
            files = [f for f in self.files if f.source_kind == kind]
            if not files:
                self.empty_kinds.append(kind)
                warnings.append(f"no {kind} export files found: the {kind} raw tables get no new rows")
            elif not any(f.status == "loaded" for f in files):
                duplicates = sum(f.status == "duplicate" for f in files)
                rejected = sum(f.status == "rejected" for f in files)
                parts = (
                    [f"{duplicates} already loaded (same content as a file loaded before)"]
                    if duplicates
                    else []
                )
                parts += [f"{rejected} rejected"] if rejected else []
                warnings.append(
                    f"{len(files)} {kind} export file(s) found, none new: {', '.join(parts)}; "
                    f"the {kind} raw tables get no new rows"
                )
        return warnings

    @property
    def rejected(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "rejected"]

    @property
    def totals(self) -> dict[str, int]:
        return {
            "files": len(self.files),
            "loaded_files": sum(f.status == "loaded" for f in self.files),
            "duplicate_files": sum(f.status == "duplicate" for f in self.files),
            "rejected_files": len(self.rejected),
            "rows_read": sum(f.rows_read for f in self.files),
            "rows_loaded": sum(f.rows_loaded for f in self.files),
            "rows_quarantined": sum(f.rows_quarantined for f in self.files),
            "lines_read": sum(f.lines_read or 0 for f in self.files),
            "lines_loaded": sum(f.lines_loaded or 0 for f in self.files),
            "lines_quarantined": sum(f.lines_quarantined or 0 for f in self.files),
            "lines_skipped": sum(f.lines_skipped or 0 for f in self.files),
        }
