"""``chatsync apply`` and ``chatsync export`` end to end: a real emulator on loopback HTTP, the CLI.

Every test here serves an in-process emulator with :class:`RunningEmulator` (a real socket), seeds
it over the API with a client of its own, forgets the seeding calls, then runs the CLI through
click's :class:`CliRunner` with ``CHATSYNC_SECRET_KEY`` and ``CHATSYNC_ENDPOINT`` pointing at it,
and reads the live app back with a fresh client. Nothing is mocked between the command and the
socket. The emulator records each request it receives (endpoint and JSON body), so a test can see
exactly which calls an apply made.

Secrets: every CLI output (stdout and stderr) and every file a test leaves in ``tmp_path`` is
checked, after the test, for the secret key and for every UserSig made in this process.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from chatsync.cli import main
from chatsync.emulator import Emulator
from chatsync.emulator.server import RunningEmulator
from chatsync.facts.endpoints import ENDPOINTS
from chatsync.facts.fields import STANDARD
from chatsync.tencent import usersig
from chatsync.tencent.api import ChatApi
from chatsync.tencent.client import Client
from chatsync.tencent.credentials import SigCache
from chatsync.tencent.retry import RetryPolicy
from chatsync.tencent.target import Target
from tests.support import ADMIN, SDKAPPID, SECRET, cli_env, make_emulator, record_requests

#: Endpoints that change something.
WRITE_ENDPOINTS = ("create_robot", "delete_robot", "account_import", "multiaccount_import",
                   "account_delete", "kick", "portrait_set")
#: Seeding and reading back go as fast as the (unlimited) test emulator answers.
UNPACED = {name: 1_000_000.0 for name in ENDPOINTS}
#: Config rate overrides so an apply in a test is not slowed by the documented limits.
FAST_RATES = {name: 100_000 for name in ENDPOINTS}
#: Retries that take milliseconds (for the in-process clients of the tests).
FAST = RetryPolicy(max_attempts=12, base_delay=0.001, max_delay=0.01)
#: A UserSig that leaked into a query string shown to the user (``usersig=***`` is the redacted form).
LEAKED_SIG = re.compile(r"usersig=(?!\*\*\*)[^&\s\"']+", re.IGNORECASE)


# -- secrets ------------------------------------------------------------------------------------

@dataclass
class Secrets:
    """What must never be shown, and every text shown, for the after-test check."""

    sigs: list[str] = field(default_factory=list)
    outputs: list[tuple[str, str]] = field(default_factory=list)  # (what, text)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def shown(self, what: str, text: str) -> None:
        with self.lock:
            self.outputs.append((what, text))

    def leaks(self, text: str) -> list[str]:
        """The secrets found in ``text`` (described, never quoted)."""
        found = []
        if SECRET in text:
            found.append("the secret key")
        with self.lock:
            sigs = list(self.sigs)
        found += [f"UserSig #{n}" for n, sig in enumerate(sigs) if sig in text]
        if LEAKED_SIG.search(text):
            found.append("a usersig= query parameter")
        return found


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Secrets]:
    """Records every UserSig made in this process; after the test, no output or file holds one."""
    guard = Secrets()
    make = usersig.make

    def recording_make(*args: Any, **kwargs: Any) -> str:
        sig = make(*args, **kwargs)
        with guard.lock:
            guard.sigs.append(sig)
        return sig

    monkeypatch.setattr(usersig, "make", recording_make)
    yield guard
    problems = []
    for what, text in guard.outputs:
        problems += [f"{leak} in {what}" for leak in guard.leaks(text)]
    for path in sorted(tmp_path.rglob("*")):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", "replace")
            problems += [f"{leak} in the file {path.name}" for leak in guard.leaks(text)]
    assert not problems, problems


# -- the app under test -------------------------------------------------------------------------

@dataclass
class Live:
    """The live app as read back over the API: active bots, existing accounts, profiles."""

    bots: list[str]
    accounts: set[str]  # those of the asked ids that exist
    profiles: dict[str, dict[str, str]]  # every existing asked id (and bot) -> its three fields

    def profile(self, user_id: str) -> dict[str, str]:
        return self.profiles[user_id]


@dataclass
class App:
    """A served emulator, its URL, a ChatApi for seeding, and what the emulator was sent."""

    emulator: Emulator
    server: RunningEmulator
    url: str
    api: ChatApi
    secrets: Secrets
    requests: list[tuple[str, Any]] = field(default_factory=list)  # (endpoint, JSON body)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # -- seeding and counting ------------------------------------------------------------------

    def seed(self, bots: Mapping[str, Mapping[str, str]] | None = None,
             accounts: Mapping[str, Mapping[str, str] | None] | None = None) -> None:
        """Create ``bots`` and import ``accounts`` with every field over HTTP, then forget the calls."""
        for bot, fields in (bots or {}).items():
            self.api.create_robot(bot, fields)
        if accounts:
            results = self.api.multiaccount_import({a: dict(f or {}) for a, f in accounts.items()})
            assert all(r.ok for r in results.values()), [r for r in results.values() if not r.ok][:3]
            for user_id, fields in accounts.items():
                extra = {k: v for k, v in (fields or {}).items() if k == "self_signature"}
                if extra:
                    self.api.portrait_set(user_id, extra)
        self.forget_calls()

    def forget_calls(self) -> None:
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
        return cli_env(self.url, **override)

    def cli(self, *args: str, env: Mapping[str, str | None] | None = None,
            input: str | None = None) -> Result:
        """``chatsync ARGS`` against this app; stdout and stderr apart, both checked for secrets."""
        return invoke(self.secrets, *args, env=env or self.env(), input=input)

    # -- reading back --------------------------------------------------------------------------

    def read(self, account_ids: Iterable[str] = ()) -> Live:
        """The live app, read back with a fresh client (see :func:`read_live`)."""
        return read_live(self.url, account_ids)


def read_live(url: str, account_ids: Iterable[str] = ()) -> Live:
    """The app at ``url``, read with a fresh client: the bot list, which of ``account_ids`` exist,
    and the three profile fields of every existing one and of every bot."""
    ids = list(dict.fromkeys(account_ids))
    with fresh_client(url) as client:
        api = ChatApi(client)
        bots = api.get_all_robots()
        checked = api.account_check(ids) if ids else {}
        assert all(r.ok for r in checked.values()), [r for r in checked.values() if not r.ok][:3]
        existing = {i for i, r in checked.items() if r.data.get("AccountStatus") == "Imported"}
        wanted = [*bots, *(i for i in ids if i in existing)]
        profiles = api.portrait_get(wanted) if wanted else {}
        assert all(r.ok for r in profiles.values())
    return Live(bots, existing, {i: dict(r.data) for i, r in profiles.items()})


def invoke(secrets: Secrets, *args: str, env: Mapping[str, str | None], input: str | None = None) -> Result:
    """``chatsync ARGS`` in process with ``env``; both outputs are kept for the secrets check."""
    result = CliRunner().invoke(main, list(args), env=dict(env), input=input)
    secrets.shown(f"stdout of {args[0]}", result.stdout)
    secrets.shown(f"stderr of {args[0]}", result.stderr)
    return result


def fresh_client(url: str, key: str = SECRET) -> Client:
    """A new client for the app at ``url`` (unpaced, fast retries)."""
    return Client(Target((url,), "test"), SigCache(SDKAPPID, ADMIN, key), rates=UNPACED, retry=FAST)


@pytest.fixture
def serve(secrets: Secrets) -> Iterator[Callable[..., App]]:
    """Factory: ``serve(**emulator_config)`` -> a fresh :class:`App` served on loopback."""
    started: list[tuple[RunningEmulator, Client]] = []

    def start(**config: Any) -> App:
        config.setdefault("sdkappid", SDKAPPID)
        emulator = make_emulator(**config)
        server = RunningEmulator(emulator).__enter__()
        client = fresh_client(server.url)
        started.append((server, client))
        app = App(emulator, server, server.url, ChatApi(client), secrets)
        record_requests(emulator, app.requests, app.lock)
        return app

    yield start
    for server, client in started:
        client.close()
        server.stop()


# -- configs --------------------------------------------------------------------------------------

def config_text(bots: Mapping[str, Mapping[str, str] | None] | None = None,
                accounts: Mapping[str, Mapping[str, str] | None] | None = None,
                *, fast: bool = True, **app: Any) -> str:
    """A config: ``version: 1``, ``app:`` for SDKAPPID with ``app`` settings (fast rate overrides
    unless ``fast`` is false), then ``bots`` and ``accounts`` (``None`` = no fields)."""
    section: dict[str, Any] = {"sdkappid": SDKAPPID, **app}
    if fast:
        section["rate_limits"] = dict(FAST_RATES)
    document: dict[str, Any] = {"version": 1, "app": section}
    if bots is not None:
        document["bots"] = {b: dict(f) if f else None for b, f in bots.items()}
    if accounts is not None:
        document["accounts"] = {a: dict(f) if f else None for a, f in accounts.items()}
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=1000)


def write_config(directory: Path, *args: Any, name: str = "chatsync.yaml", **kwargs: Any) -> str:
    """Write :func:`config_text` to ``directory/name`` and return its path."""
    path = directory / name
    path.write_text(config_text(*args, **kwargs), encoding="utf-8")
    return str(path)


def profile(nick: str = "", face_url: str = "", self_signature: str = "") -> dict[str, Any]:
    """Every standard field as the read-back shows them: these three, the rest never set."""
    return all_fields({"nick": nick, "face_url": face_url, "self_signature": self_signature})


def all_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` completed with the never-set value ("" or 0) of the fields not given (as the
    read-back shows them)."""
    return {f.name: values.get(f.name, f.unset) for f in STANDARD}


def summary(result: Result) -> str:
    """The summary line of a text report: ``Apply complete: ...`` (or ``interrupted`` / ``stopped``)."""
    lines = [line for line in result.stdout.splitlines()
             if line.startswith(("Apply complete:", "Apply interrupted:", "Apply stopped:"))]
    assert len(lines) == 1, result.stdout
    return lines[0]


def assert_clean_error(result: Result, *needles: str, max_lines: int = 2) -> str:
    """Exit 1, no crash, no traceback, a short ``Error: ...`` on stderr holding every needle."""
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(error_lines) == 1, result.stderr
    start = result.stderr.splitlines().index(error_lines[0])
    message = "\n".join(result.stderr.splitlines()[start:])
    assert 1 <= len(message.splitlines()) <= max_lines, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for needle in needles:
        assert needle in message, (needle, message)
    return message
