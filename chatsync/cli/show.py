"""``chatsync show``: print a saved plan offline, exactly as ``plan`` printed it."""

from __future__ import annotations

import click

from chatsync.cli.flags import use_color

EPILOG = """\b
Examples:
  chatsync show plan.json                      # as text, before: chatsync apply --plan plan.json
  chatsync show plan.json --format markdown    # a pull-request comment
\b
Exit codes: 0 shown; 1 the file cannot be read or is not a chatsync plan, or a usage error.
"""


@click.command(epilog=EPILOG)
@click.argument("plan_file", metavar="PLAN.json", type=click.Path(path_type=str))
@click.option("--format", "output_format", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True, help="How to print the plan.")
def show(plan_file: str, output_format: str) -> None:
    """Print a plan saved with plan --out (offline: no key, no network).

    The output is what plan printed when it made the file. Its safety is worked out again from
    its changes, as apply --plan does; its seal is checked only by apply --plan (that needs the key).
    """
    from chatsync.api import read_plan  # here, not above: `chatsync show --help` needs neither
    from chatsync.render import write

    saved = read_plan(plan_file, sealed=False)
    write(saved, output_format, color=use_color())
