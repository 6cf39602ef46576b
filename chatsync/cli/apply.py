"""``chatsync apply``: make the live app match the config (or apply a reviewed saved plan); a shell
over :mod:`chatsync.api` that adds the prompt, the progress display and the exit codes."""

from __future__ import annotations

import dataclasses
import errno
import os
import sys
import time
from typing import TYPE_CHECKING

import click

from chatsync.cli.common import (
    call_rate,
    connected,
    eta,
    follow_symlinks_option,
    loaded,
    notify_option,
    parallelism_option,
    progress,
    reading,
)
from chatsync.cli.flags import flag, use_color
from chatsync.cli.tuning import no_cyclic_gc
from chatsync.domain.model import DEFAULT_SECRET_KEY_ENV  # light: no HTTP, YAML or schema
from chatsync.errors import ApplyCancelled, ApplyFailed
from chatsync.text.safe import visible

if TYPE_CHECKING:  # the rest is imported when apply runs: `chatsync apply --help` needs none of it
    from chatsync.domain.plan import Plan
    from chatsync.domain.report import Report
    from chatsync.engine.apply import Applier
    from chatsync.engine.plan import Recheck
    from chatsync.tencent.api import ChatApi

EPILOG = """\b
Examples:
  chatsync apply                         # plan, show it, ask for "yes", apply
  chatsync apply envs/prod --auto-approve
  chatsync apply --notify                # members added to groups are announced
  chatsync plan --out plan.json && chatsync apply --plan plan.json
  chatsync apply --plan plan.json --secret-key-env PROD_CHAT_KEY
\b
Exit codes: 0 every planned change done (a saved plan applied again: every change already
done); 1 anything failed, was overwritten by another writer or was refused (the report says
what was done and what was not), or a usage error (an unknown flag, a missing argument); 130
interrupted by Ctrl-C, 143 stopped by SIGTERM (run apply again, or apply --plan with the same
file, to finish). A second Ctrl-C or SIGTERM reports at once; the report is then printed whole
(a signal while it prints waits for it; the third signal abandons it).
"""


@click.command(epilog=EPILOG)
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--plan", "plan_file", metavar="PLAN.json",
              help="Apply this saved plan (no prompt). Re-run with the same file after a stop or a "
                   "fixed failure: what is done is skipped; refused if anything else changed.")
