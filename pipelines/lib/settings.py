"""Where Touchplan reads and writes, resolved once per command or code-location load, never at import time.

The CLI builds one `Settings` from its options and the environment (`pipelines/commands/common.py`); the Dagster
UI builds it from the environment when the definitions load (`pipelines/definitions.py`). Either way the Settings
object is handed on explicitly: to the Dagster resource (`TouchplanResource.from_settings`), and to dbt through
`--vars` (`dbt_profile_vars`): nothing writes `os.environ`. Every relative path, from an option or a variable, is
relative to the working directory, like any command-line tool.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

ENV_WAREHOUSE = "TOUCHPLAN_WAREHOUSE"
ENV_EXPORTS = "TOUCHPLAN_EXPORTS"
ENV_CONFIG = "TOUCHPLAN_CONFIG"
ENV_OUTPUT = "TOUCHPLAN_OUTPUT"
ENV_AS_OF = "TOUCHPLAN_AS_OF"
ENV_SEND = "TOUCHPLAN_SEND"
ENV_FORCE_SEND = "TOUCHPLAN_FORCE_SEND"  # override the sending guard (`touchplan run --force-send`)
ENV_SENDGRID_KEY = "SENDGRID_API_KEY"
ENV_MEMORY_LIMIT = "TOUCHPLAN_MEMORY_LIMIT"
ENV_TEMP_DIRECTORY = "TOUCHPLAN_TEMP_DIRECTORY"

# Every DuckDB connection (and dbt's) is capped at this share of the machine's physical memory unless
# TOUCHPLAN_MEMORY_LIMIT says otherwise; DuckDB spills to the temp directory beyond it (docs/operations.md).
DEFAULT_MEMORY_SHARE = 0.6
# DuckDB's size strings: a number and a unit (1000^i or 1024^i bytes), or a percentage of the machine's memory.
_MEMORY_LIMIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB|%)\s*$", re.IGNORECASE)

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


def default_memory_limit() -> str:
    """DEFAULT_MEMORY_SHARE of the physical memory (os.sysconf), in MiB; DuckDB's percentage where sysconf lacks it."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return f"{round(DEFAULT_MEMORY_SHARE * 100)}%"
    return f"{int(physical * DEFAULT_MEMORY_SHARE) // 2**20}MiB"


def parse_memory_limit(value: str | None) -> str:
    """TOUCHPLAN_MEMORY_LIMIT as DuckDB takes it (`4GB`, `512MiB`, `60%`); unset or empty gives the default."""
    if value is None or not value.strip():
        return default_memory_limit()
    match = _MEMORY_LIMIT.match(value)
    if not match or float(match.group(1)) <= 0 or (match.group(2) == "%" and float(match.group(1)) > 100):
        raise ValueError(
            f"{ENV_MEMORY_LIMIT}={value!r} is not a memory size: use a number and a unit, e.g. 4GB, 512MiB, "
            "or a share of the machine's memory such as 60%"
        )
    number, unit = match.groups()
    canonical = {u.lower(): u for u in ("B", "KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB", "%")}
    return f"{number}{canonical[unit.lower()]}"


@dataclass(frozen=True)
class Settings:
    warehouse: Path
    exports: Path
    config_dir: Path
    output: Path
    as_of: datetime | None = None
    send: bool = False
    force_send: bool = False  # with send: deliver even when the sending guard blocks (logged)
    memory_limit: str = field(default_factory=default_memory_limit)  # DuckDB size string, e.g. "4GB"
    temp_dir: Path | None = None  # TOUCHPLAN_TEMP_DIRECTORY; None: next to the warehouse (`temp_directory`)

    @property
    def temp_directory(self) -> Path:
        """Where DuckDB spills beyond `memory_limit`: TOUCHPLAN_TEMP_DIRECTORY, else `<warehouse>.tmp/`."""
        return self.temp_dir or self.warehouse.with_name(self.warehouse.name + ".tmp")

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
        """The TOUCHPLAN_* variables, else the defaults; `overrides` (not None) win. Relative paths are resolved
        against the working directory (the defaults `data/...` and `config` too)."""
        env = os.environ
        settings = cls(
            warehouse=Path(env.get(ENV_WAREHOUSE) or "data/warehouse.duckdb").resolve(),
            exports=Path(env.get(ENV_EXPORTS) or "data/exports").resolve(),
            config_dir=Path(env.get(ENV_CONFIG) or "config").resolve(),
            output=Path(env.get(ENV_OUTPUT) or "data").resolve(),
            as_of=parse_as_of(env.get(ENV_AS_OF)),
            send=_true(env.get(ENV_SEND)),
            force_send=_true(env.get(ENV_FORCE_SEND)),
            memory_limit=parse_memory_limit(env.get(ENV_MEMORY_LIMIT)),
            temp_dir=Path(env[ENV_TEMP_DIRECTORY]).resolve() if env.get(ENV_TEMP_DIRECTORY) else None,
        )
        clean = {k: _absolute(v) for k, v in overrides.items() if v is not None}
        return replace(settings, **clean) if clean else settings

    def dbt_profile_vars(self) -> dict[str, str]:
        """What dbt_project/profiles.yml reads (`var()`), given with the model vars to every `dbt build` of a run:
        the warehouse file, the memory cap and the spill folder. A bare `dbt` call (no such vars) falls back to the
        TOUCHPLAN_* variables of its environment, then to the same defaults."""
        return {
            "touchplan_warehouse": str(self.warehouse),
            "touchplan_memory_limit": self.memory_limit,
            "touchplan_temp_directory": str(self.temp_directory),
        }


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes"}


def _absolute(value):
    """A Path override is taken relative to the working directory, like the variables and the defaults."""
    return value.resolve() if isinstance(value, Path) else value
