"""What the commands that talk to the API share: flags, colour choice, the client, progress and
atomic file writes. Kept here so ``plan``, ``apply`` and ``export`` stay thin."""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click

from chatsync.errors import ChatsyncError
from chatsync.model import AppConfig
from chatsync.tencent.api import ChatApi
from chatsync.tencent.client import DEFAULT_PARALLELISM, Client

F = TypeVar("F", bound=Callable[..., Any])


def parallelism_option(function: F) -> F:
    """``--parallelism N``: calls in flight at once."""
    return click.option(
        "--parallelism", type=click.IntRange(1, 256), default=DEFAULT_PARALLELISM, show_default=True,
        help="API calls in flight at once (each API is still paced under its rate limit).",
    )(function)


def color_option(function: F) -> F:
    """``--no-color``: plain output even on a terminal."""
    return click.option("--no-color", is_flag=True, help="No colours (NO_COLOR does the same).")(function)


def use_color(no_color: bool, stream: TextIO | None = None) -> bool:
    """Colour only on a terminal, never with ``--no-color`` or a non-empty ``NO_COLOR``."""
    stream = stream or sys.stdout
    return not no_color and not os.environ.get("NO_COLOR") and stream.isatty()


@contextmanager
def connected(app: AppConfig, parallelism: int) -> Iterator[ChatApi]:
    """A :class:`ChatApi` for ``app``, closed (connections released) on the way out."""
    client = Client.for_app(app, parallelism=parallelism)
    try:
        yield ChatApi(client)
    finally:
        client.close()


@contextmanager
def progress(
    client: Client, label: str, *, stream: TextIO | None = None, after: float = 1.0
) -> Iterator[None]:
    """Report ``label`` progress on stderr when it takes longer than ``after`` seconds.

    On a terminal, a line updated in place (calls made, calls per second); elsewhere (CI logs), one
    quiet line when the phase ends. Never on stdout, so JSON and Markdown stay clean.
    """
    stream = stream or sys.stderr
    tty = stream.isatty()
    started = time.monotonic()
    base = sum(client.calls.values())
    done = threading.Event()
    shown = False

    def calls() -> int:
        return sum(client.calls.values()) - base

    def tick() -> None:
        nonlocal shown
        while not done.wait(0.25):
            elapsed = time.monotonic() - started
            if tty and elapsed >= after:
                stream.write(f"\r{label}: {calls()} calls, {calls() / elapsed:.0f}/s, {elapsed:.0f}s ")
                stream.flush()
                shown = True

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
            stream.write(f"{label}: {calls()} calls in {elapsed:.1f}s.\n")
        stream.flush()


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
