"""Read one YAML file into plain data that remembers where every key and value was written.

Built on PyYAML's *event* stream (libyaml's C parser when available, else the pure-Python one),
not on its composer or constructor, because those cannot do what a config file needs:

* every mapping and list records the line and column of each key and value (:class:`YMap`,
  :class:`YList`), so any later check can point at the exact place;
* duplicate keys are errors (PyYAML silently keeps the last one);
* keys are read as the text written (``12345:`` is the id ``"12345"``, not an integer);
* anchors, aliases and merge keys (``<<: *defaults``) work, but alias expansion is bounded in
  proportion to the file's size, in values and in characters of text (:data:`ALIAS_BUDGET`,
  :data:`ALIAS_TEXT_BUDGET`), so a "billion laughs" file, or a long value aliased thousands of
  times, fails fast instead of eating memory and time;
* nesting is bounded and built without recursion (libyaml's composer overflows the C stack on
  deeply nested input and crashes the process);
* bytes that are not UTF-8, tabs, control characters, empty files and YAML syntax errors become
  located :class:`~chatsync.errors.Problem` objects with a hint, never exceptions;
* a caller may watch the file as it is read (:class:`Watcher`): it hears of each top-level value
  and of each entry of a top-level mapping as soon as it is complete, and may keep a smaller value
  in the entry's place (so a large file is never held whole: see :mod:`chatsync.config.loader`).

It is also about five times faster than ``yaml.CSafeLoader``'s composer on large files.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Protocol

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from chatsync.domain.kinds import SECTIONS
from chatsync.domain.model import Principal
from chatsync.errors import Location, Problem
from chatsync.facts.fields import CUSTOM_SECTION, STANDARD

try:  # libyaml makes parsing about 10x faster; fall back to pure Python without it
    from yaml import CSafeLoader as _EventLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _EventLoader  # type: ignore[assignment]

MAX_DEPTH = 64
#: Alias expansions allowed: this many values, plus one per character of the file.
ALIAS_BUDGET = 10_000
#: Text aliases may bring in: this many characters (keys and values), plus
#: :data:`ALIAS_TEXT_PER_CHARACTER` per character of the file. A profile value holds at most 500
#: bytes, so a config that repeats defaults with aliases stays far below it.
ALIAS_TEXT_BUDGET = 1_000_000
ALIAS_TEXT_PER_CHARACTER = 10

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_VALUE = "tag:yaml.org,2002:value"
_MAP_TAGS = (None, "!", "tag:yaml.org,2002:map")
_SEQ_TAGS = (None, "!", "tag:yaml.org,2002:seq")
_RESOLVER = Resolver()
#: The resolver's typing (PyYAML's stubs leave it untyped).
_resolve: Callable[[type, str, tuple[bool, bool]], str] = _RESOLVER.resolve
_CONSTRUCTOR = SafeConstructor()
#: Characters YAML 1.1 allows in a stream (PyYAML's Reader rejects all others).
#: First characters of plain scalars the resolver may read as something other than text.
_RESOLVABLE = frozenset(k for k in Resolver.yaml_implicit_resolvers if k)
#: Characters YAML reads as line breaks that editors show on one line: they shift every place.
_LINE_BREAKS = re.compile("[\x85\u2028\u2029]")
_LINE_BREAK_NAMES = {
    "\x85": "next-line character",
    "\u2028": "line separator",
    "\u2029": "paragraph separator",
}
#: The bytes of ASCII text :data:`_NOT_PRINTABLE` accepts.
_PRINTABLE_ASCII = bytes([0x09, 0x0A, 0x0D, *range(0x20, 0x7F)])
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


#: A place in a file is kept as one int, ``(line + 1) << 20 | column`` (0-based line and column;
#: never 0, so never falsy): a yaml Mark object costs 72 bytes, an int 28, and a config of 100,000
#: accounts keeps about six places per account. :func:`location` reads either kind.
_COLUMN_BITS = 20
_COLUMN_MASK = (1 << _COLUMN_BITS) - 1
#: Keys that many mappings repeat (field names and the like): one shared string each, not one per
#: mapping (the parser makes a new string for every scalar).
_COMMON_KEYS: dict[str, str] = {
    name: name for name in (*(f.name for f in STANDARD), CUSTOM_SECTION, "state", "version", "app",
                            *SECTIONS)}


def pos(mark: Any) -> int:
    """The packed place of a yaml Mark (a column past 2**20 - 1 is clamped)."""
    line: int = mark.line
    column: int = mark.column
    return ((line + 1) << _COLUMN_BITS) | min(column, _COLUMN_MASK)


def line_column(mark: Any) -> tuple[int, int]:
    """(0-based line, 0-based column) of a packed place or of a yaml Mark."""
    if isinstance(mark, int):
        return (mark >> _COLUMN_BITS) - 1, mark & _COLUMN_MASK
    return mark.line, mark.column


class Entry(NamedTuple):
    """Where one mapping entry (or list item) was written.

    ``text`` is the source text of the value when it is a plain (unquoted) scalar written right
    there, so messages can say "YAML reads yes as true; quote it". Otherwise None.
    """

    key_mark: int  # a packed place (see pos()); the value's place for list items
    value_mark: int
    text: str | None


class YMap(dict[str, Any]):
    """A YAML mapping (keys are the text written) that remembers where each entry is.

    ``mark`` is where the mapping starts, ``meta`` maps each key to its :class:`Entry` and
    ``size`` counts the values inside once aliases are expanded.
    """

    __slots__ = ("mark", "meta", "size")
    mark: Any
    meta: dict[str, Entry]
    size: int


class YList(list[Any]):
    """A YAML sequence that remembers where each item is (``meta`` holds one Entry per item)."""

    __slots__ = ("mark", "meta", "size")
    mark: Any
    meta: list[Entry]
    size: int


def _new(cls: type, mark: Any) -> Any:
    container = cls()
    container.mark = mark
    container.meta = {} if cls is YMap else []
    container.size = 1
    return container


class Watcher(Protocol):
    """Told of the parts of one file as the reader completes them (see :func:`read_text`)."""

    def top(self, key: str, value: YMap, key_mark: int) -> None:
        """The mapping under the top-level key ``key`` (written at the packed place ``key_mark``)
        is complete (not called for a duplicate key, nor for values that are not mappings)."""

    def entry(self, section: str, key: str, value: YMap | None, key_mark: int) -> Any:
        """The mapping (or null) under ``key`` (written at the packed place ``key_mark``) in the
        top-level mapping ``section`` is complete (not called for other values): return what
        to keep in its place. ``value`` itself keeps it as read; anything else is kept *without* a
        record of where it was written (no ``meta[key]``), so it must carry its own place in a
        ``location`` attribute."""


class Document(NamedTuple):
    """One file read: its name as given, and its top-level value (None when unreadable)."""

    file: str
    root: Any


def location(file: str, mark: Any) -> Location:
    """The 1-based :class:`Location` of a 0-based place (packed, or a yaml Mark)."""
    line, column = line_column(mark)
    return Location(file, line + 1, column + 1)


def entry_at(root: Any, path: Sequence[Any]) -> Entry | None:
    """The entry a data path leads to (its parent's record of it), or None for the root."""
    node = root
    entry = None
    for step in path:
        try:
            entry = node.meta[step]
            node = node[step]
        except (AttributeError, KeyError, IndexError, TypeError):
            break
    return entry


def container_mark(root: Any, path: Sequence[Any]) -> Any:
    """The mark of the mapping or list at ``path`` (or of its value, if it is a scalar)."""
    node = root
    mark = getattr(root, "mark", None)
    for step in path:
        try:
            mark = node.meta[step].value_mark
            node = node[step]
        except (AttributeError, KeyError, IndexError, TypeError):
            break
    found = getattr(node, "mark", None)
    return found if found is not None else mark


class _Stop(Exception):
    """Reading this file cannot go on; the problem is already recorded."""


class _Frame:
    __slots__ = ("anchor", "container", "expect_key", "is_map", "key", "key_mark", "merge_mark", "merges")

    def __init__(self, container: YMap | YList, anchor: str | None) -> None:
        self.container: Any = container  # a YMap or a YList; Any: the hot loop checks is_map instead
        self.anchor = anchor
        self.is_map = isinstance(container, YMap)
        self.expect_key = True
        self.key: Any = None
        self.key_mark: Any = None
        self.merges: list[tuple[Any, Any]] = []
        self.merge_mark: Any = None  # where the first << key of this mapping is


_BAD_KEY = object()
_MERGE_KEY = object()


class _Builder:
    """Turns the event stream of one document into YMap / YList / scalar values."""

    def __init__(self, file: str, text: str, watcher: Watcher | None = None) -> None:
        self.file = file
        self.text = text
        self.watcher = watcher
        self.problems: list[Problem] = []
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int, int]] = {}  # name -> (value, values, characters)
        self.expanded = 0
        self.budget = ALIAS_BUDGET + len(text)
        self.expanded_text = 0  # characters of text the aliases brought in
        self.text_budget = ALIAS_TEXT_BUDGET + ALIAS_TEXT_PER_CHARACTER * len(text)
        self.text_of: dict[int, int] = {}  # id of an anchored container -> characters of text in it
        self.root: Any = None
        self.documents = 0
        self.undefined: set[int] = set()  # places of aliases to no anchor

    def problem(self, mark: Any, message: str) -> None:
        self.problems.append(Problem(location(self.file, mark), message))

    def run(self) -> Any:
        parser = _EventLoader(self.text)
        try:
            self._consume(parser)
        finally:
            parser.dispose()
        return self.root

    def _consume(self, parser: Any) -> None:
        get_event = parser.get_event
        stack = self.stack
        scalar_event = yaml.ScalarEvent
        resolvable = _RESOLVABLE
        common = _COMMON_KEYS
        mask = _COLUMN_MASK
        bits = _COLUMN_BITS
        entry = tuple.__new__  # Entry(...) without its Python-level __new__: twice as quick
        handlers: dict[type, Callable[[Any], None]] = {
            yaml.MappingStartEvent: self._start,
            yaml.SequenceStartEvent: self._start,
            yaml.MappingEndEvent: self._end,
            yaml.SequenceEndEvent: self._end,
            yaml.AliasEvent: self._alias,
            yaml.DocumentStartEvent: self._document,
        }
        while True:
            event = get_event()
            kind = type(event)
            if kind is scalar_event and event.anchor is None and stack and event.tag is None:
                top = stack[-1]
                text = event.value
                plain = event.implicit[0]
                if not top.is_map:
                    if not plain or (text and text[0] not in resolvable):  # a list item of text
                        container = top.container
                        mark = event.start_mark
                        column = mark.column
                        here = ((mark.line + 1) << bits) | (column if column < mask else mask)
                        container.append(text)
                        container.meta.append(entry(Entry, (here, here, text if plain else None)))
                        container.size += 1
                        continue
                elif top.expect_key:  # the most common event: a key, kept as written
                    top.expect_key = False
                    mark = event.start_mark
                    column = mark.column
                    top.key_mark = ((mark.line + 1) << bits) | (column if column < mask else mask)
                    top.key = _MERGE_KEY if plain and text == "<<" else common.get(text, text)
                    continue
                else:
                    key = top.key
                    container = top.container
                    if (
                        (not plain or (text and text[0] not in resolvable))
                        and key.__class__ is str
                        and key not in container
                    ):  # the next most common: a value that can only be text
                        top.expect_key = True
                        container[key] = text
                        mark = event.start_mark
                        column = mark.column
                        here = ((mark.line + 1) << bits) | (column if column < mask else mask)
                        container.meta[key] = entry(Entry, (top.key_mark, here, text if plain else None))
                        container.size += 1
                        continue
            if kind is scalar_event:
                self._scalar(event)
            elif event is None or kind is yaml.StreamEndEvent:
                return
            else:
                handler = handlers.get(kind)
                if handler is not None:
                    handler(event)

    def _document(self, event: Any) -> None:
        self.documents += 1
        if self.documents > 1:
            self.problem(
                event.start_mark,
                "a second YAML document starts here ('---'); a config file holds one "
                "document: move this one to a file of its own",
            )
            raise _Stop

    # -- events ---------------------------------------------------------------------------

    def _scalar(self, event: Any) -> None:
        top = self.stack[-1] if self.stack else None
        if top is not None and top.is_map and top.expect_key and event.anchor is None:
            # fast path for the most common event: a key, kept as the text written
            top.expect_key = False
            top.key_mark = pos(event.start_mark)
            if event.tag not in (None, "!", _STR):
                self.problem(
                    event.start_mark,
                    f"the tag {_short(event.tag)} on a key is not supported; remove it (a key is "
                    "always read as the text written)",
                )
            if event.implicit[0] and event.tag is None and event.value == "<<":
                top.key = _MERGE_KEY
            else:
                top.key = _COMMON_KEYS.get(event.value, event.value)
            return
        plain = event.implicit[0] and event.tag is None
        try:
            value = self._construct(event)
        except _Unsupported as exc:
            self.problem(event.start_mark, str(exc))
            value = event.value  # reported; go on with the text so later checks stay quiet
        except Exception:  # a resolver matched but construction failed, e.g. a bad date
            self.problem(
                event.start_mark,
                f"YAML cannot read the value {_single_quote(event.value)}; quote it to make it plain text",
            )
            value = event.value
        if event.anchor is not None:
            self.anchors[event.anchor] = (value, 1, len(value) if isinstance(value, str) else 0)
        self._add(value, pos(event.start_mark), event.value if plain else None, 1, event.value)

    def _construct(self, event: Any) -> Any:
        tag = event.tag
        if tag is None:
            tag = (
                _resolve(yaml.ScalarNode, event.value, (True, False)) if event.implicit[0] else _STR
            )
            if tag in (_MERGE, _VALUE):  # plain = or << as a value: the user wrote no tag
                raise _Unsupported(
                    f"YAML reads {event.value} specially; quote it: {_quote(event.value)}"
                )
        elif tag == "!":
            tag = _STR
        if tag == _STR:
            return event.value
        constructor = _CONSTRUCTOR.yaml_constructors.get(tag)
        if constructor is None or tag in (_MERGE, _VALUE):
            raise _Unsupported(f"the tag {_short(tag)} is not supported here; remove it")
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        return constructor(_CONSTRUCTOR, node)

    def _start(self, event: Any) -> None:
        is_map = isinstance(event, yaml.MappingStartEvent)
        if event.tag not in (_MAP_TAGS if is_map else _SEQ_TAGS):
            self.problem(event.start_mark, f"the tag {_short(event.tag)} is not supported here; remove it")
        if len(self.stack) >= MAX_DEPTH:
            self.problem(
                event.start_mark,
                f"nesting is deeper than {MAX_DEPTH} levels; a chatsync config needs far fewer",
            )
            raise _Stop
        container: YMap | YList = _new(YMap if is_map else YList, pos(event.start_mark))
        self.stack.append(_Frame(container, event.anchor))

    def _end(self, _event: Any = None) -> None:
        frame = self.stack.pop()
        container = frame.container
        if frame.is_map and frame.merges:
            container = self._merge(frame)
        if frame.anchor is not None:
            characters = self._text_in(container)
            self.text_of[id(container)] = characters
            self.anchors[frame.anchor] = (container, container.size, characters)
        self._add(container, container.mark, None, container.size, None)

    def _alias(self, event: Any) -> None:
        anchor = event.anchor
        if any(frame.anchor == anchor for frame in self.stack):
            self.problem(
                event.start_mark,
                f"the alias *{anchor} is inside its own anchor &{anchor}; recursive structures "
                "are not allowed: remove the alias",
            )
            raise _Stop
        if anchor not in self.anchors:
            self.problem(
                event.start_mark,
                f"the alias *{anchor} refers to no anchor; define &{anchor} above it in this file "
                "(anchors do not cross files)",
            )
            value, size, characters = None, 1, 0
            self.undefined.add(pos(event.start_mark))
        else:
            value, size, characters = self.anchors[anchor]
        self.expanded += size
        self.expanded_text += characters
        if self.expanded > self.budget:
            self.problem(
                event.start_mark,
                f"too many alias expansions (more than {self.budget} values); aliases may "
                "repeat content only a few times over: write the values out or use fewer aliases",
            )
            raise _Stop
        if self.expanded_text > self.text_budget:
            self.problem(
                event.start_mark,
                f"too many alias expansions (more than {self.text_budget:,} characters of text); "
                "aliases may repeat content only a few times over: write the values out or use "
                "fewer aliases",
            )
            raise _Stop
        if isinstance(value, str) and self.stack and self.stack[-1].is_map:
            top = self.stack[-1]
            if top.expect_key:  # an alias used as a key: it stands for its text
                top.expect_key = False
                top.key_mark = pos(event.start_mark)
                top.key = value
                return
        self._add(value, pos(event.start_mark), None, size, None)

    def _text_in(self, container: YMap | YList) -> int:
        """The characters of text (keys and string values) in ``container``, aliases expanded:
        what an alias to it brings in. Anchored containers inside it are counted once, when made."""
        total = 0
        stack: list[Any] = [container]
        known = self.text_of
        while stack:
            node = stack.pop()
            if node.__class__ is str:
                total += len(node)
            elif node.__class__ is YMap or node.__class__ is YList:
                counted = known.get(id(node)) if node is not container else None
                if counted is not None:
                    total += counted
                elif node.__class__ is YMap:
                    total += sum(len(key) for key in node)
                    stack.extend(node.values())
                else:
                    stack.extend(node)
            elif isinstance(node, Principal):  # an entry the watcher made from its mapping
                total += len(node.user_id) + sum(len(v) for v in node.fields.values() if isinstance(v, str))
        return total

    # -- building -------------------------------------------------------------------------

    def _add(self, value: Any, mark: Any, text: str | None, size: int, raw: str | None) -> None:
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        container = top.container
        container.size += size
        if not top.is_map:
            container.append(value)
            container.meta.append(Entry(mark, mark, text))
            return
        if top.expect_key:  # a key that is not plain text: a mapping, a list, a number alias...
            top.expect_key = False
            top.key_mark = mark
            if raw is not None and value is not None:
                top.key = raw
            else:
                top.key = _BAD_KEY
                self.problem(mark, "a key must be plain text, not a mapping or a list; fix the key")
            return
        top.expect_key = True
        key = top.key
        if key is _BAD_KEY:
            return
        if key is _MERGE_KEY:
            if top.merge_mark is not None:
                first = location(self.file, top.merge_mark)
                self.problem(
                    top.key_mark,
                    f'duplicate key "<<": it is already at {first} (YAML would silently keep only '
                    "the last one); keep one of them, or merge several with <<: [*a, *b]",
                )
                return
            top.merge_mark = top.key_mark
            top.merges.append((value, mark))
            return
        if key in container:
            first = self._place_of(container, key)
            self.problem(
                top.key_mark,
                f"duplicate key {_quote(key)}: it is already at {first} (YAML would silently "
                "keep only the last one); keep one of them",
            )
            return
        watcher = self.watcher
        depth = len(self.stack)
        if watcher is not None and depth == 2 and (value is None or value.__class__ is YMap):
            section = self.stack[0].key
            if section.__class__ is str:
                kept = watcher.entry(section, key, value, top.key_mark)
                if kept is not value:
                    container[key] = kept  # it carries its own place: no Entry kept for it
                    return
        container[key] = value
        container.meta[key] = Entry(top.key_mark, mark, text)
        if watcher is not None and depth == 1 and value.__class__ is YMap:
            watcher.top(key, value, top.key_mark)

    def _place_of(self, container: YMap, key: str) -> Location:
        """Where ``key`` of ``container`` was first written (from a kept value's own place when a
        watcher replaced it)."""
        entry = container.meta.get(key)
        if entry is not None:
            return location(self.file, entry.key_mark)
        place = getattr(container[key], "location", None)
        return place if isinstance(place, Location) else location(self.file, container.mark)

    def _merge(self, frame: _Frame) -> YMap:
        explicit = frame.container
        merged: YMap = _new(YMap, explicit.mark)
        merged.size = explicit.size
        for value, mark in frame.merges:
            if isinstance(value, YMap):
                sources = [value]
            elif isinstance(value, YList) and all(isinstance(v, YMap) for v in value):
                sources = list(value)
            elif mark in self.undefined:
                continue  # already reported
            else:
                self.problem(
                    mark,
                    "a merge key (<<) needs a mapping or a list of mappings, e.g. <<: *defaults; "
                    "fix its value",
                )
                continue
            for source in sources:
                for key, item in source.items():
                    if key not in explicit and key not in merged:
                        _copy(source, merged, key, item)
        for key, item in explicit.items():
            _copy(explicit, merged, key, item)
        return merged


