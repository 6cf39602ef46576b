"""When to try a call again, and how long to wait first (docs/contract.md §4).

Transient failures (a transient code, HTTP 5xx, a timeout, a dropped connection) are retried with
"full jitter" exponential backoff: attempt *n* waits a random time in ``[0, min(cap, base * 2**n)]``
(at least ``floor`` for codes that ask for a longer pause, like 70050's minute), bounded both in
attempts and in total time. A connection that cannot even be opened gets only a few quick tries:
a server that is down or a mistyped endpoint should fail fast, with a clear message.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

#: Codes whose documentation asks for a longer pause than backoff would give.
MINIMUM_WAIT: dict[int, float] = {70050: 60.0}


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds and timing of retries. The defaults suit a real app; tests pass faster ones."""

    max_attempts: int = 8
    base_delay: float = 0.25
    max_delay: float = 8.0
    deadline: float = 120.0  # seconds from the first attempt after which no retry starts
    connect_attempts: int = 3  # tries when the connection cannot be opened at all
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay(self, attempt: int, code: int | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        wait = self.rng.uniform(0.0, ceiling)
        return max(wait, MINIMUM_WAIT.get(code or 0, 0.0))

    def allows(self, attempt: int, elapsed: float, wait: float, *, connect_failure: bool = False) -> bool:
        """Whether attempt ``attempt + 1`` may start after waiting ``wait`` more seconds."""
        limit = self.connect_attempts if connect_failure else self.max_attempts
        return attempt < limit and elapsed + wait <= self.deadline

