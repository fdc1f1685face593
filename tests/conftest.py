"""Shared fixtures. Tests never touch data/ or the user's warehouse: everything goes to tmp paths."""

from __future__ import annotations

import os

import pytest

TOUCHPLAN_ENV = (
    "TOUCHPLAN_WAREHOUSE",
    "TOUCHPLAN_EXPORTS",
    "TOUCHPLAN_CONFIG",
    "TOUCHPLAN_OUTPUT",
    "TOUCHPLAN_AS_OF",
    "TOUCHPLAN_SEND",
    "SENDGRID_API_KEY",
    "TOUCHPLAN_MEMORY_LIMIT",
    "TOUCHPLAN_TEMP_DIRECTORY",
)


@pytest.fixture(autouse=True)
def _isolated_touchplan_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with none of the TOUCHPLAN_* variables a developer may have exported."""
    for name in TOUCHPLAN_ENV:
        if name in os.environ:
            monkeypatch.delenv(name, raising=False)