def _copy(source: YMap, target: YMap, key: str, item: Any) -> None:
    """Copy one entry and its record of where it was written (a watcher's value has none)."""
    target[key] = item
    entry = source.meta.get(key)
    if entry is not None:
        target.meta[key] = entry


class _Unsupported(Exception):
    pass


def _short(tag: str) -> str:
    """A tag as users write it: ``!!set`` rather than ``tag:yaml.org,2002:set``."""
    return "!!" + tag[len("tag:yaml.org,2002:") :] if tag.startswith("tag:yaml.org,2002:") else tag


def _quote(text: str) -> str:
    from chatsync.text.safe import quote

    return quote(text)


def _single_quote(text: str) -> str:
    from chatsync.config.hints import single_quote

    return single_quote(text)


# -- bytes to text ------------------------------------------------------------------------


def _decode(file: str, data: bytes) -> tuple[str | None, list[Problem]]:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE)):
        return None, [Problem(Location(file, 1, 1), "the file is UTF-16 or UTF-32; save it as UTF-8")]
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start
        line = data.count(b"\n", 0, start) + 1
        line_start = data.rfind(b"\n", 0, start) + 1
        column = len(data[line_start:start].decode("utf-8", "replace")) + 1
        return None, [
            Problem(
                Location(file, line, column),
                f"this byte (0x{data[start]:02x}) is not valid UTF-8; save the file as UTF-8",
            )
        ]
    if text.isascii() and not data.translate(None, _PRINTABLE_ASCII):
        return text, []  # printable ASCII: neither search below can find anything (a quicker test)
    bad = _LINE_BREAKS.search(text)
    if bad is not None:
        index = bad.start()
        char = bad.group()
        return None, [
            Problem(
                _text_location(file, text, index),
                f"the file contains U+{ord(char):04X} (a {_LINE_BREAK_NAMES[char]} YAML treats as a "
                f"line break); remove it or write it as \\u{ord(char):04x} inside double quotes",
            )
        ]
    bad = _NOT_PRINTABLE.search(text)
    if bad is not None:
        index = bad.start()
        line = text.count("\n", 0, index) + 1
        column = index - (text.rfind("\n", 0, index) + 1) + 1
        char = bad.group()
        return None, [
            Problem(
                Location(file, line, column),
                f"the character U+{ord(char):04X} (a control or non-character) is not allowed "
                "in YAML; remove it",
            )
        ]
    return text, []


