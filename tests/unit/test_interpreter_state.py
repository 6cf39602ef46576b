"""The Python API leaves the interpreter as it found it (issue 23): after any public function of
``chatsync`` returns or raises, ``gc.isenabled()`` and ``sys.getswitchinterval()`` are what they
were, also when two threads call it at once. The library never calls the functions that change
them (the ``chatsync`` command does, around its own work: :mod:`chatsync.cli.tuning`).

Each function is called against an emulator served on loopback (one per thread), once in a way
that returns and once in a way that raises, from each of two starting states (the GC on or off,
two unusual switch intervals), alone and from two threads started together.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

import chatsync
from chatsync.domain.plan import Plan
from chatsync.domain.report import Report
from chatsync.facts.endpoints import ENDPOINTS
from tests.support import SDKAPPID, SECRET, App

#: Starting states: (GC enabled, switch interval), neither the interpreter's default interval; each
#: interval a whole number of microseconds in binary too (1/64 s, 1/256 s), so reading it back
#: and setting that again gives the same value.
STATES = [(True, 0.015625), (False, 0.00390625)]
#: The process-wide setters the library must never call.
SETTERS = [(gc, "disable"), (gc, "enable"), (gc, "freeze"), (gc, "unfreeze"), (gc, "set_threshold"),
           (sys, "setswitchinterval")]
ACCOUNTS = 150  # enough that a load and a plan take a while, so two threads overlap


@dataclass
class World:
    """One thread's app: a served emulator, a config for it, and what the calls need."""

    folder: Path
    url: str
    config: str
    bad_config: str
    environ: dict[str, str]

    def desired(self) -> chatsync.DesiredState:
        return chatsync.load(self.config)

    def planned(self) -> Plan:
        return chatsync.plan(self.desired(), environ=self.environ)


def write_world(folder: Path, url: str) -> World:
    folder.mkdir()
    document = {
        "version": 1,
        "app": {"sdkappid": SDKAPPID, "rate_limits": {name: 100_000 for name in ENDPOINTS}},
        "bots": {"@RBT#helper": {"nick": "Helper"}},
        "accounts": {f"user-{i:04}": {"nick": f"User {i}"} for i in range(ACCOUNTS)},
    }
    config = folder / "chatsync.yaml"
    config.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    bad = folder / "bad.yaml"
    bad.write_text("version: 1\napp:\n  sdkappid: not-a-number\naccounts:\n  a:\n    nick: 7\n",
                   encoding="utf-8")
    environ = {"CHATSYNC_SECRET_KEY": SECRET, "CHATSYNC_ENDPOINT": url}
    return World(folder, url, str(config), str(bad), environ)


@pytest.fixture
def worlds(tmp_path: Path, serve: Callable[..., App]) -> list[World]:
    """Two apps, each on its own emulator: one per thread."""
    return [write_world(tmp_path / name, serve().url) for name in ("one", "two")]


@contextmanager
def no_setter_called() -> Iterator[None]:
    """Fails if a process-wide setter is called (by any thread) while the block runs."""
    called: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        for module, name in SETTERS:
            real = getattr(module, name)

            def spy(*args: Any, _real: Any = real, _name: str = f"{module.__name__}.{name}") -> Any:
                called.append(_name)
                return _real(*args)

            patch.setattr(module, name, spy)
        yield
    assert called == [], f"the library changed process-wide settings: {called}"


def set_state(enabled: bool, interval: float) -> tuple[bool, float]:
    """Set the GC and the switch interval; what the interpreter then reports (it keeps the
    interval in whole microseconds)."""
    (gc.enable if enabled else gc.disable)()
    sys.setswitchinterval(interval)
    return gc.isenabled(), sys.getswitchinterval()


@pytest.fixture
def interpreter() -> Iterator[None]:
    """Puts back the GC and the switch interval the test found, whatever the test set."""
    enabled, interval = gc.isenabled(), sys.getswitchinterval()
    yield
    sys.setswitchinterval(interval)
    (gc.enable if enabled else gc.disable)()


def connect_and_call(world: World, secret_key: str | None = None) -> list[str]:
    with chatsync.connect(world.desired().app, environ=world.environ, secret_key=secret_key) as api:
        return api.get_all_robots()


def connect_and_raise(world: World) -> None:
    with chatsync.connect(world.desired().app, environ=world.environ):
        raise RuntimeError("the caller's own error, inside the block")


def apply_new_plan(world: World) -> Report:
    report = chatsync.apply(world.planned(), environ=world.environ)
    assert report.ok
    return report


def save_and_read(world: World) -> Plan:
    path = world.folder / "plan.json"
    chatsync.save_plan(world.planned(), path)
    return chatsync.read_plan(path, secret_key=SECRET)


def read_with_wrong_key(world: World) -> Plan:
    path = world.folder / "plan.json"
    chatsync.save_plan(world.planned(), path)
    return chatsync.read_plan(path, secret_key="another-key-0000000000000000000000000000")


def load_connected_and_plan(world: World, config: str | None = None) -> Plan:
    """What the command does (:func:`chatsync.api.load_connected`: the live app read while the
    config loads), through the module's public functions."""
    from chatsync.api import load_connected, plan_with

    with load_connected([config or world.config], environ=world.environ) as done:
        return plan_with(done.api, done.desired, reader=done.reader)


def unsafe(world: World) -> None:
    planned = world.planned()
    planned.errors.append("made up for the test")
    chatsync.check_applicable(planned)


