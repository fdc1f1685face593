"""Headless Chromium for the page tests: found on PATH (Debian's `chromium`, Chrome's `chromium-headless-shell`
and the other usual names), or at $TOUCHPLAN_CHROMIUM. Without it the page tests are skipped with the reason,
except in CI (CI set: .ci/run installs Debian's chromium), where they fail, as the contract tests do without Prism.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM_ENV = (
    "TOUCHPLAN_CHROMIUM"  # one binary to use instead of the PATH search (tests point it at a missing file)
)
NAMES = (
    "chromium",
    "chromium-headless-shell",
    "chrome-headless-shell",
    "headless_shell",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
)
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars")
TIMEOUT = 120


def find_chromium() -> str | None:
    override = os.environ.get(CHROMIUM_ENV)
    if override:
        return override if os.path.isfile(override) and os.access(override, os.X_OK) else None
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    """The binary, or a skip (a failure when CI is set) naming what is missing."""
    found = find_chromium()
    if found:
        return found
    wanted = os.environ.get(CHROMIUM_ENV) or " / ".join(NAMES[:2])
    reason = f"headless Chromium not found ({wanted}): apt-get install chromium, or set {CHROMIUM_ENV}"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and {reason}")
    pytest.skip(reason)


def _run(binary: str, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [binary, *FLAGS, *args], capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert done.returncode == 0, f"chromium exited with {done.returncode}:\n{done.stderr[-3000:]}"
    return done


def screenshot(binary: str, page: Path, shot: Path, size: str = "1400,600") -> bytes:
    """A PNG of the page; fails on a non-zero exit or a file that is not a PNG."""
    _run(binary, f"--window-size={size}", f"--screenshot={shot}", page.as_uri())
    data = shot.read_bytes() if shot.is_file() else b""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"no PNG written to {shot}"
    return data


def rendered_text(binary: str, page: Path) -> str:
    """The page's text after Chromium has parsed and rendered it (`--dump-dom`), tags removed, spaces collapsed."""
    dom = _run(binary, "--dump-dom", page.as_uri()).stdout
    assert "<body" in dom, f"chromium printed no document for {page}:\n{dom[:500]}"
    body = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", dom)
    text = html.unescape(re.sub(r"<[^>]+>", " ", body))
    return re.sub(r"\s+", " ", text).strip()
