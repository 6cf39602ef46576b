"""--state as a service uses it: a symlink keeps pointing where it did and its target gets the
writes; the temp files of a save cut by kill -9 are removed at the next start, and nothing else."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from chatsync.emulator.store import Store
from tests.support import api_for, call, make_emulator

REPO = Path(__file__).resolve().parents[2]
TEMP_NAME = r"\.app\.json\.[a-z0-9_]{8}\.tmp"


def accounts(path: Path) -> set[str]:
    return set(json.loads(path.read_text(encoding="utf-8"))["accounts"])


@pytest.mark.parametrize("relative", [False, True])
def test_a_state_symlink_is_kept_and_its_target_gets_the_writes(tmp_path: Path, relative: bool) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "links").mkdir()
    target = tmp_path / "data" / "app.json"
    target.write_text(json.dumps({"format": "chatsync-emulator-state", "version": 1,
                                  "sdkappid": 1400000000, "accounts": {"administrator": {}},
                                  "bots": {}, "deleted": [], "kicked": {}}))
    link = tmp_path / "links" / "state.json"
    pointed = "../data/app.json" if relative else str(target)
    link.symlink_to(pointed)
    emulator = make_emulator(state_path=link)
    call(api_for(emulator), "account_import", {"UserID": "alice"})
    emulator.close()
    assert link.is_symlink() and os.readlink(link) == pointed
    assert accounts(target) == {"administrator", "alice"}
    assert sorted(p.name for p in (tmp_path / "links").iterdir()) == ["state.json"]  # no temp file
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["app.json"]
    assert "alice" in make_emulator(state_path=link).store.accounts  # read back through the link


def test_a_dangling_state_symlink_gets_its_target_created(tmp_path: Path) -> None:
    target = tmp_path / "app.json"
    link = tmp_path / "state.json"
    link.symlink_to(target.name)
    emulator = make_emulator(state_path=link)
    call(api_for(emulator), "account_import", {"UserID": "bob"})
    assert link.is_symlink() and os.readlink(link) == "app.json"
    assert "bob" in accounts(target)


KILLED_MID_SAVE = """
import os, signal, sys
from pathlib import Path
from chatsync.emulator.store import Store

store = Store(1400000000, ("administrator",), Path(sys.argv[1]))
os.replace = lambda *_: os.kill(os.getpid(), signal.SIGKILL)  # killed between write and rename
with store.lock:
    store.accounts[sys.argv[2]] = {}
    ticket = store.changed()
store.commit(ticket)
"""


def kill_mid_save(state: Path, user: str) -> None:
    process = subprocess.run([sys.executable, "-c", KILLED_MID_SAVE, str(state), user], cwd=REPO,
                             env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True)
    assert process.returncode == -signal.SIGKILL, process.stderr


def test_temp_files_of_a_killed_save_are_removed_at_the_next_start_and_nothing_else(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    import re

    state = tmp_path / "app.json"
    call(api_for(make_emulator(state_path=state)), "account_import", {"UserID": "kept"})
    for n in range(3):
        kill_mid_save(state, f"lost{n}")
    left = [p.name for p in tmp_path.iterdir() if re.fullmatch(TEMP_NAME, p.name)]
    # each killed run left one; each start removed the one before (without that: 3, and growing)
    assert len(left) == 1, sorted(p.name for p in tmp_path.iterdir())

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("keep me")
    decoys = {
        ".app.json.abcdefgh.tmp.bak": "x", ".app.json.abc.tmp": "x", "app.json.abcdefgh.tmp": "x",
        ".app.json.ABCDEFGH.tmp": "x", ".other.json.abcdefgh.tmp": "x", ".app.json.abcdefgh.temp": "x",
    }
    for name, text in decoys.items():
        (tmp_path / name).write_text(text)
    (tmp_path / ".app.json.zzzzzzzz.tmp").symlink_to(outside / "precious")  # a link: never removed
    (tmp_path / ".app.json.yyyyyyyy.tmp").mkdir()  # a folder: never removed
    before = {p.name for p in tmp_path.iterdir()} - set(left)

    with caplog.at_level("WARNING", logger="chatsync.emulator"):
        store = Store(1400000000, ("administrator",), state)
    assert {p.name for p in tmp_path.iterdir()} == before
    assert (outside / "precious").read_text() == "keep me"
    assert (tmp_path / ".app.json.zzzzzzzz.tmp").is_symlink()
    assert set(store.accounts) == {"administrator", "kept"}  # the killed saves were never acknowledged
    assert f"removed 1 temp file of an interrupted save beside emulator state file {state}" in caplog.text


def test_temp_files_beside_a_symlinks_target_are_removed_too(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    target = tmp_path / "data" / "app.json"
    link = tmp_path / "state.json"
    link.symlink_to(target)
    call(api_for(make_emulator(state_path=link)), "account_import", {"UserID": "kept"})
    kill_mid_save(link, "lost")
    assert len(list((tmp_path / "data").glob(".app.json.*.tmp"))) == 1
    assert set(Store(1400000000, ("administrator",), link).accounts) == {"administrator", "kept"}
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["app.json"]
    assert link.is_symlink()
