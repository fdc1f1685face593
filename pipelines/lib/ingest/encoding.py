"""Byte-level work on an export: its hash, its encoding, and a UTF-8 copy (no BOM) for DuckDB when needed.

Supported: UTF-8 (with or without BOM), UTF-16 LE/BE (with BOM, or recognised by their zero bytes), and cp1252.
The encoding is decided for the whole file from all its bytes, never from its first bytes alone:

- every byte sequence is valid UTF-8 -> UTF-8;
- some lines hold bytes that are not valid UTF-8, but the file also has valid multi-byte UTF-8 sequences (at least
  as many as invalid ones) -> UTF-8 all the same: the file is UTF-8 with a few damaged lines. Those lines are
  listed in `Encoding.bad_lines` (physical line numbers) and the records on them are quarantined; the rest of the
  file is not garbled by a fallback ("Kraków" never becomes "KrakÃ³w");
- high bytes but no (or fewer) valid multi-byte sequences -> cp1252 (a superset of latin-1 for text).

Every variant of the same text yields the same rows. `Encoding.lines` is the number of physical lines of the
text as a text editor counts them (CRLF, LF or a lone CR each end one line; a last line without a line break
counts too), the base of the line reconciliation of the ingest report.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

CHUNK = 1 << 20
_SURROGATE = re.compile("[\udc80-\udcff]+")
_VALID_MULTIBYTE = re.compile("[^\x00-\x7f\udc80-\udcff]")
_BREAK = re.compile(r"\r\n|\r|\n")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Encoding:
    name: str  # python codec: utf-8, utf-16-le, utf-16-be, cp1252
    bom_length: int = 0
    lines: int | None = None  # physical lines of the text (None: not counted)
    has_quote: bool = True  # whether the text holds a quote character (True when unknown)
    has_blank: bool = True  # whether the text holds an empty line (True when unknown)
    bad_lines: tuple[int, ...] = field(default=())  # lines with bytes that are not valid in `name` (UTF-8)

    @property
    def is_plain_utf8(self) -> bool:
        """DuckDB can read the file itself (no BOM, nothing to replace)."""
        return self.name == "utf-8" and self.bom_length == 0 and not self.bad_lines

    @property
    def errors(self) -> str:
        return "replace" if self.name == "cp1252" or self.bad_lines else "strict"


class _LineCounter:
    """Counts line breaks (CRLF, LF, lone CR) over chunks of bytes or text; a CRLF cut by a chunk counts once."""

    def __init__(self, cr: str | bytes, lf: str | bytes) -> None:
        self.cr, self.lf, self.crlf = cr, lf, cr + lf
        self.breaks = 0
        self.last_was_cr = False
        self.last: str | bytes | None = None
        self.blank = False  # an empty line somewhere (a break right after a break, or at the start)
        self._empty = (lf + lf, lf + cr, cr + cr)

    def feed(self, chunk) -> None:
        if not chunk:
            return
        if not self.blank:
            head = (self.last or self.lf) + chunk[:1]  # across the chunk boundary (or the file's start)
            self.blank = head in self._empty or any(e in chunk for e in self._empty)
        if self.cr in chunk:
            self.breaks += chunk.count(self.lf) + chunk.count(self.cr) - chunk.count(self.crlf)
        else:
            self.breaks += chunk.count(self.lf)
        if self.last_was_cr and chunk[:1] == self.lf:
            self.breaks -= 1
        self.last_was_cr = chunk[-1:] == self.cr
        self.last = chunk[-1:]

    @property
    def lines(self) -> int:
        if self.last is None:
            return 0
        return self.breaks + (0 if self.last in (self.cr, self.lf) else 1)


def detect_encoding(path: Path) -> Encoding:
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head.startswith(codecs.BOM_UTF8):
        return _scan_utf8(path, 3)
    if head.startswith(codecs.BOM_UTF16_LE):
        return _scan_text(path, "utf-16-le", 2)
    if head.startswith(codecs.BOM_UTF16_BE):
        return _scan_text(path, "utf-16-be", 2)
    if len(head) >= 4:
        even_zeros = head[0::2].count(0)
        odd_zeros = head[1::2].count(0)
        half = len(head) // 2
        if odd_zeros > half * 0.3 and even_zeros == 0:
            return _scan_text(path, "utf-16-le", 0)
        if even_zeros > half * 0.3 and odd_zeros == 0:
            return _scan_text(path, "utf-16-be", 0)
    return _scan_utf8(path, 0)


def _scan_text(path: Path, name: str, bom: int) -> Encoding:
    """Line count of a UTF-16 file (decoded in chunks; undecodable units become U+FFFD)."""
    decoder = codecs.getincrementaldecoder(name)(errors="replace")
    counter = _LineCounter("\r", "\n")
    has_quote = False
    with open(path, "rb") as handle:
        handle.seek(bom)
        while chunk := handle.read(CHUNK):
            text = decoder.decode(chunk)
            counter.feed(text)
            has_quote = has_quote or '"' in text
        counter.feed(decoder.decode(b"", final=True))
    return Encoding(name, bom, counter.lines, has_quote=has_quote, has_blank=counter.blank)


def _scan_utf8(path: Path, bom: int) -> Encoding:
    """One pass over the bytes: line count and UTF-8 validity; a second pass only for a file with invalid bytes."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    counter = _LineCounter(b"\r", b"\n")
    valid = True
    has_quote = False
    with open(path, "rb") as handle:
        handle.seek(bom)
        while chunk := handle.read(CHUNK):
            counter.feed(chunk)
            has_quote = has_quote or b'"' in chunk
            if valid and not chunk.isascii():
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    valid = False
        if valid:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                valid = False
    if valid:
        return Encoding("utf-8", bom, counter.lines, has_quote=has_quote, has_blank=counter.blank)
    good, bad_count, bad_lines = _utf8_damage(path, bom)
    if good and good >= bad_count:
        return Encoding(
            "utf-8",
            bom,
            counter.lines,
            bad_lines=tuple(bad_lines),
            has_quote=has_quote,
            has_blank=counter.blank,
        )
    return Encoding("cp1252", bom, counter.lines, has_quote=has_quote, has_blank=counter.blank)