#: Each public function (``chatsync.__all__``, and those of :mod:`chatsync.api` the command uses): a
#: call that returns and a call that raises, given the thread's world.
CALLS: dict[str, tuple[Callable[[World], object], Callable[[World], object]]] = {
    "load": (World.desired, lambda w: chatsync.load(w.bad_config)),
    "plan": (World.planned, lambda w: chatsync.plan(w.desired(), environ=w.environ, secret_key="wrong-key")),
    "apply": (apply_new_plan,
              lambda w: chatsync.apply(w.planned(), environ=w.environ, secret_key="wrong-key")),
    "export": (lambda w: chatsync.export(w.desired(), environ=w.environ),
               lambda w: chatsync.export(w.desired(), environ=w.environ, secret_key="wrong-key")),
    "save_plan and read_plan": (save_and_read, read_with_wrong_key),
    "save_plan": (lambda w: chatsync.save_plan(w.planned(), w.folder / "saved.json"),
                  lambda w: chatsync.save_plan(w.planned(), w.folder)),  # a directory: OSError
    "format_plan": (lambda w: chatsync.format_plan(w.planned(), "markdown"),
                    lambda w: chatsync.format_plan(w.planned(), "no-such-format")),
    "format_report": (lambda w: chatsync.format_report(apply_new_plan(w), "json"),
                      lambda w: chatsync.format_report(apply_new_plan(w), "no-such-format")),
    "check_applicable": (lambda w: chatsync.check_applicable(w.planned()), unsafe),
    "connect": (connect_and_call, connect_and_raise),
    "api.load_connected and api.plan_with": (load_connected_and_plan,
                                             lambda w: load_connected_and_plan(w, w.bad_config)),
}


def run(call: Callable[[World], object], world: World, raises: bool) -> None:
    if raises:
        with pytest.raises(Exception):  # noqa: B017 - any error: the point is the state after it
            call(world)
    else:
        call(world)


@pytest.mark.usefixtures("interpreter")
@pytest.mark.parametrize("state", STATES, ids=["gc-on", "gc-off"])
@pytest.mark.parametrize("raises", [False, True], ids=["returns", "raises"])
@pytest.mark.parametrize("name", list(CALLS))
def test_one_call_leaves_the_interpreter_as_it_was(name: str, raises: bool, state: tuple[bool, float],
                                                   worlds: list[World]) -> None:
    before = set_state(*state)
    with no_setter_called():
        run(CALLS[name][raises], worlds[0], raises)
    assert (gc.isenabled(), sys.getswitchinterval()) == before


@pytest.mark.usefixtures("interpreter")
@pytest.mark.parametrize("raises", [False, True], ids=["returns", "raises"])
@pytest.mark.parametrize("name", list(CALLS))
def test_two_threads_at_once_leave_the_interpreter_as_it_was(name: str, raises: bool,
                                                             worlds: list[World]) -> None:
    before = set_state(*STATES[0])
    start = threading.Barrier(len(worlds), timeout=30)  # a bound only so a broken test cannot hang
    errors: list[BaseException] = []

    def one(world: World) -> None:
        try:
            start.wait()
            run(CALLS[name][raises], world, raises)
        except BaseException as exc:  # shown by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(world,)) for world in worlds]
    with no_setter_called():
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert (gc.isenabled(), sys.getswitchinterval()) == before


@pytest.mark.usefixtures("interpreter")
def test_the_command_puts_back_what_it_changed(tmp_path: Path) -> None:
    """The command may change them while it works (for speed), and puts back what it found, also
    when it fails."""
    from click.testing import CliRunner

    from chatsync.cli import main

    world = write_world(tmp_path / "w", "http://127.0.0.1:9")
    for state in STATES:
        before = set_state(*state)
        for args in (["validate", world.config], ["validate", world.bad_config]):
            CliRunner().invoke(main, args)
            assert (gc.isenabled(), sys.getswitchinterval()) == before


@pytest.mark.usefixtures("interpreter")
def test_overlapping_holders_of_a_tweak_restore_what_the_first_found() -> None:
    """Two commands in one process (threads), the second entering before the first leaves and
    leaving after it: the setting stays changed until the last leaves, then is what it was."""
    from chatsync.cli import tuning

    before = set_state(*STATES[0])
    first, second = tuning.quick_switches(), tuning.quick_switches()
    first.__enter__()
    assert sys.getswitchinterval() == pytest.approx(tuning.SWITCH_INTERVAL)
    second.__enter__()
    first.__exit__(None, None, None)
    assert sys.getswitchinterval() == pytest.approx(tuning.SWITCH_INTERVAL)
    second.__exit__(None, None, None)
    assert sys.getswitchinterval() == before[1]
    with tuning.no_cyclic_gc(), tuning.no_cyclic_gc():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_command_alone_freezes_the_heap_at_exit_once(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The last collection at exit skips the command's heap (``gc.freeze`` as the process exits):
    registered by the command, once however many commands a process runs, never by the library."""
    import atexit

    from click.testing import CliRunner

    from chatsync.cli import main, tuning

    registered: list[object] = []
    monkeypatch.setattr(atexit, "register", registered.append)
    monkeypatch.setattr(tuning, "_AT_EXIT", [])
    world = write_world(tmp_path / "w", "http://127.0.0.1:9")
    chatsync.load(world.config)
    assert registered == []
    for _ in range(2):
        CliRunner().invoke(main, ["validate", world.config])
    assert registered == [gc.freeze]
