"""The plan comment a pull request (GitHub) or merge request (GitLab) shows, one per environment.

The first line is a marker naming the environment, so CI finds its own comment again and edits it
in place. A plan that failed or is unsafe says so on top and says that nothing will be applied; a
run that made no plan (validation failed, a wrong key) shows what chatsync printed, in a code block.
The body never exceeds the forge's limit: the Markdown plan cuts itself (chatsync/render/markdown.py),
and what chatsync printed is clipped to the room left.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chatsync.text.safe import clipped, markdown_code, visible

#: The longest comment each forge keeps (characters), less some room.
GITHUB_LIMIT = 65_000
GITLAB_LIMIT = 999_000
#: An environment's name: what the marker, the heading and artifact names can hold as written.
ENV_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_SHA = re.compile(r"[0-9a-f]{7,64}")
_URL = re.compile(r"https?://[^\s()<>\[\]`\"']+")


def check_env(name: str) -> str:
    """``name`` if it is a usable environment name, else a :class:`ValueError` saying what is."""
    if not ENV_NAME.fullmatch(name):
        raise ValueError(f"environment name {visible(name)!r}: use letters, digits, '_', '.' and '-' "
                         "(at most 64, starting with a letter or digit)")
    return name


def marker(env: str) -> str:
    """The first line of ``env``'s comment."""
    return f"<!-- chatsync-plan: {check_env(env)} -->"


@dataclass(frozen=True)
class PlanRun:
    """What one plan job made: the exit status of ``chatsync plan`` (None when it did not run, e.g.
    validation failed first), its Markdown plan ('' when none), and what chatsync printed on stderr."""

    env: str
    status: int | None
    plan_markdown: str = ""
    printed: str = ""
    details_url: str = ""  # the run or job, for "see the log"
    sha: str = ""  # the commit planned

    @property
    def ok(self) -> bool:
        return self.status == 0


def body(run: PlanRun, *, applies: str, limit: int = GITHUB_LIMIT) -> str:
    """The comment for ``run``; ``applies`` says what applies a good plan (e.g. "merging this pull
    request applies exactly this plan")."""
    link = f" See [the log]({run.details_url})." if _URL.fullmatch(run.details_url) else ""
    head = [marker(run.env), f"### chatsync plan: {run.env}", ""]
    if run.status is None:
        head += [f"> **Error: no plan was made** (the config is not valid, or chatsync failed before "
                 f"planning); nothing will be applied.{link}", ""]
    elif run.status != 0:
        head += [f"> **Error: chatsync plan exited {run.status}**: the plan is unsafe or failed, and "
                 f"will not be applied as it is.{link}", ""]
    sha = f"For {markdown_code(run.sha)}; " if _SHA.fullmatch(run.sha) else ""
    foot = (f"<sub>{sha}{applies}.</sub>" if run.ok
            else f"<sub>{sha}nothing is applied until a plan succeeds.</sub>")
    plan = run.plan_markdown.strip()
    room = limit - sum(len(line) + 1 for line in head) - len(foot) - 200
    if len(plan) > room // 2 and run.printed.strip():
        plan = clipped(plan, max(room // 2, 0))  # a plan from chatsync is already short enough
    elif len(plan) > room:
        plan = clipped(plan, max(room, 0))
    parts = head + ([plan, ""] if plan else [])
    printed = run.printed.strip()
    if printed:
        room -= len(plan)
        parts += ["What chatsync printed:", "", *text_block(printed, room), ""]
    elif not plan:
        parts += [f"_No plan was made._{link}", ""]
    return "\n".join([*parts, foot])


def text_block(text: str, room: int) -> list[str]:
    """``text`` as a fenced code block (lines made visible, clipped to ``room``): nothing in it can
    end the block or render as Markdown."""
    shown = "\n".join(visible(line) for line in clipped(text, max(room - 40, 0)).split("\n"))
    longest = max((len(run) for run in re.findall("`+", shown)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}text", shown, fence]
