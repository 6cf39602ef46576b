"""``chatsync validate`` and ``chatsync schema``: offline checks of the desired-state files."""

from __future__ import annotations

import os
import sys

import click

from chatsync.cli.common import follow_symlinks_option
from chatsync.cli.tuning import no_cyclic_gc

VALIDATE_EPILOG = """\b
Examples:
  chatsync validate                      # chatsync.yaml in this directory
  chatsync validate bots envs/prod       # a shared directory plus an environment
  chatsync validate --format github      # in a GitHub Actions step: problems on the diff
  chatsync validate --format gitlab > gl-code-quality-report.json   # a GitLab Code Quality report
\b
Formats: text lists every problem as file:line:column on stderr. github prints each as a workflow
command (::error file=...,line=...,col=...::...), paths relative to $GITHUB_WORKSPACE (else this
directory), at most 10 (GitHub keeps 10 per step) then a ::notice:: with how many more. gitlab
writes a Code Quality report (a JSON array, [] when valid) to stdout, paths relative to
$CI_PROJECT_DIR (else this directory).
\b
Exit codes: 0 valid; 1 invalid (in every format), or a usage error.
"""

FORMATS = ("text", "github", "gitlab")


@click.command(epilog=VALIDATE_EPILOG)
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True,
              help="How to report problems: text, GitHub workflow commands, or a GitLab Code Quality report.")
@follow_symlinks_option
def validate(paths: tuple[str, ...], output_format: str, follow_symlinks: bool) -> None:
    """Check config files offline (schema and rules; no network).

    PATHS are files or directories (their *.yaml / *.yml, in name order); the default is
    chatsync.yaml. Every problem is listed as file:line:column. Exit 0 when valid, 1 when not.
    """
    from chatsync.config import ConfigError, load  # here: `chatsync validate --help` needs no schema

    if output_format == "text":
        # A ConfigError is reported by the command group: every problem, exit 1.
        with no_cyclic_gc():
            state = load(paths, follow_symlinks=follow_symlinks)
        click.echo(f"Valid: {state.summary()}.")
        return
    from chatsync.render import problems as report

    try:
        with no_cyclic_gc():
            state = load(paths, follow_symlinks=follow_symlinks)
    except ConfigError as exc:
        count = len(exc.problems)
        if output_format == "github":
            root = os.environ.get("GITHUB_WORKSPACE") or os.getcwd()
            click.echo("\n".join(report.github(exc.problems, root)))
        else:
            root = os.environ.get("CI_PROJECT_DIR") or os.getcwd()
            click.echo(report.gitlab(exc.problems, root), nl=False)
        click.echo(f"{count} problem{'s' if count != 1 else ''} found.", err=True)
        sys.exit(1)
    if output_format == "gitlab":
        click.echo(report.gitlab([], os.getcwd()), nl=False)
        click.echo(f"Valid: {state.summary()}.", err=True)  # stdout is the report alone
    else:
        click.echo(f"Valid: {state.summary()}.")


@click.command(epilog="\b\nExample:\n  chatsync schema > chatsync.schema.json")
def schema() -> None:
    """Print the JSON Schema of the config files (for editors: yaml-language-server)."""
    from chatsync.config import schema_text

    click.echo(schema_text(), nl=False)


COMMANDS: list[click.Command] = [validate, schema]
