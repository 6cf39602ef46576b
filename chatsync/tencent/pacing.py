"""Pacing: each endpoint's calls stay within its rate limit (tencent-chat-api.md §7), using all of it.

The limit is a number of calls per second. A :class:`Pacer` keeps a log of the calls it let go
and lets call *k* start once the call ``allowance`` places before it is one window old
(a "sliding log"): a second's allowance may be spent at once, then each call waits for one to
leave the window. A server counting over a sliding one-second window (the emulator's) or over
fixed seconds never sees more than the allowance, since the client's window is the longer one:
``window = capacity / rate / HEADROOM``, a 5% margin (about 50 ms a second) for arrival jitter.

The allowance adapts. A refused call (60007: the API's quota is shared with another tool, or lower
than documented) cuts it by :data:`DECREASE` (once per window: the calls already in flight were
sent under the old allowance), and it recovers gradually: quickly back to just under the level
that was refused, then slowly past it, a step per window (additive increase, multiplicative
decrease, as TCP does with a congested link). Retries pass through the same pacer, because the
server counts them too.

Pacing has two steps, so that a caller queueing for a slow API holds nothing other APIs need:
:meth:`Pacer.wait` queues for a start time while holding no in-flight slot; then, holding one,
:meth:`Pacer.space` applies the same rule to the actual sends (a caller that woke late, or waited
for the in-flight slot, cannot go out in a burst beyond the allowance).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

from chatsync.tencent.endpoints import ENDPOINTS

#: Steady state at this fraction of the documented rate: the window is 1/0.95 s, and its extra
#: ~50 ms absorbs the jitter between a send and its arrival at the server.
HEADROOM = 0.95
DEFAULT_PARALLELISM = 16
"""Requests in flight at once: enough to reach 200 calls/s through ~60 ms of round trip (here, not
in client.py, so that the command line shows it without importing the HTTP client)."""
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

    def next_start(self, now: float, allowed: int, window: float) -> float:
        """Record and return the earliest start at or after ``now`` that keeps every window of
        ``window`` seconds at no more than ``allowed`` starts (start times never go backwards)."""
        times = self.times
        while times and times[0] <= now - window:
            times.popleft()
        start = now
        if times:
            start = max(start, times[-1])
            if len(times) >= allowed:
                start = max(start, times[-allowed] + window)
        times.append(start)
        return start


class Pacer:
    """The calls of one endpoint, shared by every thread: a sliding log with an adaptive allowance."""

    def __init__(
        self,
        rate_per_second: float,
        *,
        headroom: float = HEADROOM,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not rate_per_second > 0 or math.isnan(rate_per_second):
            raise ValueError("a rate must be positive")
        if not 0 < headroom <= 1:
            raise ValueError("headroom must be in (0, 1]")
        self.rate = rate_per_second
        #: Calls per window at the full (documented or configured) rate, at least 1.
        self.capacity = max(1, math.floor(rate_per_second)) if math.isfinite(rate_per_second) else 1 << 30
        #: Seconds over which ``capacity`` calls may go: a fractional rate keeps its average.
        self.window = self.capacity / rate_per_second / headroom if math.isfinite(rate_per_second) else 0.0
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._starts = _Log()  # start times handed out by wait()
        self._sends = _Log()  # sends let go by space()
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
            start = self._starts.next_start(now, self._allowed(now), self.window)
        return self._sleep_until(start, now)

    def space(self) -> float:
        """Block until a send now keeps the actual sends within the allowance; returns the seconds
        waited. Call it holding an in-flight slot, right before sending."""
        with self._lock:
            now = self._monotonic()
            start = self._sends.next_start(now, self._allowed(now), self.window)
        return self._sleep_until(start, now)

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
        headroom: float = HEADROOM,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        overrides = dict(rates or {})
        unknown = set(overrides) - set(ENDPOINTS)
        if unknown:
            raise ValueError(f"no such API: {', '.join(sorted(unknown))}")
        self.rates = {name: float(overrides.get(name, e.rate_per_second)) for name, e in ENDPOINTS.items()}
        self._pacers = {name: Pacer(rate, headroom=headroom, monotonic=monotonic, sleep=sleep)
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
