"""Every exception chatsync raises for a user to act on, in one module (as httpx keeps its own):
each one's text is the message the command line prints (one or two lines, no traceback), and
``chatsync`` exports them all. The records a :class:`ConfigError` carries (:class:`Location`,
:class:`Problem`) are here too, so that every layer can raise it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from chatsync.facts import error_codes as errors
from chatsync.text.safe import server_text, visible


class ChatsyncError(Exception):
    """An error the user can act on. Its text is shown as is (one or two lines, no traceback)."""

    exit_code = 1

    def report(self) -> list[str]:
        """The lines to print on stderr."""
        return [f"Error: {self}"]


# -- Where a problem is -----------------------------------------------------------------------------


@dataclass(frozen=True, order=True, slots=True)
class Location:
    """Where something was written: a file and a 1-based line and column.

    ``line == 0`` means the file as a whole (it could not be read, or does not exist); such a
    location prints as the file name alone.
    """

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


# -- The config -------------------------------------------------------------------------------------


class Problem(NamedTuple):
    """One thing wrong with the config: where it is, and what is wrong and what to do; ``check``
    names its kind (one of :mod:`chatsync.config.checks`; '' until the loader tags it)."""

    location: Location
    message: str
    check: str = ""

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"

    def of_kind(self, check: str) -> Problem:
        """This problem, of kind ``check`` unless it already has one."""
        return self if self.check else self._replace(check=check)


def dedupe(problems: Iterable[Problem], files: Sequence[str] = ()) -> list[Problem]:
    """Problems in file order, then by place, each reported once.

    ``files`` is the order the files were given (directories expanded); files it does not name
    follow, in the order their first problem was found.
    """
    seen: set[tuple[Location, str]] = set()
    unique = []
    for problem in problems:
        said = (problem.location, problem.message)  # found by two checks: reported once, as the first
        if said not in seen:
            seen.add(said)
            unique.append(problem)
    names = dict.fromkeys([*files, *(p.location.file for p in unique)])
    order = {file: i for i, file in enumerate(names)}
    return sorted(unique, key=lambda p: (order[p.location.file], p.location.line, p.location.column))


class ConfigError(ChatsyncError):
    """The config is invalid. ``problems`` lists every problem found, each with its location."""

    def __init__(self, problems: Iterable[Problem], files: Sequence[str] = ()) -> None:
        self.problems: list[Problem] = dedupe(problems, files)
        super().__init__("\n".join(str(p) for p in self.problems))

    def report(self) -> list[str]:
        """Each problem on its own line (it names its place), then how many there are."""
        count = len(self.problems)
        shown = [visible(str(problem)) for problem in self.problems]  # a value cannot start a line
        return [*shown, f"{count} problem{'s' if count != 1 else ''} found."]


# -- Plans and plan files ---------------------------------------------------------------------------


class PlanFileError(ChatsyncError):
    """A saved plan that cannot be read or is not chatsync's."""


# -- Reaching the API -------------------------------------------------------------------------------


class CredentialsError(ChatsyncError):
    """The secret key is missing or unusable."""


class TargetError(ChatsyncError):
    """The endpoint or region cannot be used."""


class NetworkSetupError(ChatsyncError):
    """A proxy variable or a CA setting that cannot be used."""


# -- Calls ------------------------------------------------------------------------------------------


