"""Config problems for CI: GitHub workflow commands and a GitLab Code Quality report.

``validate --format github`` prints each problem as ``::error file=PATH,line=L,col=C,title=...::MESSAGE``,
which GitHub shows on the pull request's diff. GitHub keeps at most :data:`GITHUB_MAX_ERRORS` error
annotations per step, so at most that many are printed, then one ``::notice::`` counting the rest.
Values are escaped as GitHub's runner unescapes them (``%``, CR and LF in the message; also ``:`` and
``,`` in a property), and every other control or bidi character is written as a visible escape
(:func:`chatsync.text.safe.visible`), so no value can end the command or start another.

``validate --format gitlab`` writes a Code Quality report: a JSON array of
``{description, check_name, fingerprint, severity, location: {path, lines: {begin}}}``.

Paths are relative to the repository's root (``root``), with ``/`` and no ``./``; a file outside
it keeps its absolute path.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from typing import Any

from chatsync.config.checks import CONFIG
from chatsync.errors import Problem
from chatsync.text.safe import json_text, visible

#: Error annotations GitHub keeps per step (more are dropped without a word).
GITHUB_MAX_ERRORS = 10
TITLE = "chatsync validate"
#: Code Quality severity of an error (the loader has no warnings).
SEVERITY = "major"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def repository_path(file: str, root: str) -> str:
    """``file`` relative to ``root`` with ``/`` separators (``envs/prod/app.yaml``), or absolute
    when it lies outside ``root``; '' stays ''."""
    if not file:
        return ""
    absolute = os.path.abspath(file)
    base = os.path.abspath(root)
    if os.path.commonpath([absolute, base]) != base:
        return absolute.replace(os.sep, "/")
    relative = os.path.relpath(absolute, base)
    return relative.replace(os.sep, "/")


def _safe(text: str) -> str:
    """``text`` with every unsafe character a visible escape, but its line breaks kept as ``\\n``
    (the escaping of GitHub's commands turns them into ``%0A``: a line break in the annotation)."""
    return "\n".join(visible(part) for part in _LINE_BREAK.split(text))


def escape_data(text: str) -> str:
    """A command's message as GitHub's runner reads it back (``%``, CR and LF escaped)."""
    return _safe(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A command's property value: as :func:`escape_data`, and ``:`` and ``,`` escaped too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(problems: Sequence[Problem], root: str) -> list[str]:
    """The workflow command lines for ``problems``: at most :data:`GITHUB_MAX_ERRORS` errors, then a
    notice with how many more there are."""
    lines = [_annotation(problem, root) for problem in problems[:GITHUB_MAX_ERRORS]]
    rest = len(problems) - GITHUB_MAX_ERRORS
    if rest > 0:
        noun = "problem" if rest == 1 else "problems"
        lines.append(f"::notice::{rest} more {noun}: run chatsync validate locally to see all of them")
    return lines


def _annotation(problem: Problem, root: str) -> str:
    where = problem.location
    path = repository_path(where.file, root)
    properties = []
    if path:
        properties.append(f"file={escape_property(path)}")
        if where.line > 0:
            properties.append(f"line={where.line}")
            if where.column > 0:
                properties.append(f"col={where.column}")
        properties.append(f"title={escape_property(TITLE)}")
        return f"::error {','.join(properties)}::{escape_data(problem.message)}"
    return f"::error::{escape_data(problem.message)}"


def gitlab(problems: Sequence[Problem], root: str) -> str:
    """The Code Quality report of ``problems`` (``[]`` when there are none), indented JSON."""
    report: list[dict[str, Any]] = []
    seen: dict[tuple[str, str, str], int] = {}
    for problem in problems:
        path = repository_path(problem.location.file, root)
        check = problem.check or CONFIG
        message = _safe(problem.message)
        occurrence = seen[(path, check, message)] = seen.get((path, check, message), -1) + 1
        report.append({
            "description": message,
            "check_name": check,
            "fingerprint": fingerprint(path, check, message, occurrence),
            "severity": SEVERITY,
            "location": {"path": path, "lines": {"begin": max(problem.location.line, 1)}},
        })
    return json_text(report) + "\n"


#: A place a message cites (``it is already at envs/a.yaml:6:3``): its line and column.
_CITED_PLACE = re.compile(r":\d+:\d+\b")


def fingerprint(path: str, check: str, message: str, occurrence: int) -> str:
    """A problem's identity across runs: a hash of where (the file, not the line: moving a line
    keeps it), its kind and its message (less the lines and columns it cites), and which
    occurrence of that same problem in that file it is (two alike in one file still differ)."""
    text = json.dumps([path, check, _CITED_PLACE.sub("", message), occurrence], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
