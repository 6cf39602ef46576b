"""Bots: read from the list ``get_all_robots`` gives (one call, at once), created with
``create_robot`` (a ``portrait_set`` follows for the fields it cannot carry) and deleted with
``delete_robot`` (docs/tencent-api.md §2-§3)."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from functools import partial
from typing import TYPE_CHECKING

from chatsync.domain import strategy
from chatsync.domain.kinds import bot
from chatsync.domain.live import Wanted, wanted_of
from chatsync.domain.model import Principal
from chatsync.domain.plan import Change
from chatsync.facts.limits import MAX_BOTS

if TYPE_CHECKING:
    from chatsync.engine.apply import Applier
    from chatsync.engine.read import LiveReader

#: The state of a bot created whose ``portrait_set`` is still to come.
CREATED_ONLY = "created; profile not set"


class BotReads:
    """The bot list is read at once; a bot named before it came waits for it, and one listed has
    its fields read with the other profiles. For ``export`` (the reader's ``every``), every listed
    bot is read too."""

    def __init__(self, reader: LiveReader) -> None:
        self.reader = reader
        self._named: list[Wanted] | None = []  # bots named before the list came (None after)
        self._declared: set[str] = set()
        self._active: frozenset[str] = frozenset()
        self._listing: Future[None] | None = reader.submit(self._read_list)

    def declare(self, principal: Principal) -> None:
        self.want(wanted_of(principal))

    def want(self, want: Wanted) -> None:
        with self.reader.lock:
            self._declared.add(want.user_id)
            if self._named is not None:
                self._named.append(want)
                return
        self._found([want])

    def flush(self) -> None:
        pass  # every bot named is sent as soon as the list is known

    def settle(self) -> None:
        """Wait for the list; for ``export``, read every listed bot no one named."""
        if self._listing is not None:
            self.reader.wait([self._listing])
        every = self.reader.every.get(bot.KIND.name)
        if every is not None:
            listed = self.reader.live.listed[bot.KIND.name]
            self._found([Wanted(bot.KIND.name, i, every) for i in listed if i not in self._declared])

    def _read_list(self) -> None:
        bot_ids = self.reader.api.get_all_robots()
        with self.reader.lock:
            self.reader.live.listed[bot.KIND.name] = bot_ids
            self._active = frozenset(bot_ids)
            named, self._named = self._named or [], None
        self._found(named)

    def _found(self, named: list[Wanted]) -> None:
        """Bots named once the list is known: those listed exist (and have their fields read)."""
        self.reader.found(bot.KIND.name, [w for w in named if w.user_id in self._active])


class BotEngine:
    """Reads and writes bots."""

    kind = bot.KIND

    def reads(self, reader: LiveReader) -> BotReads:
        return BotReads(reader)

    def read_calls(self, declared: int) -> int:
        return 1  # the list, whatever the number declared

    def write(self, run: Applier, changes: Sequence[Change]) -> None:
        creates = [c for c in changes if c.action == "create"]
        deletes = [c for c in changes if c.action == "delete"]
        if deletes and len(set(run.plan.observed(bot.KIND.name)) | {c.user_id for c in creates}) > MAX_BOTS:
            # Swapping bots at the limit: the new ones only fit once the old ones are gone.
            self.remove(run, deletes)
            run.wait()
        for change in creates:
            run.spawn(partial(_create, run), change)
        for change in changes:
            if change.action == "update":
                run.spawn(run.set_profile, change, dict(change.after or {}))

    def remove(self, run: Applier, changes: Sequence[Change]) -> None:
        for change in changes:
            if change.action == "delete":
                run.spawn(partial(_delete, run), change)


def _create(run: Applier, change: Change) -> None:
    rest = strategy.later(change)
    fields = strategy.carried(change)
    attempts = run.single(change, lambda: run.api.create_robot(change.user_id, fields), finish=not rest)
    if rest and attempts is not None:
        run.then_set_profile(change, CREATED_ONLY, rest, attempts)


def _delete(run: Applier, change: Change) -> None:
    run.single(change, lambda: run.api.delete_robot(change.user_id))


ENGINE = BotEngine()
