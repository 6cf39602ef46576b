"""``chatsync emulator`` as users run it: a real process, its first line, signals, errors, secrets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from chatsync.facts.network import is_loopback
from tests.support import SECRET, Api


@pytest.fixture
def start() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Factory: ``chatsync emulator --port 0 ARGS`` as a real process; every one is reaped."""
    processes: list[subprocess.Popen[str]] = []

    def run(*args: str, env_key: str = "CHATSYNC_SECRET_KEY",
            secret: str | None = SECRET) -> subprocess.Popen[str]:
        env = {k: v for k, v in os.environ.items() if k != env_key}
        if secret is not None:
            env[env_key] = secret
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "chatsync", "emulator", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        ))
        return processes[-1]

    yield run
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=10)
    return out, err


def test_first_line_names_the_url_and_sigterm_stops_cleanly(
    tmp_path: Path, start: Callable[..., subprocess.Popen[str]],
) -> None:
    state = tmp_path / "app.json"
    process = start("--state", str(state), "--access-log")
    assert process.stdout is not None
    first = process.stdout.readline().strip()
    assert first.startswith("chatsync emulator listening on http://127.0.0.1:")
    url = first.rsplit(" ", 1)[1]
    with httpx.Client(base_url=url) as client:
        api = Api(client)
        assert api("account_import", {"UserID": "alice"})["ErrorCode"] == 0
        assert api("account_import", {"UserID": "bob"}, usersig="broken")["ErrorCode"] == 70003
        sig = api.sig
    out, err = stop(process)
    assert process.returncode == 0
    assert "alice" in json.loads(state.read_text())["accounts"]
    assert "account_import 200 code=0" in err
    for text in (first, out, err, state.read_text()):
        assert SECRET not in text and sig not in text and "usersig" not in text


def test_missing_secret_is_a_clear_error(start: Callable[..., subprocess.Popen[str]]) -> None:
    process = start(secret=None)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 1
    assert out == ""
    assert err.strip() == (
        "Error: the environment variable CHATSYNC_SECRET_KEY is not set; export the app's secret key "
        "in it (any string for local use), or name another variable with --secret-key-env"
    )


def test_secret_key_env_names_another_variable(start: Callable[..., subprocess.Popen[str]]) -> None:
    process = start("--secret-key-env", "MY_KEY", env_key="MY_KEY")
    assert process.stdout is not None
    assert process.stdout.readline().startswith("chatsync emulator listening on")
    stop(process)


def test_corrupt_state_file_is_a_clear_error(tmp_path: Path,
                                             start: Callable[..., subprocess.Popen[str]]) -> None:
    state = tmp_path / "app.json"
    state.write_text("{oops")
    process = start("--state", str(state))
    _out, err = process.communicate(timeout=10)
    assert process.returncode == 1
    assert "Traceback" not in err
    assert f"emulator state file {state} is not valid JSON" in err
    assert state.read_text() == "{oops"


def test_port_in_use_is_a_clear_error() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        process = subprocess.run(
            [sys.executable, "-m", "chatsync", "emulator", "--port", port],
            capture_output=True, text=True, env={**os.environ, "CHATSYNC_SECRET_KEY": SECRET}, timeout=10,
        )
    assert process.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in process.stderr
    assert "Traceback" not in process.stderr


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.1.2.3", True), ("localhost", True), ("::1", True), ("[::1]", True),
     ("0.0.0.0", False), ("192.168.1.10", False), ("example.com", False), ("::", False)],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--fault-rate", "1.5"], "--fault-rate"), (["--rate-limit-scale", "0"], "--rate-limit-scale"),
     (["--admin", "x" * 33], "--admin"), (["--admin", "@RBT#admin"], "--admin '@RBT#admin' starts with")],
)
def test_bad_flags_are_clear_errors(args: list[str], message: str,
                                    start: Callable[..., subprocess.Popen[str]]) -> None:
    process = start(*args)
    _out, err = process.communicate(timeout=10)
    assert process.returncode in (1, 2)
    assert message in err and "Traceback" not in err