def _utf8_damage(path: Path, bom: int) -> tuple[int, int, list[int]]:
    """(valid multi-byte characters, runs of invalid bytes, physical lines holding invalid bytes)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    good = bad = 0
    bad_lines: list[int] = []
    line = 1
    last_cr = False
    with open(path, "rb") as handle:
        handle.seek(bom)
        while True:
            chunk = handle.read(CHUNK)
            text = decoder.decode(chunk, final=not chunk)
            good += len(_VALID_MULTIBYTE.findall(text))
            pos = 0
            for match in _SURROGATE.finditer(text):
                bad += 1
                line += _breaks(text, pos, match.start(), last_cr)
                last_cr = False
                pos = match.start()
                if not bad_lines or bad_lines[-1] != line:
                    bad_lines.append(line)
            if text:
                line += _breaks(text, pos, len(text), last_cr)
                last_cr = text.endswith("\r")
            if not chunk:
                break
    return good, bad, bad_lines


def _breaks(text: str, start: int, end: int, last_cr: bool) -> int:
    part = text[start:end]
    n = len(_BREAK.findall(part))
    if last_cr and start == 0 and part.startswith("\n"):
        n -= 1  # the LF of a CRLF cut by the chunk boundary
    return n


def read_text_head(path: Path, encoding: Encoding, size: int = 65536) -> str:
    """The first `size` bytes as text (a multi-byte character cut at the end is dropped)."""
    with open(path, "rb") as handle:
        handle.seek(encoding.bom_length)
        raw = handle.read(size)
    return codecs.getincrementaldecoder(encoding.name)(errors="replace").decode(raw, final=False)


def read_text(path: Path, encoding: Encoding) -> str:
    with open(path, "rb") as handle:
        handle.seek(encoding.bom_length)
        data = handle.read()
    return data.decode(encoding.name, errors=encoding.errors)


def utf8_copy(path: Path, encoding: Encoding, target: Path) -> Path:
    """A UTF-8 copy without BOM, written in chunks; the file itself when it already is one.

    Invalid bytes of a damaged UTF-8 file become U+FFFD in the copy; the line structure is unchanged, so line
    numbers of the copy are those of the file."""
    if encoding.is_plain_utf8:
        return path
    decoder = codecs.getincrementaldecoder(encoding.name)(errors="replace")
    with open(path, "rb") as src, open(target, "w", encoding="utf-8", newline="") as dst:
        src.seek(encoding.bom_length)
        while chunk := src.read(CHUNK):
            dst.write(decoder.decode(chunk))
        dst.write(decoder.decode(b"", final=True))
    return target
