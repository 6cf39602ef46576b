"""Test helpers: the test key, UserSigs, raw signed calls and emulator factories."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from chatsync.emulator import Emulator, EmulatorConfig
from chatsync.emulator.transport import EmulatorTransport
from chatsync.facts.endpoints import BY_PATH, ENDPOINTS
from chatsync.tencent import usersig

SECRET = "test-only-secret-0f4c2a9d8e7b6a5c4d3e2f1a0b9c8d7e"  # made up; never a real key
SDKAPPID = 1400000000
ADMIN = "administrator"


def sign(identifier: str = ADMIN, *, key: str = SECRET, sdkappid: int = SDKAPPID,
         expire: int = 86400) -> str:
    """A UserSig from Tencent's own signer."""
    return usersig.make(sdkappid, key, identifier, expire)


class Api:
    """Raw signed calls to an emulator through an httpx client (any transport)."""

    def __init__(self, client: httpx.Client, identifier: str = ADMIN, key: str = SECRET) -> None:
        self.client = client
        self.identifier = identifier
        self.sig = sign(identifier, key=key)

    def query(self, **override: Any) -> str:
        params: dict[str, Any] = {
            "sdkappid": SDKAPPID, "identifier": self.identifier, "usersig": self.sig,
            "random": 99999999, "contenttype": "json",
        }
        params.update(override)
        return "&".join(f"{k}={quote(str(v), safe='*-_')}" for k, v in params.items() if v is not None)

    def request(self, name: str, body: Any = None, *, raw: bytes | None = None, method: str = "POST",
                path: str | None = None, headers: dict[str, str] | None = None,
                **query: Any) -> httpx.Response:
        """Send one request; ``raw`` bytes go as the body verbatim, else ``body`` as JSON."""
        url = f"{path or ENDPOINTS[name].path}?{self.query(**query)}"
        content = raw if raw is not None else httpx.Request("POST", "/", json=body if body is not None
                                                            else {}).read()
        return self.client.request(method, url, content=content, headers=headers or {})

    def __call__(self, name: str, body: Any = None, **query: Any) -> dict[str, Any]:
        """Send and return the JSON answer (asserting HTTP 200: business errors are in the body)."""
        response = self.request(name, body, **query)
        assert response.status_code == 200, response.text
        return response.json()


def make_emulator(**config: Any) -> Emulator:
    """An emulator with the test key; rate limits off unless a test sets them."""
    config.setdefault("rate_limit_scale", float("inf"))
    clock = config.pop("clock", None)
    monotonic = config.pop("monotonic", None)
    kwargs: dict[str, Any] = {}
    if clock is not None:
        kwargs["clock"] = clock
    if monotonic is not None:
        kwargs["monotonic"] = monotonic
    return Emulator(EmulatorConfig(secret_key=SECRET, **config), **kwargs)


def api_for(emulator: Emulator, identifier: str = ADMIN) -> Api:
    """Signed calls to ``emulator`` in process (httpx transport, no socket)."""
    client = httpx.Client(transport=EmulatorTransport(emulator), base_url="http://emulator")
    return Api(client, identifier=identifier)


def call(api: Api, name: str, body: Any = None, *, code: int = 0, **kwargs: Any) -> dict[str, Any]:
    """One call; the answer is HTTP 200 JSON carrying ActionStatus, ErrorCode and ErrorInfo (§9.9)."""
    response = api.request(name, body, **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    answer = response.json()
    assert answer["ActionStatus"] == ("OK" if code == 0 else "FAIL"), answer
    assert answer["ErrorCode"] == code, answer
    assert isinstance(answer["ErrorInfo"], str), answer
    assert (answer["ErrorInfo"] == "") == (code == 0), answer
    return answer


def record_requests(emulator: Emulator, requests: list[tuple[str, Any]], lock: threading.Lock) -> None:
    """Make ``emulator`` append (endpoint name, JSON body or None) to ``requests`` for every request."""
    handle = emulator.handle

    def recording(method: str, target: str, body: bytes) -> Any:
        endpoint = BY_PATH.get(urlsplit(target).path)
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            payload = None
        with lock:
            requests.append((endpoint.name if endpoint else target, payload))
        return handle(method, target, body)

    emulator.handle = recording  # type: ignore[method-assign]


def cli_env(url: str, **override: str | None) -> dict[str, str | None]:
    """The environment a user sets to run chatsync against the emulator at ``url`` (None unsets)."""
    env: dict[str, str | None] = {"CHATSYNC_SECRET_KEY": SECRET, "CHATSYNC_ENDPOINT": url, "NO_COLOR": None}
    env.update(override)
    return env


@contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port where connections are refused, for as long as the block runs.

    The port stays bound (but never listens) until the block ends, so no server started meanwhile,
    by this test or a parallel one, can be given it: a released port may be handed out again.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
