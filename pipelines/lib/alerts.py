"""Run-failure alerts: one line naming the job and the failed step(s), written where operators look.

Every alert is written to the log (by the caller) and appended to `<output>/alerts/run_failures.jsonl`. When
configured in the environment it is also sent:

- `TOUCHPLAN_ALERT_WEBHOOK_URL`: a JSON POST `{"text": ...}` (the shape Slack and Teams incoming webhooks take);
- `TOUCHPLAN_ALERT_EMAIL`: an email through the same SendGrid client and sender as delivery (`SENDGRID_API_KEY`).

An alert carries the job, the run id, the failed steps and the first line of each error, with email addresses and
secrets removed: no personal data leaves in an alert. A failure to send an alert is reported, never raised: the
run has already failed and the alert file holds the record.
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ENV_WEBHOOK = "TOUCHPLAN_ALERT_WEBHOOK_URL"
ENV_EMAIL = "TOUCHPLAN_ALERT_EMAIL"
ALERTS_FILE = Path("alerts") / "run_failures.jsonl"
_EMAIL_RE = re.compile(r"[^\s@<>\"'(),;:]+@[^\s@<>\"'(),;:]+\.[A-Za-z]{2,}")
_MAX_ERROR_CHARS = 300


def clean_error(text: str | None, secrets: Sequence[str] = ()) -> str:
    """The first non-empty line of an error, without email addresses or secrets, at most 300 characters."""
    line = next((part.strip() for part in (text or "").splitlines() if part.strip()), "")
    for secret in secrets:
        if secret:
            line = line.replace(secret, "[redacted]")
    line = _EMAIL_RE.sub("[email]", line)
    return line if len(line) <= _MAX_ERROR_CHARS else line[: _MAX_ERROR_CHARS - 1] + "…"


@dataclass(frozen=True)
class RunFailureAlert:
    job: str
    run_id: str
    failed_steps: list[tuple[str, str]] = field(default_factory=list)  # (step key, cleaned first error line)
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def text(self) -> str:
        steps = "; ".join(f"{step}: {error}" if error else step for step, error in self.failed_steps)
        return f"Touchplan run failed: job {self.job}, run {self.run_id[:8]}, failed step(s): {steps or 'none (the run failed before its first step)'}"


@dataclass
class AlertDelivery:
    file: Path
    webhook: str | None = None  # "sent" or the reason it was not
    email: str | None = None


def _secrets(environ: Mapping[str, str]) -> list[str]:
    return [
        v
        for k, v in environ.items()
        if v and (k.endswith("_KEY") or k.endswith("_SECRET") or k.endswith("_SALT"))
    ]


def build_alert(
    job: str,
    run_id: str,
    failures: Sequence[tuple[str, str | None]],
    environ: Mapping[str, str] | None = None,
) -> RunFailureAlert:
    env = os.environ if environ is None else environ
    secrets = _secrets(env)
    return RunFailureAlert(
        job=job, run_id=run_id, failed_steps=[(step, clean_error(err, secrets)) for step, err in failures]
    )


def _post_webhook(url: str, alert: RunFailureAlert, timeout: float) -> None:
    body = json.dumps({"text": alert.text}).encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (operator-configured URL)
        if response.status >= 300:
            raise RuntimeError(f"webhook answered HTTP {response.status}")


def _send_email(to: str, alert: RunFailureAlert, config_dir: Path, timeout: float) -> None:
    from sendgrid import SendGridAPIClient
    from sendgrid.helpers.mail import Mail

    from pipelines.lib.delivery.config import load_delivery_config

    config = load_delivery_config(config_dir)
    mail = Mail(
        from_email=config.sender.email, to_emails=to, subject=alert.text[:120], plain_text_content=alert.text
    )
    client = SendGridAPIClient(api_key=os.environ["SENDGRID_API_KEY"], host=config.sendgrid.host)
    client.client.timeout = timeout
    response = client.send(mail)
    if response.status_code >= 300:
        raise RuntimeError(f"SendGrid answered HTTP {response.status_code}")


def deliver_alert(
    alert: RunFailureAlert,
    output: Path,
    config_dir: Path,
    environ: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> AlertDelivery:
    env = os.environ if environ is None else environ
    path = Path(output) / ALERTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({**asdict(alert), "text": alert.text}) + "\n")
    result = AlertDelivery(file=path)
    secrets = _secrets(env)
    if env.get(ENV_WEBHOOK):
        try:
            _post_webhook(env[ENV_WEBHOOK], alert, timeout)
            result.webhook = "sent"
        except Exception as exc:  # noqa: BLE001 (reported, the alert file holds the record)
            result.webhook = f"not sent: {clean_error(str(exc), [*secrets, env[ENV_WEBHOOK]])}"
    if env.get(ENV_EMAIL):
        if not env.get("SENDGRID_API_KEY"):
            result.email = "not sent: SENDGRID_API_KEY is not set"
        else:
            try:
                _send_email(env[ENV_EMAIL], alert, config_dir, timeout)
                result.email = "sent"
            except Exception as exc:  # noqa: BLE001
                result.email = f"not sent: {clean_error(str(exc), secrets)}"
    return result
