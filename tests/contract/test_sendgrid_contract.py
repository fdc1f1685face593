"""The real `sendgrid` client posts the bodies Touchplan builds to a Prism mock of SendGrid's v3 API."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from python_http_client.exceptions import BadRequestsError
from sendgrid import SendGridAPIClient

from pipelines.lib.delivery import PlannedEmail, build_mail, deliver, load_delivery_config
from pipelines.lib.settings import PROJECT_ROOT, Settings

pytestmark = [pytest.mark.contract, pytest.mark.xdist_group("prism")]

FAKE_KEY = "SG.contract-test-fake-key"
SCHEDULED = (datetime.now(UTC) + timedelta(hours=20)).replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def config_dir(tmp_path: Path, prism) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    text = (PROJECT_ROOT / "config" / "delivery.yaml").read_text()
    text = re.sub(r"host: \S+", f"host: {prism.url}", text, count=1)
    text = text.replace("d-" + "0" * 32, "d-" + "5e" * 16)  # a real send refuses the demo placeholder
    (folder / "delivery.yaml").write_text(text)
    shutil.copy(folder / "delivery.yaml", tmp_path / "delivery.yaml.used")
    return folder


def client(prism) -> SendGridAPIClient:
    return SendGridAPIClient(api_key=FAKE_KEY, host=prism.url)


def planned(**overrides) -> PlannedEmail:
    values = dict(
        send_id="5f2b0c0e8f1d4c3aa1b2c3d4e5f60718",
        customer_id="cu_001",
        campaign_id="welcome",
        plan_run_id="run_001",
        channel="email",
        template_id="d-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        variant="a",
        scheduled_at=SCHEDULED,
        email="ada.lovelace@example.com",
        first_name="Ada",
        last_name="Lovelace",
        company="Analytical Engines",
    )
    values.update(overrides)
    return PlannedEmail(**values)


@pytest.mark.parametrize(
    "case",
    [
        dict(),
        dict(channel="webinar_invite", campaign_id="webinar_nov", subscription_group="webinars"),
        dict(first_name=None, last_name=None, company=None, variant=None, template_id="unmapped_name"),
        dict(subscription_group="no_such_group"),  # no asm block at all
    ],
)
def test_builder_bodies_are_accepted_by_mail_send(prism, config_dir: Path, case):
    body = build_mail(planned(**case), load_delivery_config(config_dir), sandbox=True)
    response = client(prism).client.mail.send.post(request_body=body)
    assert response.status_code == 202


def test_body_without_sandbox_is_accepted(prism, config_dir: Path):
    body = build_mail(planned(), load_delivery_config(config_dir))
    assert client(prism).send(body).status_code == 202


def test_batched_marketing_request_with_unsubscribe_headers_is_accepted(prism, config_dir: Path):
    from pipelines.lib.delivery.sendgrid_mail import UnsubscribeLinks, build_request, mail_level

    config = load_delivery_config(config_dir)
    sends = [
        planned(send_id=f"{i:032x}", customer_id=f"cu_{i}", email=f"p{i}@example.com") for i in range(1, 251)
    ]
    level = mail_level(config, "welcome", sends[0].template_id, None, None, "email")
    links = UnsubscribeLinks("https://touchplan.example", "unsubscribe@touchplan.example", b"x" * 32)
    body = build_request(sends, level, config, unsubscribe=links, batch_id="HkJ5yLYULb7Rj8GKSx7u025ouWVlMgAi")
    assert (
        len(body["personalizations"]) == 250 and "List-Unsubscribe" in body["personalizations"][0]["headers"]
    )
    response = client(prism).client.mail.send.post(request_body=body)
    assert response.status_code == 202


def test_batch_id_and_cancel_calls_match_the_api_description(prism):
    api = client(prism).client
    response = api.mail.batch.post()
    assert response.status_code == 201 and json.loads(response.body)["batch_id"]
    cancel = api.user.scheduled_sends.post(
        request_body={"batch_id": "HkJ5yLYULb7Rj8GKSx7u025ouWVlMgAi", "status": "cancel"}
    )
    assert cancel.status_code == 201


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda body: body.pop("from"),
        lambda body: body["personalizations"][0].update(send_at="tomorrow"),
        lambda body: body.update(asm={"group_id": "marketing"}),
        lambda body: body.update(
            custom_args={"touchplan_send_id": "x"}
        ),  # mail-level custom_args is a string
    ],
)
def test_invalid_bodies_are_rejected_with_400(prism, config_dir: Path, corrupt):
    body = build_mail(planned(), load_delivery_config(config_dir), sandbox=True)
    corrupt(body)
    with pytest.raises(BadRequestsError) as error:
        client(prism).client.mail.send.post(request_body=body)
    assert error.value.status_code == 400


def _warehouse(path: Path) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "CREATE TABLE dim_customers (customer_id VARCHAR, email VARCHAR, first_name VARCHAR, "
            "last_name VARCHAR, company VARCHAR)"
        )
        con.execute("""INSERT INTO dim_customers VALUES
            ('cu_001', 'ada.lovelace@example.com', 'Ada', 'Lovelace', 'Analytical Engines'),
            ('cu_002', 'grace.hopper@example.org', 'Grace', 'Hopper', NULL),
            ('cu_003', 'edsger@example.net', NULL, NULL, NULL)""")
        con.execute(
            "CREATE TABLE contact_plan (plan_run_id VARCHAR, customer_id VARCHAR, campaign_id VARCHAR, "
            "channel VARCHAR, template_id VARCHAR, variant VARCHAR, scheduled_at TIMESTAMP, "
            "scheduled_local TIMESTAMP, time_zone VARCHAR, rules_version VARCHAR)"
        )
        at = SCHEDULED.replace(tzinfo=None)
        con.executemany(
            "INSERT INTO contact_plan VALUES ('run_001', ?, ?, ?, ?, ?, ?, ?, 'UTC', 'rv1')",
            [
                ("cu_001", "welcome", "email", "d-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "a", at, at),
                ("cu_002", "welcome", "email", "welcome_v2", "b", at, at),
                ("cu_003", "webinar_nov", "webinar_invite", "webinar_invite", None, at, at),
            ],
        )
    finally:
        con.close()


def test_real_send_end_to_end_sends_each_planned_email_once(
    prism, config_dir: Path, tmp_path: Path, monkeypatch
):
    warehouse = tmp_path / "warehouse.duckdb"
    _warehouse(warehouse)
    monkeypatch.setenv("TOUCHPLAN_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("TOUCHPLAN_CONFIG", str(config_dir))
    monkeypatch.setenv("TOUCHPLAN_OUTPUT", str(tmp_path / "out"))
    monkeypatch.setenv("TOUCHPLAN_SEND", "1")  # what `touchplan run --send` exports
    monkeypatch.setenv("SENDGRID_API_KEY", FAKE_KEY)
    monkeypatch.setenv("TOUCHPLAN_UNSUBSCRIBE_SECRET", "contract-test-unsubscribe-secret")
    settings = Settings.from_env()
    assert settings.sending_enabled

    before = prism.mail_send_requests()
    with duckdb.connect(str(warehouse)) as con:
        first = deliver(con, settings, send=True)
        rows = con.execute(
            "SELECT status, http_status, attempts FROM send_ledger ORDER BY send_id"
        ).fetchall()
        assert first.mode == "send"
        assert rows == [("accepted", 202, 1)] * 3
        # welcome with two templates and one webinar invite: three requests, each with a batch id from Prism
        assert prism.mail_send_requests() - before == 3
        assert (
            con.execute(
                "SELECT count(*) FROM send_ledger WHERE batch_id IS NOT NULL AND request_id IS NOT NULL"
            ).fetchone()[0]
            == 3
        )

        second = deliver(con, settings, send=True)
        assert second.count(status="accepted") == 0 and second.already_sent == 3
        assert prism.mail_send_requests() - before == 3  # nothing posted again
        assert con.execute("SELECT count(*), count(DISTINCT send_id) FROM send_ledger").fetchone() == (3, 3)
    assert FAKE_KEY not in "".join(p.read_text() for p in (tmp_path / "out").rglob("*") if p.is_file())
