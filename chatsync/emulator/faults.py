"""Injected failures, as the real service fails: reproducible from a seed, even under concurrency.

Whether a call fails, and how, is drawn from a hash of (seed, path, body, how many times that same
request was seen before). So the same sequence of requests meets the same faults whatever the
interleaving of threads, and a retry of a request draws anew.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from enum import Enum

from chatsync.facts.endpoints import ENDPOINTS


class FaultKind(str, Enum):
    """What goes wrong."""

    CODE = "code"  # HTTP 200 with a transient ErrorCode in the body
    HTTP_502 = "http-502"  # a bad gateway page
    DROP = "drop"  # the connection closes with no answer


# Transient codes each API family really uses (docs/tencent-api.md §2, §4-§6, §10.5).
TRANSIENT_CODES: dict[str, tuple[int, ...]] = {
    "robot": (10002, 60008),
    "account": (70169, 70500, 60008),
    "profile": (40006, 60008),
    "group": (10002, 10006, 60008),
}
#: Endpoints (by path) whose own error table adds transient codes to their family's: the pages
#: of create_robot and account_import list 40006 (an internal error while setting the profile).
TRANSIENT_CODES_BY_PATH: dict[str, tuple[int, ...]] = {
    ENDPOINTS["create_robot"].path: (10002, 40006, 60008),
    ENDPOINTS["account_import"].path: (70169, 70500, 60008, 40006),
}


MAX_TRACKED_REQUESTS = 1_000_000


@dataclass(frozen=True)
class Fault:
    """One injected failure. ``after_commit`` means the change was applied before it failed."""

    kind: FaultKind
    after_commit: bool
    code: int = 0


class FaultInjector:
    """Decides, per request, whether and how it fails, at the rate ``--fault-rate``."""

    def __init__(self, rate: float, seed: int | None) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fault rate must be between 0 and 1")
        self.rate = rate
        self.seed = seed if seed is not None else int.from_bytes(os.urandom(8), "big")
        self._key = hashlib.blake2b(str(self.seed).encode(), digest_size=16).digest()
        self._seen: dict[bytes, int] = {}
        self._lock = threading.Lock()

    def draw(self, path: str, body: bytes, family: str) -> Fault | None:
        """The fault for this request, or None (its code from the endpoint's or family's table)."""
        if self.rate <= 0.0:
            return None
        request_digest = hashlib.blake2b(path.encode() + b"\0" + body, digest_size=16).digest()
        with self._lock:
            if len(self._seen) >= MAX_TRACKED_REQUESTS:
                self._seen.clear()  # bounded memory; replays stay exact up to this many requests
            occurrence = self._seen.get(request_digest, 0)
            self._seen[request_digest] = occurrence + 1
        draw = hashlib.blake2b(
            request_digest + occurrence.to_bytes(8, "big"),
            key=self._key,
            digest_size=16,
        ).digest()
        if int.from_bytes(draw[:8], "big") / 2**64 >= self.rate:
            return None
        kinds = list(FaultKind)
        kind = kinds[draw[8] % len(kinds)]
        codes = TRANSIENT_CODES_BY_PATH.get(path) or TRANSIENT_CODES[family]
        return Fault(kind, after_commit=bool(draw[9] & 1), code=codes[draw[10] % len(codes)])
