"""The located problems a config can have, and the one exception that carries all of them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from chatsync.errors import ChatsyncError
from chatsync.model import Location
from chatsync.safe_text import visible


class Problem(NamedTuple):
    """One thing wrong with the config: where it is, and what is wrong and what to do."""

    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


def dedupe(problems: Iterable[Problem], files: Sequence[str] = ()) -> list[Problem]:
    """Problems in file order, then by place, each reported once.

    ``files`` is the order the files were given (directories expanded); files it does not name
    follow, in the order their first problem was found.
    """
    seen: set[Problem] = set()
    unique = []
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
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
