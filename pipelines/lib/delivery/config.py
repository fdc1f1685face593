"""config/delivery.yaml: sender, templates, unsubscribe groups and sending limits, as a typed model."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from pipelines.lib.config_loader import load_yaml_model
from pipelines.lib.receiver_contract import ReceiverSettings

DELIVERY_FILE = "delivery.yaml"
# The demo's stand-in for a SendGrid dynamic template id: fine for a dry run, refused by a real send.
PLACEHOLDER_TEMPLATE_ID = "d-" + "0" * 32


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Address(_Strict):
    email: EmailStr
    name: str | None = None


class CampaignTemplate(_Strict):
    """How one campaign's emails look: the SendGrid dynamic template and the fallbacks the v3 API requires."""

    template_id: str | None = None
    subject: str | None = Field(default=None, min_length=1)
    text: str | None = Field(default=None, min_length=1)
    subscription_group: str | None = None  # key of `asm_groups`; default: default_subscription_group
    categories: list[str] = Field(default_factory=list)


class Templates(_Strict):
    default_template_id: str = Field(min_length=1)
    # SendGrid requires a subject and a content part in every mail/send body; a dynamic template overrides both.
    default_subject: str = Field(min_length=1)
    default_text: str = Field(min_length=1)
    # The plan's template_id (a name, e.g. "welcome_v2") -> SendGrid template id. A plan template id that is
    # already a SendGrid dynamic template id (d-...) is used as it is.
    template_ids: dict[str, str] = Field(default_factory=dict)
    campaigns: dict[str, CampaignTemplate] = Field(default_factory=dict)


