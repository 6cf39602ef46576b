"""What the commands that talk to the API share: flags, colour choice, the client, progress and
atomic file writes. Kept here so ``plan``, ``apply`` and ``export`` stay thin."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import click

from chatsync.cli.tuning import no_cyclic_gc, quick_switches
from chatsync.errors import ChatsyncError
from chatsync.tencent.pacing import DEFAULT_PARALLELISM
from chatsync.text.safe import visible

if TYPE_CHECKING:  # imported when a command connects: --help never loads the HTTP client
    from chatsync.api import Loaded
    from chatsync.domain.model import AppConfig
    from chatsync.tencent.api import ChatApi
    from chatsync.tencent.client import Client

F = TypeVar("F", bound=Callable[..., Any])


def parallelism_option(function: F) -> F:
    """``--parallelism N``: calls in flight at once."""
    return click.option(
        "--parallelism", type=click.IntRange(1, 256), default=DEFAULT_PARALLELISM, show_default=True,
        help="API calls in flight at once (each API is still paced under its rate limit).",
    )(function)


def notify_option(function: F) -> F:
    """``--notify``: members a plan adds to groups are announced (``notify: true`` on every group)."""
    return click.option(
        "--notify", is_flag=True,
        help="Announce the members added to groups (add_group_member without Silence), as notify: true "
             "on every group would; the plan says so per change. Default: silent adds.",
    )(function)


def follow_symlinks_option(function: F) -> F:
    """``--follow-symlinks``: read config files that links lead to outside the directories given."""
    return click.option(
        "--follow-symlinks", is_flag=True,
        help="Read config files and directories that symbolic links lead to outside the directories "
             "given (refused by default: a link could lead to any file of the machine).",
    )(function)


@contextmanager
def connected(app: AppConfig, parallelism: int) -> Iterator[ChatApi]:
    """A :class:`ChatApi` for ``app``, closed (connections released) on the way out. On Ctrl-C or
    an error, or the end of an apply whose report is out, calls not yet sent are dropped, and any
    still in flight (a stalled read, an abandoned apply) are cut, not awaited
    (:func:`chatsync.api.connect`)."""
    from chatsync.api import connect

    with connect(app, parallelism=parallelism) as api:
        yield api


@contextmanager
def loaded(paths: tuple[str, ...], parallelism: int, follow_symlinks: bool = False) -> Iterator[Loaded]:
    """The config at ``paths``, loaded while the live app is read, and a connection to its app
    (closed as :func:`connected` closes it): :func:`chatsync.api.load_connected`. The load runs
    with the cyclic GC paused and quick thread switches (:mod:`chatsync.cli.tuning`)."""
    from chatsync.api import load_connected

    with ExitStack() as stack:
        with no_cyclic_gc(), quick_switches():
            done = stack.enter_context(load_connected(paths, parallelism=parallelism,
                                                      follow_symlinks=follow_symlinks))
        yield done


def reading(done: Loaded) -> AbstractContextManager[Phase]:
    """The progress of a plan's reads, counted from the first (sent while the config loaded)."""
    from chatsync.engine.read import read_calls

    expected = read_calls(done.desired)
    return progress("Reading the live app", call_rate(done.api.client, expected, from_start=True))


class Phase:
    """How a phase shown by :func:`progress` ended: ``done`` unless the code says otherwise
    (``stopped`` after a run-stopping failure, ``interrupted`` after Ctrl-C or SIGTERM)."""

    def __init__(self) -> None:
        self.ending = "done"


@contextmanager
def progress(
    label: str, status: Callable[[bool], str], *, stream: TextIO | None = None, after: float = 1.0,
    every: float = 10.0,
) -> Iterator[Phase]:
    """Report ``label: <status(False)>`` on stderr while a phase runs longer than ``after`` seconds
    (``status(True)`` for the last line: counts, without a time left).

    On a terminal, one line updated in place and cut to the terminal's width (so it never wraps);
    elsewhere (CI logs), a plain line every ``every`` seconds. Either way a last line when a phase
    that took that long ends, saying how it ended: ``done``, ``stopped`` or ``interrupted``. Never
    on stdout, so JSON and Markdown output stay clean.
    """
    stream = stream or sys.stderr
    tty = stream.isatty()
    started = time.monotonic()
    done = threading.Event()
    phase = Phase()
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
                line = f"{label}: {status(False)}, {now - started:.0f}s"
                stream.write(f"\r{line[:_width(stream) - 1]}\033[K")
                shown = True
            elif now - last_line >= every:
                stream.write(f"{label}: {status(False)}, {now - started:.0f}s\n")
                last_line = now
            stream.flush()

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield phase
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM raised as one
        phase.ending = "interrupted"
        raise
    except BaseException:
        phase.ending = "stopped"
        raise
    finally:
        done.set()
        ticker.join()
        elapsed = time.monotonic() - started
        if shown:
            stream.write("\r\033[K")
        if elapsed >= after:
            ending = "done in" if phase.ending == "done" else f"{phase.ending} after"
            stream.write(f"{label}: {status(True)}, {ending} {elapsed:.1f}s.\n")
        stream.flush()


def _width(stream: TextIO) -> int:
    """The terminal's width in columns (80 when it cannot be told)."""
    try:
        return max(os.get_terminal_size(stream.fileno()).columns, 20)
    except (OSError, ValueError, AttributeError):
        return 80


def eta(done: int, total: int, elapsed: float) -> str:
    """``, about 12s left`` at the pace so far ('' until there is a pace, or when nothing is left)."""
    if done <= 0 or done >= total or elapsed <= 0:
        return ""
    return f", about {elapsed / done * (total - done):.0f}s left"


def call_rate(client: Client, expected: int | None = None, *,
              from_start: bool = False) -> Callable[[bool], str]:
    """A progress status: API calls made since now (``from_start``: since the client was made), of
    about ``expected`` if known, their rate and the time left at that rate."""
    base = 0 if from_start else sum(client.calls.values())
    started = client.started if from_start else time.monotonic()

    def status(final: bool = False) -> str:
        calls = sum(client.calls.values()) - base
        elapsed = time.monotonic() - started
        rate = f"{calls / max(elapsed, 1e-9):.0f}/s"
        if final or not expected:
            return f"{calls} API calls ({rate})"
        return f"{calls}/{expected} API calls ({rate}){eta(calls, expected, elapsed)}"

    return status


def write_atomically(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: never a half-written file.

    A symbolic link is written through, as ``>`` in a shell writes: the temporary file goes beside
    the file the link leads to and is renamed onto it, so the link stays and its target gets the
    text (a dangling link: the target is made). A file replaced keeps its permissions."""
    import stat
    import tempfile  # here: most commands write no file

    target = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
    shown = path if str(target) == path else f"{path} (a link to {target})"
    temporary = ""
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent or Path("."), prefix=f".{target.name}.")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        with suppress(FileNotFoundError):  # a new file: none to keep
            os.chmod(temporary, stat.S_IMODE(target.stat().st_mode))
        os.replace(temporary, target)
    except OSError as exc:
        if temporary:
            Path(temporary).unlink(missing_ok=True)
        raise ChatsyncError(f"cannot write {visible(shown)}: {exc.strerror or exc}; check the directory "
                            "exists and is writable") from None
