"""Prism serving SendGrid's own API description, for contract tests with the real `sendgrid` client.

Prism (npm @stoplight/prism-cli, pinned in .tools/prism) is installed by tests/contract/install_prism.sh, which
`make test` runs first. Without it these tests are skipped with the reason, except in CI (CI set), where they fail.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.lib.settings import PROJECT_ROOT

PRISM = PROJECT_ROOT / ".tools" / "prism" / "node_modules" / ".bin" / "prism"
PRISM_ENV = "TOUCHPLAN_PRISM"  # another Prism binary (tests of this fixture point it at a missing file)
SPEC = Path(__file__).parent / "sendgrid" / "oai.json"
STARTUP_SECONDS = 180


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def v3_spec(source: Path, target: Path) -> Path:
    """Prism ignores Swagger's basePath while the client calls /v3/...: prefix every path instead."""
    spec = json.loads(source.read_text(encoding="utf-8"))
    spec["paths"] = {"/v3" + path: item for path, item in spec["paths"].items()}
    spec["basePath"] = "/"
    target.write_text(json.dumps(spec), encoding="utf-8")
    return target


class PrismServer:
    def __init__(self, url: str, log_path: Path):
        self.url = url
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def mail_send_requests(self) -> int:
        return sum(
            1
            for line in self.log().splitlines()
            if "post /v3/mail/send" in line and "Request received" in line
        )


@pytest.fixture(scope="session")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrismServer]:
    prism_bin = Path(os.environ.get(PRISM_ENV) or PRISM)
    if not prism_bin.exists():
        reason = f"Prism is not installed ({prism_bin} missing): run `bash tests/contract/install_prism.sh`"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set and {reason}")
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("prism")
    spec = v3_spec(SPEC, folder / "sendgrid_v3.json")
    port = _free_port()
    log_path = folder / "prism.log"
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [str(prism_bin), "mock", "-h", "127.0.0.1", "-p", str(port), "--errors", str(spec)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = PrismServer(f"http://127.0.0.1:{port}", log_path)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while "Prism is listening" not in server.log():
            if process.poll() is not None:
                pytest.fail(
                    f"Prism exited with {process.returncode} before listening:\n{server.log()[-2000:]}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"Prism did not listen within {STARTUP_SECONDS}s:\n{server.log()[-2000:]}")
            time.sleep(0.5)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # Prism's own process group (start_new_session)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
