"""Rewrite config files in one canonical form, keeping every comment and blank line (``chatsync
fmt``; docs/configuration.md).

The form (:mod:`chatsync.config.canonical` writes it from values): ``version`` first; the settings
of ``app:`` and ``shared:`` in the schema's order; each object's fields in the field table's order,
then ``custom``, then ``state`` (in ``overrides:`` too, whose kind sections follow the kinds'
order); bot ids double-quoted; two spaces per level, list items two spaces in. Everything else
stays as written: the order of sections and of ids, quotes and flow styles, anchors and merge keys.

Built on ruamel.yaml's round trip, which keeps comments. A comment between two entries belongs to
the entry below it and moves with it; one on an entry's line moves with the entry. Every file is
checked after formatting: chatsync must read exactly the same data from it (by its own reader,
types included) and find the same comments, or the file is left as it is and the problem said.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from chatsync.config.canonical import APP_SETTINGS, BODY_KEYS
from chatsync.config.sections import KIND_SECTIONS, OVERRIDES, QUOTED_ID_SECTIONS, SHARED
from chatsync.config.yaml_loader import YMap, read_text
from chatsync.errors import Location, Problem
from chatsync.text.safe import UNSAFE

#: How wide a line may grow before ruamel.yaml would fold it: never.
WIDTH = 1 << 30
_COMMENT_LINE = re.compile(r"^[ \t]*#")
#: A comment starts at a ``#`` at the start of a line or after a space (YAML's rule).
_COMMENT = re.compile(r"(?:^|[ \t])(#.*)$")


def format_text(file: str, data: bytes) -> tuple[str | None, list[Problem]]:
    """The canonical form of the config ``data`` (read from ``file``), or None and the problems
    that prevent formatting it (it cannot be read, or formatting would change what it says)."""
    before, problems = read_text(file, data)
    if problems:
        return None, problems
    if not isinstance(before, YMap) or "version" not in before:
        return None, [Problem(Location(file, 0, 0), "is not a chatsync config (no version: at its top); "
                                                    "fmt formats config files only")]
    text = data.decode("utf-8-sig")
    try:
        formatted = _format(text)
    except Exception as exc:  # ruamel.yaml reads YAML 1.2; a file it cannot read is left alone
        return None, [Problem(Location(file, 0, 0), f"fmt cannot rewrite this file ({type(exc).__name__}); "
                                                    "it is left as it is")]
    after, problems = read_text(file, formatted.encode("utf-8"))
    if problems or not same_data(before, after):
        return None, [Problem(Location(file, 0, 0), "formatting would change what chatsync reads from "
                                                    "this file, so it is left as it is; please report this "
                                                    "as a bug")]
    if comments(formatted) != comments(text):
        return None, [Problem(Location(file, 0, 0), "formatting would lose or change a comment, so the file "
                                                    "is left as it is; please report this as a bug")]
    return formatted, []


def same_data(a: Any, b: Any) -> bool:
    """True when ``a`` and ``b`` are the same data, types included (``True`` is not ``1``), and
    the ids of each kind section in the same order (the order of other keys is fmt's to set)."""
    return _same(a, b) and all(list(ids(a, path)) == list(ids(b, path)) for path in _id_paths())


def _id_paths() -> list[tuple[str, ...]]:
    """Where a config holds ids in an order of its own: each kind's section, in place and in overrides."""
    return [*((section,) for section in KIND_SECTIONS), *((OVERRIDES, section) for section in KIND_SECTIONS)]


def ids(root: Any, path: Sequence[str]) -> Any:
    """The mapping at ``path`` in ``root`` (``{}`` when there is none)."""
    node = root
    for step in path:
        node = node.get(step) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def comments(text: str) -> Counter[str]:
    """The comments of ``text`` (each ``#`` to the end of its line, spaces trimmed), counted."""
    found: Counter[str] = Counter()
    for line in text.splitlines():
        match = _COMMENT.search(line)
        if match:
            found[match.group(1).rstrip()] += 1
    return found


# -- the rewrite ---------------------------------------------------------------------------------


def _yaml() -> Any:
    from ruamel.yaml import YAML  # here: only fmt needs it

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = WIDTH
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _format(text: str) -> str:
    yaml = _yaml()
    root = yaml.load(text)
    _first(root, "version")
    for name in ("app", SHARED):
        _reorder(root.get(name), APP_SETTINGS, root, name)
    for section in KIND_SECTIONS:
        _objects(section, root.get(section))
    overrides = root.get(OVERRIDES)
    _reorder(overrides, tuple(KIND_SECTIONS), root, OVERRIDES)
    if _is_map(overrides):
        for section in KIND_SECTIONS:
            _objects(section, overrides.get(section))
    _quote_unsafe(root)
    out = io.StringIO()
    yaml.dump(root, out)
    return _escape_unsafe(_merge_comments(out.getvalue()))


#: Characters never left raw in a value (:data:`chatsync.text.safe.UNSAFE` but the line break).
_UNSAFE = re.compile(UNSAFE.pattern.replace("\x00-\x1f", "\x00-\x09\x0b-\x1f"))
#: A double-quoted scalar on one line.
_DOUBLE = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def _quote_unsafe(node: Any) -> None:
    """Write double-quoted every key and text value holding a character that must not be shown raw
    (a control, a bidi mark), so :func:`_escape_unsafe` can write it as an escape (ruamel.yaml
    writes the character itself, even where the file had an escape)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    def unsafe(text: Any) -> bool:
        return isinstance(text, str) and not isinstance(text, DoubleQuotedScalarString) and bool(
            _UNSAFE.search(text))

    if isinstance(node, CommentedMap):
        for index, key in enumerate(list(node)):
            if unsafe(key):
                _requote(node, index, key)
        for key, value in node.items():
            if unsafe(value):
                node[key] = DoubleQuotedScalarString(value)
            else:
                _quote_unsafe(value)
    elif isinstance(node, CommentedSeq):
        for index, value in enumerate(node):
            if unsafe(value):
                node[index] = DoubleQuotedScalarString(value)
            else:
                _quote_unsafe(value)


def _escape(found: re.Match[str]) -> str:
    return f"\\u{ord(found.group()):04x}"


def _escape_unsafe(text: str) -> str:
    """``text`` with the characters of :data:`_UNSAFE` inside double-quoted scalars escaped."""
    if not _UNSAFE.search(text):
        return text
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if _UNSAFE.search(line):
            lines[i] = _DOUBLE.sub(lambda m: _UNSAFE.sub(_escape, m.group()), line)
    return "\n".join(lines)


def _objects(section: str, entries: Any) -> None:
    if not _is_map(entries):
        return
    if section in QUOTED_ID_SECTIONS:
        _quote_keys(entries)
    for key, body in entries.items():
        _reorder(body, BODY_KEYS, entries, key)


def _is_map(node: Any) -> bool:
    from ruamel.yaml.comments import CommentedMap

    return isinstance(node, CommentedMap)


def _first(mapping: Any, key: str) -> None:
    if _is_map(mapping) and key in mapping and next(iter(mapping)) != key:
        order = list(mapping)
        order.remove(key)
        _reorder(mapping, (key, *order))


def _quote_keys(mapping: Any) -> None:
    """Write each key of ``mapping`` double-quoted, in its place, with its comments."""
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    for index, key in enumerate(list(mapping)):
        if isinstance(key, str) and not isinstance(key, DoubleQuotedScalarString):
            _requote(mapping, index, key)


def _requote(mapping: Any, index: int, key: str) -> None:
    """Replace ``key`` (at ``index``) by the same text double-quoted, keeping its value and comments."""
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    comment = mapping.ca.items.pop(key, None)
    value = mapping.pop(key)
    quoted = DoubleQuotedScalarString(key)
    mapping.insert(index, quoted, value)
    if comment is not None:
        mapping.ca.items[quoted] = comment


def _reorder(mapping: Any, order: Sequence[str], parent: Any = None, name: Any = None) -> None:
    """Put the keys of ``mapping`` (the value of ``name`` in ``parent``; the file's top when None) in
    ``order`` (keys it does not name keep their order, after the others), moving each comment line
    with the entry below it; the comments at the top of the file stay there. A mapping with a merge
    key (``<<``) keeps its order: its keys are partly another mapping's."""
    from ruamel.yaml.comments import merge_attrib

    if not _is_map(mapping) or getattr(mapping, merge_attrib, None):
        return
    keys = list(mapping)
    rank = {key: i for i, key in enumerate(order)}
    wanted = sorted(keys, key=lambda k: rank.get(k, len(order)))  # stable: unknown keys keep their order
    if wanted == keys:
        return
    holders = {key: _tail(mapping, key) for key in keys}
    own: dict[Any, str] = {}  # each entry's line end: its comment, or a bare newline
    lead: dict[Any, str] = {keys[0]: _take_start(mapping, parent, name)}  # comment lines above each entry
    final = ""
    for i, key in enumerate(keys):
        slots, index = holders[key]
        token = slots[index]
        value = token.value if token is not None else "\n"
        cut = value.find("\n")
        first, rest = (value, "") if cut < 0 else (value[:cut + 1], value[cut + 1:])
        own[key] = first
        if i + 1 < len(keys):
            lead[keys[i + 1]] = rest
        else:
            final = rest
    for key in wanted:
        mapping.move_to_end(key)
    _put_start(mapping, lead[wanted[0]], parent, name)
    for j, key in enumerate(wanted):
        text = own[key] + (lead[wanted[j + 1]] if j + 1 < len(wanted) else final)
        slots, index = holders[key]
        if slots[index] is not None:
            slots[index].value = text
        elif text != "\n":
            slots[index] = _token(text)


def _take_start(mapping: Any, parent: Any, name: Any) -> str:
    """The comment lines above a nested mapping's first entry, taken out to move with that entry
    ('' for the file's top, whose comments stay first)."""
    if parent is None:
        return ""
    slot = parent.ca.items.get(name)
    tokens = (slot[3] if slot is not None and slot[3] else None) or (
        mapping.ca.comment[1] if mapping.ca.comment and len(mapping.ca.comment) > 1 else None) or []
    text = "".join(token.value if token.value.startswith("\n") else " " * (token.column or 0) + token.value
                   for token in tokens)
    if slot is not None:
        slot[3] = None
    if mapping.ca.comment and len(mapping.ca.comment) > 1:
        mapping.ca.comment[1] = []
    return text


def _put_start(mapping: Any, text: str, parent: Any, name: Any) -> None:
    """Put comment lines (``text``, each with its indentation) above the first entry of ``mapping``
    (kept, as ruamel.yaml reads them, both in the mapping and in its parent's slot for it)."""
    if not text:
        return
    tokens = [_token(text)]
    if mapping.ca.comment is None:
        mapping.ca.comment = [None, tokens]
    else:
        while len(mapping.ca.comment) < 2:
            mapping.ca.comment.append(None)
        tokens = (mapping.ca.comment[1] or []) + tokens
        mapping.ca.comment[1] = tokens
    if parent is not None:
        slot = parent.ca.items.setdefault(name, [None, None, None, None])
        slot[3] = tokens


def _tail(container: Any, key: Any) -> tuple[list[Any], int]:
    """Where the text after the entry ``key`` of ``container`` is kept: (its comment slots, the
    index): the entry's own slot, or for a block mapping or list, that of its last entry."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    value = container[key]
    if isinstance(value, (CommentedMap, CommentedSeq)) and len(value) and not value.fa.flow_style():
        last = list(value)[-1] if isinstance(value, CommentedMap) else len(value) - 1
        return _tail(value, last)
    slots = container.ca.items.setdefault(key, [None, None, None, None])
    return slots, 2 if isinstance(container, CommentedMap) else 0


def _token(text: str) -> Any:
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    return CommentToken(text, CommentMark(0))


_MERGE_LINE = re.compile(r"^(?P<indent>[ ]*)<<: \*\S+$")


def _merge_comments(text: str) -> str:
    """Put back on its line the comment of a ``<<: *anchor`` line, which ruamel.yaml writes on a
    line of its own below, at the column it had (right of where the merge line ends)."""
    lines = text.split("\n")
    for i in range(len(lines) - 1, 0, -1):
        above, line = lines[i - 1], lines[i]
        if not (_MERGE_LINE.match(above) and _COMMENT_LINE.match(line)):
            continue
        column = len(line) - len(line.lstrip(" "))
        if column > len(above):
            lines[i - 1] = above + " " * (column - len(above)) + line.lstrip(" ")
            del lines[i]
    return "\n".join(lines)

