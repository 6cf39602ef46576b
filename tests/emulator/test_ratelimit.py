"""Per-API rate limits: a sliding one-second window, 60007 for the excess, refusals not counted."""

from __future__ import annotations

import pytest

from chatsync.emulator.ratelimit import SlidingWindow
from tests.support import Api, api_for, make_emulator


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_window_admits_the_rate_then_refuses() -> None:
    clock = FakeClock()
    window = SlidingWindow(3, clock)
    assert [window.admit() for _ in range(5)] == [True, True, True, False, False]


def test_window_slides() -> None:
    clock = FakeClock()
    window = SlidingWindow(2, clock)
    assert window.admit()
    clock.now += 0.5
    assert window.admit()
    assert not window.admit()
    clock.now += 0.5  # the first call leaves the window
    assert window.admit()
    assert not window.admit()
    clock.now += 0.5
    assert window.admit()


def test_refused_calls_do_not_count() -> None:
    clock = FakeClock()
    window = SlidingWindow(1, clock)
    assert window.admit()
    for _ in range(100):
        clock.now += 0.009
        assert not window.admit()
    clock.now = 1001.0
    assert window.admit()


def test_fractional_rate_keeps_its_average() -> None:
    clock = FakeClock()
    window = SlidingWindow(0.5, clock)  # one call per two seconds
    assert window.admit()
    clock.now += 1.9
    assert not window.admit()
    clock.now += 0.1
    assert window.admit()


def test_infinite_rate_admits_everything() -> None:
    window = SlidingWindow(float("inf"), FakeClock())
    assert all(window.admit() for _ in range(10_000))


def test_zero_rate_is_refused() -> None:
    with pytest.raises(ValueError):
        SlidingWindow(0, FakeClock())


def limited_api(scale: float, clock: FakeClock) -> Api:
    emulator = make_emulator(rate_limit_scale=scale, monotonic=clock)
    return api_for(emulator)


def test_gateway_refuses_the_excess_per_api_and_admits_the_rest() -> None:
    clock = FakeClock()
    api = limited_api(1.0, clock)
    codes = [api("account_check", {"CheckItem": [{"UserID": "x"}]})["ErrorCode"] for _ in range(130)]
    assert codes.count(0) == 100  # account_check: 100/s
    assert codes[100:] == [60007] * 30
    # other APIs have windows of their own
    assert api("portrait_get", {"To_Account": ["administrator"], "TagList": ["Tag_Profile_IM_Nick"]})[
        "ErrorCode"] == 0
    clock.now += 1.0
    assert api("account_check", {"CheckItem": [{"UserID": "x"}]})["ErrorCode"] == 0


def test_scale_multiplies_the_documented_rate() -> None:
    clock = FakeClock()
    api = limited_api(0.1, clock)  # get_all_robots 200/s -> 20/s
    codes = [api("get_all_robots", {})["ErrorCode"] for _ in range(25)]
    assert codes.count(0) == 20
    assert set(codes[20:]) == {60007}
