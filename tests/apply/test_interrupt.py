"""Interruption: ``python -m chatsync apply`` as a real process, stopped mid-run by Ctrl-C (SIGINT)
or killed outright (SIGKILL). Ctrl-C exits 130 with the report so far; either way a re-run
converges exactly, with no duplicate, and a final plan is empty (docs/contract.md §4)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from tests.apply.conftest import Secrets, all_fields, invoke, profile, summary, write_config
from tests.support import SECRET, App, read_live

#: Enough work that, paced at the documented rates through 20 ms answers, an apply lasts ~2 s.
NEW = {f"user{i:03d}": {"nick": f"User {i}", "face_url": f"https://img.example/{i}.png",
                        "self_signature": f"Hello {i}"} for i in range(400)}
BOTS = {"@RBT#one": {"nick": "One", "self_signature": "1"}, "@RBT#two": {"nick": "Two"}}
TIMEOUT = 20.0


def env_for(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATSYNC_") and k != "NO_COLOR"}
    env.update(CHATSYNC_SECRET_KEY=SECRET, CHATSYNC_ENDPOINT=url, PYTHONUNBUFFERED="1")
    return env


def start_apply(config: str, url: str) -> subprocess.Popen[str]:
    """``python -m chatsync apply CONFIG --auto-approve`` as a separate process."""
    # A suite run as a background job (``make test &``) starts with SIGINT ignored, and a child
    # inherits that: Python then installs no KeyboardInterrupt handler. Give the child Ctrl-C back.
    return subprocess.Popen([sys.executable, "-m", "chatsync", "apply", config, "--auto-approve"],
                            env=env_for(url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2],
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the process ended (exit {process.returncode}) before {what}:\n{out}\n{err}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


def assert_converged(url: str, config: str, cli: Callable[..., Result]) -> None:
    """A re-run applies the rest; then the app is exactly the config and a plan is empty."""
    rerun = cli("apply", config, "--auto-approve")
    assert rerun.exit_code == 0, (rerun.stdout, rerun.stderr)
    plan = cli("plan", config, "--detailed-exitcode")
    assert plan.exit_code == 0, (plan.stdout, plan.stderr)
    live = read_live(url, NEW)
    assert sorted(live.bots) == sorted(BOTS)
    assert live.accounts == set(NEW)
    for user_id, fields in NEW.items():
        assert live.profile(user_id) == all_fields(fields), user_id
    assert live.profile("@RBT#one") == profile("One", "", "1")


def test_ctrl_c_mid_apply_exits_130_with_the_report_and_a_rerun_converges(serve: Callable[..., App],
                                                                          tmp_path: Path,
                                                                          secrets: Secrets) -> None:
    app = serve(latency_ms=20)
    slow = write_config(tmp_path, BOTS, NEW, fast=False, name="slow.yaml")  # the documented rates
    fast = write_config(tmp_path, BOTS, NEW, name="fast.yaml")  # the same desired state
    process = start_apply(slow, app.url)
    wait_for(lambda: app.emulator.calls.get("portrait_set", 0) >= 40, process, "40 portrait_set calls")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=TIMEOUT)
    secrets.shown("stdout of the interrupted apply", out)
    secrets.shown("stderr of the interrupted apply", err)
    assert process.returncode == 130, (out, err)
    assert "Traceback" not in out + err
    report = out.split("Apply would make", 1)[1]  # after the plan: the report so far
    assert "Interrupted: calls in flight finished and no new call was started. Run apply again." in report
    # imported accounts whose profile was still to set are reported as such, not as "not started"
    assert "partial: imported; profile not set" in report or "not started: interrupted" in report
    assert '  ok' in report
    assert "Apply complete:" not in report  # not every change was attempted
    line = next(x for x in report.splitlines() if x.startswith("Apply interrupted:"))
    done = sum(int(word) for word in line.replace(",", "").split()[2:8:2])
    assert 0 < done < len(NEW) + len(BOTS), line
    calls_when_stopped = dict(app.emulator.calls)
    time.sleep(0.2)
    assert dict(app.emulator.calls) == calls_when_stopped  # nothing is still running
    assert_converged(app.url, fast, app.cli)


class EmulatorProcess:
    """``python -m chatsync emulator --port 0 --state FILE`` in its own process."""

    def __init__(self, state: Path, *options: str) -> None:
        self.state = state
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chatsync", "emulator", "--port", "0", "--state", str(state), *options],
            env=env_for(""), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        assert first.startswith("chatsync emulator listening on http://127.0.0.1:"), first
        self.url = first.rsplit(" ", 1)[1].strip()

    def signatures(self) -> int:
        """Accounts in the saved state that have their self_signature (written on every change)."""
        try:
            data = json.loads(self.state.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return 0
        return sum(1 for profile in data["accounts"].values() if "Tag_Profile_IM_SelfSignature" in profile)

    def stop(self) -> tuple[str, str]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        out, err = self.process.communicate(timeout=TIMEOUT)
        return out, err


@pytest.fixture
def emulator_process(tmp_path: Path, secrets: Secrets) -> Iterator[EmulatorProcess]:
    running = EmulatorProcess(tmp_path / "state.json", "--latency-ms", "20", "--rate-limit-scale", "inf")
    try:
        yield running
    finally:
        out, err = running.stop()
        secrets.shown("stdout of the emulator", out)
        secrets.shown("stderr of the emulator", err)


def test_sigkill_mid_apply_then_a_rerun_converges_exactly(emulator_process: EmulatorProcess, tmp_path: Path,
                                                          secrets: Secrets) -> None:
    slow = write_config(tmp_path, BOTS, NEW, fast=False, name="slow.yaml")
    fast = write_config(tmp_path, BOTS, NEW, name="fast.yaml")
    process = start_apply(slow, emulator_process.url)
    wait_for(lambda: emulator_process.signatures() >= 40, process, "40 signatures saved")
    process.kill()
    out, err = process.communicate(timeout=TIMEOUT)
    secrets.shown("stdout of the killed apply", out)
    secrets.shown("stderr of the killed apply", err)
    assert process.returncode == -signal.SIGKILL
    assert "Apply complete" not in out  # it had no chance to report
    assert emulator_process.signatures() < len(NEW)

    env = {"CHATSYNC_SECRET_KEY": SECRET, "CHATSYNC_ENDPOINT": emulator_process.url, "NO_COLOR": None}

    def cli(*args: str) -> Result:
        return invoke(secrets, *args, env=env)

    first = cli("apply", fast, "--auto-approve")
    assert first.exit_code == 0, (first.stdout, first.stderr)
    done = summary(first)
    assert done != f"Apply complete: {len(NEW) + len(BOTS)} created, 0 updated, 0 deleted, 0 failed.", done
    assert_converged(emulator_process.url, fast, cli)
    data = json.loads(emulator_process.state.read_text(encoding="utf-8"))
    assert sorted(a for a in data["accounts"] if not a.startswith("@RBT#")) == sorted([*NEW, "administrator"])
    assert sorted(b for b, active in data["bots"].items() if active) == sorted(BOTS)
