"""The apply report: text (each failure with its code and hint, then the summary line) and JSON."""

from __future__ import annotations

import click

from chatsync.applier import Report
from chatsync.render.style import SYMBOLS, header
from chatsync.safe_text import json_text as safe_json
from chatsync.safe_text import server_text, visible

STATUS_COLORS = {"ok": "green", "failed": "red", "skipped": "yellow", "partial": "yellow"}


def text(report: Report, color: bool = False) -> str:
    """One line per change, the failures' hints, and ``Apply complete: ...``."""
    lines = []
    for outcome in report.outcomes:
        change = outcome.change
        status: str = outcome.status
        if outcome.status == "failed":
            code = f" {outcome.error_code}" if outcome.error_code is not None else ""
            status = f"failed{code}: {server_text(outcome.error_info)}"
            if outcome.state:
                status += f" ({outcome.state})"
        elif outcome.status in ("skipped", "partial"):
            status = f"{outcome.status}: {server_text(outcome.error_info)}"
        line = f"  {SYMBOLS[change.action]} {header(change)}  {status}"
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
        lines.append(f"{report.counts['skipped']} skipped: not started, or stopped before a success.")
    if report.counts.get("partial"):
        lines.append(f"{report.counts['partial']} partly done: created, but not every field set yet.")
    return "\n".join(lines) + "\n"


def json_text(report: Report) -> str:
    """:attr:`Report.data` as indented JSON (control and bidi characters as ``\\u`` escapes)."""
    return safe_json(report.data) + "\n"
