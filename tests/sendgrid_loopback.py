"""A loopback SendGrid on 127.0.0.1 (standard library only) that validates `POST /v3/mail/send` bodies against
SendGrid's own API description (tests/sendgrid_schema.py) and injects faults, for the delivery fault tests and the
benchmark. Prism serves the same description but cannot drop answers, count accepted recipients or keep the state
of scheduled batches; this server does:

- `POST /v3/mail/batch` -> 201 `{"batch_id": ...}` (a new id each call);
- `POST /v3/mail/send` -> 400 with the schema violations, else what `fault(n, body)` says: `None` (202 with
  `X-Message-Id`), `("status", code, headers)`, `"drop"` (taken, then the connection is closed without an answer),
  `"hang"` (taken, then no answer until the client gives up), or `("kill", when)` (calls `on_kill` before or after
  answering 202);
- `POST /v3/user/scheduled_sends` `{batch_id, status}` -> 201, and `GET /v3/user/scheduled_sends/{batch_id}`.

HTTP/1.1 with keep-alive. `delivered()` counts, per `touchplan_send_id`, the requests SendGrid would deliver: taken
(202, dropped or hung) and not in a cancelled batch.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.sendgrid_schema import mail_send_errors

Fault = Callable[[int, dict], Any]


@dataclass
class Taken:
    n: int
    batch_id: str | None
    send_ids: list[str]
    emails: list[str]


@dataclass
class State:
    validate: bool = True
    latency: float = 0.0
    fault: Fault | None = None
    on_kill: Callable[[], None] | None = None
    calls: Counter = field(default_factory=Counter)  # (method, path kind) -> count
    send_posts: int = 0  # mail/send requests received (any answer)
    taken: list[Taken] = field(default_factory=list)
    batches: list[str] = field(default_factory=list)
    cancelled: set[str] = field(default_factory=set)
    invalid: list[list[str]] = field(default_factory=list)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        with self.server.state.lock:
            self.server.state.connections += 1

    def _json(self, code: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode() if payload is not None else b""
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else None

    def do_GET(self) -> None:  # noqa: N802
        state = self.server.state
        if not self.headers.get("Authorization", "").startswith("Bearer "):
            return self._json(401, {"errors": [{"message": "authorization required"}]})
        if self.path.startswith("/v3/user/scheduled_sends/"):
            batch_id = self.path.rsplit("/", 1)[1]
            with state.lock:
                state.calls[("GET", "scheduled_sends")] += 1
                cancelled = batch_id in state.cancelled
            return self._json(200, [{"batch_id": batch_id, "status": "cancel"}] if cancelled else [])
        self._json(404, {"errors": [{"message": "not found"}]})

    def do_POST(self) -> None:  # noqa: N802
        state = self.server.state
        body = self._body()
        if not self.headers.get("Authorization", "").startswith("Bearer "):
            return self._json(401, {"errors": [{"message": "authorization required"}]})
        if state.latency:
            time.sleep(state.latency)
        if self.path == "/v3/mail/batch":
            with state.lock:
                state.calls[("POST", "batch")] += 1
                batch_id = f"B{len(state.batches) + 1:06d}x{id(state) % 9973}"
                state.batches.append(batch_id)
            return self._json(201, {"batch_id": batch_id})
        if self.path == "/v3/user/scheduled_sends":
            with state.lock:
                state.calls[("POST", "scheduled_sends")] += 1
            if (
                not isinstance(body, dict)
                or body.get("status") not in ("cancel", "pause")
                or body.get("batch_id") not in state.batches
            ):
                return self._json(400, {"errors": [{"field": "batch_id", "message": "invalid batch id"}]})
            with state.lock:
                if body["batch_id"] in state.cancelled:
                    return self._json(400, {"errors": [{"field": None, "message": "already has a status"}]})
                state.cancelled.add(body["batch_id"])
            return self._json(201, body)
        if self.path != "/v3/mail/send":
            return self._json(404, {"errors": [{"message": "not found"}]})
        with state.lock:
            state.calls[("POST", "send")] += 1
            state.send_posts += 1
            n = state.send_posts
        if state.validate:
            errors = mail_send_errors(body)
            if errors:
                state.invalid.append(errors)
                return self._json(
                    400, {"errors": [{"field": e.split(":")[0], "message": e} for e in errors[:5]]}
                )
        action = state.fault(n, body) if state.fault else None
        if isinstance(action, tuple) and action[0] == "status":
            return self._json(action[1], {"errors": [{"field": None, "message": "injected"}]}, action[2])
        personalizations = body.get("personalizations", [])
        taken = Taken(
            n,
            body.get("batch_id"),
            [p.get("custom_args", {}).get("touchplan_send_id") for p in personalizations],
            [p["to"][0]["email"] for p in personalizations],
        )
        with state.lock:
            state.taken.append(taken)
        if isinstance(action, tuple) and action[0] == "kill" and action[1] == "before" and state.on_kill:
            state.on_kill()
            self.close_connection = True
            return None
        if action == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return None
        if action == "hang":
            time.sleep(self.server.hang_seconds)
            self.close_connection = True
            return None
        self._json(202, None, {"X-Message-Id": f"msg{n:06d}"})
        if isinstance(action, tuple) and action[0] == "kill" and state.on_kill:
            time.sleep(action[2] if len(action) > 2 else 0)
            state.on_kill()
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state: State):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state
        self.hang_seconds = 2.0


class LoopbackSendGrid:
    def __init__(self, *, validate: bool = True, latency: float = 0.0):
        self.state = State(validate=validate, latency=latency)
        self._server = _Server(self.state)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> LoopbackSendGrid:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset_faults(self) -> None:
        self.state.fault = None
        self.state.on_kill = None

    def delivered(self) -> Counter:
        """touchplan_send_id -> how many taken requests (not in a cancelled batch) carried it."""
        counts: Counter = Counter()
        for taken in self.state.taken:
            if taken.batch_id is None or taken.batch_id not in self.state.cancelled:
                counts.update(taken.send_ids)
        return counts

    def received(self) -> Counter:
        """touchplan_send_id -> how many taken requests carried it, cancelled batches included."""
        counts: Counter = Counter()
        for taken in self.state.taken:
            counts.update(taken.send_ids)
        return counts

    def calls(self) -> int:
        return sum(self.state.calls.values())
