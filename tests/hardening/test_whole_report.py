"""Issue 22, item 1: the apply report is always whole. Once it starts to be printed, Ctrl-C and
SIGTERM wait for it (the third signal of the run abandons it, for a reader that never reads); the
JSON parses; the exit code is the first signal's. A closed standard output (Ctrl-C on
``apply | cat`` kills ``cat`` too) still exits 130 with the summary on stderr.

``python -m chatsync apply`` runs as a real process against an emulator on loopback; its stdout is
a pipe this test reads slowly, so the report (over 64 KiB, more than a pipe holds) is being written
when the signals land."""

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

import pytest

from tests.apply.conftest import Secrets, write_config
from tests.support import SECRET, App

ACCOUNTS = {f"user{i:03d}": {"nick": f"User {i}", "face_url": f"https://img.example/{i}.png",
                             "self_signature": f"Hello {i}"} for i in range(300)}
TIMEOUT = 30.0


class Apply:
    """``chatsync apply CONFIG --auto-approve --format json`` as a process: stdout read on demand,
    stderr drained by a thread."""

    def __init__(self, config: str, url: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHATSYNC_") and k != "NO_COLOR"}
        env.update(CHATSYNC_SECRET_KEY=SECRET, CHATSYNC_ENDPOINT=url)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chatsync", "apply", config, "--auto-approve", "--format", "json"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=Path(__file__).resolve().parents[2],
            # Ctrl-C back for a suite run in the background: see tests/apply/test_interrupt.py
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        self.err = b""
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        self.err = self.process.stderr.read()

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not condition():
            if self.process.poll() is not None:
                pytest.fail(f"apply ended (exit {self.process.returncode}) before {what}: {self.stderr()}")
            if time.monotonic() > deadline:
                self.process.kill()
                pytest.fail(f"timed out waiting for {what}")
            time.sleep(0.01)

    def first_byte(self) -> bytes:
        """Block until the report starts to come out."""
        assert self.process.stdout is not None
        return os.read(self.process.stdout.fileno(), 1)

    def read_slowly(self) -> bytes:
        """The rest of stdout, 4 KiB at a time with a pause between reads."""
        assert self.process.stdout is not None
        chunks = []
        while chunk := os.read(self.process.stdout.fileno(), 4096):
            chunks.append(chunk)
            time.sleep(0.005)
        return b"".join(chunks)

    def end(self) -> int:
        try:
            code = self.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail("apply did not end")
        self._drain.join(TIMEOUT)
        return code

    def stderr(self) -> str:
        return self.err.decode("utf-8", "replace")


@pytest.fixture
def slow_app(serve: Callable[..., App]) -> App:
    return serve(latency_ms=5)


def test_signals_while_the_report_is_printed_wait_for_it(slow_app: App, tmp_path: Path,
                                                         secrets: Secrets) -> None:
    """A Ctrl-C mid-run, then a SIGTERM while the report fills the pipe: the report is whole, and the
    exit code is the first signal's (130)."""
    apply = Apply(write_config(tmp_path, accounts=ACCOUNTS), slow_app.url)
    apply.wait_for(lambda: slow_app.emulator.calls.get("portrait_set", 0) >= 20, "20 portrait_set calls")
    apply.process.send_signal(signal.SIGINT)
    first = apply.first_byte()
    time.sleep(0.2)  # the pipe fills and the write blocks
    apply.process.send_signal(signal.SIGTERM)
    out = (first + apply.read_slowly()).decode("utf-8")
    code = apply.end()
    secrets.shown("stdout", out)
    secrets.shown("stderr", apply.stderr())
    assert code == 130, apply.stderr()
    assert len(out) > 65536  # more than a pipe holds: the signals landed mid-write
    report = json.loads(out)  # whole
    assert report["interrupted"] is True and report["abandoned"] is False
    assert len(report["changes"]) == len(ACCOUNTS)
    assert "Traceback" not in apply.stderr()


@pytest.mark.parametrize(("number", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signals_only_while_a_complete_report_is_printed_keep_it_whole(serve: Callable[..., App],
                                                                       tmp_path: Path, secrets: Secrets,
                                                                       number: signal.Signals,
                                                                       code: int) -> None:
    app = serve()
    apply = Apply(write_config(tmp_path, accounts=ACCOUNTS), app.url)
    first = apply.first_byte()
    time.sleep(0.2)
    apply.process.send_signal(number)
    time.sleep(0.1)  # two signals pending at once are handled lowest number first
    apply.process.send_signal(signal.SIGINT)  # the second signal waits too
    out = (first + apply.read_slowly()).decode("utf-8")
    exit_code = apply.end()
    secrets.shown("stdout", out)
    secrets.shown("stderr", apply.stderr())
    report = json.loads(out)
    assert report["ended"] == "complete" and report["summary"]["created"] == len(ACCOUNTS)
    assert exit_code == code
    assert apply.stderr().splitlines()[-1] == "Interrupted while the report was printed; the report is whole."


def test_the_third_signal_while_printing_abandons_the_print_for_a_reader_that_never_reads(
    serve: Callable[..., App], tmp_path: Path, secrets: Secrets,
) -> None:
    app = serve()
    apply = Apply(write_config(tmp_path, accounts=ACCOUNTS), app.url)
    apply.first_byte()
    time.sleep(0.2)  # blocked: nobody reads
    for number in (signal.SIGTERM, signal.SIGINT):
        apply.process.send_signal(number)
        time.sleep(0.1)
    assert apply.process.poll() is None  # two signals wait for the report
    apply.process.send_signal(signal.SIGINT)
    code = apply.end()  # without anybody reading stdout
    secrets.shown("stderr", apply.stderr())
    assert code == 143  # the first signal's
    assert apply.stderr().splitlines()[-1].startswith("Report cut short: a third Ctrl-C or SIGTERM")
    assert "Traceback" not in apply.stderr()


def test_ctrl_c_with_stdout_closed_exits_130_with_the_summary_on_stderr(slow_app: App, tmp_path: Path,
                                                                        secrets: Secrets) -> None:
    """``chatsync apply ... | cat`` and Ctrl-C: the shell's SIGINT ends ``cat`` as well, so the report
    meets a closed pipe. Exit 130 all the same, and the summary line on stderr."""
    apply = Apply(write_config(tmp_path, accounts=ACCOUNTS), slow_app.url)
    apply.wait_for(lambda: slow_app.emulator.calls.get("portrait_set", 0) >= 20, "20 portrait_set calls")
    assert apply.process.stdout is not None
    apply.process.stdout.close()  # `cat` is gone
    apply.process.send_signal(signal.SIGINT)
    code = apply.end()
    err = apply.stderr()
    secrets.shown("stderr", err)
    assert code == 130, err
    last = err.splitlines()[-1]
    assert last.startswith("Apply interrupted: ") and "standard output was closed" in last, err
    assert "Traceback" not in err and "Exception ignored" not in err
