"""Durability with --state: an OK answer means the change is on disk, even when the disk fills up.

An emulator process writes its state to a small disk while four threads import accounts and set
profiles until the disk is full. Writes that cannot be saved must answer a transient code (70500)
and be rolled back: a retry while the disk is still full answers 70500 again (never OK from memory),
reads keep being answered, and the change is not visible. Then space is freed, every failed write is
retried until OK, the emulator is killed with SIGKILL and started again on the same file: every
acknowledged write is there, and nothing else.

Two disks: an injected failing writer (``tests/emulator/small_disk.py``: always runs) and, where the
test may mount one (root on Linux), a real tmpfs of 64 KiB (unmounted afterwards, whatever happens).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import SECRET, Api

THREADS = 4
NICK_BYTES = 300
REPO = Path(__file__).resolve().parents[2]


class Disk:
    """A folder on a small disk, and a way to free space on it."""

    def __init__(self, folder: Path, free: Callable[[], object], command: list[str],
                 env: dict[str, str]) -> None:
        self.folder, self.free, self.command, self.env = folder, free, command, env


@contextlib.contextmanager
def injected_disk(tmp_path: Path) -> Iterator[Disk]:
    folder = tmp_path / "disk"
    folder.mkdir()
    capacity = tmp_path / "capacity"
    capacity.write_text(str(40 * 1024))
    yield Disk(folder, lambda: capacity.write_text(str(1024 * 1024)),
               [sys.executable, "-m", "tests.emulator.small_disk"],
               {"SMALL_DISK_CAPACITY_FILE": str(capacity)})


@contextlib.contextmanager
def tmpfs_disk(tmp_path: Path) -> Iterator[Disk]:
    if sys.platform != "linux" or os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root on Linux; the injected small disk covers this test")
    folder = Path(tempfile.mkdtemp(prefix="chatsync-tmpfs-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); the injected small disk "
                    "covers this test")
    try:
        filler = folder / "filler"
        filler.write_bytes(b"\0" * 16 * 1024)  # freed later: a way to make room on a full disk
        yield Disk(folder, filler.unlink, [sys.executable, "-m", "chatsync"], {})
    finally:
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)
        folder.rmdir()


@contextlib.contextmanager
def emulator(disk: Disk, log: Path, *, small: bool = True) -> Iterator[tuple[subprocess.Popen[str], Api]]:
    command = disk.command if small else [sys.executable, "-m", "chatsync"]
    with open(log, "a") as stderr:
        process = subprocess.Popen(
            [*command, "emulator", "--port", "0", "--state", str(disk.folder / "app.json"),
             "--rate-limit-scale", "inf"],
            stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=REPO,
            env={**os.environ, **disk.env, "CHATSYNC_SECRET_KEY": SECRET, "PYTHONPATH": str(REPO)},
        )
    assert process.stdout is not None
    try:
        line = process.stdout.readline()
        assert line.startswith("chatsync emulator listening on "), (line, log.read_text())
        with httpx.Client(base_url=line.split()[-1], timeout=30) as client:
            yield process, Api(client)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        process.stdout.close()


def nick(user: str, round_: int) -> str:
    return f"{user}-{round_}-".ljust(NICK_BYTES, "n")  # every nick the same size: the state only grows


def writes_of(worker: int) -> Iterator[tuple[str, dict[str, Any], str, str]]:
    """(endpoint, body, user, expected nick): imports, and a nick update of an earlier account."""
    for i in range(200):
        user = f"w{worker}u{i:03d}"
        yield "account_import", {"UserID": user, "Nick": nick(user, 0)}, user, nick(user, 0)
        if i % 3 == 2:
            earlier = f"w{worker}u{i - 2:03d}"
            body = {"From_Account": earlier, "ProfileItem": [
                {"Tag": "Tag_Profile_IM_Nick", "Value": nick(earlier, 1)}]}
            yield "portrait_set", body, earlier, nick(earlier, 1)


def read_nicks(api: Api, users: list[str]) -> dict[str, str | None]:
    """Each user's nick, or None when the account does not exist."""
    found: dict[str, str | None] = {}
    for start in range(0, len(users), 100):
        batch = users[start:start + 100]
        answer = api("portrait_get", {"To_Account": batch, "TagList": ["Tag_Profile_IM_Nick"]})
        assert answer["ErrorCode"] == 0, answer
        for item in answer["UserProfileItem"]:
            values = {entry["Tag"]: entry["Value"] for entry in item["ProfileItem"]}
            found[item["To_Account"]] = (values.get("Tag_Profile_IM_Nick")
                                         if item["ResultCode"] == 0 else None)
    return found


@pytest.mark.parametrize("make_disk", [injected_disk, tmpfs_disk], ids=["injected-writer", "tmpfs"])
def test_every_acknowledged_write_survives_a_full_disk_and_sigkill(
    tmp_path: Path, make_disk: Callable[[Path], AbstractContextManager[Disk]],
) -> None:
    log = tmp_path / "emulator.log"
    acked: dict[str, str] = {}  # user -> the nick an OK answer promised
    failed: list[tuple[str, dict[str, Any], str, str]] = []
    lock = threading.Lock()
    with make_disk(tmp_path) as disk, emulator(disk, log) as (process, api):

        def worker(n: int) -> None:
            misses = 0
            for name, body, user, expected in writes_of(n):
                if misses >= 3:
                    return
                if name == "portrait_set" and user not in acked:
                    continue  # its import is not on disk: nothing to update
                answer = api(name, body)
                with lock:
                    if answer["ErrorCode"] == 0:
                        acked[user] = expected
                    else:
                        assert answer["ErrorCode"] == 70500, answer  # transient: clients retry
                        failed.append((name, body, user, expected))
                        misses += 1

        pool = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        assert acked and failed, "the disk never filled up (or never took a write)"

        # The disk is still full: one failed write, retried, fails again; nothing of it is visible.
        name, body, user, expected = next(f for f in failed if f[0] == "account_import")
        for _ in range(3):
            assert api(name, body)["ErrorCode"] == 70500
        check = api("account_check", {"CheckItem": [{"UserID": user}]})
        assert check["ResultItem"][0]["AccountStatus"] == "NotImported"
        assert api("get_all_robots", {})["ErrorCode"] == 0  # still serving

        disk.free()
        for name, body, user, expected in failed:  # the client's retries, now with room
            if name == "portrait_set" and user not in acked:
                continue
            answer = api(name, body)
            assert answer["ErrorCode"] == 0, answer
            acked[user] = expected
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

        with emulator(disk, log, small=False) as (_, reborn):
            everyone = sorted({user for n in range(THREADS) for _, _, user, _ in writes_of(n)})
            found = read_nicks(reborn, everyone)
        assert {user: nick for user, nick in found.items() if nick is not None} == acked
    lines = log.read_text().splitlines()
    assert lines, "the full disk was never reported"
    for number, line in enumerate(lines):  # once each time the disk fills up, not once per call
        expected = "cannot write emulator state file" if number % 2 == 0 else "is written again"
        assert expected in line and "Traceback" not in line, lines
    assert len(lines) % 2 == 0, lines  # it ended writable again
