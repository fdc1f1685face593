"""Golden-record survivorship rules (config/survivorship.yaml) for dim_customers, passed to dbt as the var
`survivorship` (read by dbt_project/macros/survivorship.sql)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from pipelines.lib.config_loader import load_yaml_model
from pipelines.lib.settings import Settings

FILE_NAME = "survivorship.yaml"

Rule = Literal["source_priority", "most_recent", "most_complete"]
SourceSystem = Literal[
    "salesforce", "hubspot", "zoho", "dynamics", "custom", "mailchimp", "sendgrid", "zoom", "teams"
]
# The chosen attributes of dim_customers (each gets an `<attribute>_source` column).
Attribute = Literal[
    "email", "name", "phone_e164", "title", "company", "industry", "employees", "country_code", "time_zone"
]


class AttributeRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: Rule
    sources: list[SourceSystem] | None = None

    @model_validator(mode="after")
    def _unique_sources(self) -> AttributeRule:
        if self.sources is not None and len(set(self.sources)) != len(self.sources):
            raise ValueError("sources lists a source system twice")
        return self


class SurvivorshipConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: AttributeRule
    attributes: dict[Attribute, AttributeRule] = {}

    @model_validator(mode="after")
    def _default_has_sources(self) -> SurvivorshipConfig:
        if not self.default.sources:
            raise ValueError("default.sources must list the source systems in priority order")
        return self

    def rule_for(self, attribute: str) -> AttributeRule:
        return self.attributes.get(attribute, self.default)  # type: ignore[call-overload]


def load_survivorship(config_dir: Path) -> SurvivorshipConfig | None:
    """The parsed config, or None when the folder has no survivorship.yaml (dbt then uses its defaults)."""
    path = config_dir / FILE_NAME
    if not path.exists():
        return None
    return load_yaml_model(path, SurvivorshipConfig)


def dbt_vars(settings: Settings) -> dict[str, Any]:
    config = load_survivorship(settings.config_dir)
    if config is None:
        return {}
    return {"survivorship": config.model_dump(mode="json", exclude_none=True)}
