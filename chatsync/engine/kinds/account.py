"""Accounts: checked 100 a call with ``account_check`` (the API cannot list them), imported 100 a
call with ``multiaccount_import`` (a ``portrait_set`` follows for the fields it cannot carry),
updated by import where that costs fewer calls, and deleted 100 a call with ``account_delete``
(docs/tencent-api.md §4-§5)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from chatsync.domain import strategy
from chatsync.domain.kinds import account
from chatsync.domain.live import Wanted, wanted_of
from chatsync.domain.model import Principal
from chatsync.domain.plan import Change
from chatsync.domain.report import Status
from chatsync.facts.limits import BATCH_MAX as BATCH
from chatsync.tencent.api import chunks

if TYPE_CHECKING:
    from chatsync.engine.apply import Applier
    from chatsync.engine.read import LiveReader

#: An account imported whose ``portrait_set`` is still to come.
IMPORTED_ONLY = "imported; profile not set"
#: ``account_delete`` of an id that is gone: after a retry of an applied delete, done.
NOT_FOUND = 70107


class AccountReads:
    """Accounts named are checked 100 a call; those that exist have their fields read with the
    other profiles. A declared account is kept as it is until its check goes out: a queue of
    100,000 made-up :class:`Wanted` would cost several megabytes while the checks are paced."""

    def __init__(self, reader: LiveReader) -> None:
        self.reader = reader
        self._named: list[Wanted | Principal] = []  # not yet sent in an account_check

    def declare(self, principal: Principal) -> None:
        self._add(principal)

    def want(self, want: Wanted) -> None:
        self._add(want)

    def _add(self, want: Wanted | Principal) -> None:
        named = self._named
        named.append(want)
        if len(named) >= BATCH:
            self._named = []
            self.reader.submit(self._check, named)

    def flush(self) -> None:
        if self._named:
            self.reader.submit(self._check, self._named)
            self._named = []

    def settle(self) -> None:
        pass

    def _check(self, named: Sequence[Wanted | Principal]) -> None:
        chunk = [w if isinstance(w, Wanted) else wanted_of(w) for w in named]
        results = self.reader.api.account_check([w.user_id for w in chunk])
        existing = []
        with self.reader.lock:
            for want in chunk:
                result = results[want.user_id]
                if not result.ok:
                    self.reader.failures.append((want, result))
                elif result.data.get("AccountStatus") == "Imported":
                    existing.append(want)
        self.reader.found("account", existing)


class AccountEngine:
    """Reads and writes accounts."""

    kind = account.KIND

    def reads(self, reader: LiveReader) -> AccountReads:
        return AccountReads(reader)

    def read_calls(self, declared: int) -> int:
        return -(-declared // BATCH)  # the checks

    def write(self, run: Applier, changes: Sequence[Change]) -> None:
        for chunk in chunks([c for c in changes if c.action == "create"]):
            run.spawn(partial(_import, run), chunk)
        updates = [c for c in changes if c.action == "update"]
        seen = run.plan.observed_objects
        by_import = [c for c in updates if strategy.import_update(c, seen.get(c.address)) is not None]
        for chunk in chunks(by_import):
            run.spawn(partial(_import_updates, run), chunk)
        chosen = {c.address for c in by_import}
        for change in updates:
            if change.address not in chosen:
                run.spawn(run.set_profile, change, dict(change.after or {}))

    def remove(self, run: Applier, changes: Sequence[Change]) -> None:
        for chunk in chunks([c for c in changes if c.action == "delete"]):
            run.spawn(partial(_delete, run), chunk)


def _import(run: Applier, chunk: Sequence[Change]) -> None:
    accounts = {c.user_id: strategy.carried(c) for c in chunk}
    results = run.batch(chunk, lambda: run.api.multiaccount_import(accounts))
    for change in chunk:
        result = results.get(change.user_id) if results else None
        if result is None:
            continue
        if not result.ok:
            status: Status = "skipped" if result.code is None and run.api.client.stopping else "failed"
            run.finish(change, status, result.code, result.info, result.attempts)
        elif strategy.later(change):
            run.then_set_profile(change, IMPORTED_ONLY, strategy.later(change), result.attempts)
        else:
            run.finish(change, "ok", attempts=result.attempts)


def _import_updates(run: Applier, chunk: Sequence[Change]) -> None:
    """Update accounts by ``multiaccount_import`` (every carried field, so none is cleared). Each
    one imported waits for the read-back (:meth:`Applier.read_back`), which confirms it or, where
    the values did not take, gives it the ``portrait_set`` it would have had."""
    seen = run.plan.observed_objects
    sent = {c.user_id: strategy.import_update(c, seen.get(c.address)) or {} for c in chunk}
    results = run.batch(chunk, lambda: run.api.multiaccount_import(sent))
    for change in chunk:
        result = results.get(change.user_id) if results else None
        if result is None:
            continue
        if result.ok:
            run.imported_unchecked(change, result.attempts)
        elif result.code is None and run.api.client.stopping:
            run.finish(change, "skipped", None, result.info, result.attempts)
        else:  # the import refused it: the portrait_set the change would otherwise have had
            run.fall_back(change, result.attempts, "")


def _delete(run: Applier, chunk: Sequence[Change]) -> None:
    results = run.batch(chunk, lambda: run.api.account_delete([c.user_id for c in chunk]))
    for change in chunk:
        result = results.get(change.user_id) if results else None
        if result is None:
            continue
        if result.ok or result.code == NOT_FOUND:
            run.finish(change, "ok", attempts=result.attempts)
        else:
            run.finish(change, "failed", result.code, result.info, result.attempts)


ENGINE = AccountEngine()
