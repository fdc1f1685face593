"""Delivery: the contact plan -> SendGrid mail/send bodies, sales task and audience files, and the send ledger.

`deliver(con, settings, send)` is the whole stage; real sends happen only when `send` is asked for and
`settings.sending_enabled` (the --send switch and SENDGRID_API_KEY); otherwise it is a dry run that writes the
exact request bodies to the outbox.
"""

from pipelines.lib.delivery.config import DeliveryConfig, load_delivery_config
from pipelines.lib.delivery.deliver import DeliveryReport, deliver
from pipelines.lib.delivery.ledger import send_id
from pipelines.lib.delivery.sendgrid_mail import PlannedEmail, build_mail

__all__ = [
    "DeliveryConfig",
    "DeliveryReport",
    "PlannedEmail",
    "build_mail",
    "deliver",
    "load_delivery_config",
    "send_id",
]
