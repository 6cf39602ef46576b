"""Apply: turn a plan's changes into paced, concurrent, idempotent calls, and report each one.

Calls (design.md §4): new bots with ``create_robot`` (fields included); new accounts with
``multiaccount_import`` (100 a call, Nick and FaceUrl included), then one ``portrait_set`` for a
new account's fields the import cannot carry, started as soon as its import chunk answers; changed
fields with one ``portrait_set`` per object; deletions last (``delete_robot``, ``account_delete``
100 a call). A change that fails fails alone; the others go on. A failure that would hit every
call (wrong key, unreachable endpoint) stops the run, and the changes not yet started are reported
as skipped, as they are after Ctrl-C (:meth:`Applier.stop`). Every call is idempotent, so running
``apply`` again after any interruption converges without duplicates.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from typing import Any, Literal

from chatsync.plan import Change, Plan
from chatsync.planner import needs_portrait_after_import
from chatsync.tencent import errors
from chatsync.tencent.api import IMPORT_KEYS, ChatApi, ItemResult, chunks
from chatsync.tencent.client import CallFailed, Reply, Stopped
from chatsync.tencent.limits import MAX_BOTS

Status = Literal["ok", "failed", "skipped", "pending"]
NOT_FOUND = 70107  # account_delete of an id that is gone: after a retry of an applied delete, done


@dataclass
class Outcome:
    """What happened to one planned change."""

    change: Change
    status: Status = "pending"
    error_code: int | None = None
    error_info: str = ""
    hint: str = ""
    attempts: int = 0

    @property
    def data(self) -> dict[str, Any]:
        """The change's JSON form plus ``status``, ``error_code``, ``error_info`` and ``attempts``."""
        return {**self.change.data, "status": self.status, "error_code": self.error_code,
                "error_info": self.error_info, "attempts": self.attempts}


@dataclass
class Report:
    """Every planned change with its outcome, and why the run stopped early, if it did."""

    outcomes: list[Outcome]
    interrupted: bool = False
    stopped_by: str = ""  # the run-stopping failure, if any
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.recount()

    def recount(self) -> None:
        """Refresh :attr:`counts` from the outcomes."""
        done = {"create": 0, "update": 0, "delete": 0}
        failed = skipped = 0
        for outcome in self.outcomes:
            if outcome.status == "ok":
                done[outcome.change.action] += 1
            elif outcome.status == "failed":
                failed += 1
            else:
                skipped += 1
        self.counts = {"created": done["create"], "updated": done["update"], "deleted": done["delete"],
                       "failed": failed, "skipped": skipped}

    @property
    def ok(self) -> bool:
        """True when every planned change succeeded."""
        return all(outcome.status == "ok" for outcome in self.outcomes)

    def summary_line(self) -> str:
        """``Apply complete: X created, Y updated, Z deleted, F failed.``"""
        c = self.counts
        return f"Apply complete: {c['created']} created, {c['updated']} updated, {c['deleted']} deleted, " \
               f"{c['failed']} failed."

    @property
    def data(self) -> dict[str, Any]:
        """The JSON report (``apply --format json``)."""
        return {"format_version": "1", "changes": [o.data for o in self.outcomes],
                "summary": dict(self.counts), "interrupted": self.interrupted,
                "stopped_by": self.stopped_by or None}


