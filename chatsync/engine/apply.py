"""Apply: turn a plan's changes into paced, concurrent, idempotent calls, and report each one.

Calls (the call strategy, :mod:`chatsync.domain.strategy`; docs/contract.md §4): new bots with
``create_robot`` and new accounts with ``multiaccount_import`` (100 a call), each with the fields
that call carries, then one ``portrait_set`` for a new object's other fields, started as soon as
its creating call answers; accounts whose nick or face_url alone changed with ``multiaccount_import``
(100 a call), read back with ``portrait_get`` and given a ``portrait_set`` where the values did not
take; other changed fields with one ``portrait_set`` per object; deletions last
(``delete_robot``, ``account_delete`` 100 a call). A change that fails fails alone; the others go
on. A failure that would hit every call (wrong key, unreachable endpoint) stops the run, and the
changes not yet started are reported as skipped, as they are after Ctrl-C (:meth:`Applier.stop`).
Every call is idempotent, so running ``apply`` again after any interruption converges without
duplicates.

Stops are honest (:meth:`Applier.signals`): the first Ctrl-C or SIGTERM starts no new call and lets
the calls in flight finish; a second one reports at once. Once the run is over, the report is whole:
a stop signal while it is made and printed waits for it (the exit code is still the first signal's),
and only the third signal of the run abandons the printing (:class:`PrintAbandoned`), for a reader
that never reads. Either way the report gives each change its true state: done, failed, not started, partly
done (an account imported whose profile was not set yet: ``partial``), or in flight when the run
was abandoned (whether it was applied is unknown).
Any failure inside a task, even an unexpected one, becomes the outcome of its changes.

A saved plan resumes (:func:`chatsync.engine.plan.recheck`): a change already done is reported ``ok``
with the state ``already done`` and nothing is sent for it; a create partly done gets only the
``portrait_set`` of the fields still to set.

Writes are read back (docs/contract.md §4): once every write is made, each object whose fields this
run set is read with ``portrait_get``, 100 a call, and a field that does not hold what was written
fails its change as overwritten by another writer (two applies at once cannot both succeed).
"""

from __future__ import annotations

import dataclasses
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from types import FrameType
from typing import Any

from chatsync.domain import strategy
from chatsync.domain.kinds import BY_NAME, KINDS
from chatsync.domain.plan import Change, Plan
from chatsync.domain.report import ALREADY_DONE, Outcome, Report, Status
from chatsync.engine.kinds import engine_of
from chatsync.engine.plan import Recheck, unset
from chatsync.errors import CallFailed, Stopped
from chatsync.facts import error_codes as errors
from chatsync.facts.fields import Value, ordered
from chatsync.tencent.api import ChatApi, ItemResult, chunks
from chatsync.tencent.client import Reply
from chatsync.text.safe import server_text

#: An account updated by multiaccount_import whose read-back is still to come.
IMPORT_UNCHECKED = "sent by multiaccount_import; not read back yet"
#: An account updated by multiaccount_import that the read-back did not confirm: portrait_set follows.
IMPORT_UNCONFIRMED = "sent by multiaccount_import; not confirmed by reading it back"
#: What to do about a field another writer overwrote during the run.
OVERWRITTEN_HINT = ("another writer (another apply?) changed it during this run: run applies one at a time "
                    "(CI: one job per app at once), then plan again")
#: Exit codes of a run stopped by a signal: 128 + its number, as shells report it.
SIGNAL_EXIT: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143}
#: The stop signal, counted from the first of a run, that abandons the printing of its report.
ABANDON_PRINT = 3


class Abandoned(Exception):
    """A second stop signal: report now, without waiting for the calls in flight."""


class PrintAbandoned(Exception):
    """The third stop signal of a run, while its report was printed (a reader that never reads):
    stop printing."""


