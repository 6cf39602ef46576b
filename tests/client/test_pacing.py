"""Pacing: each endpoint's calls start no faster than its documented rate (§7)."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest

from chatsync.emulator.transport import EmulatorTransport
from chatsync.tencent.api import ChatApi
from chatsync.tencent.client import CallFailed
from chatsync.tencent.credentials import SigCache
from chatsync.tencent.endpoints import ENDPOINTS
from chatsync.tencent.pacing import HEADROOM, Pacer, Pacers
from chatsync.tencent.retry import RetryPolicy
from tests.client.conftest import LOCAL, Recorder
from tests.support import ADMIN, SDKAPPID, SECRET, make_emulator


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(("rate", "calls"), [(10, 20), (100, 7), (200, 1)])
def test_n_calls_take_n_minus_one_intervals(rate, calls):
    clock = FakeMonotonic()
    pacer = Pacer(rate, monotonic=clock, sleep=clock.sleep)
    for _ in range(calls):
        pacer.wait()
    assert clock.now - 100.0 == pytest.approx((calls - 1) / (rate * HEADROOM))
    assert all(s == pytest.approx(1 / (rate * 0.95)) for s in clock.sleeps)


def test_a_pacer_does_not_make_up_for_idle_time():
    clock = FakeMonotonic()
    pacer = Pacer(10, monotonic=clock, sleep=clock.sleep)
    pacer.wait()
    clock.now += 60  # a minute without calls earns no burst
    pacer.wait()
    assert pacer.wait() == pytest.approx(1 / 9.5)


def test_a_rate_must_be_positive():
    with pytest.raises(ValueError):
        Pacer(0)
    with pytest.raises(ValueError):
        Pacers({"portrait_set": -1})


def test_pacers_use_documented_rates_unless_overridden():
    pacers = Pacers({"portrait_set": 5})
    assert pacers.rates["portrait_set"] == 5
    assert pacers.rates["multiaccount_import"] == 100 == ENDPOINTS["multiaccount_import"].rate_per_second
    assert pacers.rates["account_check"] == 100 and pacers.rates["create_robot"] == 200
    assert pacers.seconds_for("account_delete", 50) == pytest.approx(0.5)


def test_an_unknown_endpoint_in_the_rates_is_refused_by_name():
    with pytest.raises(ValueError, match="portrait_sett"):
        Pacers({"portrait_sett": 5})


def test_endpoints_are_paced_independently():
    clock = FakeMonotonic()
    pacers = Pacers({"portrait_set": 10, "account_check": 10}, monotonic=clock, sleep=clock.sleep)
    pacers.wait("portrait_set")
    assert pacers.wait("account_check") == 0  # another endpoint's slot is free at once
    assert pacers.wait("portrait_set") == pytest.approx(1 / 9.5)


def scaled(scale: float) -> dict[str, float]:
    return {name: e.rate_per_second * scale for name, e in ENDPOINTS.items()}


def test_a_paced_burst_meets_no_rate_limit(make_client):
    emulator = make_emulator(rate_limit_scale=0.1)  # 20/s for portrait_set, 10/s for account_check
    recorder = Recorder(EmulatorTransport(emulator))
    client = make_client(transport=recorder, rates=scaled(0.1), parallelism=8)
    api = ChatApi(client)
    started = time.monotonic()
    api.multiaccount_import({"alice": {}})
    jobs = [lambda: api.portrait_set("alice", {"nick": "x"})] * 16 + [
        lambda: api.account_check(["alice"])] * 8
    client.map(lambda job: job(), jobs)
    elapsed = time.monotonic() - started
    assert 60007 not in recorder.codes()
    assert set(recorder.codes()) == {0}
    assert client.calls["portrait_set"] == 16 and client.calls["account_check"] == 8
    assert elapsed >= 15 / (20 * HEADROOM) - 0.05  # the pacing did hold the calls back


def test_an_unpaced_burst_does_meet_the_rate_limit(make_client):
    # the control for the test above: without pacing the same emulator answers 60007
    emulator = make_emulator(rate_limit_scale=0.1)
    recorder = Recorder(EmulatorTransport(emulator))
    client = make_client(transport=recorder, parallelism=8, retry=RetryPolicy(max_attempts=1))
    api = ChatApi(client)
    api.multiaccount_import({"alice": {}})

    def attempt(_):
        try:
            api.portrait_set("alice", {"nick": "x"})
        except CallFailed as failure:
            return failure.code
        return 0

    codes = client.map(attempt, range(30))
    assert codes.count(60007) >= 10
    assert 60007 in recorder.codes()


def test_space_keeps_sends_an_interval_apart_after_late_wakeups():
    clock = FakeMonotonic()
    pacer = Pacer(10, monotonic=clock, sleep=clock.sleep)
    pacer.wait()
    pacer.wait()  # both callers got their start times ...
    assert pacer.space() == 0.0  # ... the first goes at once
    assert pacer.space() == pytest.approx(1 / 9.5)  # the second, woken with it, is spaced out


def test_a_slowly_paced_api_does_not_hold_up_another():
    # account_check at 1 call/s with 12 calls queued; a portrait_get sent meanwhile must not wait
    # behind them (it once did: queued calls slept in their pacer holding every in-flight slot).
    from chatsync.tencent.client import Client, Stopped

    emulator = make_emulator()
    rates = {name: 1_000_000.0 for name in ENDPOINTS}
    rates["account_check"] = 1.0
    client = Client(LOCAL, SigCache(SDKAPPID, ADMIN, SECRET), parallelism=4, rates=rates,
                    transport=EmulatorTransport(emulator))
    api = ChatApi(client)
    finished: list[str] = []
    lock = threading.Lock()

    def check(i: int) -> None:
        api.account_check([f"u{i}"])
        with lock:
            finished.append("check")

    def checks() -> None:
        with contextlib.suppress(Stopped):  # the test stops the client once the get is done
            client.map(check, range(12))

    background = threading.Thread(target=checks)
    background.start()
    try:
        time.sleep(0.2)  # let the checks queue up in their pacer
        api.portrait_get(["administrator"])
        with lock:
            finished.append("get")
    finally:
        client.stop()
        background.join()
        client.close()
    assert finished.index("get") <= 2, finished  # the 3rd check is due at 2 s; the get came in ~0.2 s
