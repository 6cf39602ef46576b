"""Interpreter settings the ``chatsync`` command changes for its own speed, around the work that
gains from them, and puts back after.

These settings belong to the whole process, so the library (:mod:`chatsync.api` and everything
under it) never touches them: a program that calls ``chatsync.load`` or ``chatsync.plan`` finds
its garbage collector and switch interval as it left them, also when two of its threads call at
once. The command owns its process, so it may:

* :func:`no_cyclic_gc` while a config loads and a plan is made: both build many small objects and
  no cycles, and without it the cyclic GC rescans the growing heap again and again (loading
  100,000 accounts took about 3x as long).
* :func:`quick_switches` while the config loads as the live app is read
  (:mod:`chatsync.engine.prefetch`): loading runs Python non-stop, and a read whose answer waits
  for its turn frees its unit of allowance late (:mod:`chatsync.tencent.pacing`), delaying every
  call after it; a 1 ms switch interval (not 5) hands the reading threads the interpreter sooner.

* :func:`no_collection_at_exit`: the interpreter's last cyclic collection, as the process exits,
  walks every object the command made only to free memory the exit gives back anyway (30-60 ms
  after an apply of 1,000 accounts, the time from its report to the shell's prompt); the command
  freezes the heap first (:func:`gc.freeze`), so that collection skips it.

Each is held by a count: the first holder changes the setting, the last to leave restores what the
first found, so nested or overlapping holders (threads running commands in one process, as tests
do) leave the process as it was.
"""

from __future__ import annotations

import atexit
import gc
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")

#: Seconds a thread runs before the interpreter offers the others a turn, while loading.
SWITCH_INTERVAL = 0.001


class _Held(Generic[T]):
    """One process-wide setting, changed while anyone holds it and restored by the last to leave."""

    def __init__(self, read: Callable[[], T], write: Callable[[T], None], value: T) -> None:
        self._read = read
        self._write = write
        self._value = value
        self._lock = threading.Lock()
        self._holders = 0
        self._found: list[T] = []  # what the first holder found, while held

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            if self._holders == 0:
                self._found = [self._read()]
                self._write(self._value)
            self._holders += 1
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0:
                    self._write(self._found.pop())


def _set_gc(enabled: bool) -> None:
    if enabled:
        gc.enable()
    else:
        gc.disable()


_GC = _Held(gc.isenabled, _set_gc, False)
_SWITCHES = _Held(sys.getswitchinterval, sys.setswitchinterval, SWITCH_INTERVAL)


def no_cyclic_gc() -> AbstractContextManager[None]:
    """The cyclic garbage collector paused while the block runs (reference counting still frees)."""
    return _GC.held()


def quick_switches() -> AbstractContextManager[None]:
    """The interpreter offered to other threads every :data:`SWITCH_INTERVAL` seconds meanwhile."""
    return _SWITCHES.held()


_AT_EXIT: list[bool] = []  # whether no_collection_at_exit has registered its handler


def no_collection_at_exit() -> None:
    """As the process exits, :func:`gc.freeze` the heap: its last collection then skips every
    object the command made (the memory goes back with the process). Once per process; a program
    that runs commands in process (tests) gets one handler."""
    if not _AT_EXIT:
        _AT_EXIT.append(True)
        atexit.register(gc.freeze)
