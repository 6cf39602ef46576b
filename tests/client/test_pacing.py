"""Pacing: each endpoint's calls stay within its documented rate (§7), a window's allowance at once."""

from __future__ import annotations

import contextlib
import itertools
import random
import threading
import time
from collections.abc import Callable

import pytest

from chatsync.emulator.transport import EmulatorTransport
from chatsync.errors import CallFailed
from chatsync.facts.endpoints import ENDPOINTS
from chatsync.tencent.api import ChatApi
from chatsync.tencent.client import Client
from chatsync.tencent.credentials import SigCache
from chatsync.tencent.pacing import DECREASE, MARGIN, POLL, Pacer, Pacers
from chatsync.tencent.retry import RetryPolicy
from tests.client.conftest import FAST, LOCAL, Recorder, envelope, mock
from tests.support import ADMIN, SDKAPPID, SECRET, make_emulator

MakeClient = Callable[..., Client]


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def window_of(rate: float) -> float:
    return max(1, int(rate)) / rate


@pytest.mark.parametrize(("rate", "calls"), [(10, 25), (100, 7), (200, 1), (100, 100), (100, 101)])
def test_a_windows_allowance_goes_at_once_then_one_per_call_leaving_the_window(rate: int, calls: int) -> None:
    clock = FakeMonotonic()
    pacer = Pacer(rate, monotonic=clock, sleep=clock.sleep)
    for _ in range(calls):
        pacer.wait()
    # calls 0..rate-1 at once, the next `rate` one window later, and so on
    assert clock.now - 100.0 == pytest.approx(((calls - 1) // rate) * window_of(rate))


def test_no_window_of_the_pacer_ever_holds_more_than_the_allowance() -> None:
    # callers arrive at random moments; every window (one second) holds at most `capacity`
    # starts, and the long-run rate is the rate
    clock = FakeMonotonic()
    pacer = Pacer(20, monotonic=clock, sleep=clock.sleep)
    rng = random.Random(7)
    starts = []
    for _ in range(600):
        clock.now += rng.expovariate(40.0)  # demand at twice the rate
        pacer.wait()
        starts.append(clock.now)
    for i, start in enumerate(starts):
        within = sum(1 for other in starts[i:i + 40] if other < start + window_of(20) - 1e-9)
        assert within <= 20
    assert 599 / (starts[-1] - starts[0]) == pytest.approx(20, rel=0.05)


def test_idle_time_earns_no_more_than_one_windows_allowance() -> None:
    clock = FakeMonotonic()
    pacer = Pacer(10, monotonic=clock, sleep=clock.sleep)
    pacer.wait()
    clock.now += 60  # a minute without calls: one window's allowance, not 600 calls
    assert [pacer.wait() for _ in range(10)] == [0.0] * 10
    assert pacer.wait() == pytest.approx(window_of(10))


def test_a_fractional_rate_keeps_its_average() -> None:
    clock = FakeMonotonic()
    pacer = Pacer(0.5, monotonic=clock, sleep=clock.sleep)  # 1 call per 2 s
    assert pacer.capacity == 1
    pacer.wait()
    assert pacer.wait() == pytest.approx(2)


def test_a_refusal_halves_the_allowance_once_per_cut() -> None:
    clock = FakeMonotonic()
    pacer = Pacer(100, monotonic=clock, sleep=clock.sleep)
    assert pacer.allowance == 100
    sent = clock.now
    clock.now += 0.02
    pacer.refused(sent)
    assert pacer.allowance == 100 * DECREASE
    pacer.refused(sent)  # another call in flight with it, sent before the cut: no second cut
    pacer.refused(sent + 0.01)
    assert pacer.allowance == 50 and pacer.refusals == 3
    clock.now += 0.01
    pacer.refused(clock.now - 0.001)  # sent after the cut, under the new allowance: cut again
    assert pacer.allowance == 25


def test_a_cut_allowance_is_what_the_next_window_gets_evenly_spaced() -> None:
    clock = FakeMonotonic()
    pacer = Pacer(100, monotonic=clock, sleep=clock.sleep)
    for _ in range(100):
        pacer.wait()
    pacer.refused(clock.now)
    clock.now += window_of(100) + 0.001  # the burst left the window: 50, and one recovery step
    assert pacer.allowance == 60
    began = clock.now
    waits = [pacer.wait() for _ in range(60)]
    # no burst while the quota is shared: a refusal then finds few calls in flight
    assert waits[0] == 0.0 and all(w == pytest.approx(1 / 60) for w in waits[1:])
    assert clock.now - began == pytest.approx(59 / 60)


def test_the_full_allowance_again_goes_at_once() -> None:
    clock = FakeMonotonic()
    pacer = Pacer(10, monotonic=clock, sleep=clock.sleep)
    pacer.refused(clock.now)
    clock.now += 60  # long enough to recover fully
    assert pacer.allowance == 10
    assert [pacer.wait() for _ in range(10)] == [0.0] * 10


def test_after_a_refusal_the_allowance_recovers_quickly_then_slowly_then_fully() -> None:
    clock = FakeMonotonic()
    pacer = Pacer(200, monotonic=clock, sleep=clock.sleep)
    pacer.refused(clock.now)  # refused at 200: cut to 100, fast back to 180, slowly past it
    allowances = []
    for _ in range(12):
        clock.now += window_of(200)
        allowances.append(pacer.allowance)
    assert allowances[:4] == [120, 140, 160, 180]  # +10% of 200 a window, up to 90% of 200
    assert allowances[4:8] == [184, 188, 192, 196]  # then +2% a window
    assert allowances[8:] == [200] * 4
    assert all(a <= b for a, b in itertools.pairwise(allowances))


def test_recovery_lands_just_under_the_level_that_was_refused() -> None:
    clock = FakeMonotonic()
    pacer = Pacer(200, monotonic=clock, sleep=clock.sleep)
    pacer.refused(clock.now)  # 200 -> 100
    clock.now += 0.5 * window_of(200)
    pacer.refused(clock.now)  # refused again at 100: the other tool takes about half -> 50
    assert pacer.allowance == 50
    seen = []
    for _ in range(5):
        clock.now += window_of(200)
        seen.append(pacer.allowance)
    assert seen == [70, 90, 94, 98, 102]  # fast to 90% of 100, then probing 4 a window


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Pacer(0)
    with pytest.raises(ValueError):
        Pacers({"portrait_set": -1})


def test_pacers_use_documented_rates_unless_overridden() -> None:
    pacers = Pacers({"portrait_set": 5})
    assert pacers.rates["portrait_set"] == 5
    assert pacers.rates["multiaccount_import"] == 100 == ENDPOINTS["multiaccount_import"].rate_per_second
    assert pacers.rates["account_check"] == 100 and pacers.rates["create_robot"] == 200
    assert pacers.seconds_for("account_delete", 50) == pytest.approx(0.5)


def test_an_unknown_endpoint_in_the_rates_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="portrait_sett"):
        Pacers({"portrait_sett": 5})


def test_endpoints_are_paced_independently() -> None:
    clock = FakeMonotonic()
    pacers = Pacers({"portrait_set": 10, "account_check": 10}, monotonic=clock, sleep=clock.sleep)
    for _ in range(10):
        pacers.wait("portrait_set")
    assert pacers.wait("account_check") == 0  # another endpoint's allowance is whole
    assert pacers.wait("portrait_set") == pytest.approx(window_of(10))
    pacers.refused("portrait_set", clock.now)
    assert pacers["portrait_set"].allowance == 5 and pacers["account_check"].allowance == 10


def scaled(scale: float) -> dict[str, float]:
    return {name: e.rate_per_second * scale for name, e in ENDPOINTS.items()}


def test_a_paced_burst_meets_no_rate_limit(make_client: MakeClient) -> None:
    emulator = make_emulator(rate_limit_scale=0.05)  # 10/s for portrait_set, 5/s for account_check
    recorder = Recorder(EmulatorTransport(emulator))
    client = make_client(transport=recorder, rates=scaled(0.05), parallelism=8)
    api = ChatApi(client)
    api.multiaccount_import({"alice": {}})
    jobs = [lambda: api.portrait_set("alice", {"nick": "x"})] * 15 + [
        lambda: api.account_check(["alice"])] * 8
    client.map(lambda job: job(), jobs)
    # a like burst, unpaced, is refused (the next test): none refused here is the pacing's doing
    assert 60007 not in recorder.codes()
    assert set(recorder.codes()) == {0}
    assert client.calls["portrait_set"] == 15 and client.calls["account_check"] == 8


def test_an_unpaced_burst_does_meet_the_rate_limit(make_client: MakeClient) -> None:
    # the control for the test above: without pacing the same emulator answers 60007
    emulator = make_emulator(rate_limit_scale=0.1)
    recorder = Recorder(EmulatorTransport(emulator))
    client = make_client(transport=recorder, parallelism=8, retry=RetryPolicy(max_attempts=1))
    api = ChatApi(client)
    api.multiaccount_import({"alice": {}})

    def attempt(_: int) -> int | None:
        try:
            api.portrait_set("alice", {"nick": "x"})
        except CallFailed as failure:
            return failure.code
        return 0

    codes = client.map(attempt, range(30))
    assert codes.count(60007) >= 10
    assert 60007 in recorder.codes()


def test_a_call_holds_its_unit_of_allowance_until_a_window_after_its_answer() -> None:
    # the server counted each call at some moment between its send and its answer: only a window
    # after the answer is the unit surely free, however the network delayed the request
    clock = FakeMonotonic()
    pacer = Pacer(2, monotonic=clock, sleep=clock.sleep)
    assert [pacer.space(), pacer.space()] == [0.0, 0.0]  # a window's allowance at once
    clock.now += 0.3
    pacer.done()  # the first answer came 0.3 s after its send ...
    clock.now += 0.2
    pacer.done()  # ... the second 0.5 s after
    assert pacer.space() == pytest.approx(0.8 + MARGIN)  # free 1 s after the first answer
    assert clock.now == pytest.approx(101.3 + MARGIN)
    assert pacer.space() == pytest.approx(0.2)  # and the next 1 s after the second
    assert clock.now == pytest.approx(101.5 + MARGIN)


def test_a_unit_held_by_a_call_in_flight_frees_only_with_its_answer() -> None:
    clock = FakeMonotonic()
    answered: list[float] = []

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now >= 100.5 and not answered:  # another thread's call answers meanwhile
            answered.append(clock.now)
            pacer.done()

    pacer = Pacer(1, monotonic=clock, sleep=sleep)
    pacer.space()
    waited = pacer.space()  # the first call is in flight: nothing frees its unit but its answer
    assert answered and waited == pytest.approx(answered[0] - 100.0 + 1.0 + MARGIN, abs=POLL)


def test_answers_reported_out_of_order_free_their_units_in_time_order() -> None:
    clock = FakeMonotonic()
    pacer = Pacer(3, monotonic=clock, sleep=clock.sleep)
    for _ in range(3):
        pacer.space()
    pacer.done(100.4)
    pacer.done(100.1)
    pacer.done(100.2)
    assert pacer.space() == pytest.approx(1.1 + MARGIN)
    assert pacer.space() == pytest.approx(0.1)
    assert pacer.space() == pytest.approx(0.2)


class _Left(Exception):
    """Ends a waiter's sleep in the test below (as a stop would)."""


def test_callers_waiting_for_units_each_sleep_until_their_own() -> None:
    # two callers find every unit held: the first sleeps until the first unit frees, the second
    # until the second (not both until the first, to wake and find it taken)
    clock = FakeMonotonic()
    slept: dict[str, float] = {}
    first_asleep, second_asleep = threading.Event(), threading.Event()

    def sleep(seconds: float) -> None:
        name = threading.current_thread().name
        if name not in ("first", "second"):
            clock.sleep(seconds)
            return
        slept[name] = seconds
        if name == "first":
            first_asleep.set()
            assert second_asleep.wait(10)
        else:
            second_asleep.set()
        raise _Left

    pacer = Pacer(2, monotonic=clock, sleep=sleep)
    pacer.space()
    pacer.space()
    pacer.done(100.0)
    pacer.done(100.5)

    def waiter() -> None:
        with contextlib.suppress(_Left):
            pacer.space()

    first = threading.Thread(target=waiter, name="first")
    first.start()
    assert first_asleep.wait(10)
    second = threading.Thread(target=waiter, name="second")
    second.start()
    second.join(10)
    first.join(10)
    assert slept == {"first": pytest.approx(1.0 + MARGIN), "second": pytest.approx(1.5 + MARGIN)}
    # callers that left while waiting are no longer counted: the next one waits for the first unit
    assert pacer.space() == pytest.approx(1.0 + MARGIN)


def test_a_slowly_paced_api_does_not_hold_up_another() -> None:
    # account_check at 1 call/s with 12 calls queued; a portrait_get sent meanwhile must not wait
    # behind them (it once did: queued calls slept in their pacer holding every in-flight slot).
    from chatsync.errors import Stopped
    from chatsync.tencent.client import Client

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


def test_a_60007_answer_slows_that_api_down_and_the_call_is_retried(make_client: MakeClient) -> None:
    answers = iter([envelope(60007), envelope(60007), envelope(0)])
    client = make_client(transport=mock(lambda request: next(answers)), retry=FAST,
                         rates={"portrait_set": 100.0})
    assert client.call("portrait_set", {"From_Account": "alice"}).attempts == 3
    pacer = client.pacers["portrait_set"]
    assert pacer.refusals == 2
    assert pacer.allowance == 25  # the second call was sent after the first cut: cut again
    assert client.pacers["account_check"].allowance == 100  # other APIs keep their allowance


def test_other_refusals_do_not_slow_the_api_down(make_client: MakeClient) -> None:
    answers = iter([envelope(70500), envelope(0)])
    client = make_client(transport=mock(lambda request: next(answers)), retry=FAST,
                         rates={"portrait_set": 100.0})
    client.call("portrait_set", {"From_Account": "alice"})
    assert client.pacers["portrait_set"].refusals == 0 and client.pacers["portrait_set"].allowance == 100
