"""The report of an apply: every planned change with its outcome, its counts and how the run ended.

Made by the engine (:mod:`chatsync.engine.apply`), shown by :mod:`chatsync.render.report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from chatsync.domain.plan import Change

Status = Literal["ok", "failed", "skipped", "partial", "pending"]
#: A change a resumed saved plan found already made: reported ``ok``, nothing sent for it.
ALREADY_DONE = "already done"


@dataclass
class Outcome:
    """What happened to one planned change."""

    change: Change
    status: Status = "pending"
    error_code: int | None = None
    error_info: str = ""
    hint: str = ""
    attempts: int = 0
    state: str = ""  # what is done of a change not (yet) complete, e.g. IMPORTED_ONLY
    started: bool = False  # a task for it began (its call may be in flight)

    @property
    def data(self) -> dict[str, Any]:
        """The change's JSON form plus ``status``, ``error_code``, ``error_info``, ``attempts`` and
        ``state`` (what is done of a partial or failed change, else None)."""
        return {**self.change.data, "status": self.status, "error_code": self.error_code,
                "error_info": self.error_info, "attempts": self.attempts, "state": self.state or None}


@dataclass
class Report:
    """Every planned change with its outcome, and why the run stopped early, if it did."""

    outcomes: list[Outcome]
    interrupted: bool = False
    stopped_by: str = ""  # the run-stopping failure, if any
    counts: dict[str, int] = field(default_factory=dict)
    exit_code: int = 0  # 130 after Ctrl-C, 143 after SIGTERM, else 0
    abandoned: bool = False  # a second stop: made without waiting for the calls in flight

    def __post_init__(self) -> None:
        self.recount()

    def recount(self) -> None:
        """Refresh :attr:`counts` from the outcomes."""
        done = {"create": 0, "update": 0, "delete": 0}
        failed = skipped = partial = already = 0
        for outcome in self.outcomes:
            if outcome.status == "ok" and outcome.state == ALREADY_DONE:
                already += 1
            elif outcome.status == "ok":
                done[outcome.change.action] += 1
            elif outcome.status == "failed":
                failed += 1
            elif outcome.status == "partial":
                partial += 1
            else:
                skipped += 1
        self.counts = {"created": done["create"], "updated": done["update"], "deleted": done["delete"],
                       "failed": failed, "skipped": skipped, "partial": partial, "already_done": already}

    @property
    def ok(self) -> bool:
        """True when every planned change succeeded."""
        return all(outcome.status == "ok" for outcome in self.outcomes)

    @property
    def ended(self) -> str:
        """How the run ended: ``complete`` (every change was attempted), ``interrupted`` (Ctrl-C or
        SIGTERM) or ``stopped`` (a failure that would hit every call)."""
        if self.interrupted or self.abandoned:
            return "interrupted"
        return "stopped" if self.stopped_by else "complete"

    def summary_line(self) -> str:
        """``Apply complete: X created, Y updated, Z deleted, F failed.`` (or ``Apply interrupted:`` /
        ``Apply stopped:`` in the same shape, when not every change was attempted), with ``, P partly
        done`` and `` (N already done)`` (changes a resumed saved plan found made) when there are any."""
        c = self.counts
        partial = f", {c['partial']} partly done" if c.get("partial") else ""
        already = f" ({c['already_done']} already done)" if c.get("already_done") else ""
        return f"Apply {self.ended}: {c['created']} created, {c['updated']} updated, {c['deleted']} " \
               f"deleted, {c['failed']} failed{partial}{already}."

    @property
    def data(self) -> dict[str, Any]:
        """The JSON report (``apply --format json``)."""
        return {"format_version": "1", "changes": [o.data for o in self.outcomes],
                "summary": dict(self.counts), "ended": self.ended, "interrupted": self.interrupted,
                "abandoned": self.abandoned,
                "stopped_by": self.stopped_by or None}
