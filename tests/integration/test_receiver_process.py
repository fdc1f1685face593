"""`touchplan serve` as a real process: killed with SIGKILL the moment it has answered 200, the events it answered
for and the one-click unsubscribe it confirmed are on disk, complete, under their final names (no temporary file
left); it refuses to start without its secrets, with one line naming the variable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pipelines.lib.receiver_contract import make_token
from tests.receiver_helpers import UNSUBSCRIBE_SECRET, Signer, files_under, free_port, request

TOUCHPLAN = Path(sys.executable).parent / "touchplan"


def start(exports: Path, public_key: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "SENDGRID_WEBHOOK_PUBLIC_KEY": public_key,
        "TOUCHPLAN_UNSUBSCRIBE_SECRET": UNSUBSCRIBE_SECRET.decode(),
    }
    proc = subprocess.Popen(
        [str(TOUCHPLAN), "serve", "--port", str(port), "--exports", str(exports)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode())
        try:
            if request(port, "GET", "/healthz").status == 200:
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("touchplan serve did not come up")


def test_sigkill_right_after_the_answer_leaves_the_events_on_disk(tmp_path):
    signer = Signer()
    exports = tmp_path / "exports"
    exports.mkdir()
    bodies = []
    for trial in range(2):
        port = free_port()
        proc = start(exports, signer.public_key, port)
        body = json.dumps(
            [
                {
                    "email": f"r{trial}-{i}@example.com",
                    "event": "delivered",
                    "timestamp": 1_796_000_000 + i,
                    "sg_event_id": f"ev-{trial}-{i}",
                    "touchplan_send_id": f"{trial:032x}",
                }
                for i in range(200)
            ]
        ).encode()
        resp = request(port, "POST", "/sendgrid/events", body, signer.headers(body))
        os.kill(proc.pid, signal.SIGKILL)  # at once: no shutdown, no flush by the server
        proc.wait(timeout=10)
        assert resp.status == 200
        assert proc.returncode == -signal.SIGKILL
        bodies.append(body)
    stored = files_under(exports)
    assert not [p for p in stored if p.name.startswith(".")]  # no temporary file left behind
    assert sorted(p.read_bytes() for p in stored) == sorted(bodies)


def test_sigkill_right_after_a_one_click_unsubscribe_leaves_the_request_on_disk(tmp_path):
    port = free_port()
    proc = start(tmp_path, Signer().public_key, port)
    send_id = "00112233445566778899aabbccddeeff"
    resp = request(
        port,
        "POST",
        f"/unsubscribe/{make_token(send_id, UNSUBSCRIBE_SECRET)}",
        b"List-Unsubscribe=One-Click",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert resp.status == 200
    (path,) = files_under(tmp_path)
    assert json.loads(path.read_bytes())["send_id"] == send_id


def test_serve_without_the_public_key_is_one_clear_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SENDGRID_WEBHOOK_PUBLIC_KEY"}
    env["TOUCHPLAN_UNSUBSCRIBE_SECRET"] = UNSUBSCRIBE_SECRET.decode()
    result = subprocess.run(
        [str(TOUCHPLAN), "serve", "--port", str(free_port()), "--exports", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: SENDGRID_WEBHOOK_PUBLIC_KEY is not set")
