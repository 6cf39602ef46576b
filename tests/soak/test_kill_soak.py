"""Soak: ``chatsync apply`` killed with SIGKILL at random points converges when run again (issue 7).

An emulator process with 20 % faults (``--fault-rate 0.2``: transient codes, HTTP 502, dropped
connections, faults after the change was applied) holds an app seeded with accounts and bots to
update, to delete and to leave alone, plus bystanders the config never mentions. ``chatsync apply``
of a config of a few hundred objects runs as its own process and is killed with SIGKILL three times
at seeded random moments (a random delay after the run's first change reached the emulator's state
file, so each kill lands in the apply, not in Python's start-up), then run until it exits 0. Then,
read without faults, the app must hold exactly the desired state: every declared object exists (or
not) with its managed fields, every unmanaged field and every bystander is as seeded, nothing else
changed, and ``chatsync plan --detailed-exitcode`` says there is nothing to do.

Seeded by ``SOAK_SEED`` (kill delays and faults), printed with ``-s``; set it to soak other runs.

The CLI's retry policy (up to 8 attempts, backoff up to 8 s) cannot be changed from outside, so a
run under 20 % faults takes a few seconds; the emulator's rate limits are scaled up so pacing on
the server side never refuses a call (the client still paces at the documented rates).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from chatsync.domain.model import PROFILE_FIELDS
from chatsync.facts.fields import STANDARD
from chatsync.tencent.api import ChatApi
from chatsync.tencent.client import Client
from chatsync.tencent.credentials import SigCache
from chatsync.tencent.retry import RetryPolicy
from chatsync.tencent.target import Target
from tests.support import ADMIN, SDKAPPID, SECRET, api_for, call, make_emulator

SEED = int(os.environ.get("SOAK_SEED", "1234"))  # the kill delays and the emulator's faults
FAULT_RATE = 0.2
KILLS = 3
KILL_DELAY = (0.0, 1.0)  # seconds after the apply's first change reached the emulator's state file
FINAL_RUNS = 3  # a run may end 1 when a call's retries run out under faults; then run again
RUN_TIMEOUT = 60.0
BANNER = "chatsync emulator listening on "
TAGS = PROFILE_FIELDS  # field name -> profile tag

Fields = dict[str, str]


# -- the app before, and the config --------------------------------------------------------------

def old(user: str) -> Fields:
    return {"nick": f"Old {user}", "face_url": f"https://old.example.com/{user}.png",
            "self_signature": f"old signature of {user}"}


class Scenario:
    """What is seeded, what the config declares, and so what the app must hold afterwards."""

    def __init__(self) -> None:
        # Seeded ordinary accounts: id -> profile fields.
        self.to_update = {f"upd-{i:03d}": old(f"upd-{i:03d}") for i in range(100)}
        self.to_keep = {f"keep-{i:03d}": old(f"keep-{i:03d}") for i in range(40)}
        self.to_delete = {f"del-{i:03d}": old(f"del-{i:03d}") for i in range(50)}
        self.bystanders = {f"by-{i:03d}": old(f"by-{i:03d}") for i in range(20)}
        self.bystanders["by-bare"] = {}  # an account without any profile field
        # Seeded bots (active unless listed in inactive_bots).
        self.bot_updates = {f"@RBT#upd{i}": old(f"bot{i}") for i in range(3)}
        self.bot_keeps = {f"@RBT#keep{i}": old(f"keep{i}") for i in range(2)}
        self.bot_deletes = {f"@RBT#del{i}": old(f"del{i}") for i in range(3)}
        self.bot_bystanders = {"@RBT#by0": old("by0"), "@RBT#by1": {"nick": "Bystander bot"},
                               "@RBT#by-gone": old("by-gone")}
        self.inactive_bots = {"@RBT#by-gone"}  # deleted before: must stay deleted and unlisted

        # The config: id -> managed fields (None: state absent).
        self.accounts: dict[str, Fields | None] = {}
        patterns = [("nick", "face_url", "self_signature"), ("nick",), ("self_signature",),
                    ("nick", "face_url"), ("face_url", "self_signature"), ()]
        for i in range(400):
            user = f"new-{i:03d}"
            values = {"nick": f"New {i}", "face_url": f"https://new.example.com/{i}.png",
                      "self_signature": f"hello from {i}"}
            self.accounts[user] = {name: values[name] for name in patterns[i % len(patterns)]}
        for i, user in enumerate(self.to_update):
            managed = patterns[i % 5]  # never (): each of these changes
            self.accounts[user] = {name: f"new {name} of {user}" for name in managed}
        for i, (user, profile) in enumerate(self.to_keep.items()):
            self.accounts[user] = {} if i % 2 else {"nick": profile["nick"]}  # no change either way
        for user in self.to_delete:
            self.accounts[user] = None
        for i in range(5):
            self.accounts[f"never-{i}"] = None  # absent and never existed: nothing to do
        self.bots: dict[str, Fields | None] = {}
        for bot in self.bot_updates:
            self.bots[bot] = {"nick": f"New nick of {bot}", "self_signature": f"new signature of {bot}"}
        for bot, profile in self.bot_keeps.items():
            self.bots[bot] = dict(profile)
        for bot in self.bot_deletes:
            self.bots[bot] = None
        for i in range(6):
            self.bots[f"@RBT#new{i}"] = {"nick": f"New bot {i}", "face_url": f"https://bots.example.com/{i}.png",
                                         "self_signature": f"new bot {i}"}

    @property
    def seeded_accounts(self) -> dict[str, Fields]:
        return {**self.to_update, **self.to_keep, **self.to_delete, **self.bystanders}

    @property
    def seeded_bots(self) -> dict[str, Fields]:
        return {**self.bot_updates, **self.bot_keeps, **self.bot_deletes, **self.bot_bystanders}

    def config_text(self) -> str:
        lines = ["version: 1", "app:", f"  sdkappid: {SDKAPPID}", "  max_deletes: 100", "bots:"]
        lines += _entries(self.bots)
        lines.append("accounts:")
        lines += _entries(self.accounts)
        return "\n".join(lines) + "\n"

    def expected_state(self, seeded: dict[str, Any]) -> dict[str, Any]:
        """The emulator state file after a converged apply: the seeded one changed by the plan only."""
        accounts = {user: dict(profile) for user, profile in seeded["accounts"].items()}
        bots = dict(seeded["bots"])
        deleted = set(seeded["deleted"])
        for user_id, fields in [*self.accounts.items(), *self.bots.items()]:
            if fields is None:
                if user_id in bots:
                    bots[user_id] = False  # delete_robot invalidates; the id and profile stay
                elif accounts.pop(user_id, None) is not None:
                    deleted.add(user_id)
                continue
            profile = accounts.setdefault(user_id, {})
            profile.update({TAGS[name]: value for name, value in fields.items()})
            if user_id.startswith("@RBT#"):
                bots[user_id] = True
        return {**seeded, "accounts": accounts, "bots": bots, "deleted": sorted(deleted)}


def _entries(objects: dict[str, Fields | None]) -> list[str]:
    lines = []
    for user_id, fields in objects.items():
        lines.append(f"  {json.dumps(user_id)}:")
        if fields is None:
            lines.append("    state: absent")
        for name, value in (fields or {}).items():
            lines.append(f"    {name}: {json.dumps(value)}")
    return lines


def seed(path: Path, scenario: Scenario) -> dict[str, Any]:
    """Create the seeded app through the API (in process, no faults); returns its state file."""
    emulator = make_emulator(state_path=path)
    api = api_for(emulator)
    keys = {"nick": "Nick", "face_url": "FaceUrl", "self_signature": "SelfSignature"}
    for bot, fields in scenario.seeded_bots.items():
        call(api, "create_robot", {"UserID": bot, **{keys[n]: v for n, v in fields.items()}})
    for bot in scenario.inactive_bots:
        call(api, "delete_robot", {"Robot_Account": bot})
    users = list(scenario.seeded_accounts.items())
    for start in range(0, len(users), 100):
        chunk = [{"UserID": user} for user, _ in users[start:start + 100]]
        answer = call(api, "multiaccount_import", {"AccountList": chunk})
        assert answer["FailAccounts"] == []
    for user, fields in users:
        if fields:
            call(api, "portrait_set", {"From_Account": user, "ProfileItem": [
                {"Tag": TAGS[n], "Value": v} for n, v in fields.items()]})
    api.client.close()
    emulator.close()
    state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return state


# -- processes -----------------------------------------------------------------------------------

@contextmanager
def emulator_process(state: Path, *flags: str) -> Iterator[str]:
    """``chatsync emulator --port 0 --state STATE FLAGS`` as a process; yields its URL, stops it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "chatsync", "emulator", "--port", "0", "--state", str(state), *flags],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "CHATSYNC_SECRET_KEY": SECRET},
    )
    try:
        line = process.stdout.readline().strip() if process.stdout else ""
        assert line.startswith(BANNER), f"the emulator did not start: {line!r}"
        yield line[len(BANNER):]
    finally:
        process.send_signal(signal.SIGTERM)  # writes any unsaved change, then exits 0
        try:
            _, err = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
    assert process.returncode == 0, f"the emulator exited {process.returncode}:\n{err}"
    assert "Traceback" not in err and "internal error" not in err, err


