"""Typed models for config/campaigns.yaml and config/contact_rules.yaml, and the rules version (a config hash)."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipelines.lib.config_loader import ConfigError, display_path, load_yaml_model

CAMPAIGNS_FILE = "campaigns.yaml"
CONTACT_RULES_FILE = "contact_rules.yaml"

Channel = Literal["email", "sales_task", "webinar_invite", "audience_file"]
CHANNELS: tuple[str, ...] = ("email", "sales_task", "webinar_invite", "audience_file")
Objective = Literal[
    "acquisition", "conversion", "retention", "reactivation", "frequency", "spend", "advocacy"
]
MessageType = Literal["marketing", "transactional"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # ISO day 1..7
ConsentState = Literal["subscribed", "unsubscribed", "suppressed", "unknown"]

_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_id(value: str) -> str:
    if not _ID.match(value):
        raise ValueError(
            f"{value!r} is not a valid id (lower-case letters, digits and _, starting with a letter)"
        )
    return value


def _check_hhmm(value: str) -> str:
    if not _HHMM.match(value):
        raise ValueError(f"{value!r} is not a local time HH:MM (00:00 to 23:59)")
    return value


def hhmm_to_time(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not an IANA time zone name (e.g. Europe/London)") from exc
    return value


# ---------------------------------------------------------------- campaigns.yaml


class ScheduleTrigger(_Strict):
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]), min_length=1)
    time: str = "10:00"

    _time = field_validator("time")(_check_hhmm)


class MomentTrigger(_Strict):
    moment: str
    within_days: int = Field(ge=0, le=365)
    time: str = "10:00"

    _time = field_validator("time")(_check_hhmm)


class Trigger(_Strict):
    schedule: ScheduleTrigger | None = None
    moment: MomentTrigger | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Trigger:
        if (self.schedule is None) == (self.moment is None):
            raise ValueError("give exactly one of 'schedule' or 'moment'")
        return self


class Campaign(_Strict):
    id: str
    description: str = ""
    objective: Objective
    kpi: str = Field(min_length=1)
    audience: str = Field(min_length=1)
    trigger: Trigger
    channel: Channel
    priority: int = Field(ge=0, le=1000)
    template_id: str = Field(min_length=1)
    variants: dict[str, str] = Field(default_factory=dict)  # persona -> template id
    start_date: date | None = None
    end_date: date | None = None
    cooldown_days: int = Field(default=0, ge=0, le=3650)
    transactional: bool = False
    holdout_share: float = Field(default=0.0, ge=0.0, lt=1.0)
    subscription_group: str = "marketing"

    _id = field_validator("id")(_check_id)

    @property
    def message_type(self) -> str:
        return "transactional" if self.transactional else "marketing"

    @model_validator(mode="after")
    def _dates(self) -> Campaign:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError(f"end_date {self.end_date} is before start_date {self.start_date}")
        return self


class CampaignsConfig(_Strict):
    campaigns: list[Campaign] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> CampaignsConfig:
        seen: set[str] = set()
        for campaign in self.campaigns:
            if campaign.id in seen:
                raise ValueError(f"campaign id {campaign.id!r} appears more than once")
            seen.add(campaign.id)
        return self

    def by_id(self) -> dict[str, Campaign]:
        return {c.id: c for c in self.campaigns}


# ---------------------------------------------------------------- contact_rules.yaml


class Window(_Strict):
    rolling_hours: int | None = Field(default=None, gt=0, le=24 * 366)
    rolling_days: int | None = Field(default=None, gt=0, le=366)
    calendar: Literal["day", "week", "month"] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Window:
        given = [v for v in (self.rolling_hours, self.rolling_days, self.calendar) if v is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of rolling_hours, rolling_days or calendar (day | week | month)"
            )
        return self

    @property
    def kind(self) -> str:
        return self.calendar if self.calendar else "rolling"

    @property
    def hours(self) -> int | None:
        if self.rolling_hours:
            return self.rolling_hours
        return self.rolling_days * 24 if self.rolling_days else None

    def describe(self) -> str:
        if self.calendar:
            return f"calendar {self.calendar} in the customer's time zone"
        if self.rolling_days:
            return f"rolling {self.rolling_days} days"
        return f"rolling {self.rolling_hours} hours"


class FrequencyCap(_Strict):
    id: str
    channels: list[Channel] | None = None  # None: across all channels
    max: int = Field(ge=0)
    window: Window
    counts: list[MessageType] = Field(default_factory=lambda: ["marketing"], min_length=1)
    exempt_campaigns: list[str] = Field(default_factory=list)

    _id = field_validator("id")(_check_id)


class MinGap(_Strict):
    id: str = "min_gap"
    hours: int = Field(ge=0, le=24 * 60)
    channels: list[Channel] | None = None

    _id = field_validator("id")(_check_id)


class QuietHours(_Strict):
    id: str = "quiet_hours"
    start: str = "20:00"  # local, quiet from
    end: str = "08:00"  # local, sending allowed again from
    allowed_days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]), min_length=1)
    channels: list[Channel] | None = None  # None: every channel

    _start = field_validator("start", "end")(_check_hhmm)


class ChannelConsent(_Strict):
    consent_channel: Literal["email", "phone", "sms"] = "email"
    allowed_states: list[ConsentState] = Field(default_factory=lambda: ["subscribed"], min_length=1)
    transactional_allowed_states: list[ConsentState] = Field(
        default_factory=lambda: ["subscribed", "unknown", "unsubscribed"], min_length=1
    )


class Suppression(_Strict):
    id: str = "suppression"
    reasons: list[str] = Field(
        default_factory=lambda: ["unsubscribed", "hard_bounce", "spam_complaint", "do_not_contact", "erased"]
    )
    all_channel_reasons: list[str] = Field(default_factory=lambda: ["do_not_contact", "erased"])


class Capacity(_Strict):
    id: str
    channel: Channel
    per_day: int | None = Field(default=None, ge=0)
    reps: int | None = Field(default=None, ge=1)
    per_rep_per_day: int | None = Field(default=None, ge=0)

    _id = field_validator("id")(_check_id)

    @model_validator(mode="after")
    def _one_form(self) -> Capacity:
        per_rep = self.reps is not None and self.per_rep_per_day is not None
        if (self.per_day is not None) == per_rep:
            raise ValueError("give either per_day, or reps and per_rep_per_day")
        return self

    @property
    def daily_limit(self) -> int:
        return self.per_day if self.per_day is not None else int(self.reps) * int(self.per_rep_per_day)


class Holdout(_Strict):
    id: str = "global_holdout"
    salt: str = Field(min_length=1)
    share: float = Field(ge=0.0, lt=1.0)


class ContactRulesConfig(_Strict):
    default_time_zone: str = "UTC"
    horizon_days: int = Field(default=7, ge=1, le=60)
    caps: list[FrequencyCap] = Field(default_factory=list)
    min_gap: MinGap | None = None
    quiet_hours: QuietHours | None = None
    consent: dict[Channel, ChannelConsent] = Field(default_factory=dict)
    suppression: Suppression = Field(default_factory=Suppression)
    capacity: list[Capacity] = Field(default_factory=list)
    holdout: Holdout | None = None
    # fct_touchpoints.channel -> campaign channel, so past touches count towards the right caps
    history_channels: dict[str, Channel] = Field(
        default_factory=lambda: {
            "email": "email",
            "webinar": "webinar_invite",
            "sales": "sales_task",
            "crm": "sales_task",
        }
    )

    _zone = field_validator("default_time_zone")(_check_zone)

    @model_validator(mode="after")
    def _unique_ids(self) -> ContactRulesConfig:
        ids = [c.id for c in self.caps] + [c.id for c in self.capacity]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"rule ids must be unique; repeated: {', '.join(dupes)}")
        return self

    def consent_for(self, channel: str) -> ChannelConsent:
        return self.consent.get(channel) or ChannelConsent()


class Strategy(BaseModel):
    """Campaigns and contact rules together, checked against each other."""

    model_config = ConfigDict(frozen=True)

    campaigns: CampaignsConfig
    rules: ContactRulesConfig
    campaigns_path: Path
    rules_path: Path

    @property
    def rules_version(self) -> str:
        return rules_version(self.campaigns, self.rules)


def rules_version(campaigns: CampaignsConfig, rules: ContactRulesConfig) -> str:
    """sha256 of the canonicalised config (key order, whitespace and comments in the YAML do not matter)."""
    canonical = json.dumps(
        {"campaigns": campaigns.model_dump(mode="json"), "contact_rules": rules.model_dump(mode="json")},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_campaigns(path: Path) -> CampaignsConfig:
    return load_yaml_model(path, CampaignsConfig)


def load_contact_rules(path: Path) -> ContactRulesConfig:
    return load_yaml_model(path, ContactRulesConfig)


def load_strategy(config_dir: Path, rules_path: Path | None = None) -> Strategy:
    """Load both files and check the references between them; every error names the file and the key."""
    campaigns_path = config_dir / CAMPAIGNS_FILE
    rules_path = rules_path or config_dir / CONTACT_RULES_FILE
    campaigns = load_campaigns(campaigns_path)
    rules = load_contact_rules(rules_path)
    known = set(campaigns.by_id())
    for i, cap in enumerate(rules.caps):
        for j, cid in enumerate(cap.exempt_campaigns):
            if cid not in known:
                raise ConfigError(
                    f"{display_path(rules_path)}: caps[{i}].exempt_campaigns[{j}]: unknown campaign {cid!r} "
                    f"(not in {campaigns_path.name})"
                )
    # Audience expressions are checked here too, so a bad one fails before anything runs.
    from pipelines.lib.planning.audience import compile_audience

    for i, campaign in enumerate(campaigns.campaigns):
        compile_audience(
            campaign.audience,
            source=f"{display_path(campaigns_path)}: campaigns[{i}].audience ({campaign.id})",
        )
    return Strategy(campaigns=campaigns, rules=rules, campaigns_path=campaigns_path, rules_path=rules_path)
