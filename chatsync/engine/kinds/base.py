"""What the engine needs of each kind: how its objects are read (:class:`KindReads`) and written
(:class:`KindEngine`). Each kind's module implements them for its :class:`~chatsync.domain.kinds.Kind`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from chatsync.domain.kinds import Kind
from chatsync.domain.live import Wanted
from chatsync.domain.model import Principal
from chatsync.domain.plan import Change

if TYPE_CHECKING:
    from chatsync.engine.apply import Applier
    from chatsync.engine.read import LiveReader


class KindReads(Protocol):
    """The reads of one kind during one :class:`~chatsync.engine.read.LiveReader`'s run."""

    def declare(self, principal: Principal) -> None:
        """Read what a plan needs of a declared object."""

    def want(self, want: Wanted) -> None:
        """Read ``want``: whether it exists and, if so, its fields."""

    def flush(self) -> None:
        """Send the reads still held back (a batch not yet full)."""

    def settle(self) -> None:
        """Wait for what the other reads depend on (a listing), after every flush."""


class KindEngine(Protocol):
    """How the engine reads and writes the objects of one kind."""

    kind: Kind

    def reads(self, reader: LiveReader) -> KindReads:
        """The reads of this kind for ``reader`` (made when the reader starts: a listing starts then)."""

    def read_calls(self, declared: int) -> int:
        """At most how many calls reading ``declared`` objects costs, before their fields (progress)."""

    def write(self, run: Applier, changes: Sequence[Change]) -> None:
        """Start the creates and updates of this kind (tasks of ``run``)."""

    def remove(self, run: Applier, changes: Sequence[Change]) -> None:
        """Start the deletes of this kind (tasks of ``run``)."""
