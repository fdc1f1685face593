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


class DevTools:
    """One headless Chromium driven over the Chrome DevTools Protocol (websockets' sync client), for page tests
    that need more than `--dump-dom`: console errors, every network request, element boxes, clipped screenshots.

    The browser is started offline: every host name resolves to nothing (`--host-resolver-rules`) and a proxy on a
    closed local port takes any request that would still go out, so a page that needs the network fails visibly;
    the requests are also recorded (`requests`), so a test can assert there were none.
    """

    def __init__(self, binary: str, profile: Path, width: int = 1400, height: int = 1000):
        import select
        import time

        from websockets.sync.client import connect

        self._proc = subprocess.Popen(
            [binary, *FLAGS, "--remote-debugging-port=0", f"--user-data-dir={profile}",
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost", "--proxy-server=127.0.0.1:9",
             "--force-device-scale-factor=1", f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        url, seen, deadline = None, [], time.monotonic() + TIMEOUT
        while url is None and time.monotonic() < deadline and self._proc.poll() is None:
            ready, _, _ = select.select([self._proc.stderr], [], [], 1.0)
            if ready:
                line = self._proc.stderr.readline()
                seen.append(line)
                found = re.search(r"DevTools listening on (ws://\S+)", line)
                url = found.group(1) if found else None
        if url is None:
            self.close()
            raise AssertionError("chromium printed no DevTools address:\n" + "".join(seen)[-3000:])
        self._ws = connect(url, max_size=None, open_timeout=TIMEOUT)
        self._next_id = 0
        self.events: list[dict] = []
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")

    def _call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        import json

        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._ws.send(json.dumps(message))
        while True:
            reply = json.loads(self._ws.recv(timeout=TIMEOUT))
            if reply.get("id") == self._next_id:
                assert "error" not in reply, f"{method}: {reply['error']}"
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def send(self, method: str, params: dict | None = None) -> dict:
        return self._call(method, params, self._session)

    def open(self, page: Path) -> None:
        """Navigate to the file and wait for its load event."""
        import json

        self.send("Page.navigate", {"url": page.as_uri()})
        while not any(e["method"] == "Page.loadEventFired" for e in self.events):
            reply = json.loads(self._ws.recv(timeout=TIMEOUT))
            if "method" in reply:
                self.events.append(reply)

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def errors(self) -> list[str]:
        """Uncaught exceptions, console.error/assert calls and browser log entries of level error."""
        found = []
        for e in self.events:
            p = e.get("params", {})
            if e["method"] == "Runtime.exceptionThrown":
                found.append(str(p["exceptionDetails"].get("text")))
            elif e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                found.append(" ".join(str(a.get("value", a.get("description"))) for a in p.get("args", [])))
            elif e["method"] == "Log.entryAdded" and p["entry"].get("level") == "error":
                found.append(
                    f"{p['entry'].get('source')}: {p['entry'].get('text')} {p['entry'].get('url', '')}"
                )
        return found

    def requests(self) -> list[str]:
        """Every URL the page asked for, the page itself included."""
        return [
            e["params"]["request"]["url"] for e in self.events if e["method"] == "Network.requestWillBeSent"
        ]

    def screenshot(self, clip: dict | None = None) -> bytes:
        import base64

        params: dict = {"format": "png", "captureBeyondViewport": True}
        if clip:
            params["clip"] = {**clip, "scale": 1}
        return base64.b64decode(self.send("Page.captureScreenshot", params)["data"])

    def close(self) -> None:
        ws = getattr(self, "_ws", None)
        if ws is not None:
            ws.close()
        self._proc.terminate()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stderr:
            self._proc.stderr.close()

    def __enter__(self) -> DevTools:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
