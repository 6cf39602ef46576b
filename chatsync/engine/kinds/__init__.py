"""The engine's side of each kind (:mod:`chatsync.domain.kinds`): how its objects are read and
written. One module a kind; :func:`engine_of` finds a kind's."""

from __future__ import annotations

from chatsync.domain.kinds import Kind
from chatsync.engine.kinds import account, bot, group
from chatsync.engine.kinds.base import KindEngine

#: Each kind's engine, by kind name.
ENGINES: dict[str, KindEngine] = {engine.kind.name: engine for engine in (bot.ENGINE, account.ENGINE,
                                                                           group.ENGINE)}


def engine_of(kind: Kind) -> KindEngine:
    """The engine of ``kind``."""
    return ENGINES[kind.name]
