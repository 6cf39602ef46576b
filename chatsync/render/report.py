"""The apply report: text (each failure with its code and hint, then the summary line) and JSON.

Changes skipped or left partly done for the same reason (a thousand changes never started after a
stop), and, in a run that stopped, failures of the same reason (a batch sent to an endpoint that
died), are one line in the text: their count, the reason once, and a few of them by name. In a
run that went to its end each failure has its own line. Changes a resumed saved plan found
already done are folded the same way. ``-v`` lists each; the JSON report always does.
"""

from __future__ import annotations

from collections.abc import Iterable

import click

from chatsync.domain.report import ALREADY_DONE, Outcome, Report
from chatsync.render.style import SYMBOLS, header
from chatsync.text.safe import json_text as safe_json
from chatsync.text.safe import server_text, visible

STATUS_COLORS = {"ok": "green", "failed": "red", "skipped": "yellow", "partial": "yellow"}
#: Statuses whose changes, when several share one reason, are folded into one line (and failures
#: too when the run did not go to its end: they share the one reason it stopped).
FOLDED = ("skipped", "partial")
#: How many of a folded group are named.
NAMED = 3

Key = tuple[str, "int | None", str, str, str]  # status, code, info, state, hint


def text(report: Report, color: bool = False, verbose: bool = False) -> str:
    """One line per change (or per group of changes that ended alike), the failures' hints, and
    the summary line (``Apply complete: ...``, ``Apply stopped: ...``, ``Apply interrupted: ...``)."""
    folded = () if verbose else (*FOLDED, "failed") if report.ended != "complete" else FOLDED
    groups: dict[Key, list[Outcome]] = {}
    for outcome in report.outcomes:
        groups.setdefault(_key(outcome, folded), []).append(outcome)
    lines: list[str] = []
    for outcome in report.outcomes:
        group = groups.get(_key(outcome, folded))
        if group is None:
            continue  # its group was shown where its first member stood
        if len(group) > 1:
            del groups[_key(outcome, folded)]
            line = f"  {len(group):,} {_status(outcome)} ({_named(group)}); -v or --format json lists each"
        else:
            line = f"  {SYMBOLS[outcome.change.action]} {header(outcome.change)}  {_status(outcome)}"
        lines.append(click.style(line, fg=STATUS_COLORS[outcome.status]) if color else line)
        if outcome.status == "failed" and outcome.hint:
            lines.append(f"        {visible(outcome.hint)}")
    if lines:
        lines.append("")
    if report.stopped_by:
        lines.append(f"Stopped: {server_text(report.stopped_by, 500)}")
    if report.abandoned:
        lines.append("Interrupted twice: reported at once; the calls still in flight are marked unknown. "
                     "Run apply again.")
    elif report.interrupted:
        lines.append("Interrupted: calls in flight finished and no new call was started. Run apply again.")
    lines.append(report.summary_line())
    if report.counts["skipped"]:
        lines.append(f"{report.counts['skipped']:,} skipped: not started, or stopped before a success.")
    if report.counts.get("partial"):
        lines.append(f"{report.counts['partial']:,} partly done: created, but not every field set yet.")
    if report.counts.get("already_done"):
        lines.append(f"{report.counts['already_done']:,} already done: the saved plan was applied (in part) "
                     "before; nothing was sent for them.")
    return "\n".join(lines) + "\n"


def _key(outcome: Outcome, folded: tuple[str, ...]) -> Key:
    """What outcomes share to be folded together (outside ``folded`` statuses, each is its own)."""
    if outcome.status not in folded and not (folded and outcome.state == ALREADY_DONE):
        return ("", None, outcome.change.address, "", "")
    return (outcome.status, outcome.error_code, outcome.error_info, outcome.state, outcome.hint)


def _status(outcome: Outcome) -> str:
    """``ok``, ``failed 70398: <why> (<state>)``, ``skipped: <why>``, ``partial: <what is done>``."""
    if outcome.status == "failed":
        code = f" {outcome.error_code}" if outcome.error_code is not None else ""
        state = f" ({visible(outcome.state)})" if outcome.state else ""
        return f"failed{code}: {server_text(outcome.error_info)}{state}"
    if outcome.status in ("skipped", "partial"):
        return f"{outcome.status}: {server_text(outcome.error_info)}"
    if outcome.state == ALREADY_DONE:
        return f"ok: {ALREADY_DONE}, nothing sent"
    return outcome.status


def _named(group: Iterable[Outcome]) -> str:
    """``account "u1", account "u2", account "u3", ...``: the first few of a group."""
    outcomes = list(group)
    names = ", ".join(header(o.change) for o in outcomes[:NAMED])
    return names + (", ..." if len(outcomes) > NAMED else "")


def json_text(report: Report) -> str:
    """:attr:`Report.data` as indented JSON (control and bidi characters as ``\\u`` escapes)."""
    return safe_json(report.data) + "\n"
