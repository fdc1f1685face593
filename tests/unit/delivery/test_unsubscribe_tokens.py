import pytest

from pipelines.lib.delivery.ledger import send_id
from pipelines.lib.receiver_contract import (
    MissingSecretError,
    make_token,
    unsubscribe_secret,
    unsubscribe_url,
    verify_token,
)

SECRET = b"0123456789abcdef-test"


def _sid() -> str:
    from datetime import date

    return send_id("c1", "welcome", "email", date(2026, 12, 7))


def test_token_round_trips_to_the_send_id():
    sid = _sid()
    assert verify_token(make_token(sid, SECRET), SECRET) == sid


def test_token_from_another_secret_or_changed_id_is_refused():
    sid = _sid()
    token = make_token(sid, SECRET)
    assert verify_token(token, b"another-secret-0000") is None
    other = ("0" if sid[0] != "0" else "1") + sid[1:]
    assert verify_token(other + token[len(sid) :], SECRET) is None
    assert verify_token("not-a-token", SECRET) is None


def test_url_carries_no_personal_data_and_ends_with_the_token():
    sid = _sid()
    url = unsubscribe_url("https://t.example/", sid, SECRET)
    assert url == f"https://t.example/unsubscribe/{make_token(sid, SECRET)}"
    assert "c1" not in url.split("/unsubscribe/")[1].split(".")[1]


def test_missing_or_short_secret_is_one_clear_error():
    with pytest.raises(MissingSecretError, match="TOUCHPLAN_UNSUBSCRIBE_SECRET"):
        unsubscribe_secret({})
    with pytest.raises(MissingSecretError):
        unsubscribe_secret({"TOUCHPLAN_UNSUBSCRIBE_SECRET": "short"})
    assert unsubscribe_secret({"TOUCHPLAN_UNSUBSCRIBE_SECRET": "x" * 16}) == b"x" * 16
