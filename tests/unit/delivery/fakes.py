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
        self.mail = SimpleNamespace(send=SimpleNamespace(post=self._post))

    def _post(self, request_body=None, timeout=None, **_):
        self.posts.append(request_body)
        status = self.statuses.pop(0) if self.statuses else 202
        if status >= 400:
            error_class = err_dict.get(status, HTTPError)
            raise error_class(status, "error", json.dumps(self.error_body).encode(), self.headers)
        return SimpleNamespace(
            status_code=status, headers={"X-Message-Id": f"msg-{len(self.posts)}"}, body=b""
        )
