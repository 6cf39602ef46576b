"""Item 3: each attempt has a deadline as a whole (connect, headers, body), each call a bounded
total including retries, and an answer a cap on its decoded size, enforced while reading. Fake
servers on loopback drip, stall, never end a body, and send gzip bombs."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from chatsync.errors import CallFailed
from chatsync.tencent.bounded import Bounds, MiB
from chatsync.tencent.client import Client
from chatsync.tencent.credentials import SigCache
from chatsync.tencent.retry import RetryPolicy
from chatsync.tencent.target import Target
from tests.hostile.fakes import Behaviour, FakeServer, drip, endless_chunks, http, ok, silent
from tests.support import ADMIN, SDKAPPID, SECRET

QUICK = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01)
TIGHT = Bounds(attempt_seconds=0.6, call_seconds=1.5, answer_bytes=4 * MiB)


def client_for(url: str, bounds: Bounds = TIGHT, retry: RetryPolicy = QUICK) -> Client:
    return Client(Target((url,), "CHATSYNC_ENDPOINT"), SigCache(SDKAPPID, ADMIN, SECRET), retry=retry,
                  bounds=bounds, environ={})


def failure(url: str, **options: Any) -> CallFailed:
    with client_for(url, **options) as client, pytest.raises(CallFailed) as caught:
        client.call("get_all_robots", {})
    return caught.value


ANSWER = http(json.dumps(ok(Robot_Account=[])).encode())


@pytest.mark.parametrize("behaviour", [
    lambda: drip(ANSWER, 0.2),  # every read is quick; the whole is not
    lambda: endless_chunks(),
    lambda: silent(),
], ids=["drip", "endless-chunked-body", "stalled-headers"])
def test_an_attempt_ends_at_its_deadline_and_the_call_at_its_total(
    fake: Callable[[Behaviour], FakeServer],
    behaviour: Callable[[], Callable[[socket.socket, threading.Event], None]],
) -> None:
    server = fake(lambda endpoint, body: behaviour())
    failed = failure(server.url)
    assert "no complete answer within" in str(failed) or "gave up" in str(failed), str(failed)
    assert str(failed).splitlines()[0].startswith("get_all_robots failed")
    # 1.5 s in all, 0.6 s each: never more than three attempts, and at least two
    assert 2 <= len(server.seen) <= 3


def test_the_total_of_a_call_bounds_its_retries(fake: Callable[[Behaviour], FakeServer]) -> None:
    server = fake(lambda endpoint, body: silent())
    failed = failure(server.url, bounds=Bounds(attempt_seconds=0.3, call_seconds=0.7),
                     retry=RetryPolicy(max_attempts=50, base_delay=0.001, max_delay=0.01))
    assert len(server.seen) <= 3, len(server.seen)  # not 50
    assert failed.attempts == len(server.seen)


def test_a_gzip_bomb_is_refused_while_reading_without_inflating_it(
    fake: Callable[[Behaviour], FakeServer],
) -> None:
    bomb = gzip.compress(b'{"ActionStatus":"OK","ErrorCode":0,"x":"' + b"0" * (200 * MiB), 9)
    server = fake(lambda endpoint, body: http(bomb, headers={"Content-Encoding": "gzip"}))
    tracemalloc.start()
    try:
        failed = failure(server.url)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "larger than 4 MiB" in str(failed)
    assert peak < 32 * MiB, peak
    assert len(server.seen) == 1  # not retried: the same server would send it again


def test_a_huge_plain_answer_is_refused_at_the_cap(fake: Callable[[Behaviour], FakeServer]) -> None:
    huge = json.dumps({"ActionStatus": "FAIL", "ErrorCode": 10004, "ErrorInfo": "x" * (6 * MiB)}).encode()
    server = fake(lambda endpoint, body: http(huge))
    assert "larger than 4 MiB" in str(failure(server.url))


def test_an_honest_gzip_answer_is_read(fake: Callable[[Behaviour], FakeServer]) -> None:
    body = gzip.compress(json.dumps(ok(Robot_Account=["@RBT#a"])).encode())
    server = fake(lambda endpoint, body_: http(body, headers={"Content-Encoding": "gzip"}))
    with client_for(server.url) as client:
        assert client.call("get_all_robots", {}).answer["Robot_Account"] == ["@RBT#a"]


def test_an_unknown_content_encoding_is_one_clear_failure(fake: Callable[[Behaviour], FakeServer]) -> None:
    server = fake(lambda endpoint, body: http(b"x", headers={"Content-Encoding": "br\x1b[2J"}))
    text = str(failure(server.url))
    assert "Content-Encoding" in text and "\x1b" not in text


def test_a_corrupt_gzip_body_is_one_clear_failure(fake: Callable[[Behaviour], FakeServer]) -> None:
    corrupt = http(b"\x1f\x8b\x08\x00garbage", headers={"Content-Encoding": "gzip"})
    server = fake(lambda endpoint, body: corrupt)
    assert "corrupt" in str(failure(server.url))


def test_a_json_nested_too_deep_is_not_a_crash(fake: Callable[[Behaviour], FakeServer]) -> None:
    server = fake(lambda endpoint, body: http(b"[" * 200_000 + b"]" * 200_000))
    assert "not a Chat API answer" in str(failure(server.url))
