"""``chatsync plan`` end to end: a real emulator on loopback HTTP, seeded over the API, and the CLI.

Every test here starts an in-process emulator served by :class:`RunningEmulator` (a real socket),
seeds it with signed calls through :class:`ChatApi`, forgets the seeding calls, then runs
``chatsync plan`` through click's :class:`CliRunner` with ``CHATSYNC_SECRET_KEY`` and
``CHATSYNC_ENDPOINT`` pointing at it. Nothing is mocked between the command and the socket.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from chatsync.cli import main
from chatsync.emulator import Emulator
from chatsync.emulator.server import RunningEmulator
from chatsync.facts.endpoints import ENDPOINTS
from chatsync.tencent.api import ChatApi
from chatsync.tencent.client import Client
from chatsync.tencent.credentials import SigCache
from chatsync.tencent.target import Target
from tests.support import ADMIN, SDKAPPID, SECRET, cli_env, make_emulator

#: ``usersig=`` with anything but the redaction mark after it.
USERSIG_VALUE = re.compile(r"usersig=(?!\*\*\*)", re.IGNORECASE)
#: What a TLS v2 UserSig looks like: base64url of zlib data, which starts "eJ".
SIG_TOKEN = re.compile(r"eJ[0-9A-Za-z*_-]{40,}")
#: Endpoints that change something: a plan must never call them.
WRITE_ENDPOINTS = ("create_robot", "delete_robot", "account_import", "multiaccount_import",
                   "account_delete", "kick", "portrait_set")
#: Seeding goes as fast as the (unlimited) test emulator answers.
UNPACED = {name: 1_000_000 for name in ENDPOINTS}
#: Config rate overrides so a plan in a test is not slowed by the documented limits.
FAST_RATES = "\n".join(f"    {name}: 100000" for name in ENDPOINTS)


@dataclass
class App:
    """A served emulator, its URL, and a ChatApi (signed as the default admin) for seeding."""

    emulator: Emulator
    url: str
    api: ChatApi

    def seed(self, bots: Mapping[str, Mapping[str, str]] | None = None,
             accounts: Mapping[str, Mapping[str, str]] | None = None) -> None:
        """Create ``bots`` and import ``accounts`` over HTTP, then set every field the import
        cannot carry (self_signature, or anything on a bot after create), and forget those calls."""
        for bot, fields in (bots or {}).items():
            self.api.create_robot(bot, fields)
        if accounts:
            results = self.api.multiaccount_import(accounts)
            assert all(r.ok for r in results.values()), [r for r in results.values() if not r.ok][:3]
            for user_id, fields in accounts.items():
                extra = {k: v for k, v in fields.items() if k == "self_signature"}
                if extra:
                    self.api.portrait_set(user_id, extra)
        self.forget_calls()

    def forget_calls(self) -> None:
        self.emulator.calls.clear()

    def writes(self) -> dict[str, int]:
        """Write endpoints the emulator answered since the last :meth:`forget_calls`."""
        return {name: n for name, n in self.emulator.calls.items() if name in WRITE_ENDPOINTS and n}

    def env(self, **override: str | None) -> dict[str, str | None]:
        """The environment a user would set for this app (``None`` unsets a variable)."""
        return cli_env(self.url, **override)

    def plan(self, *args: str, env: Mapping[str, str | None] | None = None) -> Result:
        """``chatsync plan ARGS`` against this app; stdout and stderr apart."""
        return CliRunner().invoke(main, ["plan", *args], env=dict(env or self.env()))


@pytest.fixture
def serve() -> Iterator[Callable[..., App]]:
    """Factory: ``serve(**emulator_config)`` -> a fresh :class:`App` served on loopback."""
    started: list[tuple[RunningEmulator, Client]] = []

    def start(**config: Any) -> App:
        config.setdefault("sdkappid", SDKAPPID)
        emulator = make_emulator(**config)
        server = RunningEmulator(emulator).__enter__()
        client = Client(Target((server.url,), "test"), SigCache(SDKAPPID, ADMIN, SECRET), rates=UNPACED)
        started.append((server, client))
        return App(emulator, server.url, ChatApi(client))

    yield start
    for server, client in started:
        client.close()
        server.stop()


def write_config(directory: Path, text: str, name: str = "chatsync.yaml") -> str:
    """Write a config (dedented) and return its path."""
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return str(path)


def accounts_yaml(accounts: Mapping[str, Mapping[str, str] | None]) -> str:
    """An ``accounts:`` section (ids and values quoted) for generated configs."""
    lines = ["accounts:"]
    for user_id, fields in accounts.items():
        if not fields:
            lines.append(f'  "{user_id}":')
            continue
        lines.append(f'  "{user_id}":')
        lines += [f'    {name}: "{value}"' for name, value in fields.items()]
    return "\n".join(lines) + "\n"


def app_yaml(**settings: Any) -> str:
    """``version`` and an ``app:`` section for SDKAPPID, with fast rate overrides."""
    lines = ["version: 1", "app:", f"  sdkappid: {SDKAPPID}"]
    for key, value in settings.items():
        lines.append(f"  {key}: {value}")
    lines += ["  rate_limits:", FAST_RATES]
    return "\n".join(lines) + "\n"


def assert_clean_failure(result: Result, *secrets: str, max_lines: int = 2) -> None:
    """Exit 1, a short message on stderr, no traceback, no secret anywhere."""
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    # an exception other than SystemExit means click caught a crash: its text never reached the user
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.splitlines()
    assert 1 <= len(lines) <= max_lines, result.stderr
    assert lines[0].startswith("Error: ") or ":" in lines[0], result.stderr
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream
        assert not USERSIG_VALUE.search(stream), stream
        assert not SIG_TOKEN.search(stream), stream
        for secret in (SECRET, *secrets):
            assert secret not in stream