class CallFailed(ChatsyncError):
    """A call that did not succeed: a permanent code, or retries used up. Its text is redacted.

    ``code`` is the API's ErrorCode, or None when no answer came (network) or the answer was not
    a Chat API answer. ``stops_run`` is true when every other call would fail the same way (a
    wrong key, a wrong region, an unreachable endpoint): callers stop instead of going on.
    """

    def __init__(
        self, endpoint: str, code: int | None, info: str, attempts: int, *, stops_run: bool = False,
        hint: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.code = code
        self.info = info
        self.attempts = attempts
        self.stops_run = stops_run
        self.hint = hint if hint is not None else (errors.lookup(code).hint if code else "")
        self.partial: dict[str, Any] = {}  # for batch operations: the items answered before it
        super().__init__(self._text())

    def _text(self) -> str:
        what = f"error {self.code}" if self.code is not None else "no usable answer"
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        text = f"{self.endpoint} failed with {what}{tries}: {server_text(self.info)}"
        return f"{text}\n  {self.hint}" if self.hint else text


class Refusal(Protocol):
    """What :mod:`chatsync.tencent.answers` says of an answer it refuses: which field, and why."""

    field: str
    problem: str


class ProtocolError(CallFailed):
    """An answer that does not fit its API (:mod:`chatsync.tencent.answers`): never retried, never
    used, and it stops the run (a server that answers nonsense once cannot be trusted with more)."""

    def __init__(self, endpoint: str, field: str, problem: str, attempts: int = 1) -> None:
        self.field = field
        self.problem = problem
        super().__init__(endpoint, None, f"{field} {problem}", attempts, stops_run=True, hint="")

    def _text(self) -> str:
        return (f"protocol error: the {self.endpoint} answer's {self.info}; nothing was done with it "
                "(is the endpoint a Chat REST API server?)")

    @classmethod
    def from_answer(cls, endpoint: str, error: Refusal, attempts: int = 1) -> ProtocolError:
        """The protocol error for a field :mod:`~chatsync.tencent.answers` refused."""
        return cls(endpoint, error.field, error.problem, attempts)


class Stopped(ChatsyncError):
    """The client was told to stop (Ctrl-C) before this call's next attempt.

    ``attempts`` counts the attempts already sent (each failed, so the change may or may not have
    been applied); ``partial`` holds what a batch operation had already got (see ``ChatApi``).
    """

    exit_code = 130

    def __init__(self, message: str, attempts: int = 0) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.partial: dict[str, Any] = {}


# -- Reading, planning and applying -----------------------------------------------------------------


class LiveReadError(ChatsyncError):
    """Some objects could not be read, so no trustworthy plan can be made."""


class UnsafePlan(ChatsyncError):
    """The plan needs ``force`` (too many deletes) or cannot be applied at all (too many bots)."""


class ApplyRefused(ChatsyncError):
    """Apply did not start: a stale plan, or one made for another endpoint."""


class StalePlan(ApplyRefused):
    """The live app changed since the plan was made; :attr:`changes` says what changed."""

    def __init__(self, changes: list[str]) -> None:
        self.changes = changes
        more = f" ({len(changes) - 20} more not shown)" if len(changes) > 20 else ""
        super().__init__(f"the plan is stale: the live app changed since it was made{more}; nothing was "
                         "applied. Make a new plan.")


class ApplyCancelled(ChatsyncError):
    """The person at the prompt did not say yes (another answer, Ctrl-C or Ctrl-D)."""

    def report(self) -> list[str]:
        return ["Apply cancelled; nothing was changed."]


class ApplyFailed(ChatsyncError):
    """Some changes failed or were skipped; the report above says which."""


# -- The GitOps steps -------------------------------------------------------------------------------


class ForgeError(ChatsyncError):
    """A call to GitHub's or GitLab's API failed, or answered what CI cannot use; the text says which.
    ``status`` is the HTTP status of an error answer (None for any other failure)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class StepUsageError(ChatsyncError):
    """A step was called with arguments it does not take; the text names them and --help."""


class ActionError(ChatsyncError):
    """The step cannot do its work (a missing variable, no reviewed plan); the text says what to do."""


class UsageError(ChatsyncError):
    """The step was called wrongly (a flag, a missing variable); the text says how to call it."""


# -- The emulator ----------------------------------------------------------------------------------


class StateFileError(ChatsyncError):
    """The ``--state`` file exists but cannot be used, or cannot be written."""


class StateWriteError(StateFileError):
    """A change could not be saved; it was rolled back in memory (answer a transient error)."""