#: A double-quoted escape that gives half of a UTF-16 surrogate pair, not a character.
_SURROGATE_ESCAPE = re.compile(r"\\(u[dD][89a-fA-F][0-9a-fA-F]{2}|U0000[dD][89a-fA-F][0-9a-fA-F]{2})")


def _surrogate_message(escape: str) -> str:
    return (
        f"the escape \\{escape} is half of a UTF-16 surrogate pair, not a character; write the "
        "character itself, or escape it whole (\\U0001F600, not \\ud83d\\ude00)"
    )


def _lone_surrogate(file: str, text: str, root: Any) -> Problem | None:
    """Where the pure-Python parser let a surrogate escape through (libyaml refuses it itself)."""
    if _SURROGATE_ESCAPE.search(text) is None:
        return None
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, YMap):
            pairs = [(key, entry.key_mark) for key, entry in node.meta.items()]
            pairs += [(node[key], entry.value_mark) for key, entry in node.meta.items()]
        elif isinstance(node, YList):
            pairs = [(value, entry.value_mark) for value, entry in zip(node, node.meta, strict=False)]
        else:
            continue
        for value, mark in pairs:
            if isinstance(value, str) and not value.isascii():
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    found = _SURROGATE_ESCAPE.search(text, _index(text, mark))
                    if found is not None:
                        where = _text_location(file, text, found.start())
                        return Problem(where, _surrogate_message(found[1]))
            elif isinstance(value, (YMap, YList)):
                stack.append(value)
    return None