@click.option("--auto-approve", is_flag=True, help="Apply without asking (for CI).")
@click.option("--force", is_flag=True, help="Accept a plan that deletes more than app.max_deletes.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="How to print the report.")
@click.option("--secret-key-env", "key_variable", metavar="NAME",
              help=f"With --plan: the variable holding the app's secret key, which checks the plan's "
                   f"seal and signs the calls [default: {DEFAULT_SECRET_KEY_ENV}]. Never taken from "
                   "the plan file.")
@notify_option
@parallelism_option
@follow_symlinks_option
def apply(paths: tuple[str, ...], plan_file: str | None, auto_approve: bool, force: bool, output_format: str,
          key_variable: str | None, notify: bool, parallelism: int, follow_symlinks: bool) -> None:
    """Make the live app match the config: create, update and delete bots, accounts and groups.

    Without --auto-approve the plan is shown and applied only after you type yes (on a terminal;
    elsewhere apply refuses). Failed changes fail alone; the report lists each with its code.
    """
    from chatsync.api import check_applicable, plan_with
    from chatsync.engine.plan import recheck
    from chatsync.errors import ApplyRefused, StalePlan
    from chatsync.render import write
    from chatsync.render.report import json_text

    color = use_color()
    if plan_file is not None:
        if paths:
            raise ApplyRefused("--plan takes no PATH: the plan file holds everything apply needs")
        if notify:
            raise ApplyRefused("--notify goes with a config, not --plan: the saved plan says, per change, "
                               "whether members are announced (make it with plan --notify --out FILE)")
        key_variable = key_variable or DEFAULT_SECRET_KEY_ENV
        saved = read_plan(plan_file, key_variable)
        check_applicable(saved, force)
        app = dataclasses.replace(saved.app, secret_key_env=key_variable)  # never the file's variable
        with connected(app, parallelism) as api:
            with progress("Checking the plan is current", call_rate(api.client)):
                resume = recheck(api, saved)
            if resume.stale:
                for line in resume.stale[:20]:
                    click.echo(f"  {visible(line)}", err=True)
                raise StalePlan(resume.stale)
            run(api, saved, output_format, color, resume)  # the report out before calls in flight end
    else:
        if key_variable:
            raise ApplyRefused("--secret-key-env goes with --plan; without it the config names the "
                               "variable (app.secret_key_env)")
        with loaded(paths, parallelism, follow_symlinks) as done:
            api = done.api
            with reading(done), no_cyclic_gc():
                planned = plan_with(api, done.desired, seal=False, reader=done.reader,  # applied, never saved
                                    notify=notify)
            shown = sys.stdout if output_format == "text" else sys.stderr
            if planned.empty:
                write(planned, "text", color=color, file=shown)
                if output_format == "json":
                    from chatsync.domain.report import Report

                    click.echo(json_text(Report([])), nl=False)
                return
            if not auto_approve or output_format == "text":
                write(planned, "text", color=color, file=shown)
                click.echo("", file=shown)
            check_applicable(planned, force)
            if not auto_approve:
                approve(planned)
            run(api, planned, output_format, color)


def read_plan(path: str, key_variable: str) -> Plan:
    """The saved plan at ``path``, sealed with the key in ``key_variable`` and for this endpoint
    (:func:`chatsync.api.read_plan`)."""
    from chatsync.api import read_plan as read_saved_plan

    return read_saved_plan(path, key_variable=key_variable, key_option="--secret-key-env NAME")


def interactive() -> bool:
    """True when a person can answer the prompt (standard input is a terminal)."""
    return sys.stdin.isatty()


def approve(planned: Plan) -> None:
    """Ask for ``yes`` on a terminal; refuse without one."""
    from chatsync.errors import ApplyRefused
    from chatsync.render.style import target

    if not interactive():
        raise ApplyRefused("apply needs approval and there is no terminal to ask: pass --auto-approve "
                           "(or apply a reviewed plan with --plan FILE)")
    try:
        answer = click.prompt(f"Apply these changes to {target(planned)}? Only 'yes' is accepted",
                              default="", show_default=False, err=True)
    except click.Abort:  # Ctrl-C or Ctrl-D at the prompt
        click.echo("", err=True)  # end the prompt's line
        raise ApplyCancelled() from None
    if answer.strip() != "yes":
        raise ApplyCancelled()


def run(api: ChatApi, planned: Plan, output_format: str, color: bool, resume: Recheck | None = None) -> None:
    """Apply ``planned`` (what ``resume`` found done skipped) with a progress display on stderr: the
    changes really done so far (not those skipped or not started), ending with how the run ended;
    then print the report and pick the exit code (:func:`finish`). Ctrl-C and SIGTERM stop the run
    honestly and then wait for the report (:meth:`Applier.signals`), so it is always whole."""
    from chatsync.engine.apply import Applier

    applier = Applier(api, planned, resume)
    started = time.monotonic()
    already = applier.already_done

    def status(final: bool) -> str:
        finished, total, failed = applier.progress()
        left = "" if final else eta(finished - already, total - already, time.monotonic() - started)
        return f"{finished}/{total} changes, {failed} failed, {call_rate_text(True)}{left}"

    call_rate_text = call_rate(api.client)
    with applier.signals():  # Ctrl-C, twice, SIGTERM: a true report, printed whole
        with progress("Applying", status) as phase:
            report = applier.run()
            phase.ending = {"complete": "done"}.get(report.ended, report.ended)
        finish(report, output_format, color, applier)


def finish(report: Report, output_format: str, color: bool, applier: Applier) -> None:
    """Print the report and pick the exit code: 130 or 143 when a stop signal came, even one that
    came while the report was printed (:attr:`Applier.exit_code`). A closed standard output (``apply |
    head``, a pager quit, Ctrl-C on ``apply | cat``) gets the summary line on stderr instead."""
    from chatsync.engine.apply import PrintAbandoned
    from chatsync.render.report import json_text, text

    try:
        if output_format == "json":
            shown = json_text(report)
        else:
            shown = text(report, color=color, verbose=flag("verbose"))
        write_whole(shown)
    except PrintAbandoned:
        _stdout_gone()
        click.echo("Report cut short: a third Ctrl-C or SIGTERM while it was printed. Run chatsync plan "
                   "to see what the app holds.", err=True)
        sys.exit(applier.exit_code or 130)
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        _stdout_gone()
        click.echo(f"{report.summary_line()} (standard output was closed: the report could not be "
                   "printed)", err=True)
    code = applier.exit_code or (130 if report.interrupted else 0)
    if code:
        if not report.interrupted:
            click.echo("Interrupted while the report was printed; the report is whole.", err=True)
        sys.exit(code)
    if not report.ok:
        counts = report.counts
        partial = f", {counts['partial']} partly done" if counts.get("partial") else ""
        raise ApplyFailed(f"{counts['failed']} failed{partial} and {counts['skipped']} skipped of "
                          f"{len(report.outcomes)} changes; fix what the report says, then run apply again")


def write_whole(text: str) -> None:
    """Write ``text`` to standard output whole, through a signal that lands mid-write.

    Through ``sys.stdout``, a signal whose handler returns (one the report waits through) can cut a
    large write to a pipe short without an error: CPython's buffered writer drops the rest of a
    write the kernel took in part. ``os.write`` returns each part's length, and the loop writes the
    rest. Without a file descriptor (output captured in a test), ``click.echo``."""
    stream = sys.stdout
    try:
        descriptor = stream.fileno()
    except (OSError, ValueError, AttributeError):
        click.echo(text, nl=False)
        return
    stream.flush()
    data = memoryview(text.encode(stream.encoding or "utf-8", stream.errors or "strict"))
    while data:
        data = data[os.write(descriptor, data):]


def _stdout_gone() -> None:
    """Point standard output at the null device: what its buffer still holds, and the flush at
    exit, can then neither block on a reader that never reads nor fail on a closed pipe."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
        sys.stdout.flush()
    except (OSError, ValueError, AttributeError):
        pass
