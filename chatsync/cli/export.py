"""``chatsync export``: write the live app as a config file (to adopt an existing app)."""

from __future__ import annotations

from pathlib import Path

import click

from chatsync.cli.common import call_rate, connected, parallelism_option, progress, write_atomically
from chatsync.config import load
from chatsync.errors import ChatsyncError
from chatsync.exporter import export as export_config

EPILOG = """\b
Examples:
  chatsync export --out live.yaml                       # bots + accounts named in chatsync.yaml
  chatsync export envs/prod --accounts-file ids.txt     # also the ids listed one per line
"""


@click.command(epilog=EPILOG)
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--accounts-file", type=click.Path(dir_okay=False, path_type=str),
              help="Also export these accounts: one UserID per line (blank lines and # comments skipped).")
@click.option("--out", "out_file", metavar="FILE", help="Write the config here instead of stdout.")
@parallelism_option
def export(paths: tuple[str, ...], accounts_file: str | None, out_file: str | None, parallelism: int) -> None:
    """Write the live app as a complete config: every live bot, and the accounts named in the
    config or in --accounts-file that exist, with their profiles. The API cannot list all
    accounts, so accounts must be named."""
    desired = load(paths)
    ids = list(desired.accounts)
    if accounts_file:
        ids += read_ids(accounts_file)
    with connected(desired.app, parallelism) as api, progress("Reading the live app", call_rate(api.client)):
        text = export_config(api, desired.app, ids)
    if out_file:
        write_atomically(out_file, text)
    else:
        click.echo(text, nl=False)


def read_ids(path: str) -> list[str]:
    """UserIDs from a file, one per line."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ChatsyncError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
