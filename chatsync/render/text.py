"""The text plan (the default): Terraform-like ``+ ~ -`` lines, ``old -> new`` per field, and the
summary line ``Plan: X to create, Y to update, Z to delete.`` (docs/contract.md §3)."""

from __future__ import annotations

from collections.abc import Iterator

import click

from chatsync.domain.plan import Plan
from chatsync.render.style import (
    COLORS,
    NO_CHANGES,
    SYMBOLS,
    calls_sentence,
    estimate_sentence,
    field_lines,
    header,
    quoted,
    target,
)
from chatsync.text.safe import visible


def render(plan: Plan, color: bool = False) -> str:
    """The plan as text; ANSI colours only when ``color`` is true (:func:`lines`, joined)."""
    return "\n".join(lines(plan, color)) + "\n"


def lines(plan: Plan, color: bool = False) -> Iterator[str]:
    """The lines of the text plan, one by one (a plan of 100,000 changes is never one string).

    First which app it is for, then (before anything else) why it cannot be applied as it is,
    then the changes in the plan's order (deletes, updates, creates), the summary line and the
    estimate."""
    yield f"Plan for {target(plan)}"
    yield ""
    lines: list[str] = []
    for error in plan.errors:
        lines.append(_styled(f"Error: {visible(error)}", color))
    for reason in plan.unsafe_reasons:
        lines.append(_styled(f"Unsafe: {visible(reason)}", color))
    if plan.errors or plan.unsafe_reasons:
        lines.append("")
    deletes = [c for c in plan.changes if c.action == "delete"]
    note_column = max((len(header(c)) for c in deletes), default=0) + 3
    yield from lines
    lines.clear()
    for change in plan.changes:
        title = f"  {SYMBOLS[change.action]} {header(change)}"
        if change.note:
            title = f"{title:<{note_column + 4}}({visible(change.note)})"
        yield click.style(title, fg=COLORS[change.action]) if color else title
        fields = field_lines(change)
        width = max((len(name) for name, _ in fields), default=0) + 1  # values line up in a change
        for name, shown in fields:
            yield f"        {name + ':':<{width}} {shown}"
    for kept in plan.kept:
        lines.append(f"  # {kept.kind} {quoted(kept.user_id)} kept: {visible(kept.reason)}")
    if plan.changes or plan.kept:
        lines.append("")
    if plan.empty:
        lines.append(NO_CHANGES)
    else:
        lines.append(plan.summary_line())
        lines.append(estimate_sentence(plan))
        if calls_sentence(plan):
            lines.append(calls_sentence(plan))
    for warning in plan.warnings:
        lines.append(f"Warning: {visible(warning)}")
    yield from lines


def _styled(line: str, color: bool) -> str:
    return click.style(line, fg="red", bold=True) if color else line
