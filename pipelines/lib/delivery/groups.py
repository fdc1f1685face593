"""Subscription groups: one vocabulary from config to consent to plan.

`asm_groups` in config/delivery.yaml is the one place where a group's NAME (what campaigns, contact_plan and
customer_consent use: `marketing`, `newsletter`...) meets its SendGrid ASM unsubscribe group id. dbt gets the map as
the var `subscription_groups` so customer_consent stores a group unsubscribe (an event or suppression carrying an
ASM id) under the group's name; the sender looks the id up for `asm.group_id`. An ASM id that is not in the map is
kept under its number (and reported by a warning test on stg_sendgrid__events / stg_email__suppressions).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipelines.lib.delivery.config import DELIVERY_FILE, load_delivery_config


def subscription_group_vars(config_dir: Path) -> dict[str, Any]:
    """dbt vars `subscription_groups` ({name: ASM id}) and `default_subscription_group`; none without the file."""
    if not (Path(config_dir) / DELIVERY_FILE).exists():
        return {}
    config = load_delivery_config(config_dir)
    return {
        "subscription_groups": dict(config.asm_groups),
        "default_subscription_group": config.default_subscription_group,
    }
