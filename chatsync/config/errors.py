"""The located problems a config can have, and the one exception that carries all of them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from chatsync.domain.model import Location
from chatsync.errors import ChatsyncError
from chatsync.text.safe import visible

#: The kinds of problem (``check``), stable names a CI report groups by (GitLab's ``check_name``).
FILE = "chatsync-file"  # a path that cannot be read as a config file
YAML = "chatsync-yaml"  # not YAML, or not the text YAML allows
SCHEMA = "chatsync-schema"  # breaks the JSON Schema (a type, a value, a missing field)
UNKNOWN_FIELD = "chatsync-unknown-field"  # a field the schema does not know
SECRET = "chatsync-secret"  # a secret key written into a config file
RULE = "chatsync-rule"  # breaks a rule of one file beyond the schema (an id, a limit, an endpoint)
CONFIG = "chatsync-config"  # a rule across the files (an id declared twice, one app: section, ...)


class Problem(NamedTuple):
    """One thing wrong with the config: where it is, and what is wrong and what to do; ``check``
    names its kind (one of the names above; '' until the loader tags it)."""

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
