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
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, wait
from typing import Any

from chatsync.domain.kinds import KINDS
from chatsync.domain.live import LiveState, Wanted
from chatsync.domain.model import AppConfig, DesiredState, Principal
from chatsync.engine.kinds import engine_of
from chatsync.engine.kinds.base import KindReads
from chatsync.errors import LiveReadError
from chatsync.facts.fields import Value, field_of, ordered
from chatsync.facts.limits import BATCH_MAX
from chatsync.facts.limits import BATCH_MAX as BATCH
from chatsync.tencent.api import ChatApi, ItemResult
from chatsync.text.safe import server_text


def read_calls(desired: DesiredState) -> int:
    """At most how many calls a plan of ``desired`` reads with (for progress): each kind's own
    (the bot list, the account checks) and the profile reads of every present object with fields
    (only those that exist are read). Counted from the declarations, without making what each
    read needs."""
    checks = sum(engine_of(kind).read_calls(len(desired.of(kind.name))) for kind in KINDS)
    with_fields = sum(1 for kind in KINDS if kind.profile for p in desired.of(kind.name).values()
                      if p.fields and p.state == "present")
    return checks + -(-with_fields // BATCH)


def listings(app: AppConfig) -> frozenset[str]:
    """The kinds whose live listing a plan for ``app`` reads: those it prunes."""
    return frozenset(kind.name for kind in KINDS if kind.prune_setting and getattr(app, kind.prune_setting))


def read_live(api: ChatApi, wanted: Iterable[Wanted], *, listed: Collection[str] = (),
              every: Mapping[str, tuple[str, ...]] | None = None,
              kinds: Collection[str] | None = None) -> LiveState:
    """Read the ``wanted`` objects (and the bot list); raises :class:`LiveReadError` if any read
    failed. ``listed``, ``every`` and ``kinds`` are :class:`LiveReader`'s."""
    reader = LiveReader(api, listed=listed, every=every, kinds=kinds)
    try:
        for want in wanted:
            reader.want(want)
        return reader.finish()
    finally:
        reader.cancel()


class LiveReader:
    """Reads the live app as the wanted objects are named, one at a time (while a config is still
    loading, say), each kind as its engine module says (:mod:`chatsync.engine.kinds`): the bot list
    at once, an ``account_check`` for each 100 accounts named, and a ``portrait_get`` for each 100
    existing objects with fields to read. :meth:`finish` reads what is left and returns the
    :class:`LiveState`. Thread-safe: answers arrive on the client's threads.
    """

    def __init__(self, api: ChatApi, *, listed: Collection[str] = (),
                 every: Mapping[str, tuple[str, ...]] | None = None,
                 kinds: Collection[str] | None = None) -> None:
        self.api = api
        #: For ``export``: the fields to read of every live object of a listed kind, declared or not,
        #: by kind name.
        self.every: Mapping[str, tuple[str, ...]] = dict(every or {})
        #: Kinds whose listing is read though it is not needed to know whether an object exists
        #: (groups, to prune the undeclared: :func:`listings`; every kind of :attr:`every`).
        self.listed = frozenset(listed) | frozenset(self.every)
        self.live = LiveState()
        self.failures: list[tuple[Wanted, ItemResult]] = []
        self.lock = threading.Lock()
        self._batch: deque[Wanted] = deque()  # existing objects whose profiles are still to read
        self._failed = False  # a read raised: send nothing more (finish() raises it)
        self._tasks: list[Future[None]] = []
        #: Each kind's reads (only those of ``kinds``, when given: the others are never read).
        self.kinds: dict[str, KindReads] = {kind.name: engine_of(kind).reads(self) for kind in KINDS
                                            if kinds is None or kind.name in kinds}

    def declare(self, principal: Principal) -> None:
        """Read what a plan needs of a declared object (:func:`~chatsync.domain.live.wanted_of`)."""
        self.kinds[principal.kind].declare(principal)

    def want(self, want: Wanted) -> None:
        """Read ``want`` (its existence, and its fields if it exists)."""
        self.kinds[want.kind].want(want)

    def submit(self, read: Callable[..., None], *args: Any) -> Future[None] | None:
        """Run one read on the client's threads, unless one already failed."""
        if self._failed:
            return None
        task = self.api.client.submit(read, *args)
        self._tasks.append(task)
        task.add_done_callback(self._settled)
        return task

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
        for reads in self.kinds.values():
            reads.flush()
        for reads in self.kinds.values():
            reads.settle()
        self.wait(self._tasks)
        self._read_profiles(final=True)
        if self.failures:
            raise LiveReadError(_failure_text(self.failures))
        return self.live

    def cancel(self) -> None:
        """Send nothing more (the reads not yet started are dropped)."""
        for task in self._tasks:
            task.cancel()

    def wait(self, tasks: list[Future[None]]) -> None:
        """Wait for ``tasks``; the first that raised is raised (the others are dropped)."""
        _, pending = wait(tasks, return_when=FIRST_EXCEPTION)
        for task in pending:
            task.cancel()
        wait(tasks)
        for task in tasks:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]

    def found(self, kind: str, wanted: Sequence[Wanted]) -> None:
        """``wanted`` objects of ``kind`` exist: each is live (with no field read yet), and those with
        fields to read join the next ``portrait_get``."""
        with self.lock:
            for want in wanted:
                self.live.principals[f"{kind}.{want.user_id}"] = Principal(kind, want.user_id)
            self._batch.extend(w for w in wanted if w.fields)
        self._read_profiles(final=False)

    def _read_profiles(self, *, final: bool) -> None:
        while True:
            with self.lock:
                if len(self._batch) < (1 if final else BATCH_MAX):
                    return
                batch = [self._batch.popleft() for _ in range(min(BATCH_MAX, len(self._batch)))]
            self._read_profile_batch(batch)

    def _read_profile_batch(self, batch: list[Wanted]) -> None:
        fields = ordered({name for w in batch for name in w.fields})
        results = self.api.portrait_get([w.user_id for w in batch], fields)
        with self.lock:
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
