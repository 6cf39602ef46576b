"""The ``chatsync`` command: a thin click layer. Each command lives in a module of its own.

Commands parse flags, call the importable core, render and pick the exit code. A
:class:`~chatsync.errors.ChatsyncError` becomes a short message on stderr, never a traceback; a
usage error (:class:`UsageProblem`) too, with exit 1: no error exits 2, which only
``plan --detailed-exitcode`` uses. Bare ``chatsync`` prints its help on stdout and exits 0.

A command's module is imported only when that command runs (:class:`LazyCommands`), so
``--version``, ``--help`` and the completion of command names start without the HTTP client,
the schema validator or the YAML parser.
"""

from __future__ import annotations

import importlib
import signal
import sys
import threading
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import click
from click.shell_completion import CompletionItem

from chatsync.cli.flags import global_flags
from chatsync.cli.tuning import no_collection_at_exit
from chatsync.errors import ChatsyncError
from chatsync.facts.version import VERSION
from chatsync.text.safe import lines as safe_lines
from chatsync.text.safe import visible

#: Every command: name -> (module, attribute, short help for the command list). The short help
#: is the first sentence of the command's docstring (a test keeps them equal), so listing the
#: commands imports none of them.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "apply": ("chatsync.cli.apply", "apply",
              "Make the live app match the config: create, update and delete bots, accounts and groups."),
    "emulator": ("chatsync.cli.emulator", "emulator",
                 "Run a local emulator of the Tencent Cloud Chat REST API (v4)."),
    "export": ("chatsync.cli.export", "export",
               "Write the live app as a config: every live bot, and the accounts named in the config or "
               "in --accounts-file that exist, with the fields that hold a value."),
    "fmt": ("chatsync.cli.fmt", "fmt", "Rewrite config files in the canonical form, keeping every comment."),
    "plan": ("chatsync.cli.plan", "plan", "Show what apply would change in the live app (read-only)."),
    "schema": ("chatsync.cli.validate", "schema",
               "Print the JSON Schema of the config files (for editors: yaml-language-server)."),
    "show": ("chatsync.cli.show", "show",
             "Print a plan saved with plan --out (offline: no key, no network)."),
    "validate": ("chatsync.cli.validate", "validate",
                 "Check config files offline (schema and rules; no network)."),
}


class LazyCommands(MutableMapping[str, click.Command]):
    """The group's commands, each imported (and given the global flags) when first looked up."""

    def __init__(self, table: dict[str, tuple[str, str, str]]) -> None:
        self._table = table
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        command = self._loaded.get(name)
        if command is None:
            if name not in self._table:
                raise KeyError(name)
            module, attribute, _ = self._table[name]
            loaded = getattr(importlib.import_module(module), attribute)
            if not isinstance(loaded, click.Command):
                raise TypeError(f"{module}.{attribute} is not a click command")
            command = self._loaded[name] = global_flags(loaded)
        return command

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._loaded.pop(name, None)
        self._table = {key: value for key, value in self._table.items() if key != name}

    def __contains__(self, name: object) -> bool:
        return name in self._loaded or name in self._table

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(set(self._table) | set(self._loaded)))

    def __len__(self) -> int:
        return len(set(self._table) | set(self._loaded))

    def short_help(self, name: str, limit: int = 45) -> str:
        """The command's line in the command list, without importing it if it is not loaded yet."""
        if name in self._loaded:
            return self._loaded[name].get_short_help_str(limit)
        return click.Command(name, help=self._table[name][2]).get_short_help_str(limit)


class UsageProblem(click.ClickException):
    """A usage error (an unknown flag or command, a missing argument, a bad choice): click's message
    and where help is, on two lines of stderr, and exit 1 like every other error. Never click's 2,
    which ``plan --detailed-exitcode`` means "changes present"."""

    exit_code = 1

    def __init__(self, error: click.UsageError, command_path: str) -> None:
        super().__init__(error.format_message())
        self.command_path = error.ctx.command_path if error.ctx is not None else command_path

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {visible(self.format_message())}", file=file, err=file is None)
        click.echo(f"Try '{visible(self.command_path)} --help' for help.", file=file, err=file is None)


class ChatsyncGroup(click.Group):
    """A click group that turns user errors into one or two lines on stderr and an exit code, and
    loads each command's module only when the command runs."""

    commands: LazyCommands

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = LazyCommands(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = list(self.commands)
        limit = formatter.width - 6 - max(len(name) for name in names)
        with formatter.section("Commands"):
            formatter.write_dl([(name, self.commands.short_help(name, limit)) for name in names])

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        items = [CompletionItem(name, help=self.commands.short_help(name, 45))
                 for name in self.commands if name.startswith(incomplete)]
        return items + click.Command.shell_complete(self, ctx, incomplete)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args and not ctx.resilient_parsing:  # bare `chatsync`: its help, as --help prints it
            click.echo(ctx.get_help())
            ctx.exit(0)
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise UsageProblem(exc, ctx.command_path) from None

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        ctx.meta["chatsync.command"] = name  # for a usage error click raises without its context
        return name, command, rest

    def invoke(self, ctx: click.Context) -> object:
        no_collection_at_exit()
        try:
            with _terminate_as_interrupt():
                return super().invoke(ctx)
        except click.UsageError as exc:  # the command's own flags, or a command that does not exist
            name = ctx.meta.get("chatsync.command")
            raise UsageProblem(exc, f"{ctx.command_path} {name}" if name else ctx.command_path) from None
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
@click.version_option(VERSION, "--version", prog_name="chatsync")
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
      chatsync fmt                 rewrite config files in one form, keeping comments
      chatsync emulator            run a local stand-in for the Chat REST API

    \b
    -v, --debug and --no-color may also follow the command: chatsync plan -v
    Exit codes: 0 success; 1 any error, a usage error too (an unknown flag or command, a
    missing argument); 2 only from plan --detailed-exitcode (changes present); 130 or 143
    when stopped by Ctrl-C or SIGTERM (the emulator exits 0). Each command's --help says more.
    Shell completion: eval "$(_CHATSYNC_COMPLETE=bash_source chatsync)" (zsh_source, fish_source).
    """
