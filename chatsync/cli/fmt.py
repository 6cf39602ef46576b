"""``chatsync fmt``: rewrite config files in the canonical form, keeping every comment."""

from __future__ import annotations

import difflib
import sys

import click

from chatsync.cli.common import follow_symlinks_option

EPILOG = """\b
Examples:
  chatsync fmt bots envs                 # rewrite every config file there
  chatsync fmt --check bots envs         # in CI: exit 1, listing the files that would change
  chatsync fmt --diff envs/dev           # show the changes, write nothing
\b
The form: version first; app: and shared: settings in the schema's order; each bot's and account's
fields in the field table's order, then custom, then state; bot ids double-quoted; two spaces per
level. Comments and blank lines stay; so do the order of sections and ids, quotes and anchors. A
file is rewritten only when chatsync reads exactly the same data from the result.
\b
Exit codes: 0 done (or, with --check, nothing to change); 1 a file would change (--check), a file
could not be formatted (each problem is listed), or a usage error.
"""


@click.command(epilog=EPILOG)
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--check", is_flag=True, help="Write nothing; exit 1 listing the files that would change.")
@click.option("--diff", "show_diff", is_flag=True, help="Write nothing; print the changes as a unified diff.")
@follow_symlinks_option
def fmt(paths: tuple[str, ...], check: bool, show_diff: bool, follow_symlinks: bool) -> None:
    """Rewrite config files in the canonical form, keeping every comment.

    PATHS are files or directories (their *.yaml / *.yml); the default is chatsync.yaml.
    """
    from chatsync.cli.common import write_atomically
    from chatsync.config.fmt import format_text
    from chatsync.config.loader import _read_bytes, expand
    from chatsync.errors import ConfigError, Problem
    from chatsync.text.safe import visible

    problems: list[Problem] = []
    files = expand(paths, problems, follow_symlinks=follow_symlinks)
    changed: list[str] = []
    for file in files:
        data = _read_bytes(file)
        if isinstance(data, Problem):
            problems.append(data)
            continue
        formatted, found = format_text(file, data)
        if formatted is None:
            problems.extend(found)
            continue
        before = data.decode("utf-8-sig")
        if formatted == before:
            continue
        changed.append(file)
        if show_diff:
            lines = difflib.unified_diff(before.splitlines(keepends=True),
                                         formatted.splitlines(keepends=True),
                                         f"{file} (as written)", f"{file} (formatted)")
            click.echo("".join(visible(line.rstrip("\n")) + "\n" for line in lines), nl=False)
        elif check:
            click.echo(f"would reformat {visible(file)}")
        else:
            write_atomically(file, formatted)
            click.echo(f"reformatted {visible(file)}", err=True)
    unchanged = len(files) - len(changed) - len({p.location.file for p in problems})
    verb = "would be reformatted" if check or show_diff else "reformatted"
    click.echo(f"{_files(len(changed))} {verb}, {_files(max(unchanged, 0))} left unchanged.", err=True)
    if problems:
        raise ConfigError(problems)
    if check and changed:
        sys.exit(1)


def _files(count: int) -> str:
    return f"{count} file" if count == 1 else f"{count} files"
