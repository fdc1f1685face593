"""The contract-test set-up itself: the installer script and the skip-or-fail rule when Prism is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.lib.settings import PROJECT_ROOT

from .conftest import v3_spec

HERE = Path(__file__).parent


def test_v3_spec_prefixes_every_path(tmp_path: Path):
    spec = v3_spec(HERE / "sendgrid" / "oai.json", tmp_path / "v3.json")
    import json

    data = json.loads(spec.read_text())
    assert data["basePath"] == "/"
    assert "/v3/mail/send" in data["paths"]
    assert all(path.startswith("/v3/") for path in data["paths"])


def test_installer_fails_with_a_message_when_npm_is_missing(tmp_path: Path):
    # A copy of the installer next to the pinned package.json, with a PATH that has the shell tools but no npm.
    (tmp_path / "tests" / "contract").mkdir(parents=True)
    (tmp_path / ".tools" / "prism").mkdir(parents=True)
    shutil.copy(HERE / "install_prism.sh", tmp_path / "tests" / "contract" / "install_prism.sh")
    shutil.copy(PROJECT_ROOT / ".tools" / "prism" / "package.json", tmp_path / ".tools" / "prism")
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("bash", "sed", "dirname", "head"):
        os.symlink(shutil.which(tool), tools / tool)
    result = subprocess.run(
        [str(tools / "bash"), str(tmp_path / "tests" / "contract" / "install_prism.sh")],
        env={"PATH": str(tools)},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "npm not found" in result.stderr


@pytest.mark.parametrize(("ci", "expected_outcome"), [(None, "1 skipped"), ("1", "1 error")])
def test_missing_prism_skips_locally_and_fails_in_ci(tmp_path: Path, ci, expected_outcome):
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["TOUCHPLAN_PRISM"] = str(tmp_path / "no-prism")
    if ci:
        env["CI"] = ci
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", "-rs",
         str(HERE / "test_sendgrid_contract.py::test_body_without_sandbox_is_accepted")],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert expected_outcome in result.stdout, result.stdout[-2000:]
    assert "Prism is not installed" in result.stdout
