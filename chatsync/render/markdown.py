"""The Markdown plan, for a pull-request comment (docs/contract.md §3).

The first line is the marker ``<!-- chatsync-plan -->`` (CI finds its own comment by it and edits
it in place), then the summary line, then a table of changes, folded in ``<details>`` when long.
Every value from the config or the live app passes :func:`chatsync.text.safe.markdown`, so a
nickname or an id cannot inject Markdown or HTML, mention anyone, reference an issue, make a link
or break the table. The whole text never exceeds :data:`MAX_CHARS`: rows that do not fit are
left out, with a note saying how many of each action. The plan lists deletes, then updates, then
creates (:func:`chatsync.domain.plan.review_order`), so a cut leaves out creates before any update or
delete; if even deletes are left out, a line at the top of the comment says how many.
"""

from __future__ import annotations

from collections.abc import Mapping

from chatsync.domain.plan import Change, Plan
from chatsync.render.style import NO_CHANGES, SYMBOLS, calls_sentence, estimate_sentence, field_lines
from chatsync.text.redact import redact_url
from chatsync.text.safe import markdown, markdown_code

MARKER = "<!-- chatsync-plan -->"
MAX_CHARS = 60_000
FOLD_AFTER = 20  # more changes than this go inside <details>
_RESERVE = 600  # room kept for the closing lines and the "left out" note
ACTIONS_SHOWN = ("delete", "update", "create")  # the plan's order, and the note's


def render(plan: Plan, color: bool = False) -> str:
    """The plan as a Markdown comment (``color`` is ignored)."""
    kept: list[str] = []
    if plan.kept:
        kept = ["", "Kept (not deleted): " + ", ".join(
            f"{k.kind} {_code(k.user_id)} ({_cell(k.reason)})" for k in plan.kept)]
    room = MAX_CHARS - _RESERVE - _length(_head(plan, {"delete": len(plan.changes)})) - _length(kept)
    body, left = _table(plan.changes, budget=room) if plan.changes else ([], {})
    text = "\n".join(_head(plan, left) + body + kept).rstrip("\n") + "\n"
    return text[:MAX_CHARS]  # the budget already holds; this is a last guard


def _head(plan: Plan, left: Mapping[str, int]) -> list[str]:
    """The marker, the summary, why it cannot be applied, deletes the table leaves out, the target."""
    head = [MARKER, f"**{NO_CHANGES if plan.empty else plan.summary_line()}**", ""]
    for reason in plan.errors:  # first, so a reviewer cannot miss why it cannot be applied
        head.append(f"> **Error: this plan cannot be applied.** {_cell(reason)}")
    for reason in plan.unsafe_reasons:
        head.append(f"> **Unsafe: apply needs --force.** {_cell(reason)}")
    if left.get("delete"):  # a delete nobody sees must at least be counted where everybody looks
        head.append(f"> **{_count(left['delete'], 'delete')} not shown here:** this comment holds at "
                    f"most {MAX_CHARS:,} characters. Run `chatsync plan` or see the JSON plan for every one.")
    if head[-1] != "":
        head.append("")
    # code spans: no autolink, and the URL copies as written
    where = f"For app {markdown_code(str(plan.sdkappid))} at {markdown_code(redact_url(plan.endpoint))}."
    head += [f"{where} {estimate_sentence(plan)} {calls_sentence(plan)}" if not plan.empty else where, ""]
    for warning in plan.warnings:
        head.append(f"> **Warning:** {_cell(warning)}")
    if plan.warnings:
        head.append("")
    return head


def _table(changes: list[Change], budget: int) -> tuple[list[str], dict[str, int]]:
    """The table of as many changes as ``budget`` holds, in plan order (deletes, updates, creates),
    and how many of each action it leaves out."""
    folded = len(changes) > FOLD_AFTER
    rows = []
    used = _length(["| | object | fields |", "|---|---|---|"]) + 120  # the table head and <details>
    for change in changes:
        row = _row(change)
        if used + len(row) + 1 > budget:
            break
        rows.append(row)
        used += len(row) + 1
    left = dict.fromkeys(ACTIONS_SHOWN, 0)
    for change in changes[len(rows):]:
        left[change.action] += 1
    lines = []
    if folded:
        label = f"Show all {len(rows)} changes" if len(rows) == len(changes) else \
            f"Show {len(rows)} of {len(changes)} changes"
        lines += ["<details>", f"<summary>{label}</summary>", ""]
    lines += ["| | object | fields |", "|---|---|---|", *rows]
    counts = [_count(n, action) for action, n in left.items() if n]
    if counts:
        listed = counts[0] if len(counts) == 1 else ", ".join(counts[:-1]) + " and " + counts[-1]
        lines += ["", f"*{listed} left out: a comment holds at most {MAX_CHARS:,} characters. "
                      "Run `chatsync plan` or see the JSON plan for all of them.*"]
    if folded:
        lines += ["", "</details>"]
    return lines, left


def _count(number: int, action: str) -> str:
    """``1 delete``, ``45,213 creates``."""
    return f"{number:,} {action}{'' if number == 1 else 's'}"


def _row(change: Change) -> str:
    fields = "<br>".join(f"{name}: {_cell(shown)}" for name, shown in field_lines(change))
    if change.note:
        fields = (fields + "<br>" if fields else "") + f"*{_cell(change.note)}*"
    return f"| {SYMBOLS[change.action]} {change.action} | {change.kind} {_code(change.user_id)} | {fields} |"


def _cell(text: str) -> str:
    """``text`` safe inside a table cell (:func:`chatsync.text.safe.markdown`)."""
    return markdown(text)


def _code(text: str) -> str:
    return f"<code>{_cell(text)}</code>"


def _length(lines: list[str]) -> int:
    return sum(len(line) + 1 for line in lines)
