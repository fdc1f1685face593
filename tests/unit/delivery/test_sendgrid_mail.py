from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.lib.config import ConfigError
from pipelines.lib.delivery.config import load_delivery_config
from pipelines.lib.delivery.sendgrid_mail import CUSTOM_ARG_KEYS, PlannedEmail, build_mail, unix_time

SCHEDULED = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def planned(**overrides) -> PlannedEmail:
    values = dict(
        send_id="0123456789abcdef0123456789abcdef",
        customer_id="cu_001",
        campaign_id="welcome",
        plan_run_id="run_001",
        channel="email",
        template_id="welcome_v2",
        variant="b",
        scheduled_at=SCHEDULED,
        email=" ada.lovelace@example.com ",
        first_name="Ada",
        last_name="Lovelace",
        company="Analytical Engines",
    )
    values.update(overrides)
    return PlannedEmail(**values)


def test_body_has_one_personalization_for_the_recipient_with_send_at_and_template_data(config_dir: Path):
    body = build_mail(planned(), load_delivery_config(config_dir))

    assert len(body["personalizations"]) == 1
    person = body["personalizations"][0]
    assert person["to"] == [{"email": "ada.lovelace@example.com", "name": "Ada Lovelace"}]
    assert person["send_at"] == 1795426200 == unix_time(SCHEDULED)
    assert person["dynamic_template_data"]["first_name"] == "Ada"
    assert person["dynamic_template_data"]["variant"] == "b"
    assert body["from"] == {"email": "hello@touchplan.example", "name": "Touchplan"}
    assert body["reply_to"]["email"] == "support@touchplan.example"
    # The v3 API requires subject and content even when a dynamic template replaces them.
    assert body["subject"] and body["content"][0]["type"] == "text/plain"
    assert "mail_settings" not in body


def test_naive_scheduled_at_is_taken_as_utc():
    assert unix_time(datetime(2026, 11, 23, 9, 30)) == unix_time(SCHEDULED)


def test_custom_args_carry_only_ids_and_no_personal_data(config_dir: Path):
    body = build_mail(planned(), load_delivery_config(config_dir))
    args = body["personalizations"][0]["custom_args"]

    assert set(args) == set(CUSTOM_ARG_KEYS)
    assert args == {
        "touchplan_send_id": "0123456789abcdef0123456789abcdef",
        "campaign_id": "welcome",
        "plan_run_id": "run_001",
    }
    assert "custom_args" not in body  # the mail-level field is a string in SendGrid's API description
    ids_and_tags = json.dumps([args, body["categories"]]).lower()
    for personal in ("ada", "lovelace", "example.com", "analytical"):
        assert personal not in ids_and_tags
    assert set(body["categories"]) == {"touchplan", "welcome", "email"}


def test_unsubscribe_group_comes_from_the_subscription_group(config_dir: Path):
    config = load_delivery_config(config_dir)
    assert build_mail(planned(), config)["asm"] == {"group_id": 10001}  # default group: marketing
    assert build_mail(planned(subscription_group="webinars"), config)["asm"] == {"group_id": 10003}
    assert build_mail(planned(subscription_group="4242"), config)["asm"] == {"group_id": 4242}
    assert "asm" not in build_mail(planned(subscription_group="no_such_group"), config)


def test_template_id_resolution_order(config_dir: Path):
    (config_dir / "delivery.yaml").write_text(
        (config_dir / "delivery.yaml")
        .read_text()
        .replace("  template_ids:\n", "  template_ids:\n    welcome_v2: d-mapped\n")
        .replace("campaigns: {}", "campaigns: {nurture: {template_id: d-campaign, subject: Keep going}}")
    )
    config = load_delivery_config(config_dir)

    assert build_mail(planned(template_id="d-fromplan"), config)["template_id"] == "d-fromplan"
    assert build_mail(planned(template_id="welcome_v2"), config)["template_id"] == "d-mapped"
    nurture = build_mail(planned(campaign_id="nurture", template_id="unmapped"), config)
    assert nurture["template_id"] == "d-campaign" and nurture["subject"] == "Keep going"
    assert (
        build_mail(planned(template_id="unmapped"), config)["template_id"]
        == config.templates.default_template_id
    )


def test_sandbox_mode_for_tests(config_dir: Path):
    body = build_mail(planned(), load_delivery_config(config_dir), sandbox=True)
    assert body["mail_settings"] == {"sandbox_mode": {"enable": True}}


def test_missing_names_are_left_out_of_the_body(config_dir: Path):
    body = build_mail(
        planned(first_name=None, last_name="  ", company=None), load_delivery_config(config_dir)
    )
    person = body["personalizations"][0]
    assert person["to"] == [{"email": "ada.lovelace@example.com"}]
    # marketing mail also carries the configured postal address (CAN-SPAM)
    assert set(person["dynamic_template_data"]) == {"campaign_id", "variant", "postal_address"}


def test_bad_config_names_the_file_and_key(config_dir: Path):
    path = config_dir / "delivery.yaml"
    path.write_text(
        path.read_text()
        .replace("email: hello@touchplan.example", "email: not-an-address")
        .replace("marketing: 10001", "marketing: -5")
    )
    with pytest.raises(ConfigError) as error:
        load_delivery_config(config_dir)
    message = str(error.value)
    assert str(path) in message and "sender.email" in message and "asm_groups" in message


def test_transactional_emails_have_no_unsubscribe_group(config_dir: Path):
    body = build_mail(planned(message_type="transactional"), load_delivery_config(config_dir))
    assert "asm" not in body
