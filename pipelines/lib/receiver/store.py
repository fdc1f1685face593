"""Durable files: written to a hidden temporary name, fsync'd, renamed into place, directory fsync'd.

After `write_durably` returns, the file is complete under its final name and survives a crash of the process or
of the machine (the rename and the new directory entries are on disk). Ingest never sees a partial file: the
temporary name starts with a dot, and ingest skips dot files (pipelines/lib/ingest/loader.py).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_folder(folder: Path) -> None:
    """mkdir -p, making each new directory entry durable (fsync of its parent)."""
    folder = Path(folder)
    missing = []
    probe = folder
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            path.mkdir()
        _fsync_dir(path.parent)


def write_durably(folder: Path, name: str, data: bytes, *, keep_existing: bool = True) -> tuple[Path, bool]:
    """Write `data` to folder/name durably; (path, written). With keep_existing, an existing file is left as
    it is (the first write wins: a replayed request or a second click does not rewrite it)."""
    if "/" in name or name.startswith("."):
        raise ValueError(f"{name!r} is not a plain file name")
    ensure_folder(folder)
    final = Path(folder) / name
    if keep_existing and final.exists():
        _fsync_dir(Path(folder))  # a previous writer may have died between its rename and its directory fsync
        return final, False
    tmp = Path(folder) / f".{name}.{uuid.uuid4().hex}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(tmp, final)
    _fsync_dir(Path(folder))
    return final, True