def _index(text: str, mark: int) -> int:
    """The index in ``text`` of a packed place (for the rare messages that search from there)."""
    line, column = line_column(mark)
    start = 0
    for _ in range(line):
        start = text.find("\n", start) + 1
        if start == 0:
            return len(text)
    return start + column


def _text_location(file: str, text: str, index: int) -> Location:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return Location(file, line, column)


def _syntax_problem(file: str, text: str, exc: yaml.MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return Problem(Location(file, 1, 1), f"YAML cannot read this file: {exc}; fix the syntax")
    where = location(file, mark)
    problem = exc.problem or ""
    lines = text.splitlines() or [""]
    line = lines[mark.line] if mark.line < len(lines) else ""
    char = line[mark.column] if mark.column < len(line) else ""
    if char == "\t" or "tab" in problem:
        return Problem(where, "a tab character is used for indentation; indent with spaces")
    if "cannot start any token" in problem and char in "@`":
        token = re.match(r"[^\s:,\]}]*(?::[^\s,\]}]+)*", line[mark.column :])
        id_text = token.group() if token else char
        after = line[mark.column + len(id_text) :]
        what = "the id" if re.match(r":(\s|$)", after) else "the value"  # a key is followed by ": "
        return Problem(
            where,
            f"YAML cannot read a plain value that starts with {char!r}; quote {what}: {_quote(id_text)}",
        )
    if "invalid Unicode character escape" in problem:  # libyaml: e.g. a lone \ud800
        backslash = line.rfind("\\", 0, mark.column + 1)
        found = _SURROGATE_ESCAPE.match(line, backslash) if backslash >= 0 else None
        if found is not None:
            return Problem(Location(file, mark.line + 1, backslash + 1), _surrogate_message(found[1]))
        return Problem(
            where, "this escape is not a Unicode character; write the character itself, or \\U0001F600"
        )
    detail = problem
    if exc.context:
        detail = f"{problem} ({exc.context})"
    return Problem(where, f"YAML syntax error: {detail}; fix the syntax here")


def read_text(file: str, data: bytes, watcher: Watcher | None = None) -> tuple[Any, list[Problem]]:
    """Parse the bytes of one file; returns (root value or None, problems). ``watcher`` (if any)
    hears of each part as it is complete (:class:`Watcher`)."""
    text, problems = _decode(file, data)
    if text is None:
        return None, problems
    if not text.strip():
        return None, [
            Problem(
                Location(file, 1, 1),
                "the file is empty; add version: 1 and an app:, bots: or accounts: section, "
                "or remove the file",
            )
        ]
    builder = _Builder(file, text, watcher)
    try:
        root = builder.run()
    except _Stop:
        return None, builder.problems
    except yaml.MarkedYAMLError as exc:
        return None, [*builder.problems, _syntax_problem(file, text, exc)]
    except yaml.YAMLError as exc:  # e.g. a ReaderError: report at the start of the file
        return None, [
            *builder.problems,
            Problem(Location(file, 1, 1), f"YAML cannot read this file: {exc}; fix it"),
        ]
    except RecursionError:
        return None, [
            *builder.problems,
            Problem(Location(file, 1, 1), "the file is nested too deeply; simplify it"),
        ]
    if root is None:
        return None, [
            *builder.problems,
            Problem(
                Location(file, 1, 1),
                "the file has no content (only comments); add version: 1 and an app:, bots: or "
                "accounts: section, or remove the file",
            ),
        ]
    surrogate = _lone_surrogate(file, text, root)
    if surrogate is not None:
        return None, [*builder.problems, surrogate]
    if not isinstance(root, YMap):
        kind = "a list" if isinstance(root, YList) else f"a single value ({type(root).__name__})"
        mark = getattr(root, "mark", None)
        where = location(file, mark) if mark is not None else Location(file, 1, 1)
        return None, [
            *builder.problems,
            Problem(
                where,
                f"the top level of the file is {kind}; it must be a mapping with version:, app:, "
                "bots: and accounts: keys",
            ),
        ]
    return root, builder.problems
