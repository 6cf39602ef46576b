"""``chatsync apply`` and ``chatsync export`` end to end: a real emulator on loopback HTTP, the CLI.

Every test here serves an in-process emulator (the ``serve`` fixture: :class:`tests.support.App`,
a real socket), seeds it over the API with a client of its own, forgets the seeding calls, then
runs the CLI through click's :class:`CliRunner` with ``CHATSYNC_SECRET_KEY`` and
``CHATSYNC_ENDPOINT`` pointing at it, and reads the live app back with a fresh client. Nothing is
mocked between the command and the socket. The emulator records each request it receives (endpoint
and JSON body), so a test can see exactly which calls an apply made.

Secrets: every CLI output (stdout and stderr) and every file a test leaves in ``tmp_path`` is
checked, after the test, for the secret key and for every UserSig made in this process.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result

from chatsync.facts.endpoints import ENDPOINTS
from chatsync.facts.fields import STANDARD
from chatsync.tencent import usersig
from tests.support import SDKAPPID, SECRET, Shown, run_cli

#: Config rate overrides so an apply in a test is not slowed by the documented limits.
FAST_RATES = {name: 100_000 for name in ENDPOINTS}
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


# -- the app under test: tests/support.py's App, made by the shared ``serve`` fixture ---------------

@pytest.fixture
def shown_outputs(secrets: Secrets) -> Shown:
    """Every CLI output of an app ``serve`` makes goes to the after-test check for secrets."""
    return secrets.shown


def invoke(secrets: Secrets, *args: str, env: Mapping[str, str | None], input: str | None = None) -> Result:
    """``chatsync ARGS`` in process with ``env``; both outputs are kept for the secrets check."""
    return run_cli(*args, env=env, input=input, shown=secrets.shown)


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