class Applier:
    """Applies one plan through one :class:`ChatApi`. :meth:`run` once; :meth:`stop` from any thread.

    ``resume`` is what :func:`chatsync.engine.plan.recheck` found of a saved plan: its changes already
    done are not made again, and its creates partly done get only the fields still to set."""

    def __init__(self, api: ChatApi, plan: Plan, resume: Recheck | None = None) -> None:
        self.api = api
        self.plan = plan
        self.outcomes = {change.address: Outcome(change) for change in plan.changes}
        self.resume = resume or Recheck()
        for address in self.resume.done:
            self.outcomes[address].status = "ok"
            self.outcomes[address].state = ALREADY_DONE
        self.already_done = len(self.resume.done)
        self._lock = threading.Lock()
        self._futures: list[Future[None]] = []
        self._open = 0  # tasks spawned and not yet done
        self._all_done = threading.Condition()  # its own lock: signal handlers take self._lock
        self.interrupted = False
        self.abandoned = False  # a second stop signal: reported without waiting for calls in flight
        self.signal: int | None = None  # the first stop signal received, if any
        self.stopped_by = ""
        self._finished = False
        self._signals = 0  # stop signals received
        self._read: set[str] = set()  # addresses read back (or being read back)

    # -- progress ------------------------------------------------------------------------------

    def progress(self) -> tuple[int, int, int]:
        """(changes finished, changes in all, changes failed), for progress displays: finished is
        done (already done included) or failed; skipped, partly done or not started are not."""
        with self._lock:
            finished = sum(1 for o in self.outcomes.values() if o.status in ("ok", "failed"))
            failed = sum(1 for o in self.outcomes.values() if o.status == "failed")
        return finished, len(self.outcomes), failed

    # -- running -------------------------------------------------------------------------------

    def run(self) -> Report:
        """Apply every change and return the report.

        Ctrl-C (KeyboardInterrupt) or :meth:`stop` from another thread ends it early: no new call
        starts, calls in flight finish, and the report says what was done and what was not.
        """
        try:
            try:
                self._run_phases()
            except KeyboardInterrupt:
                self.signal = self.signal or signal.SIGINT
                self.stop()
                self.wait()
        except Abandoned:
            self.abandoned = True
        self._finished = True
        return self.report()

    @property
    def exit_code(self) -> int:
        """130 or 143 as the first stop signal says (one received while the report was printed
        too), else 0."""
        return SIGNAL_EXIT.get(self.signal, 130) if self.signal is not None else 0

    @contextmanager
    def signals(self) -> Iterator[None]:
        """While the block runs (in the main thread), SIGINT and SIGTERM stop this apply honestly:
        the first starts no new call, the second reports at once (:class:`Abandoned`). Once the run
        is over they wait for the report, which the block should print; the third signal of the run
        then raises :class:`PrintAbandoned` (once), for a reader that never reads."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {number: signal.signal(number, self._on_signal) for number in SIGNAL_EXIT}
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    def _on_signal(self, number: int, frame: FrameType | None) -> None:
        if self.signal is None:
            self.signal = number
        self._signals += 1
        if self._finished:  # the report is being made and printed: it comes out whole
            if self._signals == ABANDON_PRINT:
                raise PrintAbandoned
            return
        if self.interrupted:
            raise Abandoned
        self.stop()

    def _run_phases(self) -> None:
        """Each kind's creates and updates, stage by stage (a kind others name first), then the
        deletes in the reverse order, then the read-back of what was written."""
        done, remaining = self.resume.done, self.resume.remaining
        changes = [c for c in self.plan.changes if c.address not in done]
        for change in changes:  # creates partly done: the fields still to set
            if change.address in remaining:
                self.spawn(self.set_profile, change, remaining[change.address])
        changes = [c for c in changes if c.address not in remaining]
        by_kind: dict[str, list[Change]] = {kind.name: [] for kind in KINDS}
        for change in changes:
            by_kind[change.kind].append(change)
        stages = sorted({kind.stage for kind in KINDS})
        for stage in stages:
            for kind in KINDS:
                if kind.stage == stage and by_kind[kind.name]:
                    engine_of(kind).write(self, by_kind[kind.name])
            self.wait()
        for stage in reversed(stages):
            for kind in KINDS:
                if kind.stage == stage:
                    left = [c for c in by_kind[kind.name] if c.action == "delete" and self._not_begun(c)]
                    if left:
                        engine_of(kind).remove(self, left)
            self.wait()
        self._read_back()
        self.wait()

    def _not_begun(self, change: Change) -> bool:
        outcome = self.outcomes[change.address]
        return outcome.status == "pending" and not outcome.started

    # -- reading back what was written ---------------------------------------------------------

    def _written(self, change: Change) -> dict[str, Value]:
        """The fields this run wrote for ``change`` ({} when none: a delete, a create without fields)."""
        if change.action == "delete" or not BY_NAME[change.kind].profile:
            return {}  # a kind of its own fields (a group) checks its writes itself
        sent = strategy.import_update(change, self.plan.observed_objects.get(change.address))
        return {**dict(change.after or {}), **(sent or {})}

    def _read_back(self) -> None:
        """Read back, 100 a call, every object whose fields this run set (once every write is made),
        and again those an update by import did not reach (once their ``portrait_set`` is made)."""
        while not self.api.client.stopping:
            with self._lock:
                due = [o.change for o in self.outcomes.values() if o.change.address not in self._read and (
                    (o.status == "ok" and o.state != ALREADY_DONE and self._written(o.change))
                    or (o.status == "pending" and o.state == IMPORT_UNCHECKED))]
                self._read.update(change.address for change in due)
            if not due:
                return
            for chunk in chunks(due):
                self.spawn(self._check_written, chunk)
            self.wait()

    def _check_written(self, chunk: Sequence[Change]) -> None:
        """Fail each change of ``chunk`` whose object does not hold what was written; an update by
        import whose fields still hold the values the plan saw did not take: its ``portrait_set``
        follows."""
        wrote = {change.address: self._written(change) for change in chunk}
        names = ordered({name for fields in wrote.values() for name in fields})
        try:
            reads = self.api.portrait_get([change.user_id for change in chunk], names)
        except Stopped:
            return  # the run was stopped: its report says so, and these were written
        except CallFailed as failure:
            self._stop_if_run_wide(failure)
            reads = {c.user_id: ItemResult(c.user_id, failure.code, failure.info) for c in chunk}
        for change in chunk:
            attempts = self.outcomes[change.address].attempts
            read = reads.get(change.user_id)
            by_import = self.outcomes[change.address].state == IMPORT_UNCHECKED
            if by_import and self._not_taken(change, wrote[change.address], read):
                with self._lock:
                    self._read.discard(change.address)  # read again once its portrait_set is made
                self.fall_back(change, attempts, IMPORT_UNCONFIRMED)
                continue
            if read is None or not read.ok:
                code = None if read is None else read.code
                why = f"{code}: {read.info}" if read is not None and read.info else str(code)
                self.finish(change, "failed", None, f"written, but reading it back failed ({why}): "
                             "whether another writer changed it is unknown", attempts,
                             "run chatsync plan to see what the app holds")
                continue
            holds = {name: read.data.get(name, unset(name)) for name in wrote[change.address]}
            other = [(name, value, holds[name]) for name, value in wrote[change.address].items()
                     if holds[name] != value]
            if other:
                what = "; ".join(f"{name}: wrote {value!r}, now {now!r}" for name, value, now in other)
                self.finish(change, "failed", None, f"overwritten by another writer: {what}", attempts,
                             OVERWRITTEN_HINT)
            elif self.outcomes[change.address].state in (IMPORT_UNCHECKED, IMPORT_UNCONFIRMED):
                self.finish(change, "ok", attempts=attempts)  # confirmed

    def _not_taken(self, change: Change, wrote: dict[str, Value], read: ItemResult | None) -> bool:
        """True when an update by import may not have taken: its object could not be read back, or
        holds in each field it sent either that value or the one the plan saw (never a third)."""
        if read is None or not read.ok:
            return True
        seen = self.plan.observed_objects.get(change.address) or {}
        holds = {name: read.data.get(name, unset(name)) for name in wrote}
        return (any(holds[name] != value for name, value in wrote.items())
                and all(holds[name] in (value, seen.get(name)) for name, value in wrote.items()))

    def stop(self) -> None:
        """Start no new call; calls in flight finish; the rest is reported as skipped."""
        self.interrupted = True
        self.api.client.stop()

    def report(self) -> Report:
        """The outcomes so far; changes never finished are marked skipped with the reason."""
        reason = self._skip_reason()
        with self._lock:
            for outcome in self.outcomes.values():
                if outcome.status != "pending":
                    continue
                if outcome.started and self.abandoned:
                    outcome.status = "partial" if outcome.state else "skipped"
                    done = f"{outcome.state}; " if outcome.state else ""
                    outcome.error_info = (f"{done}in flight when the run was abandoned: whether it was "
                                          "applied is unknown; run apply again")
                elif outcome.state:
                    outcome.status = "partial"
                    outcome.error_info = f"{outcome.state}: the run stopped before the rest; run apply again"
                else:
                    outcome.status, outcome.error_info = "skipped", reason
            # Copies: a call still in flight (after a second Ctrl-C) cannot change a report once made.
            shown = [dataclasses.replace(outcome) for outcome in self.outcomes.values()]
            report = Report(shown, self.interrupted, self.stopped_by, abandoned=self.abandoned)
        if self.interrupted:
            report.exit_code = SIGNAL_EXIT.get(self.signal, 130) if self.signal is not None else 130
        return report

    # -- one task per call (or per chunk) ------------------------------------------------------------

    def _begin(self, changes: Sequence[Change]) -> None:
        with self._lock:
            for change in changes:
                self.outcomes[change.address].started = True

    def then_set_profile(self, change: Change, state: str, rest: dict[str, Value], attempts: int) -> None:
        """The creating call of ``change`` succeeded: its other fields follow in a task of their own."""
        with self._lock:
            outcome = self.outcomes[change.address]
            outcome.state, outcome.attempts = state, attempts
            outcome.started = False  # the creation is done; the portrait_set is not begun
        self.spawn(self.set_profile, change, rest, attempts)

    def set_profile(self, change: Change, fields: dict[str, Value], attempts_before: int = 0) -> None:
        self.single(change, lambda: self.api.portrait_set(change.user_id, fields), attempts_before)

    def progressed(self, change: Change, state: str) -> None:
        """What is done of ``change`` so far, while the rest is made in the same task (reported as
        partly done if the run stops before it)."""
        with self._lock:
            self.outcomes[change.address].state = state

    def imported_unchecked(self, change: Change, attempts: int) -> None:
        """An update sent by import: it waits for the read-back to be confirmed (or fall back)."""
        with self._lock:
            outcome = self.outcomes[change.address]
            outcome.state, outcome.attempts = IMPORT_UNCHECKED, attempts

    def fall_back(self, change: Change, attempts: int, state: str) -> None:
        """An update by import that did not (or may not) have taken: its ``portrait_set`` follows."""
        with self._lock:
            outcome = self.outcomes[change.address]
            outcome.state, outcome.attempts = state, attempts
            outcome.started = False
        self.spawn(self.set_profile, change, dict(change.after or {}), attempts)

    # -- plumbing --------------------------------------------------------------------------

    def single(self, change: Change, call: Callable[[], Reply], attempts_before: int = 0, *,
                finish: bool = True) -> int | None:
        """Make one call for ``change``; on success, finish it as done (or, with ``finish`` false,
        leave it pending) and return the attempts made so far; None when it did not succeed."""
        self._begin([change])
        try:
            reply = call()
        except CallFailed as failure:
            self.finish(change, "failed", failure.code, failure.info, attempts_before + failure.attempts,
                         failure.hint)
            self._stop_if_run_wide(failure)
            return None
        except Stopped as stop:
            if stop.attempts:  # this call went out without a success: it may have been applied
                state = self.outcomes[change.address].state
                self.finish(change, "partial" if state else "skipped", None,
                             f"{state + '; ' if state else ''}stopped after {stop.attempts} failed "
                             "attempt(s); whether it was applied is unknown: run apply again",
                             attempts_before + stop.attempts)
            return None  # never sent: left pending, reported as not started (or as partly done)
        if finish:
            self.finish(change, "ok", attempts=attempts_before + reply.attempts)
        return attempts_before + reply.attempts

    def batch(
        self, chunk: Sequence[Change], call: Callable[[], dict[str, ItemResult]]
    ) -> dict[str, ItemResult]:
        self._begin(chunk)
        try:
            return call()
        except CallFailed as failure:  # only run-stopping failures escape a batch
            done = getattr(failure, "partial", {})
            for change in chunk:
                if change.user_id not in done:
                    self.finish(change, "failed", failure.code, failure.info, failure.attempts, failure.hint)
            self._stop_if_run_wide(failure)
            return done
        except Stopped as stop:
            done = getattr(stop, "partial", {})  # the items answered before the stop
            if stop.attempts:  # a request went out and failed, then the stop came before a retry
                for change in chunk:
                    if change.user_id not in done:
                        self.finish(change, "skipped", None, f"stopped after {stop.attempts} failed "
                                     "attempt(s); whether it was applied is unknown: run apply again",
                                     stop.attempts)
            return done

    def finish(self, change: Change, status: Status, code: int | None = None, info: str = "",
                attempts: int = 0, hint: str | None = None) -> None:
        with self._lock:
            outcome = self.outcomes[change.address]
            outcome.status, outcome.error_code, outcome.error_info = status, code, info
            if status == "ok" and outcome.state != ALREADY_DONE:
                outcome.state = ""  # done: no step of it is still to come
            outcome.hint = hint if hint is not None else (errors.lookup(code).hint if code else "")
            outcome.attempts = attempts

    def _stop_if_run_wide(self, failure: CallFailed) -> None:
        if failure.stops_run:
            with self._lock:
                if not self.stopped_by:
                    self.stopped_by = str(failure).splitlines()[0]
            self.api.client.stop()

    def spawn(self, function: Callable[..., None], *args: Any) -> None:
        if self.api.client.stopping:
            return
        with self._all_done:
            self._open += 1
        future = self.api.client.submit(self._guarded, function, *args)
        with self._lock:
            self._futures.append(future)
        future.add_done_callback(self._task_done)

    def _task_done(self, _future: Future[None]) -> None:
        with self._all_done:
            self._open -= 1
            if not self._open:
                self._all_done.notify_all()

    def _guarded(self, function: Callable[..., None], *args: Any) -> None:
        """Run a task; an unexpected exception fails its changes and stops the run (never a crash)."""
        try:
            function(*args)
        except Exception as exc:
            first = args[0]
            changes = list(first) if isinstance(first, (list, tuple)) else [first]
            what = f"internal error ({type(exc).__name__}: {server_text(str(exc), 200)})"
            for change in changes:
                if self.outcomes[change.address].status == "pending":
                    self.finish(change, "failed", None, what, 0,
                                 "this is a bug in chatsync: please report it")
            with self._lock:
                if not self.stopped_by:
                    self.stopped_by = what
            self.api.client.stop()

    def wait(self) -> None:
        """Wait until every task, including those spawned by tasks, has finished."""
        # A count of open tasks, not a scan of every future: a large apply spawns thousands.
        # Short waits: a signal may land on a worker thread, and its handler runs only once this
        # (main) thread runs Python code again; the second Ctrl-C must not wait for a slow call.
        with self._all_done:
            while self._open:
                self._all_done.wait(0.2)
        with self._lock:
            failures = [error for f in self._futures if not f.cancelled() and (error := f.exception())]
        if failures:
            raise failures[0]  # a bug, not an API failure: those are outcomes

    def _skip_reason(self) -> str:
        if self.stopped_by:
            return f"not started: the run stopped after {self.stopped_by}"
        if self.interrupted:
            return "not started: interrupted"
        return "not started"

