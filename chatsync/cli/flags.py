"""The global flags (``-v``, ``--debug``, ``--no-color``), accepted before or after the command,
and what they switch on: the call log, tracebacks, and colour."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TextIO, TypeVar

import click

from chatsync.text.redact import RedactingFilter

F = TypeVar("F", bound=Callable[..., Any])

#: The flags every command takes, before or after its name: (declarations, name, help).
GLOBAL_FLAGS = (
    (("-v", "--verbose"), "verbose",
     "Log every API call on stderr (endpoint, status, code, attempt, duration; no secrets)."),
    (("--debug",), "debug", "Show tracebacks of errors (for bug reports)."),
    (("--no-color",), "no_color", "No colours (NO_COLOR does the same)."),
)


def global_flags(command: F) -> F:
    """Give ``command`` the global flags. click reads an option only where it is declared, so the
    group and every subcommand declare them, and each sets the same switch on the root context:
    ``chatsync -v plan`` and ``chatsync plan -v`` are one thing."""
    for declarations, name, help_text in reversed(GLOBAL_FLAGS):
        command = click.option(*declarations, name, is_flag=True, expose_value=False, help=help_text,
                               callback=_switch_on)(command)
    return command


def _switch_on(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or param.name is None:
        return
    root = ctx.find_root()
    root.ensure_object(dict)
    root.obj[param.name] = True
    if param.name == "verbose":
        root.call_on_close(log_calls())  # for this command only (tests run many in one process)


def flag(name: str) -> bool:
    """True when the global flag ``name`` (``verbose``, ``debug``, ``no_color``) was given."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and (ctx.find_root().obj or {}).get(name))


def log_calls() -> Callable[[], None]:
    """Send chatsync's debug log (one line per API call) to stderr, through the redacting filter.
    Returns what undoes it."""
    logger = logging.getLogger("chatsync")
    if any(isinstance(handler, _StderrHandler) for handler in logger.handlers):
        return lambda: None  # -v given twice (before and after the command): one line per call
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    handler.addFilter(RedactingFilter())
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)

    def undo() -> None:
        logger.removeHandler(handler)
        logger.setLevel(level)

    return undo


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A log handler writing to ``sys.stderr`` as it is when a line is written (not when the
    handler was made), so a command run in process after another still logs where it should."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def use_color(stream: TextIO | None = None) -> bool:
    """Colour only on a terminal, never with ``--no-color`` or a non-empty ``NO_COLOR``."""
    stream = stream or sys.stdout
    return not flag("no_color") and not os.environ.get("NO_COLOR") and stream.isatty()
