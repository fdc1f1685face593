"""config/insight.yaml as pydantic models, checked for meaning as well as shape, and turned into dbt vars.

The dbt models in models/intermediate/insight and models/marts/insight render their rules from these structured values
(keywords become quoted string literals, numbers are numbers); no SQL text is ever taken from the file. Each var's default in
the models equals what the shipped config/insight.yaml produces here (tests/unit/insight checks it).
"""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipelines.lib.config_loader import load_yaml_model

CONFIG_FILE = "insight.yaml"
BANT_PARTS = ("budget", "authority", "need", "timeframe")
SCORE_MIN, SCORE_MAX = 1, 5

_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")

PositiveInt = Annotated[int, Field(gt=0)]
Share = Annotated[float, Field(ge=0, le=1)]


def normalise_keyword(value: str) -> str:
    """Lower case, every run of other characters a single space: the form titles are compared in."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", str(value).lower()).split())


def _keywords(values: list[str]) -> list[str]:
    out = []
    for value in values:
        keyword = normalise_keyword(value)
        if not keyword:
            raise ValueError(f"keyword {value!r} has no letters or digits")
        out.append(keyword)
    return out


def _identifiers(values: list[str]) -> list[str]:
    for value in values:
        if not _IDENT.match(value):
            raise ValueError(f"{value!r} is not a name (lower case letters, digits, underscores)")
    return values


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Keywords = Annotated[list[str], Field(default_factory=list)]


# --- RFV ---------------------------------------------------------------------------------------------------


class ScoreBox(Strict):
    recency: tuple[int, int]
    frequency_value: tuple[int, int]

    @field_validator("recency", "frequency_value")
    @classmethod
    def _range(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if not (SCORE_MIN <= low <= SCORE_MAX and SCORE_MIN <= high <= SCORE_MAX):
            raise ValueError(f"scores run from {SCORE_MIN} to {SCORE_MAX}, got [{low}, {high}]")
        if low > high:
            raise ValueError(f"empty range [{low}, {high}]: the first number must not exceed the second")
        return value

    def cells(self) -> set[tuple[int, int]]:
        return {
            (r, fv)
            for r in range(self.recency[0], self.recency[1] + 1)
            for fv in range(self.frequency_value[0], self.frequency_value[1] + 1)
        }


class Segment(Strict):
    name: str
    when: list[ScoreBox] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _identifiers([value])[0]


class RfvConfig(Strict):
    window_days: PositiveInt = 365
    activity_touch_types: list[str] = Field(min_length=1)
    revenue_touch_types: list[str] = Field(min_length=1)
    engagement_points: dict[str, Annotated[float, Field(ge=0)]]
    segments: list[Segment] = Field(min_length=1)

    check_touch_types = field_validator("activity_touch_types", "revenue_touch_types")(
        classmethod(lambda cls, v: _identifiers(v))
    )

    @field_validator("engagement_points")
    @classmethod
    def _points(cls, value: dict[str, float]) -> dict[str, float]:
        _identifiers(list(value))
        return value

    @field_validator("segments")
    @classmethod
    def _grid(cls, segments: list[Segment]) -> list[Segment]:
        owner: dict[tuple[int, int], str] = {}
        names = [s.name for s in segments]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"segment names must be unique: {', '.join(dupes)}")
        for segment in segments:
            for cell in sorted(set().union(*(box.cells() for box in segment.when))):
                if cell in owner and owner[cell] != segment.name:
                    raise ValueError(
                        f"segments {owner[cell]!r} and {segment.name!r} overlap at recency "
                        f"{cell[0]}, frequency_value {cell[1]}"
                    )
                if cell in owner:
                    raise ValueError(
                        f"segment {segment.name!r} lists recency {cell[0]}, frequency_value {cell[1]} twice"
                    )
                owner[cell] = segment.name
        missing = [(r, fv) for r in range(1, 6) for fv in range(1, 6) if (r, fv) not in owner]
        if missing:
            cells = ", ".join(f"(recency {r}, frequency_value {fv})" for r, fv in missing[:5])
            raise ValueError(f"{len(missing)} score cells belong to no segment, e.g. {cells}")
        return segments


# --- personas ----------------------------------------------------------------------------------------------


class PersonaRule(Strict):
    persona: str
    rule: str
    title_keywords: Keywords
    seniority_in: Keywords
    industry_in: Keywords
    employees_min: Annotated[int, Field(ge=0)] | None = None
    employees_max: Annotated[int, Field(ge=0)] | None = None
    min_webinars_attended: Annotated[int, Field(ge=0)] | None = None
    min_email_clicks: Annotated[int, Field(ge=0)] | None = None
    preferred_channel: Literal["email", "webinar"] | None = None
    webinar_topic_keywords: Keywords

    check_names = field_validator("persona", "rule")(classmethod(lambda cls, v: _identifiers([v])[0]))
    check_keywords = field_validator(
        "title_keywords", "seniority_in", "industry_in", "webinar_topic_keywords"
    )(classmethod(lambda cls, v: _keywords(v)))

    @model_validator(mode="after")
    def _meaningful(self) -> PersonaRule:
        if (
            self.employees_min is not None
            and self.employees_max is not None
            and self.employees_min > self.employees_max
        ):
            raise ValueError(f"employees_min {self.employees_min} exceeds employees_max {self.employees_max}")
        conditions = self.model_dump(exclude={"persona", "rule"})
        if not any(v not in (None, []) for v in conditions.values()):
            raise ValueError(f"rule {self.rule!r} has no condition: it would match everyone")
        return self


# --- lifecycle ---------------------------------------------------------------------------------------------


class LeadStage(Strict):
    min_engaged_touches: PositiveInt = 1
    engaged_touch_types: list[str] = Field(min_length=1)
    check_types = field_validator("engaged_touch_types")(classmethod(lambda cls, v: _identifiers(v)))


class OpportunityStage(Strict):
    open_deal_days: PositiveInt = 180


class Advocate(Strict):
    min_purchases: PositiveInt = 2
    window_days: PositiveInt = 90
    min_engaged_touches: PositiveInt = 6


class CustomerStages(Strict):
    revenue_touch_types: list[str] = Field(min_length=1)
    new_days: PositiveInt
    repeat_min_purchases: Annotated[int, Field(ge=2)]
    active_touch_types: list[str] = Field(min_length=1)
    lapsing_days: PositiveInt
    lapsed_days: PositiveInt
    reactivated_days: PositiveInt
    advocate: Advocate

    check_types = field_validator("revenue_touch_types", "active_touch_types")(
        classmethod(lambda cls, v: _identifiers(v))
    )

    @model_validator(mode="after")
    def _order(self) -> CustomerStages:
        if self.lapsed_days <= self.lapsing_days:
            raise ValueError(
                f"lapsed_days ({self.lapsed_days}) must exceed lapsing_days ({self.lapsing_days})"
            )
        return self


class LifecycleConfig(Strict):
    history_months: Annotated[int, Field(ge=0, le=60)] = 12
    lead: LeadStage
    opportunity: OpportunityStage
    customer: CustomerStages


# --- lead scoring ------------------------------------------------------------------------------------------


class Band(Strict):
    min: Annotated[float, Field(ge=0)]
    share: Share


def _bands(bands: list[Band]) -> list[Band]:
    for a, b in pairwise(bands):
        if b.min >= a.min:
            raise ValueError(f"bands must be listed from the highest min down ({a.min} then {b.min})")
    return bands


class BudgetRules(Strict):
    stated_budget_bands: list[Band] = Field(default_factory=list)
    deal_amount_bands: list[Band] = Field(default_factory=list)
    employees_bands: list[Band] = Field(default_factory=list)
    check_bands = field_validator("stated_budget_bands", "deal_amount_bands", "employees_bands")(
        classmethod(lambda cls, v: _bands(v))
    )


class AuthorityLevel(Strict):
    share: Share
    seniority_in: Keywords
    title_keywords: Keywords
    check_keywords = field_validator("seniority_in", "title_keywords")(
        classmethod(lambda cls, v: _keywords(v))
    )


class AuthorityRules(Strict):
    levels: list[AuthorityLevel] = Field(min_length=1)


class NeedRules(Strict):
    product_interest_share: Share
    webinar_attended_share: Share
    webinar_topic_keywords: Keywords
    webinar_topic_share: Share
    clicked_share: Share
    check_keywords = field_validator("webinar_topic_keywords")(classmethod(lambda cls, v: _keywords(v)))


class StatedLevel(Strict):
    share: Share
    keywords: list[str] = Field(min_length=1)
    check_keywords = field_validator("keywords")(classmethod(lambda cls, v: _keywords(v)))


class TimeframeRules(Strict):
    stated_levels: list[StatedLevel] = Field(default_factory=list)
    open_deal_share: Share
    open_deal_days: PositiveInt
    registered_share: Share
    registered_days: PositiveInt


class EngagementRules(Strict):
    points: dict[str, Annotated[float, Field(ge=0, le=100)]]
    webinar_minute_points: Annotated[float, Field(ge=0, le=100)]
    half_life_days: Annotated[float, Field(ge=1, le=3650)]
    window_days: Annotated[int, Field(gt=0, le=3650)]

    @field_validator("points")
    @classmethod
    def _points(cls, value: dict[str, float]) -> dict[str, float]:
        _identifiers(list(value))
        return value

    @model_validator(mode="after")
    def _decay_range(self) -> EngagementRules:
        # the decay is computed as a ratio of powers of two: keep the exponent well inside a double
        if self.window_days / self.half_life_days > 500:
            raise ValueError("window_days / half_life_days must not exceed 500")
        return self


class SalesHandoff(Strict):
    min_lead_score: Annotated[float, Field(ge=0, le=100)]
    min_fit_score: Annotated[float, Field(ge=0, le=100)]
    required_parts: list[Literal["budget", "authority", "need", "timeframe"]] = Field(default_factory=list)


class LeadScoringConfig(Strict):
    bant_weights: dict[Literal["budget", "authority", "need", "timeframe"], Annotated[float, Field(ge=0)]]
    budget: BudgetRules
    authority: AuthorityRules
    need: NeedRules
    timeframe: TimeframeRules
    engagement: EngagementRules
    fit_share: Share
    mql_threshold: Annotated[float, Field(gt=0, le=100)]
    sales_handoff: SalesHandoff

    @field_validator("bant_weights")
    @classmethod
    def _weights(cls, value: dict[str, float]) -> dict[str, float]:
        missing = [p for p in BANT_PARTS if p not in value]
        if missing:
            raise ValueError(f"missing weight for {', '.join(missing)}")
        total = sum(value.values())
        if abs(total - 100) > 1e-9:
            raise ValueError(f"the BANT weights must add up to 100, they add up to {total:g}")
        return {p: value[p] for p in BANT_PARTS}


# --- moments -----------------------------------------------------------------------------------------------


class Toggle(Strict):
    enabled: bool = True


class FirstWebinar(Toggle):
    min_minutes: Annotated[float, Field(ge=0)] = 0


class HighEngagement(Toggle):
    min_touches: PositiveInt = 5
    baseline_multiple: Annotated[float, Field(ge=1)] = 3.0
    touch_types: list[str] = Field(min_length=1)
    check_types = field_validator("touch_types")(classmethod(lambda cls, v: _identifiers(v)))


class MomentsConfig(Strict):
    first_webinar_attended: FirstWebinar
    became_mql: Toggle
    first_purchase: Toggle
    started_lapsing: Toggle
    returned_after_lapsing: Toggle
    high_engagement: HighEngagement


class TouchesToStageConfig(Strict):
    counted_touch_types: list[str] = Field(default_factory=list)
    check_types = field_validator("counted_touch_types")(classmethod(lambda cls, v: _identifiers(v)))


class InsightSettings(Strict):
    version: Literal[1] = 1
    rfv: RfvConfig
    personas: list[PersonaRule]
    lifecycle: LifecycleConfig
    lead_scoring: LeadScoringConfig
    moments: MomentsConfig
    touches_to_stage: TouchesToStageConfig

    @field_validator("personas")
    @classmethod
    def _unique_rules(cls, rules: list[PersonaRule]) -> list[PersonaRule]:
        seen: set[str] = set()
        for rule in rules:
            if rule.rule in seen:
                raise ValueError(f"rule name {rule.rule!r} is used twice")
            if rule.persona == "unassigned":
                raise ValueError("'unassigned' is reserved for customers no rule matches")
            seen.add(rule.rule)
        return rules


def load_insight_settings(config_dir: Path) -> InsightSettings:
    """Parse `<config_dir>/insight.yaml`; a ConfigError names the file, the key and the problem."""
    return load_yaml_model(Path(config_dir) / CONFIG_FILE, InsightSettings)


def insight_vars(insight: InsightSettings) -> dict[str, Any]:
    """One dbt var per model area, each a plain JSON-able dict or list."""
    dumped = insight.model_dump(mode="json", exclude_none=True)
    lead = dumped["lead_scoring"]
    return {
        "insight_rfv": dumped["rfv"],
        "insight_personas": dumped["personas"],
        "insight_lifecycle": dumped["lifecycle"],
        "insight_lead_fit": {
            k: lead[k] for k in ("bant_weights", "budget", "authority", "need", "timeframe")
        },
        "insight_lead_scoring": {
            k: lead[k] for k in ("engagement", "fit_share", "mql_threshold", "sales_handoff")
        },
        "insight_moments": dumped["moments"],
        "insight_touches_to_stage": dumped["touches_to_stage"],
    }


def dbt_vars(settings: Any) -> dict[str, Any]:
    """The insight vars of a run, from the settings' config folder (pipelines.lib.config.dbt_vars)."""
    return insight_vars(load_insight_settings(settings.config_dir))
