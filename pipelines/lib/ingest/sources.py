"""`config/sources.yaml`: time zones, explicit formats per file glob, header aliases, custom CSV mappings."""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipelines.lib.config_loader import load_yaml_model
from pipelines.lib.ingest.formats import FORMATS

SOURCES_FILE = "sources.yaml"

RawTable = Literal[
    "raw_crm_contacts",
    "raw_crm_deals",
    "raw_email_events",
    "raw_email_suppressions",
    "raw_email_audience",
    "raw_webinar_attendance",
    "raw_webinar_registrations",
]

DateOrder = Literal["DMY", "MDY", "YMD"]


def _check_zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name such as 'Europe/Berlin' or 'UTC')"
        ) from exc
    return value


class SourceSettings(BaseModel):
    """Settings of one source system (salesforce, hubspot, zoho, dynamics, mailchimp, sendgrid, zoom, teams...)."""

    model_config = ConfigDict(extra="forbid")

    time_zone: str | None = Field(None, description="zone of zone-less timestamps in this source's files")
    default_phone_region: str | None = Field(
        None, description="ISO country for phone numbers without +prefix"
    )
    header_aliases: dict[str, str] = Field(
        default_factory=dict, description="localized header -> the English header the parser knows"
    )
    date_order: DateOrder | None = Field(
        None, description="DMY | MDY | YMD: the order of numeric dates when a file's dates allow both"
    )

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return _check_zone(value)

    @field_validator("default_phone_region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and (len(value) != 2 or not value.isalpha()):
            raise ValueError(f"{value!r} is not a two-letter ISO country code")
        return value.upper() if value else value


class FileRule(BaseModel):
    """Files matching `glob` (relative to the exports folder) are read as `format`."""

    model_config = ConfigDict(extra="forbid")

    glob: str
    format: str
    source: str | None = Field(
        None, description="source system name (for custom CSVs: stored as source_system)"
    )
    time_zone: str | None = None
    table: RawTable | None = Field(None, description="custom_csv: the raw table rows go to")
    columns: dict[str, str] = Field(default_factory=dict, description="custom_csv: raw column -> file header")
    required: list[str] = Field(default_factory=list, description="custom_csv: headers that must be present")
    constants: dict[str, str] = Field(
        default_factory=dict, description="custom_csv: raw column -> fixed value"
    )
    delimiter: str | None = None
    timestamp_formats: list[str] = Field(default_factory=list, description="strptime formats tried first")
    date_order: DateOrder | None = Field(
        None, description="DMY | MDY | YMD for this file (overrides the source's)"
    )

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return _check_zone(value)

    @model_validator(mode="after")
    def _custom_needs_mapping(self) -> FileRule:
        if self.format == "custom_csv" and (self.table is None or not self.columns):
            raise ValueError(f"file rule {self.glob!r}: format custom_csv needs `table` and `columns`")
        return self

    def matches(self, relative_path: str) -> bool:
        return fnmatch.fnmatch(relative_path, self.glob) or fnmatch.fnmatch(
            Path(relative_path).name, self.glob
        )


class SourcesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_time_zone: str = "UTC"
    sources: dict[str, SourceSettings] = Field(default_factory=dict)
    files: list[FileRule] = Field(default_factory=list)

    @field_validator("default_time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return _check_zone(value) or "UTC"

    @model_validator(mode="after")
    def _known_formats(self) -> SourcesConfig:
        for index, rule in enumerate(self.files):
            if rule.format not in FORMATS:
                raise ValueError(
                    f"files[{index}].format: unknown format {rule.format!r}; known: {', '.join(sorted(FORMATS))}"
                )
        return self

    def source(self, name: str) -> SourceSettings:
        return self.sources.get(name) or SourceSettings()

    def time_zone(self, source: str, rule: FileRule | None = None) -> str:
        if rule is not None and rule.time_zone:
            return rule.time_zone
        return self.source(source).time_zone or self.default_time_zone

    def custom_source_systems(self, table: str) -> set[str]:
        """The `source_system` values custom_csv rules write into `table` (`custom` when a rule names none)."""
        return {
            rule.source or "custom"
            for rule in self.files
            if rule.format == "custom_csv" and rule.table == table
        }

    def rule_for(self, relative_path: str) -> FileRule | None:
        for rule in self.files:
            if rule.matches(relative_path):
                return rule
        return None


def load_sources_config(config_dir: Path | None) -> tuple[SourcesConfig, str | None]:
    """The sources file of `config_dir`, or the defaults (and a warning) when there is none."""
    if config_dir is None:
        return SourcesConfig(), "no config folder given: using defaults (UTC, detection only)"
    path = Path(config_dir) / SOURCES_FILE
    if not path.exists():
        return SourcesConfig(), f"{path} not found: using defaults (UTC, detection only)"
    return load_yaml_model(path, SourcesConfig), None


def sources_dbt_vars(config: SourcesConfig) -> dict[str, Any]:
    """What staging reads of this file: each source's `default_phone_region` as the dbt var `phone_default_regions`
    (macro phone_region in dbt_project/macros/normalise.sql); a source without one gets the var
    `phone_default_region` of dbt_project.yml."""
    regions = {
        name: s.default_phone_region for name, s in sorted(config.sources.items()) if s.default_phone_region
    }
    return {"phone_default_regions": regions}
