"""Read the live app: only what a plan needs, in as few calls as the batch limits allow.

:class:`LiveReader` reads ``get_all_robots`` once, ``account_check`` for the wanted accounts in
chunks of 100, and ``portrait_get`` in chunks of 100 for the objects that exist and have managed
fields, and nothing else; it never writes. It is told of the objects one at a time, so a plan can
start reading while its config is still loading (:mod:`chatsync.engine.prefetch`); :func:`read_live`
reads a list. The reads overlap: each ``account_check`` chunk feeds the accounts it found into a
shared batch, which goes out as a ``portrait_get`` as soon as it holds 100, so profile reads run
while checks are still paced, and the count of calls stays minimal. The first read that fails
drops those not yet sent. The result is made of the same :class:`~chatsync.domain.model.Principal`
objects as the desired state.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, wait
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from chatsync.domain.model import DesiredState, Kind, Principal
from chatsync.domain.strategy import IMPORT_UPDATED
from chatsync.errors import ChatsyncError
from chatsync.facts.fields import Value, field_of, ordered
from chatsync.facts.limits import BATCH_MAX
from chatsync.facts.limits import BATCH_MAX as BATCH
from chatsync.tencent.api import ChatApi, ItemResult
from chatsync.text.safe import server_text


class LiveReadError(ChatsyncError):
    """Some objects could not be read, so no trustworthy plan can be made."""


class Wanted(NamedTuple):
    """An object to look up: its existence, and the managed ``fields`` to read if it exists.

    A named tuple: a plan of 100,000 accounts makes as many, and a tuple is made several times
    faster than a frozen dataclass."""

    kind: Kind
    user_id: str
    fields: tuple[str, ...] = ()
    #: The declared object, when there is one: values read equal to its own are kept as its
    #: objects, not as copies (a plan of 100,000 accounts reads most of them unchanged).
    declared: Principal | None = None


@dataclass
class LiveState:
    """What the app holds: its active bots (in the order listed) and the wanted objects that exist.

    ``principals`` maps an address (``bot.<id>``, ``account.<id>``) to a live :class:`Principal`
    whose ``fields`` hold exactly the fields that were read. A wanted object missing from it does not
    exist.
    """

    bot_ids: list[str]
    principals: dict[str, Principal] = field(default_factory=dict)

    @property
    def bot_set(self) -> frozenset[str]:
        """:attr:`bot_ids` as a set (built once per list), for lookups in constant time."""
        cached = self.__dict__.get("_bot_set")
        if cached is None or cached[0] is not self.bot_ids:
            cached = (self.bot_ids, frozenset(self.bot_ids))
            self.__dict__["_bot_set"] = cached
        return cached[1]

    def get(self, kind: Kind, user_id: str) -> Principal | None:
        """The live object, or None when it does not exist. A listed bot that was not wanted (a bot
        to prune) exists with no fields read."""
        found = self.principals.get(f"{kind}.{user_id}")
        if found is None and kind == "bot" and user_id in self.bot_set:
            return Principal("bot", user_id)
        return found


def wanted_for(desired: DesiredState) -> list[Wanted]:
    """What a plan of ``desired`` must read: every declared object, with its managed fields. An
    account that declares any field ``multiaccount_import`` can update also has the others read, so
    that an update of those fields alone can go by that call without clearing any
    (:func:`chatsync.domain.strategy.import_update`); the read costs no extra call."""
    return [wanted_of(p) for p in desired.principals()]


@lru_cache(maxsize=4096)
def _fields_to_read(kind: Kind, names: tuple[str, ...]) -> tuple[str, ...]:
    """The fields to read of an object declaring ``names`` (one shared tuple per distinct list:
    most accounts declare the same few fields)."""
    if kind == "account" and any(name in IMPORT_UPDATED for name in names):
        return names + tuple(name for name in IMPORT_UPDATED if name not in names)
    return names


def read_calls(desired: DesiredState) -> int:
    """At most how many calls a plan of ``desired`` reads with (for progress): the bot list, the
    account checks, and the profile reads of every present object with fields (only those that
    exist are read). Counted from the declarations, without making what each read needs."""
    accounts = len(desired.accounts)
    with_fields = sum(1 for p in desired.principals() if p.fields and p.state == "present")
    return 1 + -(-accounts // BATCH) + -(-with_fields // BATCH)


def wanted_of(principal: Principal) -> Wanted:
    """What a plan must read of one declared object (see :func:`wanted_for`)."""
    fields = _fields_to_read(principal.kind, tuple(principal.fields)) if principal.state == "present" else ()
    return Wanted(principal.kind, principal.user_id, fields, principal)


def read_live(api: ChatApi, wanted: Iterable[Wanted], *, every_bot: tuple[str, ...] = ()) -> LiveState:
    """Read the bot list and the ``wanted`` objects; raises :class:`LiveReadError` if any read failed.

    ``every_bot`` names fields to read for every live bot, declared or not (for ``export``).
    """
    reader = LiveReader(api, every_bot)
    try:
        for want in wanted:
            reader.want(want)
        return reader.finish()
    finally:
        reader.cancel()


class LiveReader:
    """Reads the live app as the wanted objects are named, one at a time (while a config is still
    loading, say): the bot list at once, an ``account_check`` for each 100 accounts named, a
    ``portrait_get`` for each 100 existing objects with fields to read. :meth:`finish` reads what
    is left and returns the :class:`LiveState`. Thread-safe: answers arrive on the client's threads.
    """

    def __init__(self, api: ChatApi, every_bot: tuple[str, ...] = ()) -> None:
        self.api = api
        self.every_bot = every_bot
        self.live = LiveState(bot_ids=[])
        self.failures: list[tuple[Wanted, ItemResult]] = []
        self._lock = threading.Lock()
        self._accounts: list[Wanted | Principal] = []  # accounts not yet sent in an account_check
        self._bots: list[Wanted] | None = []  # bots named before the bot list came (None after)
        self._declared_bots: set[str] = set()
        self._batch: deque[Wanted] = deque()  # existing objects whose profiles are still to read
        self._active: frozenset[str] = frozenset()
        self._failed = False  # a read raised: send nothing more (finish() raises it)
        self._tasks: list[Future[None]] = []
        self._submit(self._read_bots)

    def declare(self, principal: Principal) -> None:
        """Read what a plan needs of a declared object (:func:`wanted_of`). An account is kept as
        it is until its check goes out: a queue of 100,000 made-up :class:`Wanted` would cost
        several megabytes while the checks are paced."""
        if principal.kind == "bot":
            self.want(wanted_of(principal))
        else:
            self._add_account(principal)

    def want(self, want: Wanted) -> None:
        """Read ``want`` (its existence, and its fields if it exists)."""
        if want.kind == "bot":
            with self._lock:
                self._declared_bots.add(want.user_id)
                if self._bots is not None:
                    self._bots.append(want)
                    return
            self._found_bots([want])
            return
        self._add_account(want)

    def _add_account(self, want: Wanted | Principal) -> None:
        accounts = self._accounts
        accounts.append(want)
        if len(accounts) >= BATCH:
            self._accounts = []
            self._submit(self._check_accounts, accounts)

    def _submit(self, read: Callable[..., None], *args: Any) -> None:
        """Run one read on the client's threads, unless one already failed."""
        if self._failed:
            return
        task = self.api.client.submit(read, *args)
        self._tasks.append(task)
        task.add_done_callback(self._settled)

    def _settled(self, task: Future[None]) -> None:
        """A read ended: when it raised (a wrong key, an unreachable endpoint...), the reads not yet
        started are dropped at once, as those still to be named will be (while a large config
        loads, thousands of checks would otherwise fail the same way)."""
        if task.cancelled() or task.exception() is None:
            return
        self._failed = True
        for other in list(self._tasks):
            other.cancel()

    def finish(self) -> LiveState:
        """Wait for every read (sending what is left); raises the first failed call, or
        :class:`LiveReadError` when any object could not be read."""
        if self._accounts:
            self._submit(self._check_accounts, self._accounts)
            self._accounts = []
        self._wait(self._tasks[:1])  # the bot list: every_bot may add reads
        if self.every_bot:
            for bot_id in self.live.bot_ids:
                if bot_id not in self._declared_bots:
                    self._found_bots([Wanted("bot", bot_id, self.every_bot)])
        self._wait(self._tasks)
        self._read_profiles(final=True)
        if self.failures:
            raise LiveReadError(_failure_text(self.failures))
        return self.live

    def cancel(self) -> None:
        """Send nothing more (the reads not yet started are dropped)."""
        for task in self._tasks:
            task.cancel()

    def _wait(self, tasks: list[Future[None]]) -> None:
        _, pending = wait(tasks, return_when=FIRST_EXCEPTION)
        for task in pending:
            task.cancel()
        wait(tasks)
        for task in tasks:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]

    def _read_bots(self) -> None:
        bot_ids = self.api.get_all_robots()
        with self._lock:
            self.live.bot_ids = bot_ids
            self._active = frozenset(bot_ids)
            named, self._bots = self._bots or [], None
        self._found_bots(named)

    def _found_bots(self, named: list[Wanted]) -> None:
        """Bots named once the bot list is known: those listed exist (and have their fields read)."""
        with self._lock:
            active = [w for w in named if w.user_id in self._active]
            for want in active:
                self.live.principals[f"bot.{want.user_id}"] = Principal("bot", want.user_id)
        self._queue([w for w in active if w.fields])

    def _check_accounts(self, named: Sequence[Wanted | Principal]) -> None:
        chunk = [w if isinstance(w, Wanted) else wanted_of(w) for w in named]
        results = self.api.account_check([w.user_id for w in chunk])
        existing = []
        with self._lock:
            for want in chunk:
                result = results[want.user_id]
                if not result.ok:
                    self.failures.append((want, result))
                elif result.data.get("AccountStatus") == "Imported":
                    self.live.principals[f"account.{want.user_id}"] = Principal("account", want.user_id)
                    existing.append(want)
        self._queue([w for w in existing if w.fields])

    def _queue(self, found: list[Wanted]) -> None:
        with self._lock:
            self._batch.extend(found)
        self._read_profiles(final=False)

    def _read_profiles(self, *, final: bool) -> None:
        while True:
            with self._lock:
                if len(self._batch) < (1 if final else BATCH_MAX):
                    return
                batch = [self._batch.popleft() for _ in range(min(BATCH_MAX, len(self._batch)))]
            self._read_profile_batch(batch)

    def _read_profile_batch(self, batch: list[Wanted]) -> None:
        fields = ordered({name for w in batch for name in w.fields})
        results = self.api.portrait_get([w.user_id for w in batch], fields)
        with self._lock:
            for want in batch:
                result = results[want.user_id]
                if not result.ok:
                    self.failures.append((want, result))
                    continue
                values = {name: result.data.get(name, field_of(name).unset) for name in want.fields}
                if want.declared is not None:
                    _share(values, want.declared.fields)
                live = Principal(want.kind, want.user_id, values)
                self.live.principals[live.address] = live


def _share(values: dict[str, Value], declared: Mapping[str, Value]) -> None:
    """Keep each value read that equals the declared one as the declared object (one string for
    the two, not two equal ones)."""
    for name, value in values.items():
        mine = declared.get(name)
        if mine is not None and mine.__class__ is value.__class__ and mine == value:
            values[name] = mine


def _failure_text(failures: list[tuple[Wanted, ItemResult]]) -> str:
    want, result = failures[0]
    more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
    code = f"error {result.code}" if result.code is not None else "no code"
    info = f", {server_text(result.info)}" if result.info else ""
    hint = f"; {result.hint}" if result.hint else ""
    return (
        f"could not read {want.kind} {want.user_id!r}{more}: {code}{info}{hint}\n"
        "  No plan was made; run it again (with -v to see each call)."
    )
