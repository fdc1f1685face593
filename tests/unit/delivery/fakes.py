"""A stand-in for the SendGrid HTTP client's `mail.send.post`, answering from a script of statuses.

The contract tests run the real client against Prism; these fakes let unit tests script 429/5xx sequences.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

from python_http_client.exceptions import HTTPError, err_dict


class ScriptedSendGrid:
    def __init__(self, statuses=None, headers=None, error_body=None):
        self.statuses = list(statuses or [])
        self.headers = headers or {}
        self.error_body = error_body or {"errors": [{"field": "personalizations", "message": "bad"}]}
        self.posts: list[dict] = []
        self.batches: list[str] = []
        self.cancelled: list[str] = []
        self.mail = SimpleNamespace(
            send=SimpleNamespace(post=self._post), batch=SimpleNamespace(post=self._new_batch)
        )
        self.user = SimpleNamespace(scheduled_sends=SimpleNamespace(post=self._cancel))

    def _new_batch(self, timeout=None, **_):
        self.batches.append(f"batch{len(self.batches) + 1:04d}")
        return SimpleNamespace(
            status_code=201, headers={}, body=json.dumps({"batch_id": self.batches[-1]}).encode()
        )

    def _cancel(self, request_body=None, timeout=None, **_):
        assert request_body["status"] == "cancel" and request_body["batch_id"] in self.batches
        self.cancelled.append(request_body["batch_id"])
        return SimpleNamespace(status_code=201, headers={}, body=json.dumps(request_body).encode())

    def _post(self, request_body=None, timeout=None, **_):
        self.posts.append(request_body)
        status = self.statuses.pop(0) if self.statuses else 202
        if status >= 400:
            error_class = err_dict.get(status, HTTPError)
            raise error_class(status, "error", json.dumps(self.error_body).encode(), self.headers)
        return SimpleNamespace(
            status_code=status, headers={"X-Message-Id": f"msg-{len(self.posts)}"}, body=b""
        )
