"""The Markdown plan, for a pull-request comment (docs/contract.md §3).

The first line is the marker ``<!-- chatsync-plan -->`` (CI finds its own comment by it and edits
it in place), then the summary line, then a table of changes, folded in ``<details>`` when long.
Every value from the config or the live app passes :func:`chatsync.safe_text.markdown`, so a
nickname or an id cannot inject Markdown or HTML, mention anyone, reference an issue, make a link
or break the table. The whole text never exceeds :data:`MAX_CHARS`: rows that do not fit are
left out, with a note saying how many.
"""

from __future__ import annotations

from chatsync.plans import Change, Plan
from chatsync.redact import redact_url
from chatsync.render.style import NO_CHANGES, SYMBOLS, calls_sentence, estimate_sentence, field_lines
from chatsync.safe_text import markdown, markdown_code

MARKER = "<!-- chatsync-plan -->"
MAX_CHARS = 60_000
FOLD_AFTER = 20  # more changes than this go inside <details>
_RESERVE = 600  # room kept for the closing lines and the "left out" note


def render(plan: Plan, color: bool = False) -> str:
    """The plan as a Markdown comment (``color`` is ignored)."""
    head = [MARKER, f"**{NO_CHANGES if plan.empty else plan.summary_line()}**", ""]
    for reason in plan.errors:  # first, so a reviewer cannot miss why it cannot be applied
        head.append(f"> **Error: this plan cannot be applied.** {_cell(reason)}")
    for reason in plan.unsafe_reasons:
        head.append(f"> **Unsafe: apply needs --force.** {_cell(reason)}")
    if plan.errors or plan.unsafe_reasons:
        head.append("")
    # code spans: no autolink, and the URL copies as written
    where = f"For app {markdown_code(str(plan.sdkappid))} at {markdown_code(redact_url(plan.endpoint))}."
    head += [f"{where} {estimate_sentence(plan)} {calls_sentence(plan)}" if not plan.empty else where, ""]
    for warning in plan.warnings:
        head.append(f"> **Warning:** {_cell(warning)}")
    if plan.warnings:
        head.append("")
    kept: list[str] = []
    if plan.kept:
        kept = ["", "Kept (never deleted): " + ", ".join(
            f"{k.kind} {_code(k.user_id)} ({_cell(k.reason)})" for k in plan.kept)]
    body: list[str] = []
    if plan.changes:
        body += _table(plan.changes, budget=MAX_CHARS - _RESERVE - _length(head) - _length(kept))
    text = "\n".join(head + body + kept).rstrip("\n") + "\n"
    return text[:MAX_CHARS]  # the budget already holds; this is a last guard


def _table(changes: list[Change], budget: int) -> list[str]:
    folded = len(changes) > FOLD_AFTER
    rows = []
    used = _length(["| | object | fields |", "|---|---|---|"]) + 120  # the table head and <details>
    for change in changes:
        row = _row(change)
        if used + len(row) + 1 > budget:
            break
        rows.append(row)
        used += len(row) + 1
    left = len(changes) - len(rows)
    lines = []
    if folded:
        label = f"Show all {len(rows)} changes" if not left else f"Show {len(rows)} of {len(changes)} changes"
        lines += ["<details>", f"<summary>{label}</summary>", ""]
    lines += ["| | object | fields |", "|---|---|---|", *rows]
    if left:
        lines += ["", f"*{left} more change{'s' if left != 1 else ''} left out: a comment holds at most "
                      f"{MAX_CHARS:,} characters. Run `chatsync plan` or see the JSON plan for all of them.*"]
    if folded:
        lines += ["", "</details>"]
    return lines


def _row(change: Change) -> str:
    fields = "<br>".join(f"{name}: {_cell(shown)}" for name, shown in field_lines(change))
    if change.note:
        fields = (fields + "<br>" if fields else "") + f"*{_cell(change.note)}*"
    return f"| {SYMBOLS[change.action]} {change.action} | {change.kind} {_code(change.user_id)} | {fields} |"


def _cell(text: str) -> str:
    """``text`` safe inside a table cell (:func:`chatsync.safe_text.markdown`)."""
    return markdown(text)


def _code(text: str) -> str:
    return f"<code>{_cell(text)}</code>"


def _length(lines: list[str]) -> int:
    return sum(len(line) + 1 for line in lines)
