"""SendGrid v3 `mail/send` request bodies for planned emails, built with the official `sendgrid` helpers.

Sends that share every mail-level field (template, ASM group, sender, subject, text, categories) go out together: one
request carries up to `sendgrid.personalizations_per_request` (at most 1,000) personalizations, one per recipient,
each with its own `send_at`, `custom_args` (ids only), `dynamic_template_data` and, for marketing mail, its own
one-click unsubscribe headers (`List-Unsubscribe`, `List-Unsubscribe-Post`, RFC 8058).
Personal data (the address, names) goes only where SendGrid needs it: `to` and `dynamic_template_data`.
Categories and custom args carry only ids, so event webhooks can be matched back to the ledger
(`touchplan_send_id`) without exposing anyone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from sendgrid.helpers.mail import (
    Asm,
    BatchId,
    Category,
    Content,
    CustomArg,
    From,
    GroupId,
    Header,
    Mail,
    MailSettings,
    Personalization,
    ReplyTo,
    SandBoxMode,
    SendAt,
    Subject,
    TemplateId,
    To,
)

from pipelines.lib.delivery.config import DeliveryConfig
from pipelines.lib.receiver_contract import SECRET_ENV, make_token, unsubscribe_url

log = logging.getLogger("touchplan.delivery")

# The only custom args a body carries: non-personal ids for matching SendGrid events back to the ledger.
CUSTOM_ARG_KEYS = ("touchplan_send_id", "campaign_id", "plan_run_id")
# What a dry run without TOUCHPLAN_UNSUBSCRIBE_SECRET puts where the token's signature goes: visibly not real.
FAKE_SIGNATURE = "DRY-RUN-FAKE-TOKEN-NO-SECRET"
ONE_CLICK = "List-Unsubscribe=One-Click"


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
    message_type: str | None = None  # transactional: no unsubscribe group, no List-Unsubscribe


@dataclass(frozen=True)
class MailLevel:
    """Everything a request shares across its personalizations: sends with equal MailLevel may share a request."""

    template_id: str
    group_id: int | None  # ASM unsubscribe group; None = transactional (no List-Unsubscribe either)
    subject: str
    text: str
    categories: tuple[str, ...]

    @property
    def marketing(self) -> bool:
        return self.group_id is not None


def mail_level(
    config: DeliveryConfig,
    campaign_id: str,
    template_id: str | None,
    subscription_group: str | None,
    message_type: str | None,
    channel: str,
) -> MailLevel:
    campaign = config.campaign(campaign_id)
    categories: list[str] = []
    for name in [*config.categories, *campaign.categories, campaign_id, channel]:
        if name and name[:255] not in categories:
            categories.append(name[:255])
    group_id = config.asm_group_id(campaign_id, subscription_group)
    return MailLevel(
        template_id=config.sendgrid_template_id(campaign_id, template_id),
        group_id=None if message_type == "transactional" else group_id,
        subject=campaign.subject or config.templates.default_subject,
        text=campaign.text or config.templates.default_text,
        categories=tuple(categories[:10]),  # SendGrid allows 10 unique categories
    )


class UnsubscribeLinks:
    """The List-Unsubscribe headers of one send: https one-click URL (+ mailto), token = HMAC of the send id.

    `secret=None` is the dry run without TOUCHPLAN_UNSUBSCRIBE_SECRET: the token is visibly fake and a warning is
    logged once; a real send never gets here without the secret.
    """

    def __init__(self, base_url: str, mailto: str | None, secret: bytes | None):
        self.base_url = base_url.rstrip("/")
        self.mailto = mailto
        self.secret = secret
        self._warned = False

    def token(self, send_id: str) -> str:
        if self.secret is not None:
            return make_token(send_id, self.secret)
        if not self._warned:
            log.warning(
                "%s is not set: the dry run's List-Unsubscribe links carry a fake token (%s)",
                SECRET_ENV,
                FAKE_SIGNATURE,
            )
            self._warned = True
        return f"{send_id}.{FAKE_SIGNATURE}"

    def url(self, send_id: str) -> str:
        if self.secret is not None:
            return unsubscribe_url(self.base_url, send_id, self.secret)
        return f"{self.base_url}/unsubscribe/{self.token(send_id)}"

    def headers(self, send_id: str) -> dict[str, str]:
        url = self.url(send_id)
        value = f"<{url}>"
        if self.mailto:
            token = url.rsplit("/", 1)[1]
            value += f", <mailto:{self.mailto}?subject={quote('unsubscribe ' + token)}>"
        return {"List-Unsubscribe": value, "List-Unsubscribe-Post": ONE_CLICK}


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


def _personalization(
    planned: PlannedEmail,
    level: MailLevel,
    config: DeliveryConfig,
    unsubscribe: UnsubscribeLinks | None,
) -> Personalization:
    first, last = _clean(planned.first_name), _clean(planned.last_name)
    full_name = " ".join(part for part in (first, last) if part) or None
    p = Personalization()
    p.add_to(To(planned.email.strip(), full_name))
    p.send_at = SendAt(unix_time(planned.scheduled_at)).get()
    template_data = {
        "first_name": first,
        "last_name": last,
        "full_name": full_name,
        "company": _clean(planned.company),
        "campaign_id": planned.campaign_id,
        "variant": _clean(planned.variant),
    }
    if level.marketing:
        template_data["postal_address"] = config.postal_address
        if unsubscribe is not None:
            template_data["unsubscribe_url"] = unsubscribe.url(planned.send_id)
    p.dynamic_template_data = {k: v for k, v in template_data.items() if v}
    ids = {
        "touchplan_send_id": planned.send_id,
        "campaign_id": planned.campaign_id,
        "plan_run_id": planned.plan_run_id,
    }
    for key in CUSTOM_ARG_KEYS:
        p.add_custom_arg(CustomArg(key, str(ids[key])))
    if level.marketing and unsubscribe is not None:
        for name, value in unsubscribe.headers(planned.send_id).items():
            p.add_header(Header(name, value))
    return p


def build_request(
    sends: Sequence[PlannedEmail],
    level: MailLevel,
    config: DeliveryConfig,
    *,
    unsubscribe: UnsubscribeLinks | None = None,
    batch_id: str | None = None,
    sandbox: bool | None = None,
) -> dict[str, Any]:
    """The exact JSON body of one `POST /v3/mail/send`: one personalization per send, in the given order."""
    if not sends:
        raise ValueError("a request needs at least one send")
    if len(sends) > 1000:
        raise ValueError(f"{len(sends)} personalizations in one request: SendGrid allows 1000")
    addresses = [s.email.strip().lower() for s in sends]
    if len(set(addresses)) != len(addresses):
        raise ValueError("an address appears twice in one request")
    mail = Mail(
        from_email=From(config.sender.email, config.sender.name),
        subject=Subject(level.subject),
        plain_text_content=Content("text/plain", level.text),
    )
    for index, planned in enumerate(sends):
        mail.add_personalization(_personalization(planned, level, config, unsubscribe), index=index)
    if config.reply_to is not None:
        mail.reply_to = ReplyTo(config.reply_to.email, config.reply_to.name)
    mail.template_id = TemplateId(level.template_id)
    for name in level.categories:
        mail.add_category(Category(name))
    if level.group_id is not None:
        mail.asm = Asm(GroupId(level.group_id))
    if batch_id is not None:
        mail.batch_id = BatchId(batch_id)
    if sandbox if sandbox is not None else config.sendgrid.sandbox_mode:
        mail.mail_settings = MailSettings(sandbox_mode=SandBoxMode(True))
    return mail.get()


def build_mail(
    planned: PlannedEmail,
    config: DeliveryConfig,
    *,
    sandbox: bool | None = None,
    unsubscribe: UnsubscribeLinks | None = None,
) -> dict[str, Any]:
    """The body of a request carrying the one planned email."""
    level = mail_level(
        config,
        planned.campaign_id,
        planned.template_id,
        planned.subscription_group,
        planned.message_type,
        planned.channel,
    )
    return build_request([planned], level, config, unsubscribe=unsubscribe, sandbox=sandbox)