def cli_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATSYNC_")}
    return {**env, "CHATSYNC_SECRET_KEY": SECRET, "CHATSYNC_ENDPOINT": url, "NO_COLOR": "1"}


def apply_command(config: Path) -> list[str]:
    return [sys.executable, "-m", "chatsync", "apply", "--auto-approve", "--parallelism", "8", str(config)]


def state_of(path: Path) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return state


def wait_for_change(state: Path, process: subprocess.Popen[str]) -> float | None:
    """Seconds until the state file changes (the apply's first change is saved), or None if the
    process ends first. The emulator replaces the file atomically on every change."""
    started = time.monotonic()
    mark = _identity(state)
    while process.poll() is None and time.monotonic() - started < RUN_TIMEOUT:
        if _identity(state) != mark:
            return round(time.monotonic() - started, 2)
        time.sleep(0.005)
    return None


def _identity(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_ino, info.st_mtime_ns


# -- the test -----------------------------------------------------------------------------------

def test_apply_killed_three_times_then_rerun_converges_exactly(tmp_path: Path) -> None:
    began = time.monotonic()
    scenario = Scenario()
    state = tmp_path / "app.json"
    seeded = seed(state, scenario)
    config = tmp_path / "chatsync.yaml"
    config.write_text(scenario.config_text(), encoding="utf-8")
    expected = scenario.expected_state(seeded)
    rng = random.Random(SEED)
    kills: list[dict[str, Any]] = []
    finals: list[dict[str, Any]] = []

    with emulator_process(state, "--fault-rate", str(FAULT_RATE), "--seed", str(SEED),
                          "--rate-limit-scale", "1000") as url:
        env = cli_env(url)
        for _ in range(KILLS):
            delay = rng.uniform(*KILL_DELAY)
            before = state_of(state)
            started = time.monotonic()
            process = subprocess.Popen(apply_command(config), env=env, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            first_change = wait_for_change(state, process)
            time.sleep(delay)
            exited_before_kill = process.poll() is not None
            if not exited_before_kill:
                process.send_signal(signal.SIGKILL)
            out, err = process.communicate(timeout=RUN_TIMEOUT)
            time.sleep(0.3)  # calls the killed process left in flight are answered (and saved)
            after = state_of(state)
            kills.append({"first_change": first_change, "delay": round(delay, 2),
                          "exited_before_kill": exited_before_kill,
                          "returncode": process.returncode, "changed_app": after != before,
                          "done": after == expected, "seconds": round(time.monotonic() - started, 2)})
            if exited_before_kill:
                assert process.returncode in (0, 1), f"apply exited {process.returncode}:\n{out}\n{err}"
        for _ in range(FINAL_RUNS):
            started = time.monotonic()
            result = subprocess.run(apply_command(config), env=env, stdin=subprocess.DEVNULL,
                                    capture_output=True, text=True, timeout=RUN_TIMEOUT)
            finals.append({"returncode": result.returncode, "seconds": round(time.monotonic() - started, 2),
                           "summary": [line for line in result.stdout.splitlines()
                                       if line.startswith(("Apply complete", "Plan:", "No changes"))],
                           "stderr": result.stderr.strip().splitlines()[-3:]})
            assert result.returncode in (0, 1), f"apply exited {result.returncode}:\n{result.stderr}"
            if result.returncode == 0:
                break

    print(f"\nkills: {kills}\nfinal runs: {finals}\ntotal {time.monotonic() - began:.1f}s")
    assert finals[-1]["returncode"] == 0, f"apply did not converge in {FINAL_RUNS} runs: {finals}"
    assert any(k["changed_app"] and not k["exited_before_kill"] for k in kills), (
        f"no kill landed in the middle of an apply: {kills}")

    # Nothing but the plan changed: the whole app, bystanders and unmanaged fields included.
    final = state_of(state)
    assert final["accounts"] == expected["accounts"]
    assert final["bots"] == expected["bots"]
    assert final["deleted"] == expected["deleted"]
    assert final == expected

    # Read back without faults through the client, and plan again: nothing left to do.
    with emulator_process(state, "--rate-limit-scale", "1000") as url:
        check_live(url, scenario)
        result = subprocess.run(
            [sys.executable, "-m", "chatsync", "plan", "--detailed-exitcode", str(config)],
            env=cli_env(url), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=RUN_TIMEOUT)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "No changes." in result.stdout
    assert state_of(state) == expected  # reads change nothing


def check_live(url: str, scenario: Scenario) -> None:
    """Every declared object and every bystander, read through :class:`ChatApi` (fault-free)."""
    retry = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05, deadline=5.0)
    client = Client(Target((url,), "test"), SigCache(SDKAPPID, ADMIN, SECRET), retry=retry)
    with client:
        api = ChatApi(client)
        want_accounts: dict[str, Fields | None] = {**scenario.accounts, **scenario.bystanders}
        want_bots: dict[str, Fields | None] = {**scenario.bots}
        for bot, bystander in scenario.bot_bystanders.items():
            want_bots[bot] = None if bot in scenario.inactive_bots else bystander
        assert sorted(api.get_all_robots()) == sorted(b for b, f in want_bots.items() if f is not None)
        checked = api.account_check(want_accounts)
        exists = {u for u, r in checked.items() if r.ok and r.data["AccountStatus"] == "Imported"}
        assert exists == {u for u, f in want_accounts.items() if f is not None}
        profiles = api.portrait_get([*exists, *(b for b, f in want_bots.items() if f is not None)])
        seeded = {**scenario.seeded_accounts, **scenario.seeded_bots}
        for user_id, fields in [*want_accounts.items(), *want_bots.items()]:
            if fields is None:
                continue
            result = profiles[user_id]
            assert result.ok, result
            # Managed fields as declared; the others as seeded (or unset for new objects).
            wanted = {f.name: f.unset for f in STANDARD}
            wanted.update(seeded.get(user_id, {}))
            wanted.update(fields)
            assert dict(result.data) == wanted, user_id


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-s"]))
