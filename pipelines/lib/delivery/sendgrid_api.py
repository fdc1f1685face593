"""Calls to SendGrid with the official client: mail/send with retries, batch ids, and batch cancellation.

Every error is classified by what it says about the request:

- 2xx: accepted;
- 429, 5xx, connection refused: nothing was taken; retried with backoff (`Retry-After` / `X-RateLimit-Reset`);
- 401/403: the key is refused, nothing was taken (`failed_retryable`; the run stops);
- other 4xx: SendGrid refused the request (`failed_permanent`, never retried);
- a timeout, a reset or a connection closed without an answer AFTER the request was written: SendGrid may have it.
  This is never retried blindly: the result is `in_flight` and the next run reconciles it (docs/delivery.md).

`KeepAliveClient` is python_http_client's `Client` (what `SendGridAPIClient` uses) with one persistent HTTP/1.1
connection per host instead of a new connection per call.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import socket
import time
import urllib.error
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import python_http_client
from python_http_client.exceptions import HTTPError as SendGridHTTPError
from python_http_client.exceptions import handle_error

from pipelines.lib.delivery.config import DeliveryConfig

log = logging.getLogger("touchplan.delivery")

_EMAIL_RE = re.compile(r"[^\s\"'<>,;:]+@[^\s\"'<>,;:]+")
IDLE_RECONNECT_SECONDS = 4.0  # a keep-alive connection idle longer than this is replaced before it is reused


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove email addresses and secrets from an error text before it is logged or stored."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return _EMAIL_RE.sub("[email]", text)


# ------------------------------------------------------------------------------------------------ keep-alive


class _Connections:
    """One persistent connection per (scheme, host, port), shared by every Client built from one client."""

    def __init__(self) -> None:
        self._pool: dict[tuple[str, str, int | None], tuple[http.client.HTTPConnection, float]] = {}

    def get(self, url: str, timeout: float | None) -> http.client.HTTPConnection:
        parts = urllib.parse.urlsplit(url)
        key = (parts.scheme, parts.hostname or "", parts.port)
        found = self._pool.get(key)
        if found is not None and time.monotonic() - found[1] < IDLE_RECONNECT_SECONDS:
            conn = found[0]
            conn.timeout = timeout
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
            return conn
        if found is not None:
            found[0].close()
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        conn = cls(parts.hostname, parts.port, timeout=timeout)
        self._pool[key] = (conn, time.monotonic())
        return conn

    def done(self, url: str, conn: http.client.HTTPConnection, reusable: bool) -> None:
        parts = urllib.parse.urlsplit(url)
        key = (parts.scheme, parts.hostname or "", parts.port)
        if reusable:
            self._pool[key] = (conn, time.monotonic())
        else:
            conn.close()
            self._pool.pop(key, None)

    def close(self) -> None:
        for conn, _ in self._pool.values():
            conn.close()
        self._pool.clear()


class _KeptResponse:
    """What python_http_client's Response reads: getcode(), read(), info()."""

    def __init__(self, status: int, body: bytes, headers: http.client.HTTPMessage):
        self.status, self.body, self.headers = status, body, headers

    def getcode(self) -> int:
        return self.status

    def read(self) -> bytes:
        return self.body

    def info(self) -> http.client.HTTPMessage:
        return self.headers


