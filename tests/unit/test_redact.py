"""Secrets are scrubbed from any text before it is shown."""

from __future__ import annotations

import pytest

from chatsync.text.redact import redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET /v4/a/b?sdkappid=1&usersig=eJyrVk*-_x&random=2", "GET /v4/a/b?sdkappid=1&usersig=***&random=2"),
        ("url='https://h/v4?usersig=abc' failed", "url='https://h/v4?usersig=***' failed"),
        ("USERSIG=abc def", "USERSIG=*** def"),
        ("usersig=", "usersig=***"),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_usersig_values_are_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_given_secrets_are_replaced_wherever_they_stand() -> None:
    assert redact("key=s3cr3t and again s3cr3t", "s3cr3t") == "key=*** and again ***"
    assert redact("empty secrets are ignored", "") == "empty secrets are ignored"
