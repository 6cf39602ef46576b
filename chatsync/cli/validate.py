"""``chatsync validate`` and ``chatsync schema``: offline checks of the desired-state files."""

from __future__ import annotations

import click

VALIDATE_EPILOG = """\b
Examples:
  chatsync validate                      # chatsync.yaml in this directory
  chatsync validate bots envs/prod       # a shared directory plus an environment
"""


@click.command(epilog=VALIDATE_EPILOG)
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
def validate(paths: tuple[str, ...]) -> None:
    """Check config files offline (schema and rules; no network).

    PATHS are files or directories (their *.yaml / *.yml, in name order); the default is
    chatsync.yaml. Every problem is listed as file:line:column. Exit 0 when valid, 1 when not.
    """
    from chatsync.config import load  # here, not above: `chatsync validate --help` needs no schema

    state = load(paths)  # a ConfigError is reported by the command group: every problem, exit 1
    click.echo(f"Valid: {state.summary()}.")


@click.command(epilog="\b\nExample:\n  chatsync schema > chatsync.schema.json")
def schema() -> None:
    """Print the JSON Schema of the config files (for editors: yaml-language-server)."""
    from chatsync.config import schema_text

    click.echo(schema_text(), nl=False)


COMMANDS: list[click.Command] = [validate, schema]
