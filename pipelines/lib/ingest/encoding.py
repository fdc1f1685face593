"""Byte-level work on an export: its hash, its encoding, and a UTF-8 copy (no BOM) for DuckDB when needed.

Supported: UTF-8 (with or without BOM), UTF-16 LE/BE (with BOM, or recognised by their zero bytes), and cp1252
as the fallback for files that are not valid UTF-8. Every variant of the same text yields the same rows.
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Encoding:
    name: str  # python codec: utf-8, utf-8-sig, utf-16-le, utf-16-be, cp1252
    bom_length: int = 0

    @property
    def is_plain_utf8(self) -> bool:
        return self.name == "utf-8" and self.bom_length == 0


def detect_encoding(path: Path) -> Encoding:
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head.startswith(codecs.BOM_UTF8):
        return Encoding("utf-8", 3)
    if head.startswith(codecs.BOM_UTF16_LE):
        return Encoding("utf-16-le", 2)
    if head.startswith(codecs.BOM_UTF16_BE):
        return Encoding("utf-16-be", 2)
    if len(head) >= 4:
        even_zeros = head[0::2].count(0)
        odd_zeros = head[1::2].count(0)
        half = len(head) // 2
        if odd_zeros > half * 0.3 and even_zeros == 0:
            return Encoding("utf-16-le")
        if even_zeros > half * 0.3 and odd_zeros == 0:
            return Encoding("utf-16-be")
    return Encoding("utf-8") if _is_valid_utf8(path) else Encoding("cp1252")


def _is_valid_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


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
    return data.decode(encoding.name, errors="replace" if encoding.name == "cp1252" else "strict")


def utf8_copy(path: Path, encoding: Encoding, target: Path) -> Path:
    """A UTF-8 copy without BOM, written in chunks; the file itself when it already is one."""
    if encoding.is_plain_utf8:
        return path
    decoder = codecs.getincrementaldecoder(encoding.name)(errors="replace")
    with open(path, "rb") as src, open(target, "w", encoding="utf-8", newline="") as dst:
        src.seek(encoding.bom_length)
        while chunk := src.read(CHUNK):
            dst.write(decoder.decode(chunk))
        dst.write(decoder.decode(b"", final=True))
    return target
