"""Pacing: each endpoint's calls stay within its rate limit (docs/tencent-api.md §7), using all of it.

The limit is a number of calls per second. A server may count it over fixed seconds or over a
sliding second (the emulator does); either way no stretch of one second may see more than the
allowance. The client cannot see when the server counted a call, only that it was after the call
was sent and before its answer came. So a call **occupies** one unit of its API's allowance from
when it is sent until one window after its answer: however the network delays requests, no one
second at the server holds more than the allowance. A second's allowance may thus go at once; the
next calls go as the first ones' answers turn one second old (about one round trip later than a
perfect client, which is the whole margin).

Pacing has two steps, so that a caller queueing for a slow API holds nothing other APIs need:
:meth:`Pacer.wait` queues for a start time while holding no in-flight slot (a log of start times,
at most the allowance in any window); then, holding one, :meth:`Pacer.space` waits until the API
has a unit of allowance free, and :meth:`Pacer.done` frees it one window after the answer.

The allowance adapts. A refused call (60007: the API's quota is shared with another tool, or lower
than documented) cuts it by :data:`DECREASE` (once per cut: the calls already in flight were sent
under the old allowance), and it recovers gradually: quickly back to just under the level that was
refused, then slowly past it, a step per window (additive increase, multiplicative decrease, as
TCP does with a congested link). While the allowance is cut, calls go evenly spaced instead of a
window's worth at once, so that a refusal finds few calls in flight. Retries pass through the
same pacer, because the server counts them too.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

from chatsync.facts.endpoints import ENDPOINTS

#: The fraction of each documented rate that plan estimates count on (pacing reaches about
#: ``1 / (1 + round trip)`` of it: a window's allowance per second and one round trip).
HEADROOM = 0.95
DEFAULT_PARALLELISM = 24
"""Requests in flight at once: a second's allowance of 200 calls goes out in about 0.2 s through
20 ms of round trip, and 200 calls/s hold through ~120 ms. More shortens the bursts a little but
loses more calls when a shared quota refuses one (bench/commands.py). Defined here, not in
client.py, so that the command line shows it without importing the HTTP client."""
#: Added to each occupancy: clock granularity.
MARGIN = 0.001
#: While every unit is taken by a call in flight, a waiting sender looks again this often.
POLL = 0.002
#: A refused call multiplies the allowance by this.
DECREASE = 0.5
#: After a refusal the allowance grows back quickly to this fraction of the refused level ...
RECOVER_TO = 0.9
#: ... by this fraction of the full allowance per window, ...
FAST_STEP = 0.1
#: ... then past it by this fraction per window, until it reaches the full allowance again.
SLOW_STEP = 0.02


class _Log:
    """Start times in a sliding window: when may the next one go, given ``allowed`` per window."""

    def __init__(self) -> None:
        self.times: deque[float] = deque()

    def next_start(self, now: float, allowed: int, window: float, spacing: float = 0.0) -> float:
        """Record and return the earliest start at or after ``now`` that keeps every window of
        ``window`` seconds at no more than ``allowed`` starts, and starts at least ``spacing``
        apart (start times never go backwards)."""
        times = self.times
        while times and times[0] <= now - window:
            times.popleft()
        start = now
        if times:
            start = max(start, times[-1] + spacing)
            if len(times) >= allowed:
                start = max(start, times[-allowed] + window)
        times.append(start)
        return start


class Pacer:
    """The calls of one endpoint, shared by every thread: an adaptive allowance per window."""

    def __init__(
        self,
        rate_per_second: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not rate_per_second > 0 or math.isnan(rate_per_second):
            raise ValueError("a rate must be positive")
        self.rate = rate_per_second
        finite = math.isfinite(rate_per_second)
        #: Calls per window at the full (documented or configured) rate, at least 1.
        self.capacity = max(1, math.floor(rate_per_second)) if finite else 1 << 30
        #: Seconds over which ``capacity`` calls may go (1 s; longer for a rate under 1/s).
        self.window = self.capacity / rate_per_second if finite else 0.0
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._starts = _Log()  # start times handed out by wait()
        self._in_flight = 0  # calls let go by space() and not yet done()
        self._waiting = 0  # callers sleeping in space() for a unit to free
        self._held: deque[float] = deque()  # when each answered call frees its unit (ascending)
        self._allowance = float(self.capacity)  # calls per window now (adapts to refusals)
        self._ceiling = float(self.capacity)  # the allowance last refused (recovery slows near it)
        self._changed = -math.inf  # when the allowance last changed (a cut or a recovery step)
        self._cut_at = -math.inf  # when a refusal last cut it
        self.refusals = 0  # refusals reported (each one a 60007 answer)

    @property
    def allowance(self) -> int:
        """Calls per window allowed now (the full capacity unless refusals cut it)."""
        with self._lock:
            return self._allowed(self._monotonic())

    def wait(self) -> float:
        """Block until this caller's start time; returns the seconds waited."""
        with self._lock:
            now = self._monotonic()
            allowed = self._allowed(now)
            # Recovering from a refusal, the quota is shared: calls go evenly spaced, so that the
            # next refusal finds few calls in flight (a burst would lose all of them).
            spacing = self.window / allowed if allowed < self.capacity else 0.0
            start = self._starts.next_start(now, allowed, self.window, spacing)
        return self._sleep_until(start, now)

    def space(self) -> float:
        """Block until the API has a unit of allowance free, and take it; returns the seconds
        waited. Call it holding an in-flight slot, right before sending, and :meth:`done` after.

        Callers already waiting take the units freed first: each waiter sleeps until the unit that
        is its own (one wake-up per freed unit, not every waiter at every unit)."""
        waited = 0.0
        queued = False  # counted in self._waiting
        try:
            while True:
                with self._lock:
                    if queued:
                        self._waiting -= 1
                        queued = False
                    now = self._monotonic()
                    held = self._held
                    while held and held[0] <= now:
                        held.popleft()
                    over = self._in_flight + len(held) - self._allowed(now)
                    if over < 0:
                        self._in_flight += 1
                        return waited
                    # the (over+1)-th unit to be freed lets the first waiter go, the next one the
                    # next waiter, and so on; one in flight frees none yet
                    turn = over + self._waiting
                    self._waiting += 1
                    queued = True
                    delay = held[turn] - now if turn < len(held) else POLL
                self._sleep(delay)
                waited += delay
        finally:
            if queued:  # stopped while waiting
                with self._lock:
                    self._waiting -= 1

    def done(self, answered_at: float | None = None) -> None:
        """The call :meth:`space` let go has its answer (or failed) at ``answered_at`` (this pacer's
        clock; now if None): its unit is free one window later."""
        with self._lock:
            at = self._monotonic() if answered_at is None else answered_at
            self._in_flight = max(0, self._in_flight - 1)
            free_at = at + self.window + MARGIN
            held = self._held
            if held and free_at < held[-1]:  # answers reported out of order: keep it sorted
                index = len(held)
                while index and held[index - 1] > free_at:
                    index -= 1
                held.insert(index, free_at)
            else:
                held.append(free_at)

    def refused(self, sent_at: float | None = None) -> None:
        """A call sent at ``sent_at`` (this pacer's clock) was refused for its rate (60007): cut the
        allowance, unless it was already cut after that call went out (then it was sent under the
        old allowance, and the cut counted it)."""
        with self._lock:
            self.refusals += 1
            now = self._monotonic()
            allowed = self._allowed(now)
            if sent_at is not None and sent_at <= self._cut_at:
                return  # sent before the last cut, which already slowed the calls after it
            if sent_at is None and now - self._cut_at < self.window:
                return  # no send time: one cut per window
            self._ceiling = float(allowed)
            self._allowance = max(1.0, allowed * DECREASE)
            self._changed = self._cut_at = now

    def _allowed(self, now: float) -> int:
        """The allowance at ``now``, after the recovery steps of the windows since the last change."""
        if self._allowance < self.capacity:
            steps = int((now - self._changed) / self.window) if self.window > 0 else 1 << 30
            while steps > 0 and self._allowance < self.capacity:
                near = self._ceiling * RECOVER_TO
                step = self.capacity * (FAST_STEP if self._allowance < near else SLOW_STEP)
                grown = self._allowance + max(step, 1.0)
                if self._allowance < near < grown:
                    grown = near  # land on the refused level's margin, then probe past it slowly
                self._allowance = min(float(self.capacity), grown)
                if self._allowance >= self._ceiling:
                    self._ceiling = float(self.capacity)  # past the refused level: forget it
                self._changed += self.window
                steps -= 1
        return max(1, math.floor(self._allowance))

    def _sleep_until(self, moment: float, now: float) -> float:
        delay = moment - now
        if delay > 0:
            self._sleep(delay)
        return max(delay, 0.0)


