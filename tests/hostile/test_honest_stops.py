"""Item 6: Ctrl-C, a second Ctrl-C and SIGTERM always print the report, in the format asked for,
with each change's true state, partial ones included, so that report and app agree exactly.
``python -m chatsync apply`` runs as a real process against a fake server on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.apply.conftest import Secrets, write_config
from tests.hostile.conftest import RAW_CONTROL, HonestApp
from tests.hostile.fakes import Behaviour, FakeServer
from tests.support import SECRET

ACCOUNTS = {f"user{i:03d}": {"nick": f"U{i}", "self_signature": f"s{i}"} for i in range(300)}
TIMEOUT = 30.0


class Recording(HonestApp):
    """Answers honestly; remembers which accounts got imported and which got their profile, and
    holds each portrait_set for ``hold`` seconds once ``slow`` is set."""

    def __init__(self, hold: float = 0.0) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.imported: set[str] = set()
        self.profiled: set[str] = set()
        self.portrait_sets = 0
        self.hold = hold
        self.release = threading.Event()

    def multiaccount_import(self, body: Any) -> Any:
        with self.lock:
            self.imported |= {item["UserID"] for item in body["AccountList"]}
        return super().multiaccount_import(body)

    def portrait_set(self, body: Any) -> Any:
        with self.lock:
            self.portrait_sets += 1
        if self.hold:
            self.release.wait(self.hold)
        else:
            time.sleep(0.03)  # 300 calls, 16 at a time: about 0.6 s, so the stop lands mid-run
        with self.lock:
            self.profiled.add(body["From_Account"])
        return super().portrait_set(body)


def start(config: str, url: str, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATSYNC_") and k != "NO_COLOR"}
    env.update(CHATSYNC_SECRET_KEY=SECRET, CHATSYNC_ENDPOINT=url, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "chatsync", "apply", config, "--auto-approve", *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])


def wait_until(condition: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"apply ended early: {process.communicate()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("timed out")
        time.sleep(0.01)


def finished(process: subprocess.Popen[str], secrets: Secrets) -> tuple[str, str]:
    out, err = process.communicate(timeout=TIMEOUT)
    secrets.shown("stdout", out)
    secrets.shown("stderr", err)
    assert "Traceback" not in out + err, err
    assert not RAW_CONTROL.search(out), out
    return out, err


def assert_agrees(report: dict[str, Any], app: Recording) -> None:
    """Each change's state in the report is the app's: ok = imported and profiled, partial = imported
    only, skipped = not imported."""
    status = {c["user_id"]: c for c in report["changes"]}
    for user_id in ACCOUNTS:
        change = status[user_id]
        if user_id in app.profiled:
            assert change["status"] == "ok", change
        elif user_id in app.imported:
            assert change["status"] == "partial" and change["state"] == "imported; profile not set", change
        else:
            assert change["status"] == "skipped", change
    assert report["summary"]["created"] == len(app.profiled)
    assert report["summary"]["partial"] == len(app.imported - app.profiled)


@pytest.mark.parametrize(("number", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_stop_signal_prints_a_json_report_that_agrees_with_the_app(fake: Callable[[Behaviour], FakeServer],
                                                                     tmp_path: Path, secrets: Secrets,
                                                                     number: signal.Signals,
                                                                     code: int) -> None:
    app = Recording()
    server = fake(app)
    process = start(write_config(tmp_path, accounts=ACCOUNTS), server.url, "--format", "json")
    wait_until(lambda: app.portrait_sets >= 20, process)
    process.send_signal(number)
    out, err = finished(process, secrets)
    assert process.returncode == code, (out, err)
    report = json.loads(out)
    assert report["interrupted"] is True
    assert_agrees(report, app)
    assert 0 < len(app.profiled) < len(ACCOUNTS)


@pytest.mark.parametrize("output", ["text", "json"])
def test_a_second_ctrl_c_reports_at_once_with_calls_in_flight_as_unknown(
    fake: Callable[[Behaviour], FakeServer], tmp_path: Path, secrets: Secrets, output: str,
) -> None:
    app = Recording(hold=20.0)  # portrait_set never answers until released
    server = fake(app)
    process = start(write_config(tmp_path, accounts=ACCOUNTS), server.url, "--format", output)
    try:
        wait_until(lambda: app.portrait_sets >= 5, process)
        process.send_signal(signal.SIGINT)
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
    finally:
        # The held calls end 2 s later: had the report waited for them, they would read "ok".
        threading.Timer(2.0, app.release.set).start()
    out, err = finished(process, secrets)
    assert process.returncode == 130, (out, err)
    unknown = "in flight when the run was abandoned: whether it was applied is unknown"
    if output == "json":
        report = json.loads(out)
        assert report["interrupted"] and report["abandoned"]
        statuses = {c["status"] for c in report["changes"]}
        assert "ok" not in statuses and statuses <= {"partial", "skipped"}
        assert any(unknown in c["error_info"] for c in report["changes"])
        assert report["summary"]["partial"] == 300
        return
    summaries = [line for line in out.splitlines() if line.startswith("Apply interrupted:")]
    assert len(summaries) == 1
    assert unknown in out and "Interrupted twice" in out
    assert not [line for line in out.splitlines() if line.startswith("  + ") and line.endswith("  ok")]
    assert "300 partly done" in summaries[0]  # all imported; no profile is known to be set


@pytest.mark.parametrize(("number", "code", "word"), [(signal.SIGTERM, 143, "Terminated."),
                                                      (signal.SIGINT, 130, "Interrupted.")])
def test_a_stop_while_reading_from_a_stalled_server_ends_at_once(fake: Callable[[Behaviour], FakeServer],
                                                                 tmp_path: Path, secrets: Secrets,
                                                                 number: signal.Signals, code: int,
                                                                 word: str) -> None:
    from tests.hostile.fakes import silent

    stalled = threading.Event()

    def behaviour(endpoint: str, body: Any) -> Any:
        stalled.set()
        return silent()  # the call would wait for its 30 s deadline

    server = fake(behaviour)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATSYNC_")}
    env.update(CHATSYNC_SECRET_KEY=SECRET, CHATSYNC_ENDPOINT=server.url)
    config = write_config(tmp_path, accounts=ACCOUNTS)
    process = subprocess.Popen([sys.executable, "-m", "chatsync", "plan", config],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=Path(__file__).resolve().parents[2])
    wait_until(stalled.is_set, process)
    time.sleep(0.2)
    process.send_signal(number)
    try:
        out, err = process.communicate(timeout=15)  # well before the 30 s the stalled call may take
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("the stop waited for the stalled call")
    assert process.returncode == code, (out, err)
    assert err.strip().splitlines()[-1] == word and "Traceback" not in err