class KeepAliveClient(python_http_client.Client):
    """python_http_client.Client whose calls reuse one HTTP/1.1 connection (keep-alive)."""

    def __init__(self, *args: Any, connections: _Connections | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._connections = connections or _Connections()

    @classmethod
    def wrap(cls, client: python_http_client.Client) -> KeepAliveClient:
        return cls(
            host=client.host,
            request_headers=dict(client.request_headers),
            version=client._version,
            url_path=list(client._url_path),
            append_slash=client.append_slash,
            timeout=client.timeout,
        )

    def _build_client(self, name: str | None = None) -> KeepAliveClient:
        url_path = self._url_path + [name] if name else self._url_path
        return KeepAliveClient(
            host=self.host,
            version=self._version,
            request_headers=self.request_headers,
            url_path=url_path,
            append_slash=self.append_slash,
            timeout=self.timeout,
            connections=self._connections,
        )

    def _make_request(self, opener: Any, request: Any, timeout: float | None = None) -> _KeptResponse:
        url = request.get_full_url()
        parts = urllib.parse.urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn = self._connections.get(url, timeout or self.timeout)
        headers = dict(request.header_items())
        try:
            conn.request(request.get_method(), target, body=request.data, headers=headers)
            response = conn.getresponse()
            body = response.read()
        except BaseException:
            self._connections.done(url, conn, reusable=False)
            raise
        self._connections.done(url, conn, reusable=not response.will_close)
        if response.status >= 400:
            error = urllib.error.HTTPError(url, response.status, response.reason, response.headers, None)
            error.read = lambda body=body: body  # type: ignore[method-assign]
            exc = handle_error(error)
            exc.__cause__ = None
            raise exc
        return _KeptResponse(response.status, body, response.headers)


def sendgrid_client(config: DeliveryConfig) -> Any:
    """The official client on the configured host, with keep-alive; the key is read from the environment here."""
    from sendgrid import SendGridAPIClient

    api = SendGridAPIClient(api_key=os.environ["SENDGRID_API_KEY"], host=config.sendgrid.host)
    return KeepAliveClient.wrap(api.client)


# ------------------------------------------------------------------------------------------------ calls


@dataclass(frozen=True)
class PostResult:
    status: (
        str  # accepted | failed_permanent | failed_retryable | in_flight (no answer: SendGrid may have it)
    )
    http_status: int | None
    message_id: str | None
    error: str | None
    attempts: int


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    try:
        value = headers.get(name)
    except AttributeError:
        return None
    return str(value) if value is not None else None


def _retry_delay(attempt: int, headers: Any, config: DeliveryConfig) -> float:
    settings = config.sendgrid
    delay = settings.backoff_seconds * (2**attempt)
    retry_after = _header(headers, "Retry-After")
    reset = _header(headers, "X-RateLimit-Reset")  # SendGrid: the unix time the rate limit resets
    try:
        if retry_after is not None:
            delay = max(delay, float(retry_after))
        elif reset is not None:
            delay = max(delay, float(reset) - time.time())
    except ValueError:
        pass
    return max(0.0, min(delay, settings.max_backoff_seconds))


def _not_sent(exc: BaseException) -> bool:
    """True when the error proves the request never reached the server (the connection was refused)."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return isinstance(reason, ConnectionRefusedError | socket.gaierror)


def _provider_errors(body: Any) -> str:
    """The `message` fields of a SendGrid error body (field names and messages, no request data)."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else str(body)
        errors = json.loads(text).get("errors", [])
        return (
            "; ".join(
                f"{e.get('field') or '-'}: {e.get('message') or ''}".strip()
                for e in errors
                if isinstance(e, dict)
            )
            or "no error detail"
        )
    except (ValueError, AttributeError):
        return "unreadable error body"


def post_with_retries(
    client: Any,
    body: dict[str, Any],
    config: DeliveryConfig,
    *,
    sleep: Callable[[float], None] = time.sleep,
    secrets: Iterable[str] = (),
    before_attempt: Callable[[int], None] | None = None,
) -> PostResult:
    """POST one mail/send body; retry 429, 5xx and refused connections with backoff, at most `max_retries` times.

    `before_attempt(n)` runs before attempt n leaves (the sender records the attempt durably there). A timeout or a
    connection lost after the request was written is not retried: the result is `in_flight`.
    """
    secrets = list(secrets)
    max_retries = config.sendgrid.max_retries
    attempt = 0
    while True:
        attempt += 1
        headers = None
        if before_attempt is not None:
            before_attempt(attempt)
        try:
            response = client.mail.send.post(request_body=body, timeout=config.sendgrid.timeout_seconds)
            status = int(response.status_code)
            if 200 <= status < 300:
                return PostResult(
                    "accepted", status, _header(response.headers, "X-Message-Id"), None, attempt
                )
            error = f"HTTP {status}"
        except SendGridHTTPError as exc:  # the client raises one subclass per 4xx/5xx status
            status, headers = int(exc.status_code), exc.headers
            error = f"HTTP {status}: {_provider_errors(exc.body)}"
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets are OSErrors
            if not _not_sent(exc):
                reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
                return PostResult(
                    "in_flight",
                    None,
                    None,
                    f"no answer ({type(reason).__name__}): SendGrid may have the request; reconcile before resending",
                    attempt,
                )
            status, error = None, f"network error: {type(exc).__name__} (connection refused)"
        if status is not None and 400 <= status < 500 and status != 429:
            kind = "failed_retryable" if status in (401, 403) else "failed_permanent"
            return PostResult(kind, status, None, redact(error, secrets)[:500], attempt)
        if attempt > max_retries:
            return PostResult("failed_retryable", status, None, redact(error, secrets)[:500], attempt)
        delay = _retry_delay(attempt - 1, headers, config)
        log.warning(
            "SendGrid answered %s; retry %d of %d in %.1fs",
            status or "no connection",
            attempt,
            max_retries,
            delay,
        )
        sleep(delay)


def _call_with_retries(
    call: Callable[[], Any], config: DeliveryConfig, sleep: Callable[[float], None], what: str
) -> Any:
    """A call that is safe to repeat (creating a batch id, cancelling a batch): retried on 429/5xx/network."""
    attempt = 0
    while True:
        attempt += 1
        headers = None
        try:
            return call()
        except SendGridHTTPError as exc:
            if int(exc.status_code) != 429 and int(exc.status_code) < 500:
                raise
            headers = exc.headers
            problem = f"HTTP {exc.status_code}"
        except (OSError, http.client.HTTPException) as exc:
            problem = type(exc).__name__
        if attempt > config.sendgrid.max_retries:
            raise RuntimeError(f"SendGrid {what} failed after {attempt} attempts ({problem})")
        sleep(_retry_delay(attempt - 1, headers, config))


def create_batch_id(client: Any, config: DeliveryConfig, sleep: Callable[[float], None] = time.sleep) -> str:
    """POST /v3/mail/batch: a new batch id, so that the scheduled request can be cancelled later."""
    response = _call_with_retries(
        lambda: client.mail.batch.post(timeout=config.sendgrid.timeout_seconds), config, sleep, "batch id"
    )
    batch_id = json.loads(response.body)["batch_id"]
    if not isinstance(batch_id, str) or not batch_id:
        raise RuntimeError("SendGrid returned no batch id")
    return batch_id


def cancel_batch(
    client: Any, batch_id: str, config: DeliveryConfig, sleep: Callable[[float], None] = time.sleep
) -> bool:
    """Cancel a scheduled batch (POST /v3/user/scheduled_sends, status cancel); True when it is cancelled.

    A batch that already carries a status (a cancel made by an earlier run that crashed before recording it) is
    checked with GET /v3/user/scheduled_sends/{batch_id}.
    """
    try:
        _call_with_retries(
            lambda: client.user.scheduled_sends.post(
                request_body={"batch_id": batch_id, "status": "cancel"},
                timeout=config.sendgrid.timeout_seconds,
            ),
            config,
            sleep,
            "batch cancel",
        )
        return True
    except SendGridHTTPError as exc:
        if int(exc.status_code) in (401, 403):
            raise
    response = _call_with_retries(
        lambda: client.user.scheduled_sends._(batch_id).get(timeout=config.sendgrid.timeout_seconds),
        config,
        sleep,
        "batch status",
    )
    statuses = json.loads(response.body or b"[]")
    return any(s.get("batch_id") == batch_id and s.get("status") == "cancel" for s in statuses)
