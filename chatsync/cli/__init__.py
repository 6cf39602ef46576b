"""The ``chatsync`` command: a thin click layer. Each command lives in a module of its own.

Commands parse flags, call the importable core, render and pick the exit code. A
:class:`~chatsync.errors.ChatsyncError` becomes a short message on stderr, never a traceback.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import click

from chatsync import __version__
from chatsync.cli.flags import global_flags
from chatsync.errors import ChatsyncError
from chatsync.safe_text import lines as safe_lines


class ChatsyncGroup(click.Group):
    """A click group that turns user errors into one or two lines on stderr and an exit code."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            with _terminate_as_interrupt():
                return super().invoke(ctx)
        except Terminated:
            click.echo("Terminated.", err=True)
            sys.exit(143)
        except ChatsyncError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            for line in exc.report():
                for shown in safe_lines(line):  # no value can print a control or start a line
                    click.echo(shown, err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every command stops the same way (exit 143, not killed mid-line).
    ``apply`` handles it itself while applying, to print its report."""


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(number: int, frame: object) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@click.group(cls=ChatsyncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="chatsync")
@global_flags
def main() -> None:
    """Manage Tencent Cloud Chat bots and accounts as code.

    \b
    Declare bots and accounts in YAML, then:
      chatsync validate            check the files offline
      chatsync plan                show what would change in the live app
      chatsync apply               make the live app match
      chatsync show PLAN.json      print a saved plan (offline)
      chatsync export              write the live app as a config
      chatsync emulator            run a local stand-in for the Chat REST API

    \b
    -v, --debug and --no-color may also follow the command: chatsync plan -v
    Shell completion: eval "$(_CHATSYNC_COMPLETE=bash_source chatsync)" (zsh_source, fish_source).
    """


def _register() -> None:
    from chatsync.cli import apply, emulator, export, plan, show, validate

    for command in [*validate.COMMANDS, plan.plan, apply.apply, show.show, export.export, emulator.emulator]:
        main.add_command(global_flags(command))


_register()
