"""GET / POST /unsubscribe/<token> on a real uvicorn server: the GET page changes nothing (mail scanners prefetch),
a valid RFC 8058 one-click POST (urlencoded or multipart) is recorded durably with the send id and time only, an
invalid token or a POST without `List-Unsubscribe=One-Click` writes nothing."""

from __future__ import annotations

import json
import logging

import pytest

from pipelines.lib.receiver.app import create_app
from pipelines.lib.receiver_contract import make_token
from tests.receiver_helpers import (
    UNSUBSCRIBE_SECRET,
    ServerThread,
    Signer,
    files_under,
    request,
)

SEND_ID = "0123456789abcdef0123456789abcdef"
ONE_CLICK = b"List-Unsubscribe=One-Click"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
NOW = 1_796_630_400.25  # 2026-12-07 08:00:00.25 UTC


@pytest.fixture
def server(tmp_path):
    app = create_app(tmp_path, Signer().public_key, UNSUBSCRIBE_SECRET, clock=lambda: NOW)
    with ServerThread(app) as srv:
        yield srv


def token(send_id: str = SEND_ID, secret: bytes = UNSUBSCRIBE_SECRET) -> str:
    return make_token(send_id, secret)


def test_get_shows_a_page_with_a_button_and_records_nothing(server, tmp_path):
    resp = request(server.port, "GET", f"/unsubscribe/{token()}")
    assert resp.status == 200
    page = resp.body.decode()
    assert '<form method="post">' in page
    assert 'name="List-Unsubscribe" value="One-Click"' in page
    assert resp.headers["cache-control"] == "no-store"
    assert request(server.port, "HEAD", f"/unsubscribe/{token()}").status == 200
    assert files_under(tmp_path) == []


def test_one_click_post_is_recorded_with_send_id_and_time_only(server, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="touchplan.receiver")
    resp = request(server.port, "POST", f"/unsubscribe/{token()}", ONE_CLICK, FORM)
    assert resp.status == 200
    (path,) = files_under(tmp_path)
    assert path.relative_to(tmp_path).as_posix() == f"webhook/unsubscribe/2026-12-07/{SEND_ID}.json"
    record = json.loads(path.read_bytes())
    assert record == {
        "touchplan_unsubscribe": 1,
        "send_id": SEND_ID,
        "requested_at": "2026-12-07T08:00:00.250000Z",
        "method": "one_click",
    }
    assert SEND_ID not in caplog.text and token() not in caplog.text
    # a second click keeps the first record
    again = request(server.port, "POST", f"/unsubscribe/{token()}", ONE_CLICK, FORM)
    assert again.status == 200
    assert files_under(tmp_path) == [path]


def test_the_page_button_posts_the_same_one_click_body(server, tmp_path):
    resp = request(
        server.port, "POST", f"/unsubscribe/{token()}", b"List-Unsubscribe=One-Click&source=page", FORM
    )
    assert resp.status == 200
    (path,) = files_under(tmp_path)
    assert json.loads(path.read_bytes())["method"] == "confirmation_page"


def test_multipart_one_click_is_accepted(server, tmp_path):
    boundary = "----touchplan7MA4YWxkTrZu0gW"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    resp = request(server.port, "POST", f"/unsubscribe/{token()}", body, headers)
    assert resp.status == 200
    assert len(files_under(tmp_path)) == 1


@pytest.mark.parametrize(
    "bad",
    [
        "not-a-token",
        f"{SEND_ID}.{'0' * 32}",  # right shape, wrong signature
        make_token(SEND_ID, b"another-secret-of-16-chars"),
        make_token("fedcba9876543210fedcba9876543210", UNSUBSCRIBE_SECRET)[:-1] + "0",
    ],
)
def test_invalid_token_gets_404_and_writes_nothing(server, tmp_path, bad):
    assert request(server.port, "POST", f"/unsubscribe/{bad}", ONE_CLICK, FORM).status == 404
    assert request(server.port, "GET", f"/unsubscribe/{bad}").status == 404
    assert files_under(tmp_path) == []


@pytest.mark.parametrize("body", [b"", b"List-Unsubscribe=Yes", b"unsubscribe=1"])
def test_post_without_the_one_click_body_writes_nothing(server, tmp_path, body):
    assert request(server.port, "POST", f"/unsubscribe/{token()}", body, FORM).status == 400
    assert files_under(tmp_path) == []
