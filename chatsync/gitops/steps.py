"""What every CI step's command line shares (``python -m chatsync.gitops.github|gitlab VERB``):
usage errors that exit 1 like every other error, the environment name as an argument, and the
files an earlier step wrote (its Markdown plan, what chatsync printed), read with a bound."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NoReturn

from chatsync.errors import ChatsyncError, StepUsageError
from chatsync.gitops.comment import check_env
from chatsync.text.safe import visible

#: The most of a step's file that is read (a plan comment holds far less).
MAX_READ = 4 * 1024 * 1024


class StepParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line and exit 1, never argparse's 2."""

    def error(self, message: str) -> NoReturn:
        raise StepUsageError(f"{message} (see {self.prog} --help)")


def environment(text: str) -> str:
    """An argument type: an environment name (:func:`chatsync.gitops.comment.check_env`)."""
    try:
        return check_env(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def read_step_file(path: str) -> str:
    """The text an earlier step wrote at ``path``: '' when there is none (that step did not run),
    at most :data:`MAX_READ` bytes, undecodable bytes replaced."""
    file = Path(path) if path else None
    if file is None or not file.is_file():
        return ""
    try:
        with file.open("rb") as stream:
            return stream.read(MAX_READ).decode("utf-8", "replace")
    except OSError as exc:
        raise ChatsyncError(f"cannot read {visible(path)}: {exc.strerror or exc}") from None
