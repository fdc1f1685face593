"""Where Touchplan reads and writes: resolved from the environment at run time, never at import time."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

ENV_WAREHOUSE = "TOUCHPLAN_WAREHOUSE"
ENV_EXPORTS = "TOUCHPLAN_EXPORTS"
ENV_CONFIG = "TOUCHPLAN_CONFIG"
ENV_OUTPUT = "TOUCHPLAN_OUTPUT"
ENV_AS_OF = "TOUCHPLAN_AS_OF"
ENV_SEND = "TOUCHPLAN_SEND"
ENV_SENDGRID_KEY = "SENDGRID_API_KEY"

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"


def parse_as_of(value: str | None) -> datetime | None:
    """An ISO date or datetime; naive values are taken as UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"as-of time {value!r} is not an ISO date or datetime (e.g. 2026-11-22)") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@dataclass(frozen=True)
class Settings:
    warehouse: Path
    exports: Path
    config_dir: Path
    output: Path
    as_of: datetime | None = None
    send: bool = False

    @property
    def outbox(self) -> Path:
        return self.output / "outbox"

    @property
    def reports(self) -> Path:
        return self.output / "reports"

    @property
    def crm_fixes(self) -> Path:
        return self.output / "crm_fixes"

    @property
    def quality(self) -> Path:
        """GX validation results and Data Docs (`<output>/quality`), never inside the committed expectations/."""
        return self.output / "quality"

    @property
    def erasure_list(self) -> Path:
        """Salted hashes of erased addresses (docs/delivery.md, Erasure); read by every ingest."""
        return self.output / "erasure" / "erasure_list.csv"

    def as_of_or_now(self) -> datetime:
        return self.as_of or datetime.now(UTC)

    @property
    def sending_enabled(self) -> bool:
        """Real sends need both the explicit switch and a key; anything else is a dry run."""
        return self.send and bool(os.environ.get(ENV_SENDGRID_KEY))

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        env = os.environ
        settings = cls(
            warehouse=Path(env.get(ENV_WAREHOUSE) or "data/warehouse.duckdb").resolve(),
            exports=Path(env.get(ENV_EXPORTS) or "data/exports").resolve(),
            config_dir=Path(env.get(ENV_CONFIG) or PROJECT_ROOT / "config").resolve(),
            output=Path(env.get(ENV_OUTPUT) or "data").resolve(),
            as_of=parse_as_of(env.get(ENV_AS_OF)),
            send=env.get(ENV_SEND, "").lower() in {"1", "true", "yes"},
        )
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(settings, **clean) if clean else settings

    def export_to_env(self) -> None:
        """Make child processes (dbt) and Dagster resources see the same settings."""
        os.environ[ENV_WAREHOUSE] = str(self.warehouse)
        os.environ[ENV_EXPORTS] = str(self.exports)
        os.environ[ENV_CONFIG] = str(self.config_dir)
        os.environ[ENV_OUTPUT] = str(self.output)
        if self.as_of:
            os.environ[ENV_AS_OF] = self.as_of.isoformat()
        os.environ[ENV_SEND] = "1" if self.send else "0"
