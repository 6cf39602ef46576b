"""Stopping (Ctrl-C): no new request goes out; waiting calls end with Stopped."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from chatsync.errors import Stopped
from chatsync.tencent.api import ChatApi
from chatsync.tencent.client import Client
from chatsync.tencent.credentials import SigCache
from chatsync.tencent.retry import RetryPolicy
from tests.client.conftest import LOCAL, envelope, kept, mock
from tests.support import ADMIN, SDKAPPID, SECRET, make_emulator


def test_after_stop_a_call_raises_stopped_without_sending(make_client: Callable[..., Client]) -> None:
    emulator = make_emulator()
    client = make_client(emulator)
    client.call("get_all_robots")
    client.stop()
    assert client.stopping
    with pytest.raises(Stopped) as caught:
        client.call("get_all_robots")
    assert caught.value.exit_code == 130
    assert client.calls["get_all_robots"] == 1
    assert emulator.calls["get_all_robots"] == 1
    with pytest.raises(Stopped):
        ChatApi(client).account_check(["a", "b"])
    assert client.calls["account_check"] == 0 and emulator.calls["account_check"] == 0


def test_stop_ends_a_call_waiting_to_retry(make_client: Callable[..., Client]) -> None:
    seen: list[httpx.Request] = []
    client = make_client(transport=kept(seen, envelope(70500)),
                         retry=RetryPolicy(max_attempts=5, base_delay=3600, max_delay=3600,
                                           deadline=86400))
    client.retry.rng.seed(1)  # a first wait of minutes: only the stop can end the call sooner
    outcome = []

    def run() -> None:
        try:
            client.call("get_all_robots")
        except Stopped as stopped:
            outcome.append(stopped)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 60  # a guard against a hang only
    while not seen and time.monotonic() < deadline:
        time.sleep(0.005)
    assert seen
    client.stop()
    thread.join(60)  # a guard against a hang: the wait it was in is minutes long
    assert not thread.is_alive()
    assert len(outcome) == 1 and len(seen) == 1


def test_stop_ends_a_call_waiting_for_its_pacing_slot(make_client: Callable[..., Client]) -> None:
    client = make_client(transport=mock(lambda r: envelope()), rates={"portrait_set": 0.1})
    client.call("portrait_set", {})  # the next slot is ten seconds away
    done = []
    thread = threading.Thread(target=lambda: done.append(_catch(client.call, "portrait_set", {})))
    thread.start()
    time.sleep(0.05)
    client.stop()
    thread.join(5)
    assert done and isinstance(done[0], Stopped)
    assert client.calls["portrait_set"] == 1


def test_pause_sleeps_unless_stopped(make_client: Callable[..., Client]) -> None:
    client = make_client(transport=mock(lambda r: envelope()))
    client.pause(0.001)  # returns: nothing stopped it
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(_catch(client.pause, 3600)))
    thread.start()
    assert thread.is_alive()  # still pausing: an hour
    client.stop()
    thread.join(60)  # a guard against a hang: the pause is an hour long
    assert not thread.is_alive() and len(outcome) == 1 and isinstance(outcome[0], Stopped)
    with pytest.raises(Stopped):
        client.pause(10)


def test_parallelism_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Client(LOCAL, SigCache(SDKAPPID, ADMIN, SECRET), parallelism=0)


def _catch(function: Callable[..., object], *args: Any) -> object:
    try:
        return function(*args)
    except Exception as error:
        return error