class SendGridSettings(_Strict):
    host: str = "https://api.sendgrid.com"
    sandbox_mode: bool = False
    batch_size: int = Field(default=500, ge=1, le=10_000)
    max_retries: int = Field(default=3, ge=0, le=10)
    backoff_seconds: float = Field(default=2.0, ge=0, le=300)
    max_backoff_seconds: float = Field(default=60.0, ge=0, le=3600)
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    # SendGrid refuses send_at more than 72 hours ahead: later sends wait for a later run.
    max_schedule_ahead_hours: int = Field(default=72, ge=0, le=72)
    # Personalizations (recipients) per mail/send request; SendGrid allows at most 1,000.
    personalizations_per_request: int = Field(default=1000, ge=1, le=1000)

    @field_validator("host")
    @classmethod
    def _http_host(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+$", value.rstrip("/")):
            raise ValueError(f"{value!r} is not a base URL like https://api.sendgrid.com")
        return value.rstrip("/")


class Unsubscribe(_Strict):
    """One-click unsubscribe (RFC 8058) for marketing mail: `touchplan serve`'s public base URL, optional mailto."""

    base_url: str | None = (
        None  # e.g. https://touchplan.example -> https://touchplan.example/unsubscribe/<token>
    )
    mailto: EmailStr | None = None  # adds <mailto:ADDRESS?subject=unsubscribe%20<token>> to List-Unsubscribe

    @field_validator("base_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https://[^/\s]+(/[^\s]*)?$", value):
            raise ValueError(f"{value!r} is not an https URL (RFC 8058 requires https)")
        return value.rstrip("/") if value else value


class SendingGuard(_Strict):
    """Block a real send when our own SendGrid events show a complaint or bounce spike (docs/delivery.md)."""

    window_days: int = Field(default=7, ge=1, le=90)
    max_spam_rate: float = Field(default=0.003, gt=0, le=1)  # spamreport / delivered; blocked at >= this rate
    max_bounce_rate: float = Field(default=0.05, gt=0, le=1)  # bounce / (delivered + bounce); blocked above
    override: bool = False  # send anyway (logged); the CLI's --force-send does the same for one run


class SalesTasks(_Strict):
    default_owner_id: str | None = None  # Salesforce user id, used when the contact's record has no owner
    default_hubspot_owner_id: str | None = (
        None  # HubSpot owner id, for HubSpot-only customers without an owner
    )
    subject_prefix: str = "Touchplan"


class AudienceFiles(_Strict):
    # Ad platforms (Google Customer Match, Meta, LinkedIn) accept SHA-256 of the trimmed, lower-cased email.
    email: Literal["sha256", "plain"] = "sha256"


class DeliveryConfig(_Strict):
    sender: Address
    reply_to: Address | None = None
    sendgrid: SendGridSettings = SendGridSettings()
    templates: Templates
    asm_groups: dict[str, int] = Field(default_factory=dict)  # subscription group -> SendGrid ASM group id
    default_subscription_group: str = "marketing"
    categories: list[str] = Field(default_factory=lambda: ["touchplan"], max_length=5)
    sales_tasks: SalesTasks = SalesTasks()
    audience_files: AudienceFiles = AudienceFiles()
    unsubscribe: Unsubscribe = Unsubscribe()
    # A physical postal address (CAN-SPAM): required for a real send of marketing mail, passed to every marketing
    # email's dynamic_template_data as `postal_address`.
    postal_address: str | None = Field(default=None, min_length=5)
    sending_guard: SendingGuard = SendingGuard()
    receiver: ReceiverSettings = ReceiverSettings()  # `touchplan serve` limits (docs/delivery.md)

    @field_validator("asm_groups")
    @classmethod
    def _positive_groups(cls, value: dict[str, int]) -> dict[str, int]:
        for name, group_id in value.items():
            if group_id <= 0:
                raise ValueError(f"asm group {name!r}: {group_id} is not a positive SendGrid group id")
        return value

    @field_validator("asm_groups")
    @classmethod
    def _one_name_per_group(cls, value: dict[str, int]) -> dict[str, int]:
        """Names are the vocabulary of campaigns and customer_consent; each ASM id has one name."""
        for name in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"asm group {name!r}: a group name is lower-case letters, digits and _")
        seen: dict[int, str] = {}
        for name, group_id in value.items():
            if group_id in seen:
                raise ValueError(
                    f"asm groups {seen[group_id]!r} and {name!r} both map to ASM group {group_id}"
                )
            seen[group_id] = name
        return value

    @model_validator(mode="after")
    def _default_group_is_known(self) -> DeliveryConfig:
        if self.asm_groups and self.default_subscription_group not in self.asm_groups:
            raise ValueError(
                f"default_subscription_group {self.default_subscription_group!r} is not a key of asm_groups"
            )
        return self

    def campaign(self, campaign_id: str) -> CampaignTemplate:
        return self.templates.campaigns.get(campaign_id) or CampaignTemplate()

    def sendgrid_template_id(self, campaign_id: str, plan_template_id: str | None) -> str:
        """The plan's own dynamic template id, else its mapped name, else the campaign's, else the default."""
        if plan_template_id and plan_template_id.startswith("d-"):
            return plan_template_id
        if plan_template_id and plan_template_id in self.templates.template_ids:
            return self.templates.template_ids[plan_template_id]
        return self.campaign(campaign_id).template_id or self.templates.default_template_id

    def placeholder_keys(self) -> list[str]:
        """The keys of delivery.yaml that still hold the demo's placeholder template id."""
        keys = (
            ["templates.default_template_id"]
            if self.templates.default_template_id == PLACEHOLDER_TEMPLATE_ID
            else []
        )
        keys += [
            f"templates.template_ids.{k}"
            for k, v in self.templates.template_ids.items()
            if v == PLACEHOLDER_TEMPLATE_ID
        ]
        keys += [
            f"templates.campaigns.{k}.template_id"
            for k, v in self.templates.campaigns.items()
            if v.template_id == PLACEHOLDER_TEMPLATE_ID
        ]
        return keys

    def asm_group_id(self, campaign_id: str, subscription_group: str | None = None) -> int | None:
        group = (
            subscription_group
            or self.campaign(campaign_id).subscription_group
            or self.default_subscription_group
        )
        if group.isdigit():  # an ASM id written as digits (a group config does not name) is used as is
            return int(group)
        return self.asm_groups.get(group)


def load_delivery_config(config_dir: Path) -> DeliveryConfig:
    return load_yaml_model(Path(config_dir) / DELIVERY_FILE, DeliveryConfig)
