"""SendGrid v3 `mail/send` request bodies for planned emails, built with the official `sendgrid` helpers.

One body per send (one personalization), so each send has its own file in the outbox and its own ledger row.
Personal data (the address, names) goes only where SendGrid needs it: `to` and `dynamic_template_data`.
Categories and custom args carry only ids, so event webhooks can be matched back to the ledger
(`touchplan_send_id`) without exposing anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sendgrid.helpers.mail import (
    Asm,
    Category,
    Content,
    CustomArg,
    DynamicTemplateData,
    From,
    GroupId,
    Mail,
    MailSettings,
    ReplyTo,
    SandBoxMode,
    SendAt,
    Subject,
    TemplateId,
    To,
)

from pipelines.lib.delivery.config import DeliveryConfig

# The only custom args a body carries: non-personal ids for matching SendGrid events back to the ledger.
CUSTOM_ARG_KEYS = ("touchplan_send_id", "campaign_id", "plan_run_id")


@dataclass(frozen=True)
class PlannedEmail:
    send_id: str
    customer_id: str
    campaign_id: str
    plan_run_id: str
    channel: str  # email | webinar_invite
    template_id: str | None
    variant: str | None
    scheduled_at: datetime  # UTC
    email: str
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    subscription_group: str | None = None
    message_type: str | None = None  # transactional: no unsubscribe group


def unix_time(moment: datetime) -> int:
    """Seconds since the epoch; a naive datetime is UTC (as every `<event>_at` column is)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def build_mail(
    planned: PlannedEmail, config: DeliveryConfig, *, sandbox: bool | None = None
) -> dict[str, Any]:
    """The exact JSON body of `POST /v3/mail/send` for one planned email."""
    campaign = config.campaign(planned.campaign_id)
    first, last = _clean(planned.first_name), _clean(planned.last_name)
    full_name = " ".join(part for part in (first, last) if part) or None

    mail = Mail(
        from_email=From(config.sender.email, config.sender.name),
        to_emails=To(planned.email.strip(), full_name),
        subject=Subject(campaign.subject or config.templates.default_subject),
        plain_text_content=Content("text/plain", campaign.text or config.templates.default_text),
    )
    if config.reply_to is not None:
        mail.reply_to = ReplyTo(config.reply_to.email, config.reply_to.name)
    mail.template_id = TemplateId(config.sendgrid_template_id(planned.campaign_id, planned.template_id))

    # Personalization 0 (created by `to_emails` above): when, template data, and the ids for event matching.
    mail.send_at = SendAt(unix_time(planned.scheduled_at), p=0)
    template_data = {
        "first_name": first,
        "last_name": last,
        "full_name": full_name,
        "company": _clean(planned.company),
        "campaign_id": planned.campaign_id,
        "variant": _clean(planned.variant),
    }
    mail.dynamic_template_data = DynamicTemplateData({k: v for k, v in template_data.items() if v}, p=0)
    ids = {
        "touchplan_send_id": planned.send_id,
        "campaign_id": planned.campaign_id,
        "plan_run_id": planned.plan_run_id,
    }
    for key in CUSTOM_ARG_KEYS:
        mail.add_custom_arg(CustomArg(key, str(ids[key]), p=0))

    categories: list[str] = []
    for name in [*config.categories, *campaign.categories, planned.campaign_id, planned.channel]:
        if name and name not in categories:
            categories.append(name[:255])
    for name in categories[:10]:  # SendGrid allows 10 unique categories
        mail.add_category(Category(name))

    group_id = config.asm_group_id(planned.campaign_id, planned.subscription_group)
    if group_id is not None and planned.message_type != "transactional":
        mail.asm = Asm(GroupId(group_id))

    if sandbox if sandbox is not None else config.sendgrid.sandbox_mode:
        mail.mail_settings = MailSettings(sandbox_mode=SandBoxMode(True))
    return mail.get()
