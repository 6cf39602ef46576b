"""The kinds of object chatsync manages, each defined once, in a module of this package.

A :class:`Kind` says what every layer above needs to treat its objects alike: the word in
addresses and plans (``bot.<id>``), the config section that declares them, the rules of an id,
what a delete means, the calls that create and delete one, whether the API lists them all (so that
undeclared ones can be pruned), and the stage of an apply it is written in. :data:`KINDS` lists the
kinds in the order every output shows them; the config, the planner, the applier, the renderers,
the export and the schema iterate it. The engine's side of each kind, how it is read and written,
is the module of the same name in :mod:`chatsync.engine.kinds`.

Adding a kind: a module here (its :class:`Kind`), one in :mod:`chatsync.engine.kinds` (its reads
and writes), and, when its config needs checks of its own, one in :mod:`chatsync.config` named in
:mod:`chatsync.config.kinds`; then its line in :data:`BUILT_IN` and in ``chatsync.engine.kinds``.
A kind can also be added while a program runs (a plugin, a test):
``chatsync.engine.kinds.registered(engine, checks)`` registers the three parts at once, and
takes them out again on the way out. :func:`register` is the registry's own part: it keeps
:data:`KINDS`, :data:`BY_NAME`, :data:`BY_SECTION` and :data:`SECTIONS` (views that never go stale)
up to date, and what other modules derive from them is made again after a change
(:func:`per_registry`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar, overload

from chatsync.domain.kinds import account, bot, group
from chatsync.domain.kinds.base import Kind

T = TypeVar("T")

#: The kinds chatsync itself defines, in the order outputs show them.
BUILT_IN: tuple[Kind, ...] = (bot.KIND, account.KIND, group.KIND)
#: Words a kind's section cannot be: the config's other top-level keys, and the keys a saved plan
#: writes beside the listed ids of each kind (``observed``) and in its fingerprint.
RESERVED = frozenset({"version", "app", "shared", "overrides", "objects", "counts", "sdkappid"})


class _View(Sequence[T]):
    """A read-only view of a list the registry keeps up to date: a module that imported it sees
    every kind registered after."""

    __slots__ = ("_items",)

    def __init__(self, items: list[T]) -> None:
        self._items = items

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...

    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)

    def __contains__(self, item: object) -> bool:
        return item in self._items

    def __repr__(self) -> str:
        return repr(tuple(self._items))


_kinds: list[Kind] = list(BUILT_IN)
_sections: list[str] = []
#: Every kind, in the order plans, exports and summaries show them.
KINDS: Sequence[Kind] = _View(_kinds)
#: The config sections that declare objects, in order.
SECTIONS: Sequence[str] = _View(_sections)
#: Each kind by its name (``bot``) and by its config section (``bots``). Read them; change the
#: registry with :func:`register`.
BY_NAME: dict[str, Kind] = {}
BY_SECTION: dict[str, Kind] = {}
_state = [0]  # how many times the registry changed: what per_registry compares


def _rebuild() -> None:
    BY_NAME.clear()
    BY_NAME.update((kind.name, kind) for kind in _kinds)
    BY_SECTION.clear()
    BY_SECTION.update((kind.section, kind) for kind in _kinds)
    _sections[:] = [kind.section for kind in _kinds]
    _state[0] += 1


def register(kind: Kind) -> None:
    """Add ``kind`` to the registry, after the others (every output shows it last). ValueError
    when its name or section is taken, or its section is a word the config or a plan file uses."""
    if {kind.name, kind.section} & {*BY_NAME, *BY_SECTION}:
        raise ValueError(f"a kind named {kind.name!r} or declared under {kind.section!r} is registered "
                         "already")
    if kind.section in RESERVED or kind.name == kind.section or "." in kind.name:
        raise ValueError(f"a kind cannot be named {kind.name!r} with the section {kind.section!r}: choose "
                         f"a name without a dot, a section of its own, and no section of {sorted(RESERVED)}")
    _kinds.append(kind)
    _rebuild()


def unregister(kind: Kind) -> None:
    """Take ``kind`` out of the registry (a kind :func:`register` added; a built-in one stays)."""
    if kind in BUILT_IN:
        raise ValueError(f"{kind.name!r} is built in; it cannot be taken out")
    if kind in _kinds:
        _kinds.remove(kind)
        _rebuild()


def per_registry(make: Callable[[], T]) -> Callable[[], T]:
    """``make`` made once while the registry stays as it is, and made again after it changes: for
    tables derived from the kinds (a schema, the sections' predicates) that are costly to make."""
    made: list[tuple[int, T]] = []

    def current() -> T:
        if made and made[0][0] == _state[0]:
            return made[0][1]
        value = make()
        made[:] = [(_state[0], value)]
        return value

    current.__doc__ = make.__doc__
    current.__name__ = getattr(make, "__name__", "current")
    return current


_rebuild()

__all__ = ["BUILT_IN", "BY_NAME", "BY_SECTION", "KINDS", "SECTIONS", "Kind", "per_registry", "register",
           "unregister"]