class Pacers:
    """One :class:`Pacer` per endpoint, at the documented rates unless ``rates`` overrides some."""

    def __init__(
        self,
        rates: Mapping[str, float] | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        overrides = dict(rates or {})
        unknown = set(overrides) - set(ENDPOINTS)
        if unknown:
            raise ValueError(f"no such API: {', '.join(sorted(unknown))}")
        self.rates = {name: float(overrides.get(name, e.rate_per_second)) for name, e in ENDPOINTS.items()}
        self._pacers = {name: Pacer(rate, monotonic=monotonic, sleep=sleep)
                        for name, rate in self.rates.items()}

    def __getitem__(self, endpoint: str) -> Pacer:
        return self._pacers[endpoint]

    def wait(self, endpoint: str) -> float:
        """Block until the next call of ``endpoint`` may start."""
        return self._pacers[endpoint].wait()

    def refused(self, endpoint: str, sent_at: float | None = None) -> None:
        """A call of ``endpoint`` sent at ``sent_at`` was refused for its rate: slow that API down."""
        self._pacers[endpoint].refused(sent_at)

    def seconds_for(self, endpoint: str, calls: int) -> float:
        """How long ``calls`` calls of ``endpoint`` take at its rate (for plan estimates)."""
        return calls / self.rates[endpoint]
