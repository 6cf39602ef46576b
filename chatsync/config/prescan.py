"""Find the name of the key variable a config names, without reading the config.

A plan needs the app's secret key; when its variable is unset, saying so after a large config has
loaded wastes the user's time (seconds for a few megabytes). :func:`key_variable` scans the files'
bytes for the ``app:`` section's ``secret_key_env:`` (or its absence: the default variable), so the
caller can check the key first. It is a scan, not a parse: when the section is written in a form
it does not follow (spread over a flow mapping, a merge key, an alias, more than one ``app:``), it
answers None and the key is checked after loading, as before.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence

from chatsync.config.loader import _read_bytes, expand
from chatsync.domain.model import DEFAULT_SECRET_KEY_ENV
from chatsync.errors import Problem

#: ``app:`` and the rest of its line (a value, a comment, or nothing); a top-level key where it starts
#: a line (:func:`_app_keys`: without a leading ``^`` the pattern is searched for quickly, not tried
#: at every character of a large file).
_APP = re.compile(rb"app[ \t]*:(?P<rest>[^\n]*)$", re.MULTILINE)
_NAME = rb"[A-Za-z_][A-Za-z0-9_]*"
#: ``secret_key_env: NAME`` on a line of its own (quotes and a comment allowed).
_BLOCK = re.compile(rb"^(?P<indent>[ ]+)[\"']?secret_key_env[\"']?[ \t]*:[ \t]*(?P<q>[\"']?)(?P<name>"
                    + _NAME + rb")(?P=q)[ \t]*(#[^\n]*)?$")
#: ``secret_key_env: NAME`` inside a one-line flow mapping.
_FLOW = re.compile(rb"[{,][ \t]*[\"']?secret_key_env[\"']?[ \t]*:[ \t]*(?P<q>[\"']?)(?P<name>" + _NAME
                   + rb")(?P=q)[ \t]*[,}]")
_COMMENT = re.compile(rb"^[ \t]*(#[^\n]*)?$")
#: A line that is neither indented, blank nor a comment: where an ``app:`` section ends at the latest.
_TOP_LINE = re.compile(rb"^[^ \t#\n]", re.MULTILINE)


def key_variable(paths: Sequence[str | os.PathLike[str]], *, follow_symlinks: bool = False) -> str | None:
    """The variable the config at ``paths`` takes the key from, or None when a scan cannot tell (the
    loader then says what is wrong, or the key is checked after loading)."""
    problems: list[Problem] = []
    files = expand(paths, problems, follow_symlinks=follow_symlinks)
    if problems:
        return None
    found: list[str | None] = []
    for file in files:
        data = _read_bytes(file)
        if isinstance(data, Problem):
            return None
        for match in _app_keys(data):
            found.append(_in_section(data, match))
    if len(found) != 1:
        return None
    return found[0]


def _app_keys(data: bytes) -> Iterator[re.Match[bytes]]:
    """Each top-level ``app:`` key of ``data`` (at the start of a line)."""
    return (match for match in _APP.finditer(data) if match.start() == 0 or data[match.start() - 1] == 0x0A)


def _in_section(data: bytes, match: re.Match[bytes]) -> str | None:
    """The variable an ``app:`` section names (the default when it names none), or None when the
    section is not written plainly enough to tell."""
    rest = match.group("rest").strip()
    if rest.startswith(b"{"):
        if not rest.endswith(b"}") or b"<<" in rest or b"*" in rest:
            return None
        flow = _FLOW.search(rest)
        return flow.group("name").decode() if flow else (
            None if b"secret_key_env" in rest else DEFAULT_SECRET_KEY_ENV)
    if rest and not rest.startswith(b"#"):
        return None  # an alias, an anchor with a value, or not a mapping: the loader says
    indent: bytes | None = None
    name: str | None = None
    start = match.end() + 1
    after = _TOP_LINE.search(data, start)  # the loop below stops there: split only the section
    for line in data[start:after.start() if after else len(data)].split(b"\n"):
        if _COMMENT.match(line):
            continue
        if not line.startswith((b" ", b"\t")):
            break  # the next top-level key
        own = line[: len(line) - len(line.lstrip(b" "))]
        indent = own if indent is None else indent
        if own != indent:
            continue  # deeper: inside a list or a mapping of the app section
        block = _BLOCK.match(line)
        if line.strip().startswith((b"<<", b"&", b"*", b"?")) or (b"secret_key_env" in line and not block):
            return None
        if block:
            if name is not None:
                return None  # twice: the loader reports it
            name = block.group("name").decode()
    return name or DEFAULT_SECRET_KEY_ENV
