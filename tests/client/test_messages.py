"""What a user reads when the client cannot work: short, actionable, no traceback, no secret."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from chatsync.domain.model import AppConfig
from chatsync.errors import ChatsyncError
from chatsync.tencent.client import Client
from chatsync.tencent.retry import RetryPolicy
from chatsync.tencent.target import Target
from tests.support import SDKAPPID, SECRET, make_emulator, refused_port

QUICK = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.001, connect_attempts=2)


def failure_of(make_client: Callable[..., Client], case: str) -> ChatsyncError:
    if case == "wrong key":
        client = make_client(make_emulator(), key="0" * 64)
        with pytest.raises(ChatsyncError) as caught:
            client.call("get_all_robots")
    elif case == "missing secret variable":
        with pytest.raises(ChatsyncError) as caught:
            Client.for_app(AppConfig(sdkappid=SDKAPPID, endpoint="http://127.0.0.1:8080"), {})
    elif case == "unreachable endpoint":
        with refused_port() as port:
            url = f"http://127.0.0.1:{port}"
            client = make_client(transport=httpx.HTTPTransport(), target=Target((url,), "app.endpoint"),
                                 retry=QUICK)
            with pytest.raises(ChatsyncError) as caught:
                client.call("account_check", {"CheckItem": [{"UserID": "a"}]})
    else:  # non-https endpoint
        with pytest.raises(ChatsyncError) as caught:
            Client.for_app(AppConfig(sdkappid=SDKAPPID, endpoint="http://chat.example.com"),
                           {"CHATSYNC_SECRET_KEY": SECRET})
    return caught.value


@pytest.mark.parametrize(("case", "words"), [
    ("wrong key", ["70009", "secret key", "SDKAppID"]),
    ("missing secret variable", ["CHATSYNC_SECRET_KEY", "export"]),
    ("unreachable endpoint", ["cannot reach", "http://127.0.0.1:", "app.endpoint"]),
    ("non-https endpoint", ["https://", "http://chat.example.com"]),
])
def test_each_failure_is_one_or_two_plain_lines(make_client: Callable[..., Client], case: str,
                                                words: list[str]) -> None:
    error = failure_of(make_client, case)
    text = str(error)
    assert 1 <= len(text.splitlines()) <= 2, text
    assert "Traceback" not in text
    assert SECRET not in text and "0" * 64 not in text
    assert "usersig=" not in text.lower()
    for word in words:
        assert word in text, (word, text)
    assert error.report() == [f"Error: {text}"]
    assert error.exit_code == 1