class Applier:
    """Applies one plan through one :class:`ChatApi`. :meth:`run` once; :meth:`stop` from any thread."""

    def __init__(self, api: ChatApi, plan: Plan) -> None:
        self.api = api
        self.plan = plan
        self.outcomes = {change.address: Outcome(change) for change in plan.changes}
        self._lock = threading.Lock()
        self._futures: list[Future[None]] = []
        self.interrupted = False
        self.stopped_by = ""

    # -- progress ------------------------------------------------------------------------------

    def progress(self) -> tuple[int, int, int]:
        """(changes finished, changes in all, changes failed), for progress displays."""
        with self._lock:
            finished = sum(1 for o in self.outcomes.values() if o.status != "pending")
            failed = sum(1 for o in self.outcomes.values() if o.status == "failed")
        return finished, len(self.outcomes), failed

    # -- running -------------------------------------------------------------------------------

    def run(self) -> Report:
        """Apply every change and return the report.

        Ctrl-C (KeyboardInterrupt) or :meth:`stop` from another thread ends it early: no new call
        starts, calls in flight finish, and the report says what was done and what was not.
        """
        try:
            self._run_phases()
        except KeyboardInterrupt:
            self.stop()
            self._wait()
        return self.report()

    def _run_phases(self) -> None:
        changes = self.plan.changes
        bots = [c for c in changes if c.kind == "bot" and c.action == "create"]
        bot_deletes = [c for c in changes if c.kind == "bot" and c.action == "delete"]
        imports = [c for c in changes if c.kind == "account" and c.action == "create"]
        updates = [c for c in changes if c.action == "update"]
        if bot_deletes and len(set(self.plan.observed_bots) | {c.user_id for c in bots}) > MAX_BOTS:
            # Swapping bots at the limit: the new ones only fit once the old ones are gone.
            for change in bot_deletes:
                self._spawn(self._delete_bot, change)
            self._wait()
            bot_deletes = []
        for change in bots:
            self._spawn(self._create_bot, change)
        for chunk in chunks(imports):
            self._spawn(self._import_accounts, chunk)
        for change in updates:
            self._spawn(self._set_profile, change, change.after or {})
        self._wait()
        for change in bot_deletes:
            self._spawn(self._delete_bot, change)
        for chunk in chunks([c for c in changes if c.kind == "account" and c.action == "delete"]):
            self._spawn(self._delete_accounts, chunk)
        self._wait()

    def stop(self) -> None:
        """Start no new call; calls in flight finish; the rest is reported as skipped."""
        self.interrupted = True
        self.api.client.stop()

    def report(self) -> Report:
        """The outcomes so far; changes never finished are marked skipped with the reason."""
        reason = self._skip_reason()
        with self._lock:
            for outcome in self.outcomes.values():
                if outcome.status == "pending":
                    outcome.status, outcome.error_info = "skipped", reason
            return Report(list(self.outcomes.values()), self.interrupted, self.stopped_by)

    # -- one task per call (or per chunk) ------------------------------------------------------------

    def _create_bot(self, change: Change) -> None:
        self._single(change, lambda: self.api.create_robot(change.user_id, change.after or {}))

    def _set_profile(self, change: Change, fields: dict[str, str], attempts_before: int = 0) -> None:
        self._single(change, lambda: self.api.portrait_set(change.user_id, fields), attempts_before)

    def _delete_bot(self, change: Change) -> None:
        self._single(change, lambda: self.api.delete_robot(change.user_id))

    def _import_accounts(self, chunk: Sequence[Change]) -> None:
        accounts = {c.user_id: dict(c.after or {}) for c in chunk}
        results = self._batch(chunk, lambda: self.api.multiaccount_import(accounts))
        for change in chunk:
            result = results.get(change.user_id) if results else None
            if result is None:
                continue
            if not result.ok:
                status: Status = "skipped" if result.code is None and self.api.client.stopping else "failed"
                self._finish(change, status, result.code, result.info, result.attempts)
            elif needs_portrait_after_import(change):
                rest = {n: v for n, v in (change.after or {}).items() if n not in IMPORT_KEYS}
                self._spawn(self._set_profile, change, rest, result.attempts)
            else:
                self._finish(change, "ok", attempts=result.attempts)

    def _delete_accounts(self, chunk: Sequence[Change]) -> None:
        results = self._batch(chunk, lambda: self.api.account_delete([c.user_id for c in chunk]))
        for change in chunk:
            result = results.get(change.user_id) if results else None
            if result is None:
                continue
            if result.ok or result.code == NOT_FOUND:
                self._finish(change, "ok", attempts=result.attempts)
            else:
                self._finish(change, "failed", result.code, result.info, result.attempts)

    # -- plumbing --------------------------------------------------------------------------

    def _single(self, change: Change, call: Callable[[], Reply], attempts_before: int = 0) -> None:
        try:
            reply = call()
        except CallFailed as failure:
            self._finish(change, "failed", failure.code, failure.info, attempts_before + failure.attempts,
                         failure.hint)
            self._stop_if_run_wide(failure)
            return
        except Stopped as stop:
            if stop.attempts:  # this call went out without a success: it may have been applied
                self._finish(change, "skipped", None, f"stopped after {stop.attempts} failed attempt(s); "
                             "whether it was applied is unknown: run apply again",
                             attempts_before + stop.attempts)
            return  # never sent: left pending, reported as not started
        self._finish(change, "ok", attempts=attempts_before + reply.attempts)

    def _batch(
        self, chunk: Sequence[Change], call: Callable[[], dict[str, ItemResult]]
    ) -> dict[str, ItemResult]:
        try:
            return call()
        except CallFailed as failure:  # only run-stopping failures escape a batch
            done = getattr(failure, "partial", {})
            for change in chunk:
                if change.user_id not in done:
                    self._finish(change, "failed", failure.code, failure.info, failure.attempts, failure.hint)
            self._stop_if_run_wide(failure)
            return done
        except Stopped as stop:
            return getattr(stop, "partial", {})  # the items answered before the stop

    def _finish(self, change: Change, status: Status, code: int | None = None, info: str = "",
                attempts: int = 0, hint: str | None = None) -> None:
        with self._lock:
            outcome = self.outcomes[change.address]
            outcome.status, outcome.error_code, outcome.error_info = status, code, info
            outcome.hint = hint if hint is not None else (errors.lookup(code).hint if code else "")
            outcome.attempts = attempts

    def _stop_if_run_wide(self, failure: CallFailed) -> None:
        if failure.stops_run:
            with self._lock:
                if not self.stopped_by:
                    self.stopped_by = str(failure).splitlines()[0]
            self.api.client.stop()

    def _spawn(self, function: Callable[..., None], *args: Any) -> None:
        if self.api.client.stopping:
            return
        future = self.api.client.submit(function, *args)
        with self._lock:
            self._futures.append(future)

    def _wait(self) -> None:
        """Wait until every task, including those spawned by tasks, has finished."""
        while True:
            with self._lock:
                pending = [f for f in self._futures if not f.done()]
            if not pending:
                break
            wait(pending)
        with self._lock:
            failures = [f.exception() for f in self._futures if not f.cancelled() and f.exception()]
        if failures:
            raise failures[0]  # a bug, not an API failure: those are outcomes

    def _skip_reason(self) -> str:
        if self.stopped_by:
            return f"not started: the run stopped after {self.stopped_by}"
        if self.interrupted:
            return "not started: interrupted"
        return "not started"

