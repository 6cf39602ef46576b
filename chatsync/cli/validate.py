"""``chatsync validate`` and ``chatsync schema``: offline checks of the desired-state files."""

from __future__ import annotations

import os
import sys

import click

from chatsync.cli.common import follow_symlinks_option
from chatsync.cli.tuning import no_cyclic_gc
from chatsync.text.safe import visible

VALIDATE_EPILOG = """\b
Examples:
  chatsync validate                      # chatsync.yaml in this directory
  chatsync validate bots envs/prod       # a shared directory plus an environment
  chatsync validate --format github      # in a GitHub Actions step: problems on the diff
  chatsync validate --format gitlab > gl-code-quality-report.json   # a GitLab Code Quality report
  chatsync validate --show bots envs/dev # the effective config, each value with where it came from
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
@click.option("--show", is_flag=True,
              help="Print the effective config on stdout: the one config the files, shared settings and "
                   "overrides make, each value with the file:line:column it came from (text format only).")
@follow_symlinks_option
def validate(paths: tuple[str, ...], output_format: str, show: bool, follow_symlinks: bool) -> None:
    """Check config files offline (schema and rules; no network).

    PATHS are files or directories (their *.yaml / *.yml, in name order); the default is
    chatsync.yaml. Every problem is listed as file:line:column. Exit 0 when valid, 1 when not.
    """
    from chatsync.config import ConfigError, load  # here: `chatsync validate --help` needs no schema

    if show:
        if output_format != "text":
            raise click.UsageError("--show prints the effective config; it goes with --format text only")
        from chatsync.config import effective

        state = load(paths, follow_symlinks=follow_symlinks)
        for line in effective.lines(state, paths):
            click.echo(line)
        click.echo(f"Valid: {state.summary()}.", err=True)  # stdout is the config alone
        return
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


SCHEMA_EPILOG = """\b
Examples:
  chatsync schema --out chatsync.schema.json    # a copy inside your config repository
\b
Then point each config file at that copy with its first line (a path relative to the file):
  # yaml-language-server: $schema=../chatsync.schema.json
A copy in the repository keeps working once the repository is cloned elsewhere; run the command
again after upgrading chatsync (commit the result).
"""


@click.command(epilog=SCHEMA_EPILOG)
@click.option("--out", "out_file", metavar="FILE",
              help="Write the schema to FILE (atomically) instead of stdout.")
def schema(out_file: str | None) -> None:
    """Print the JSON Schema of the config files (for editors: yaml-language-server)."""
    from chatsync.config import schema_text

    if out_file:
        from chatsync.cli.common import write_atomically

        write_atomically(out_file, schema_text())
        click.echo(f"Wrote {visible(out_file)}.", err=True)
        return
    click.echo(schema_text(), nl=False)


COMMANDS: list[click.Command] = [validate, schema]
