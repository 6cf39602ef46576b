"""``chatsync plan`` end to end: a real emulator on loopback HTTP, seeded over the API, and the CLI.

Every test here starts an in-process emulator (the ``serve`` fixture: :class:`tests.support.App`, a
real socket), seeds it with signed calls through :class:`ChatApi`, forgets the seeding calls, then
runs ``chatsync plan`` through click's :class:`CliRunner` with ``CHATSYNC_SECRET_KEY`` and
``CHATSYNC_ENDPOINT`` pointing at it. Nothing is mocked between the command and the socket.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from click.testing import Result

from chatsync.facts.endpoints import ENDPOINTS
from tests.support import SDKAPPID, SECRET

#: ``usersig=`` with anything but the redaction mark after it.
USERSIG_VALUE = re.compile(r"usersig=(?!\*\*\*)", re.IGNORECASE)
#: What a TLS v2 UserSig looks like: base64url of zlib data, which starts "eJ".
SIG_TOKEN = re.compile(r"eJ[0-9A-Za-z*_-]{40,}")
#: Config rate overrides so a plan in a test is not slowed by the documented limits.
FAST_RATES = "\n".join(f"    {name}: 100000" for name in ENDPOINTS)


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
