"""What the commands that talk to the API share: flags, colour choice, the client, progress and
atomic file writes. Kept here so ``plan``, ``apply`` and ``export`` stay thin."""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import click

from chatsync.errors import ChatsyncError
from chatsync.tencent.pacing import DEFAULT_PARALLELISM

if TYPE_CHECKING:  # imported when a command connects: --help never loads the HTTP client
    from chatsync.model import AppConfig
    from chatsync.tencent.api import ChatApi
    from chatsync.tencent.client import Client

F = TypeVar("F", bound=Callable[..., Any])


def parallelism_option(function: F) -> F:
    """``--parallelism N``: calls in flight at once."""
    return click.option(
        "--parallelism", type=click.IntRange(1, 256), default=DEFAULT_PARALLELISM, show_default=True,
        help="API calls in flight at once (each API is still paced under its rate limit).",
    )(function)


@contextmanager
def connected(app: AppConfig, parallelism: int) -> Iterator[ChatApi]:
    """A :class:`ChatApi` for ``app``, closed (connections released) on the way out."""
    from chatsync.tencent.api import ChatApi
    from chatsync.tencent.client import Client

    client = Client.for_app(app, parallelism=parallelism)
    try:
        yield ChatApi(client)
    except BaseException:
        # Ctrl-C or an error, or the end of an apply whose report is out: calls not yet sent are
        # dropped, and any still in flight (a stalled read, an abandoned apply) are cut, not awaited.
        client.abort()
        raise
    finally:
        client.close()


@contextmanager
def progress(
    label: str, status: Callable[[], str], *, stream: TextIO | None = None, after: float = 1.0,
    every: float = 10.0,
) -> Iterator[None]:
    """Report ``label: <status()>`` on stderr while a phase runs longer than ``after`` seconds.

    On a terminal, one line updated in place; elsewhere (CI logs), a plain line every ``every``
    seconds. Either way a last line when a phase that took that long ends. Never on stdout, so
    JSON and Markdown output stay clean.
    """
    stream = stream or sys.stderr
    tty = stream.isatty()
    started = time.monotonic()
    done = threading.Event()
    shown = False

    def tick() -> None:
        nonlocal shown
        if hasattr(signal, "pthread_sigmask"):  # Ctrl-C and SIGTERM go to the main thread, at once
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        last_line = started
        while not done.wait(0.25):
            now = time.monotonic()
            if now - started < after:
                continue
            if tty:
                stream.write(f"\r{label}: {status()}, {now - started:.0f}s \033[K")
                shown = True
            elif now - last_line >= every:
                stream.write(f"{label}: {status()}, {now - started:.0f}s\n")
                last_line = now
            stream.flush()

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()
        elapsed = time.monotonic() - started
        if shown:
            stream.write("\r\033[K")
        if elapsed >= after:
            stream.write(f"{label}: {status()}, done in {elapsed:.1f}s.\n")
        stream.flush()


def call_rate(client: Client) -> Callable[[], str]:
    """A progress status: API calls made since now, and their rate."""
    base = sum(client.calls.values())
    started = time.monotonic()

    def status() -> str:
        calls = sum(client.calls.values()) - base
        return f"{calls} API calls ({calls / max(time.monotonic() - started, 1e-9):.0f}/s)"

    return status


def write_atomically(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: never a half-written file."""
    target = Path(path)
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent or Path("."), prefix=f".{target.name}.")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, target)
    except OSError as exc:
        raise ChatsyncError(f"cannot write {path}: {exc.strerror or exc}; check the directory exists "
                            "and is writable") from None
