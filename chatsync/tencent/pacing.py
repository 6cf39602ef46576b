"""Pacing: each endpoint's calls start no faster than its rate limit (docs/tencent-api.md §7).

A :class:`Pacer` hands out evenly spaced start times (a leaky bucket with no burst): call *n*
starts no earlier than ``first + n / (rate * headroom)``. Even spacing, rather than bursts of
``rate`` calls, keeps any one-second window the server looks at (the emulator's is sliding) under
the limit even when network jitter bunches arrivals a little. Retries pass through the same pacer,
because the server counts them too.

Pacing has two steps, so that a caller queueing for a slow API holds nothing other APIs need:
:meth:`Pacer.wait` queues for a start time while holding no in-flight slot; then, holding one,
:meth:`Pacer.space` makes sure sends really are an interval apart (a caller that woke late, or
waited for the in-flight slot, cannot go out in a burst with the next one).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from chatsync.tencent.endpoints import ENDPOINTS

#: Aim at this fraction of the documented rate: 5% absorbs arrival jitter of up to 50 ms.
HEADROOM = 0.95


class Pacer:
    """Evenly spaced start times for one endpoint, shared by every thread."""

    def __init__(
        self,
        rate_per_second: float,
        *,
        headroom: float = HEADROOM,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError("a rate must be positive")
        self.rate = rate_per_second
        self.interval = 1.0 / (rate_per_second * headroom)
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = 0.0  # the next start time handed out by wait()
        self._last_send = float("-inf")  # when space() last let a call go

    def wait(self) -> float:
        """Block until this caller's start time; returns the seconds waited."""
        with self._lock:
            now = self._monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        return self._sleep_until(slot, now)

    def space(self) -> float:
        """Block until at least one interval after the previous send; returns the seconds waited."""
        with self._lock:
            now = self._monotonic()
            start = max(now, self._last_send + self.interval)
            self._last_send = start
        return self._sleep_until(start, now)

    def _sleep_until(self, moment: float, now: float) -> float:
        delay = moment - now
        if delay > 0:
            self._sleep(delay)
        return max(delay, 0.0)


class Pacers:
    """One :class:`Pacer` per endpoint, at the documented rates unless ``rates`` overrides some."""

    def __init__(self, rates: Mapping[str, float] | None = None, **pacer_options: object) -> None:
        overrides = dict(rates or {})
        unknown = set(overrides) - set(ENDPOINTS)
        if unknown:
            raise ValueError(f"no such API: {', '.join(sorted(unknown))}")
        self.rates = {name: float(overrides.get(name, e.rate_per_second)) for name, e in ENDPOINTS.items()}
        self._pacers = {name: Pacer(rate, **pacer_options) for name, rate in self.rates.items()}  # type: ignore[arg-type]

    def __getitem__(self, endpoint: str) -> Pacer:
        return self._pacers[endpoint]

    def wait(self, endpoint: str) -> float:
        """Block until the next call of ``endpoint`` may start."""
        return self._pacers[endpoint].wait()

    def seconds_for(self, endpoint: str, calls: int) -> float:
        """How long ``calls`` calls of ``endpoint`` take at its rate (for plan estimates)."""
        return calls / self.rates[endpoint]
