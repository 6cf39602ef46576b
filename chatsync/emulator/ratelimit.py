"""Per-API rate limits: a sliding window per endpoint; refused calls do not count (stance §8)."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable


class SlidingWindow:
    """Admit at most ``rate`` calls per second, measured over a sliding window.

    A fractional rate (after ``--rate-limit-scale``) keeps its average: ``capacity`` calls per
    ``capacity / rate`` seconds, with ``capacity`` at least 1. An infinite rate admits everything.
    """

    def __init__(self, rate: float, clock: Callable[[], float]) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.unlimited = math.isinf(rate)
        self.capacity = 0 if self.unlimited else max(1, math.floor(rate))
        self.window = 0.0 if self.unlimited else self.capacity / rate
        self._clock = clock
        self._admitted: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self) -> bool:
        """True if a call may go now (and count it), False if it must be refused with 60007."""
        if self.unlimited:
            return True
        with self._lock:
            now = self._clock()
            admitted = self._admitted
            while admitted and admitted[0] <= now - self.window:
                admitted.popleft()
            if len(admitted) >= self.capacity:
                return False
            admitted.append(now)
            return True
