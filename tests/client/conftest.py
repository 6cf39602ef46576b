"""Shared pieces for the REST client tests: fast retries, client factories, recording transports."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from chatsync.emulator import Emulator
from chatsync.emulator.transport import EmulatorTransport
from chatsync.facts.endpoints import ENDPOINTS
from chatsync.tencent.client import Client
from chatsync.tencent.credentials import SigCache
from chatsync.tencent.retry import RetryPolicy
from chatsync.tencent.target import Target
from tests.support import ADMIN, SDKAPPID, SECRET

#: Retries that take milliseconds, for tests that inject faults.
FAST = RetryPolicy(max_attempts=12, base_delay=0.001, max_delay=0.01)
#: Rates so high that pacing never slows a test down (pacing has tests of its own).
UNPACED = {name: 1_000_000.0 for name in ENDPOINTS}
#: A loopback base URL; in-process transports ignore the host.
LOCAL = Target(("http://127.0.0.1:9",), "CHATSYNC_ENDPOINT")


def envelope(code: int = 0, **fields: Any) -> dict[str, Any]:
    """A Chat API answer."""
    return {"ActionStatus": "OK" if code == 0 else "FAIL", "ErrorCode": code,
            "ErrorInfo": "" if code == 0 else f"error {code}", **fields}


def query_of(request: httpx.Request) -> dict[str, str]:
    """The request's query parameters (one value each, asserting there is only one)."""
    parsed = parse_qs(request.url.query.decode("ascii"), keep_blank_values=True)
    assert all(len(values) == 1 for values in parsed.values()), parsed
    return {key: values[0] for key, values in parsed.items()}


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.read())


class Recorder(httpx.BaseTransport):
    """Wraps a transport: keeps every request, and the ErrorCode (or HTTP status, or "drop") of
    every answer, so a test can see what the wire carried, retries included."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []
        self.outcomes: list[tuple[str, Any]] = []  # (endpoint, ErrorCode | "HTTP 502" | "drop")
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        name = request.url.path.rsplit("/", 1)[-1]
        with self._lock:
            self.requests.append(request)
        try:
            response = self.inner.handle_request(request)
        except httpx.TransportError:
            with self._lock:
                self.outcomes.append((name, "drop"))
            raise
        response.read()
        outcome: Any = f"HTTP {response.status_code}"
        if response.status_code == 200:
            outcome = response.json().get("ErrorCode")
        with self._lock:
            self.outcomes.append((name, outcome))
        return response

    def close(self) -> None:
        self.inner.close()

    def codes(self, endpoint: str | None = None) -> list[Any]:
        return [code for name, code in self.outcomes if endpoint in (None, name)]


def kept(seen: list[httpx.Request], answer: httpx.Response | dict[str, Any]) -> httpx.MockTransport:
    """A MockTransport answering every request with ``answer``, each request appended to ``seen``."""

    def respond(request: httpx.Request) -> httpx.Response | dict[str, Any]:
        seen.append(request)
        return answer

    return mock(respond)


def mock(handler: Callable[[httpx.Request], httpx.Response | dict[str, Any]]) -> httpx.MockTransport:
    """A MockTransport whose handler may return a JSON dict (sent as HTTP 200) or a Response."""

    def respond(request: httpx.Request) -> httpx.Response:
        result = handler(request)
        return result if isinstance(result, httpx.Response) else httpx.Response(200, json=result)

    return httpx.MockTransport(respond)


@pytest.fixture
def make_client() -> Iterator[Callable[..., Client]]:
    """Factory: a Client for an emulator (in process) or any transport, closed after the test.

    ``make_client(emulator)`` or ``make_client(transport=...)``; ``key`` signs with another secret
    key; ``sigs`` passes a SigCache; other keyword arguments go to :class:`Client`.
    """
    clients: list[Client] = []

    def make(
        emulator: Emulator | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        key: str = SECRET,
        sigs: SigCache | None = None,
        target: Target = LOCAL,
        retry: RetryPolicy = FAST,
        rates: dict[str, float] | None = None,
        **options: Any,
    ) -> Client:
        if transport is None:
            assert emulator is not None, "give an emulator or a transport"
            transport = EmulatorTransport(emulator)
        client = Client(
            target,
            sigs or SigCache(SDKAPPID, ADMIN, key),
            retry=retry,
            rates=UNPACED if rates is None else rates,
            transport=transport,
            **options,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


class FakeTime:
    """One settable clock for the emulator, the SigCache and Tencent's signer."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def time(self) -> float:  # stands in for the ``time`` module inside TLSSigAPIv2
        return self.now


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """A fake clock that Tencent's signer (``TLSSigAPIv2.time``) reads too."""
    import TLSSigAPIv2

    clock = FakeTime()
    monkeypatch.setattr(TLSSigAPIv2, "time", clock)
    return clock
