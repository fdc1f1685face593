"""One sender at a time: an exclusive lock file beside the warehouse, holding the pid of the run that sends.

DuckDB's own file lock only lasts as long as a connection, and the delivery step opens short-lived ones; this lock
lasts for the whole delivery. It is an advisory `flock` on `<warehouse>.delivery.lock`, so the operating system
releases it when the process ends in any way (including SIGKILL): there is no stale lock to clean up.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_HELD: dict[str, int] = {}  # lock files this process holds -> nesting depth (the asset locks, then deliver())


class DeliveryBusyError(RuntimeError):
    """Another delivery run holds the lock."""


def lock_path(warehouse: Path) -> Path:
    return Path(f"{warehouse}.delivery.lock")


@contextmanager
def sender_lock(warehouse: Path) -> Iterator[Path]:
    """Hold the sender lock (re-entrant within one process); DeliveryBusyError when another process holds it.

    Take it BEFORE opening the warehouse: a second process then gets this clear error instead of DuckDB's.
    """
    path = lock_path(warehouse)
    key = str(path.resolve()) if path.exists() else str(path)
    if _HELD.get(key):
        _HELD[key] += 1
        try:
            yield path
        finally:
            _HELD[key] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    key = str(path.resolve())
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            raise DeliveryBusyError(
                f"another delivery run (pid {holder}) holds {path}: wait for it to finish; nothing was sent"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _HELD[key] = 1
        try:
            yield path
        finally:
            _HELD.pop(key, None)
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
