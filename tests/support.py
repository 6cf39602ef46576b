"""Test helpers: the test key, UserSigs, raw signed calls, emulator factories, and :class:`App`, the
emulator served on loopback that the end-to-end tests seed, run the CLI against and read back (the
``serve`` fixture of tests/conftest.py makes them)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from click.testing import CliRunner, Result

from chatsync.emulator import Emulator, EmulatorConfig
from chatsync.emulator.server import RunningEmulator
from chatsync.emulator.transport import EmulatorTransport
from chatsync.facts.endpoints import BY_PATH, ENDPOINTS
from chatsync.tencent import usersig
from chatsync.tencent.api import ChatApi
from chatsync.tencent.client import Client
from chatsync.tencent.credentials import SigCache
from chatsync.tencent.retry import RetryPolicy
from chatsync.tencent.target import Target

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
        answer: dict[str, Any] = response.json()
        return answer


def make_emulator(**config: Any) -> Emulator:
    """An emulator with the test key (unless ``secret_key`` is given); rate limits off unless a test
    sets them."""
    config.setdefault("rate_limit_scale", float("inf"))
    config.setdefault("secret_key", SECRET)
    clock = config.pop("clock", None)
    monotonic = config.pop("monotonic", None)
    kwargs: dict[str, Any] = {}
    if clock is not None:
        kwargs["clock"] = clock
    if monotonic is not None:
        kwargs["monotonic"] = monotonic
    return Emulator(EmulatorConfig(**config), **kwargs)


def api_for(emulator: Emulator, identifier: str = ADMIN) -> Api:
    """Signed calls to ``emulator`` in process (httpx transport, no socket)."""
    client = httpx.Client(transport=EmulatorTransport(emulator), base_url="http://emulator")
    return Api(client, identifier=identifier)


def call(api: Api, name: str, body: Any = None, *, code: int = 0, **kwargs: Any) -> dict[str, Any]:
    """One call; the answer is HTTP 200 JSON carrying ActionStatus, ErrorCode and ErrorInfo (§9.9)."""
    response = api.request(name, body, **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    answer: dict[str, Any] = response.json()
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


# -- an app served on loopback: seeded, driven through the CLI, read back --------------------------

#: Endpoints that change something.
WRITE_ENDPOINTS = ("create_robot", "delete_robot", "account_import", "multiaccount_import",
                   "account_delete", "kick", "portrait_set")
#: Rates so high that pacing never slows the tests' own clients (pacing has tests of its own).
UNPACED = {name: 1_000_000.0 for name in ENDPOINTS}
#: Retries that take milliseconds, for the tests' own clients.
FAST = RetryPolicy(max_attempts=12, base_delay=0.001, max_delay=0.01)
#: Where :meth:`App.cli` hands each output it shows: (what, text).
Shown = Callable[[str, str], None]


def fresh_client(url: str, key: str = SECRET, sdkappid: int = SDKAPPID) -> Client:
    """A new client for the app at ``url``, signed as the admin (unpaced, fast retries)."""
    return Client(Target((url,), "test"), SigCache(sdkappid, ADMIN, key), rates=UNPACED, retry=FAST)


@dataclass
class Live:
    """The live app as read back over the API: active bots, existing accounts, profiles."""

    bots: list[str]
    accounts: set[str]  # those of the asked ids that exist
    profiles: dict[str, dict[str, Any]]  # every existing asked id (and bot) -> its profile

    def profile(self, user_id: str) -> dict[str, Any]:
        return self.profiles[user_id]


def read_live(url: str, account_ids: Iterable[str] = (), key: str = SECRET, sdkappid: int = SDKAPPID) -> Live:
    """The app at ``url``, read with a fresh client: the bot list, which of ``account_ids`` exist,
    and the profile of every existing one and of every bot."""
    ids = list(dict.fromkeys(account_ids))
    with fresh_client(url, key, sdkappid) as client:
        api = ChatApi(client)
        bots = api.get_all_robots()
        checked = api.account_check(ids) if ids else {}
        assert all(r.ok for r in checked.values()), [r for r in checked.values() if not r.ok][:3]
        existing = {i for i, r in checked.items() if r.data.get("AccountStatus") == "Imported"}
        wanted = [*bots, *(i for i in ids if i in existing)]
        profiles = api.portrait_get(wanted) if wanted else {}
        assert all(r.ok for r in profiles.values())
    return Live(bots, existing, {i: dict(r.data) for i, r in profiles.items()})


def run_cli(*args: str, env: Mapping[str, str | None], input: str | None = None,
            shown: Shown | None = None) -> Result:
    """``chatsync ARGS`` in process (click's CliRunner) with ``env``, stdout and stderr apart; each
    output is handed to ``shown`` (for a check after the test)."""
    from chatsync.cli import main

    result = CliRunner().invoke(main, list(args), env=dict(env), input=input)
    if shown is not None:
        shown(f"stdout of {args[0]}", result.stdout)
        shown(f"stderr of {args[0]}", result.stderr)
    return result


@dataclass(eq=False)
class App:
    """An emulator served on loopback (a real socket), a :class:`ChatApi` signed as its admin for
    seeding and reading, every request it received (endpoint and JSON body), and the CLI against it.
    Made by the ``serve`` fixture; nothing is mocked between the CLI and the socket."""

    emulator: Emulator
    server: RunningEmulator
    api: ChatApi
    key: str = SECRET
    shown: Shown | None = None  # told of every CLI output (tests/apply checks them for secrets)
    requests: list[tuple[str, Any]] = field(default_factory=list)  # (endpoint, JSON body)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def start(cls, *, key: str = SECRET, shown: Shown | None = None, **config: Any) -> App:
        """Serve a fresh emulator made with ``config`` (:func:`make_emulator`) and the secret ``key``."""
        config.setdefault("sdkappid", SDKAPPID)
        emulator = make_emulator(secret_key=key, **config)
        server = RunningEmulator(emulator).__enter__()
        app = cls(emulator, server, ChatApi(fresh_client(server.url, key, config["sdkappid"])), key, shown)
        record_requests(emulator, app.requests, app.lock)
        return app

    def close(self) -> None:
        self.api.client.close()
        self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def client(self) -> Client:
        return self.api.client

    @property
    def sdkappid(self) -> int:
        return self.emulator.config.sdkappid

    # -- seeding and counting ------------------------------------------------------------------

    def seed(self, bots: Mapping[str, Mapping[str, str]] | None = None,
             accounts: Mapping[str, Mapping[str, str] | None] | None = None) -> None:
        """Create ``bots`` and import ``accounts`` over HTTP, then set every field the import cannot
        carry (self_signature), and forget those calls."""
        for bot, fields in (bots or {}).items():
            self.api.create_robot(bot, fields)
        if accounts:
            results = self.api.multiaccount_import({a: dict(f or {}) for a, f in accounts.items()})
            assert all(r.ok for r in results.values()), [r for r in results.values() if not r.ok][:3]
            for user_id, given in accounts.items():
                extra = {k: v for k, v in (given or {}).items() if k == "self_signature"}
                if extra:
                    self.api.portrait_set(user_id, extra)
        self.forget_calls()

    def forget_calls(self) -> None:
        """Forget the calls counted and the requests recorded so far."""
        self.emulator.calls.clear()
        with self.lock:
            self.requests.clear()

    def writes(self) -> dict[str, int]:
        """Write endpoints the emulator answered since the last :meth:`forget_calls`."""
        return {name: n for name, n in self.emulator.calls.items() if name in WRITE_ENDPOINTS and n}

    def sent(self, endpoint: str) -> list[Any]:
        """The JSON bodies of the requests to ``endpoint`` since the last :meth:`forget_calls`."""
        with self.lock:
            return [body for name, body in self.requests if name == endpoint]

    def snapshot(self) -> str:
        """The emulator's whole data, to show that nothing at all changed."""
        with self.emulator.store.lock:
            return json.dumps(self.emulator.store.snapshot(), sort_keys=True)

    # -- the CLI -------------------------------------------------------------------------------

    def env(self, **override: str | None) -> dict[str, str | None]:
        """The environment a user would set for this app (``None`` unsets a variable)."""
        return cli_env(self.url, **{"CHATSYNC_SECRET_KEY": self.key, **override})

    def cli(self, *args: str, env: Mapping[str, str | None] | None = None,
            input: str | None = None) -> Result:
        """``chatsync ARGS`` against this app (``env`` replaces :meth:`env`); stdout and stderr apart."""
        return run_cli(*args, env=self.env() if env is None else env, input=input, shown=self.shown)

    def plan(self, *args: str, env: Mapping[str, str | None] | None = None) -> Result:
        """``chatsync plan ARGS`` against this app."""
        return self.cli("plan", *args, env=env)

    # -- reading back --------------------------------------------------------------------------

    def read(self, account_ids: Iterable[str] = ()) -> Live:
        """The live app, read back with a fresh client (:func:`read_live`)."""
        return read_live(self.url, account_ids, self.key, self.sdkappid)

    def exists(self, user_id: str) -> bool:
        return self.api.account_check([user_id])[user_id].data.get("AccountStatus") == "Imported"

    def nick(self, user_id: str) -> Any:
        return self.api.portrait_get([user_id])[user_id].data.get("nick", "")
