"""The engine's side of each kind (:mod:`chatsync.domain.kinds`): how its objects are read and
written. One module a kind; :func:`engine_of` finds a kind's.

:func:`register` adds a kind while a program runs, its three parts at once: its
:class:`~chatsync.domain.kinds.Kind` (through its engine's ``kind``), its :class:`KindEngine`, and
its config checks when it has its own (:class:`chatsync.config.kinds.KindChecks`); :func:`registered`
does it for the length of a ``with`` block (a test's throwaway kind: tests/structure/test_new_kind.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from chatsync.domain import kinds
from chatsync.domain.kinds import Kind
from chatsync.engine.kinds import account, bot, group
from chatsync.engine.kinds.base import KindEngine, KindReads

if TYPE_CHECKING:  # the config is loaded when it is read: applying a saved plan reads none
    from chatsync.config.kinds import KindChecks

#: Each kind's engine, by kind name.
ENGINES: dict[str, KindEngine] = {engine.kind.name: engine for engine in (bot.ENGINE, account.ENGINE,
                                                                           group.ENGINE)}


def engine_of(kind: Kind) -> KindEngine:
    """The engine of ``kind``."""
    return ENGINES[kind.name]


def register(engine: KindEngine, checks: KindChecks | None = None) -> None:
    """Add ``engine.kind`` to the registry of kinds, with its engine and, when its config needs checks
    of its own, ``checks`` (for the same kind). ValueError when the kind's name or section is taken."""
    if checks is not None and checks.kind != engine.kind:
        raise ValueError(f"the checks are for {checks.kind.name!r}, the engine for {engine.kind.name!r}")
    kinds.register(engine.kind)
    ENGINES[engine.kind.name] = engine
    if checks is not None:
        from chatsync.config import kinds as config_kinds

        config_kinds.CHECKS[engine.kind.name] = checks


def unregister(engine: KindEngine) -> None:
    """Take out what :func:`register` added."""
    from chatsync.config import kinds as config_kinds

    kinds.unregister(engine.kind)
    ENGINES.pop(engine.kind.name, None)
    config_kinds.CHECKS.pop(engine.kind.name, None)


@contextmanager
def registered(engine: KindEngine, checks: KindChecks | None = None) -> Iterator[Kind]:
    """:func:`register` for the length of the block (which gets the kind), then :func:`unregister`."""
    register(engine, checks)
    try:
        yield engine.kind
    finally:
        unregister(engine)


__all__ = ["ENGINES", "KindEngine", "KindReads", "engine_of", "register", "registered", "unregister"]
