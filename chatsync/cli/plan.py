"""``chatsync plan``: read the live app, diff it against the config, show the plan (a shell over
:mod:`chatsync.api`)."""

from __future__ import annotations

import sys

import click

from chatsync.cli.common import (
    follow_symlinks_option,
    loaded,
    notify_option,
    parallelism_option,
    reading,
    write_atomically,
)
from chatsync.cli.flags import use_color
from chatsync.cli.tuning import no_cyclic_gc

EPILOG = """\b
Examples:
  chatsync plan                              # chatsync.yaml in this directory
  chatsync plan envs/prod --out plan.json    # save it for: chatsync apply --plan plan.json
  chatsync plan --format markdown > plan.md  # a pull-request comment
  chatsync plan --detailed-exitcode          # exit 2 when there are changes
  chatsync plan --notify --out plan.json     # members added to groups are announced
\b
Exit codes: 0 success (with --detailed-exitcode: no changes); 1 an error, an unsafe plan without
--force, or a usage error (an unknown flag, a missing argument); 2 changes present (with
--detailed-exitcode; nothing else exits 2).
"""


@click.command(epilog=EPILOG)
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--format", "output_format", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True, help="How to print the plan.")
@click.option("--out", "out_file", metavar="PLAN.json", help="Also save the plan as JSON, for apply --plan.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes, 0 when none.")
@click.option("--force", is_flag=True, help="Accept a plan that deletes more than app.max_deletes.")
@notify_option
@parallelism_option
@follow_symlinks_option
def plan(paths: tuple[str, ...], output_format: str, out_file: str | None, detailed_exitcode: bool,
         force: bool, notify: bool, parallelism: int, follow_symlinks: bool) -> None:
    """Show what apply would change in the live app (read-only).

    Reads the bot list, checks the declared accounts in batches of 100 and reads the profiles of
    existing objects with managed fields; nothing is written. An unsafe plan is still printed in
    full (and saved with --out), marked unsafe at the top, and exits 1.
    """
    from chatsync.api import check_applicable, plan_with  # here: `plan --help` needs none
    from chatsync.render import json_plan, write

    with loaded(paths, parallelism, follow_symlinks) as done, reading(done), no_cyclic_gc():
        # sealed only when it can be saved, so apply --plan can tell an edited file
        result = plan_with(done.api, done.desired, seal=bool(out_file or output_format == "json"),
                           reader=done.reader, notify=notify)
    if out_file:
        write_atomically(out_file, json_plan.render(result))
    write(result, output_format, color=use_color())
    check_applicable(result, force)
    if detailed_exitcode and not result.empty:
        sys.exit(2)

