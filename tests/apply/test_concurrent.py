"""Two applies at once cannot both claim success: apply reads back every object it set, once its
writes are made, and a field that does not hold what it wrote fails its change as overwritten by
another writer, naming the field, what was written and what is there now (docs/contract.md §4).

Two real ``chatsync apply`` processes of different configs on the same accounts run against one
emulator whose writes are held until both processes are writing, then answered with latency, so
their writes interleave. Then at least one of them must fail: for both to pass, every account would
have to be written by one and read back before the other wrote it, for all accounts the same way
round, so every write of one would come after every write of the other; but both had a write
waiting when the gate opened, and each has more writes than calls in flight."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.apply.conftest import Secrets, write_config
from tests.apply.test_interrupt import TIMEOUT, env_for
from tests.support import WRITE_ENDPOINTS, App, read_live

ACCOUNTS = [f"shared{i:02d}" for i in range(40)]
#: Calls in flight per process: far fewer than its 40 writes.
PARALLELISM = "4"


def config_of(tmp_path: Path, who: str) -> str:
    accounts = {a: {"nick": f"{who}-{a}", "self_signature": f"{who} was here"} for a in ACCOUNTS}
    return write_config(tmp_path, accounts=accounts, name=f"{who}.yaml")


class Gate:
    """Holds every write until writes of both writers (told apart by their values) have arrived."""

    def __init__(self) -> None:
        self.writers: set[str] = set()
        self.lock = threading.Lock()
        self.open = threading.Event()

    def wrap(self, handle: Any) -> Any:
        def gated(method: str, target: str, body: bytes) -> Any:
            name = target.split("?")[0].rsplit("/", 1)[-1]
            if name in WRITE_ENDPOINTS:
                text = body.decode("utf-8", "replace")
                with self.lock:
                    self.writers.update(w for w in ("A", "B") if f'"{w}-' in text or f"{w} was" in text)
                    if len(self.writers) == 2:
                        self.open.set()
                self.open.wait(TIMEOUT)
            return handle(method, target, body)

        return gated


@pytest.mark.parametrize("latency_ms", [5, 20])
def test_two_applies_at_once_cannot_both_say_complete(serve: Callable[..., App], tmp_path: Path,
                                                      secrets: Secrets, latency_ms: int) -> None:
    app = serve(latency_ms=latency_ms)
    app.seed(accounts={a: {"nick": "before"} for a in ACCOUNTS})
    gate = Gate()
    app.emulator.handle = gate.wrap(app.emulator.handle)  # type: ignore[method-assign]
    processes = {
        who: subprocess.Popen(
            [sys.executable, "-m", "chatsync", "apply", config_of(tmp_path, who), "--auto-approve",
             "--parallelism", PARALLELISM],
            env=env_for(app.url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=Path(__file__).resolve().parents[2])
        for who in ("A", "B")
    }
    results = {}
    for who, process in processes.items():
        out, err = process.communicate(timeout=TIMEOUT * 2)
        secrets.shown(f"stdout of apply {who}", out)
        secrets.shown(f"stderr of apply {who}", err)
        results[who] = (process.returncode, out, err)
    assert gate.open.is_set(), "the two applies never wrote at the same time"
    for code, out, err in results.values():
        assert code in (0, 1) and "Traceback" not in err, (code, out, err)
    failed = {who: out for who, (code, out, _) in results.items() if code == 1}
    assert failed, "both applies said they completed: " + str({w: r[1][-300:] for w, r in results.items()})
    for who, out in failed.items():
        other = "B" if who == "A" else "A"
        assert "Apply complete:" in out and " 0 failed" not in out, out[-2000:]
        # which field, what was written, what is there now
        assert (f"overwritten by another writer: nick: wrote '{who}-" in out
                or f"self_signature: wrote '{who} was here', now '{other} was here'" in out), out[-2000:]
        assert "run applies one at a time" in out
    # what the app holds is what the last writer of each account wrote; a passing apply's values all hold
    live = read_live(app.url, ACCOUNTS)
    for who, (code, _, _) in results.items():
        if code == 0:
            assert all(live.profile(a)["nick"] == f"{who}-{a}" for a in ACCOUNTS)
