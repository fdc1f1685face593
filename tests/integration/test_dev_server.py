"""`make dev` (dagster dev) stops on SIGTERM, even when started the way a script or service manager starts it.

A shell starts a background job with SIGINT ignored, and `dagster dev` maps SIGTERM onto its SIGINT handler: a plain
`dagster dev` started like that ignores SIGTERM and Ctrl-C (issue #14). The test starts `make dev` exactly so.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STARTUP_LIMIT_S = 300  # the code location loads dbt's manifest: slow on a busy machine
STOP_LIMIT_S = 90  # dagster dev waits up to 30 s for each of its two services


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_background_job() -> None:
    """What `cmd &` in a non-interactive shell does to the child."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
def test_make_dev_stops_on_sigterm(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    # A busy machine may take minutes to load the code location (dbt manifest): wait for it, not fail on it.
    (home / "dagster.yaml").write_text(
        f"telemetry:\n  enabled: false\ncode_servers:\n  local_startup_timeout: {STARTUP_LIMIT_S}\n"
    )
    port = _free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "TOUCHPLAN_EXPORTS": str(tmp_path / "exports"),
        "TOUCHPLAN_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
    }
    log_path = tmp_path / "dev.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            ["make", "-s", "dev", f"DEV_ARGS=-p {port}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_as_background_job,  # noqa: PLW1509 - the point of the test
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while not _port_open(port):
            assert proc.poll() is None, f"make dev exited early:\n{log_path.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"webserver not up:\n{log_path.read_text()[-3000:]}"
            time.sleep(1)

        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=STOP_LIMIT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(
                f"make dev still running {STOP_LIMIT_S}s after SIGTERM:\n{log_path.read_text()[-3000:]}"
            )
        assert code is not None
        assert not _port_open(port), "the webserver outlived dagster dev"
        assert "Shutting down Dagster services" in log_path.read_text()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of this test's process group
