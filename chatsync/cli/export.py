"""``chatsync export``: write the live app as a config file (to adopt an existing app)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from chatsync.cli.common import (
    call_rate,
    connected,
    follow_symlinks_option,
    parallelism_option,
    progress,
    write_atomically,
)
from chatsync.cli.tuning import no_cyclic_gc
from chatsync.errors import ChatsyncError
from chatsync.text.safe import quoted

EPILOG = """\b
Examples:
  chatsync export --out live.yaml                       # bots + accounts named in chatsync.yaml
  chatsync export envs/prod --accounts-file ids.txt     # also the ids listed one per line
\b
Exit codes: 0 every named account exported; 1 an error (a usage error too), or a named account
that could not be exported (each is listed on stderr with why; --skip-missing makes that no error).
"""

#: Left-out accounts listed one by one on stderr; the rest are counted.
SHOW_LEFT_OUT = 20


@click.command(epilog=EPILOG)
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--accounts-file", type=click.Path(dir_okay=False, path_type=str),
              help="Also export these accounts: one UserID per line (blank lines and # comments skipped).")
@click.option("--out", "out_file", metavar="FILE",
              help="Write the config here instead of stdout (never one of the input files).")
@click.option("--skip-missing", is_flag=True,
              help="Leave out named accounts that do not exist (or are not account ids) without an error.")
@parallelism_option
@follow_symlinks_option
def export(paths: tuple[str, ...], accounts_file: str | None, out_file: str | None, skip_missing: bool,
           parallelism: int, follow_symlinks: bool) -> None:
    """Write the live app as a complete config: every live bot, and the accounts named in the
    config or in --accounts-file that exist, with their profiles. The API cannot list all
    accounts, so accounts must be named."""
    if out_file:
        refuse_overwriting_inputs(out_file, paths, accounts_file)
    from chatsync.api import export_with, load  # here, not above: `export --help` needs neither

    with no_cyclic_gc():
        desired = load(*paths, follow_symlinks=follow_symlinks)
    ids = list(desired.accounts)
    if accounts_file:
        ids += read_ids(accounts_file)
    absent = [a.user_id for a in desired.accounts.values() if not a.present]
    with connected(desired.app, parallelism) as api, progress("Reading the live app", call_rate(api.client)):
        result = export_with(api, desired, ids, absent)
    if out_file:
        write_atomically(out_file, result.text)
    else:
        click.echo(result.text, nl=False)
    if result.left_out:
        report_left_out(result.left_out, error=not skip_missing)


def refuse_overwriting_inputs(out_file: str, paths: tuple[str, ...], accounts_file: str | None) -> None:
    """Refuse an ``--out`` that names one of the files the export reads."""
    from chatsync.config.loader import expand

    inputs = expand(paths, [])
    if accounts_file:
        inputs.append(accounts_file)
    target = os.path.realpath(out_file)
    for name in inputs:
        if os.path.realpath(name) == target:
            raise ChatsyncError(f"--out {out_file} is one of the input files ({name}); write the export "
                                "elsewhere and compare, so the config is not lost")


def report_left_out(left_out: list[tuple[str, str]], *, error: bool) -> None:
    """List the named accounts the export left out, and why, on stderr; an error unless skipped."""
    click.echo(f"Left out of the export ({len(left_out)} named account"
               f"{'s' if len(left_out) != 1 else ''}):", err=True)
    for user_id, why in left_out[:SHOW_LEFT_OUT]:
        click.echo(f"  account {quoted(user_id)} {why}", err=True)
    if len(left_out) > SHOW_LEFT_OUT:
        click.echo(f"  ... and {len(left_out) - SHOW_LEFT_OUT} more", err=True)
    if error:
        raise ChatsyncError(f"{len(left_out)} named account(s) could not be exported (listed above); the "
                            "export holds the rest. Pass --skip-missing to leave them out without an error")


def read_ids(path: str) -> list[str]:
    """UserIDs from a file, one per line."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ChatsyncError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
