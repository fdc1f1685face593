"""config/measurement.yaml as a pydantic model, turned into the dbt var `measurement` (plus each campaign's
objective from config/campaigns.yaml). The var's default in the measurement models equals what the shipped files
produce here (tests/unit/measurement checks it)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipelines.lib.config_loader import load_yaml_model
from pipelines.lib.planning.config import load_campaigns

CONFIG_FILE = "measurement.yaml"
OBJECTIVES = ("acquisition", "conversion", "retention", "reactivation", "frequency", "spend", "advocacy")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

PositiveInt = Annotated[int, Field(gt=0, le=3650)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ObjectiveWindow(_Strict):
    window_days: PositiveInt


class Uplift(_Strict):
    confidence: float = Field(0.95, gt=0.5, lt=1)
    power: float = Field(0.8, gt=0.5, lt=1)


def _names(values: list[str]) -> list[str]:
    for value in values:
        if not _NAME.match(value):
            raise ValueError(f"{value!r} is not a name (lower case letters, digits, underscores)")
    return values


class MeasurementConfig(_Strict):
    objectives: dict[str, ObjectiveWindow]
    active_touch_types: list[str] = Field(min_length=1)
    purchase_touch_types: list[str] = Field(min_length=1)
    still_active_days: PositiveInt = 30
    frequency_min_touches: PositiveInt = 2
    advocacy_moments: list[str] = Field(default_factory=list)
    uplift: Uplift = Uplift()

    @field_validator("objectives")
    @classmethod
    def _every_objective(cls, value: dict[str, ObjectiveWindow]) -> dict[str, ObjectiveWindow]:
        unknown = sorted(set(value) - set(OBJECTIVES))
        if unknown:
            raise ValueError(f"unknown objective {unknown[0]!r}; expected one of {', '.join(OBJECTIVES)}")
        missing = [o for o in OBJECTIVES if o not in value]
        if missing:
            raise ValueError(f"no window for objective {missing[0]!r}: every objective needs window_days")
        return value

    @field_validator("active_touch_types", "purchase_touch_types", "advocacy_moments")
    @classmethod
    def _plain_names(cls, value: list[str]) -> list[str]:
        return _names(value)


def load_measurement_config(config_dir: Path) -> MeasurementConfig:
    """Parse `<config_dir>/measurement.yaml`; a ConfigError names the file, the key and the problem."""
    return load_yaml_model(Path(config_dir) / CONFIG_FILE, MeasurementConfig)


def measurement_vars(config: MeasurementConfig, campaign_objectives: dict[str, str]) -> dict[str, Any]:
    dumped = config.model_dump(mode="json")
    return {
        "measurement": {
            "windows": {o: dumped["objectives"][o]["window_days"] for o in OBJECTIVES},
            "active_touch_types": dumped["active_touch_types"],
            "purchase_touch_types": dumped["purchase_touch_types"],
            "still_active_days": dumped["still_active_days"],
            "frequency_min_touches": dumped["frequency_min_touches"],
            "advocacy_moments": dumped["advocacy_moments"],
            "campaign_objectives": dict(sorted(campaign_objectives.items())),
        }
    }


def campaign_objectives(config_dir: Path) -> dict[str, str]:
    return {c.id: c.objective for c in load_campaigns(Path(config_dir) / "campaigns.yaml").campaigns}


def dbt_vars(settings: Any) -> dict[str, Any]:
    """The measurement var of a run (pipelines.lib.config.dbt_vars)."""
    return measurement_vars(
        load_measurement_config(settings.config_dir), campaign_objectives(settings.config_dir)
    )
