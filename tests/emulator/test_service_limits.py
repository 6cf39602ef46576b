"""The emulator as a service (issue 22): connections time out in seconds, their number is bounded
(the longest-idle one makes room, else 503), refusals are logged once a second at most, and
1,100 idle connections against 1,024 file descriptors neither spin a core nor block a call.

No test here bounds how long anything took: each checks what the server did (what it sent, which
connection it closed, what it logged), and a client socket's timeout (GUARD seconds, far longer than
any server timeout used) only keeps a broken server from hanging the test."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatsync.emulator import server as front
from chatsync.emulator.server import RunningEmulator
from tests.support import SECRET, Api, make_emulator

REPO = Path(__file__).resolve().parents[2]
#: Seconds a test waits on a socket or a condition before failing: a guard against a hang only.
GUARD = 30.0


@contextlib.contextmanager
def serving(**options: Any) -> Iterator[tuple[RunningEmulator, Api]]:
    with RunningEmulator(make_emulator(), **options) as running, \
            httpx.Client(base_url=running.url, timeout=10) as client:
        yield running, Api(client)


def connect(running: RunningEmulator, timeout: float = GUARD) -> socket.socket:
    host, port = running.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=timeout)


def until_closed(sock: socket.socket) -> bytes:
    """What the server sent on ``sock`` before closing it (waits for the close)."""
    data = b""
    with sock:
        while chunk := sock.recv(65536):
            data += chunk
    return data


def still_open(sock: socket.socket) -> bool:
    """Whether the server has neither closed ``sock`` nor sent anything on it (without waiting)."""
    sock.setblocking(False)
    try:
        sock.recv(1, socket.MSG_PEEK)  # b"" when closed; a byte when the server said something
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.setblocking(True)
    return False


def wait_for(condition: Callable[[], bool], timeout: float = GUARD) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


# -- timeouts -----------------------------------------------------------------------------------

def test_the_documented_timeouts_are_seconds_and_in_the_help() -> None:
    from click.testing import CliRunner

    from chatsync.cli import main

    assert 5 <= front.HEAD_TIMEOUT_SECONDS <= 15 and front.BODY_TIMEOUT_SECONDS <= 60
    text = " ".join(CliRunner().invoke(main, ["emulator", "--help"]).output.split())
    for number in (front.HEAD_TIMEOUT_SECONDS, front.BODY_TIMEOUT_SECONDS, front.SEND_TIMEOUT_SECONDS):
        assert f"within {number:g} s" in text, number
    assert "--max-connections" in text and "half the open-file limit" in text
    assert f"at most {front.MAX_CONNECTIONS_CAP}" in text
    for limit in ("16 KiB (414)", "64 KiB and 100 fields (431)", "16 MiB (413)"):
        assert limit in text, limit


def robots_request(api: Api) -> bytes:
    return (f"POST /v4/openim_robot_http_svc/get_all_robots?{api.query()} HTTP/1.1\r\n"
            "Content-Length: 2\r\n\r\n{}").encode()


def test_an_idle_connection_is_closed_after_the_head_timeout() -> None:
    with serving(head_timeout=0.5) as (running, api):
        fresh = connect(running)
        used = connect(running)
        used.sendall(robots_request(api))
        assert used.recv(65536).startswith(b"HTTP/1.1 200")
        for sock in (fresh, used):  # never a request; idle after an answer (keep-alive)
            assert until_closed(sock) == b""  # closed, silently, long before GUARD
        assert api("get_all_robots", {})["ErrorCode"] == 0


def test_an_idle_connection_is_kept_while_its_head_timeout_runs() -> None:
    """The other side of the test above: not closed at once. A connection left idle while others
    are served is still there to carry a request, and a kept-alive one to carry another."""
    with serving(head_timeout=GUARD) as (running, api):
        fresh = connect(running)
        used = connect(running)
        used.sendall(robots_request(api))
        assert used.recv(65536).startswith(b"HTTP/1.1 200")
        for _ in range(20):
            assert api("get_all_robots", {})["ErrorCode"] == 0
        assert still_open(fresh) and still_open(used)
        for sock in (fresh, used):
            sock.sendall(robots_request(api))
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
            sock.close()


def test_bytes_with_no_end_of_head_cannot_hold_a_connection() -> None:
    """Slowloris: a byte every 0.2 s, never a newline (or never the blank line) -> 408, closed while
    the bytes still come: each byte does not buy more time. Were it to, the trickle would run its
    whole GUARD (150 bytes) and the 408 come only after it stopped."""
    trickle = int(GUARD / 0.2)
    with serving(head_timeout=1.0) as (running, api):
        for opening in (b"POST /v4/", b"POST / HTTP/1.1\r\nX-A: 1\r\n"):
            sock = connect(running)
            sock.sendall(opening)
            sent = 0
            with contextlib.suppress(OSError):  # the server closes while we trickle
                while sent < trickle:
                    sock.sendall(b"a")
                    sent += 1
                    time.sleep(0.2)
                    sock.setblocking(False)
                    try:
                        if sock.recv(65536, socket.MSG_PEEK):
                            break
                    except BlockingIOError:
                        pass
                    finally:
                        sock.setblocking(True)
            answer = sock.recv(65536)
            sock.close()
            assert answer.startswith(b"HTTP/1.1 408"), answer
            assert sent < trickle, "the server waited for the trickle to end"
        assert api("get_all_robots", {})["ErrorCode"] == 0


def test_a_body_that_does_not_arrive_in_time_is_408() -> None:
    with serving(body_timeout=1.0) as (running, api):
        sock = connect(running)
        sock.sendall(f"POST /v4/openim_robot_http_svc/get_all_robots?{api.query()} HTTP/1.1\r\n"
                     "Content-Length: 10\r\n\r\n{}".encode())
        assert until_closed(sock).startswith(b"HTTP/1.1 408")


# -- the connection bound -------------------------------------------------------------------------

def refusals(text: str) -> list[tuple[int, int]]:
    """(refused, closed idle) of each limit line logged."""
    return [(int(r), int(e)) for r, e in
            re.findall(r"refused (\d+) new connections? \(503\) and closed (\d+) idle", text)]


def test_at_the_limit_the_longest_idle_connection_makes_room(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="chatsync.emulator"), \
            serving(max_connections=3, head_timeout=GUARD) as (running, api):
        idle: list[socket.socket] = []
        for _ in range(3):  # one after the other: idle[0] is the oldest
            idle.append(connect(running))
            wait_for(lambda: running.server.idle_connections == len(idle))
        assert api("get_all_robots", {})["ErrorCode"] == 0  # answered: room was made
        assert until_closed(idle[0]) == b""  # the oldest made room (its head timeout is GUARD)
        assert still_open(idle[1]) and still_open(idle[2])
        wait_for(lambda: refusals(caplog.text) == [(0, 1)])
        assert "at the connection limit (3 open, --max-connections 3)" in caplog.text
        for sock in idle[1:]:
            sock.close()


def test_when_no_connection_is_idle_a_new_one_gets_503_and_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("WARNING", logger="chatsync.emulator"), \
            serving(max_connections=2, head_timeout=1.5) as (running, api):
        busy = [connect(running) for _ in range(2)]
        for sock in busy:
            sock.sendall(b"POST /v4/")  # a head begun: not idle
        wait_for(lambda: running.server.open_connections == 2 and running.server.idle_connections == 0)
        extra = connect(running)
        data = until_closed(extra)
        assert data.startswith(b"HTTP/1.1 503") and b"Connection: close" in data
        wait_for(lambda: refusals(caplog.text) == [(1, 0)])
        for sock in busy:  # they time out, and room comes back
            assert until_closed(sock).startswith(b"HTTP/1.1 408")
        wait_for(lambda: running.server.open_connections == 0)
        assert api("get_all_robots", {})["ErrorCode"] == 0


class Clock:
    """The ``time`` module as the emulator's server sees it, with a monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def monotonic(self) -> float:
        return self.now

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def test_refusals_are_logged_at_most_once_a_second_with_their_count(caplog: pytest.LogCaptureFixture,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """On a clock that stands still, the first refusal is logged and the next 29 are only counted;
    once the clock has moved a second, the count is logged on one line."""
    clock = Clock()
    monkeypatch.setattr(front, "time", clock)
    with caplog.at_level("WARNING", logger="chatsync.emulator"), \
            serving(max_connections=1, head_timeout=GUARD) as (running, _):
        busy = connect(running)
        busy.sendall(b"POST /v4/")
        wait_for(lambda: running.server.open_connections == 1 and running.server.idle_connections == 0)
        for _ in range(30):
            assert until_closed(connect(running)).startswith(b"HTTP/1.1 503")
        assert refusals(caplog.text) == [(1, 0)]  # the clock has not moved: 29 counted, not logged
        clock.now += front.REPORT_EVERY_SECONDS
        wait_for(lambda: len(refusals(caplog.text)) == 2)  # at the server's next poll
        assert refusals(caplog.text) == [(1, 0), (29, 0)]
        busy.close()


def test_max_connections_past_the_open_file_limit_is_refused_at_start() -> None:
    code = ("import resource, sys, runpy; resource.setrlimit(resource.RLIMIT_NOFILE, (256, "
            "resource.getrlimit(resource.RLIMIT_NOFILE)[1])); sys.argv = ['chatsync', 'emulator', "
            "'--port', '0', '--max-connections', '500']; runpy.run_module('chatsync', "
            "run_name='__main__')")
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30,
                             cwd=REPO, env={**os.environ, "CHATSYNC_SECRET_KEY": SECRET,
                                            "PYTHONPATH": str(REPO)})
    assert process.returncode == 1 and process.stdout == ""
    assert process.stderr.startswith("Error: --max-connections 500 is more than the open-file limit "
                                     "allows (ulimit -n is 256; at most 224"), process.stderr
    assert len(process.stderr.strip().splitlines()) == 1


# -- 1,100 idle connections, 1,024 file descriptors --------------------------------------------------

def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def limit_fds_to_1024() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


@pytest.fixture
def many_fds() -> Iterator[None]:
    """This test process holds 1,100 client sockets: raise its own soft limit for the test."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1500:
        pytest.skip(f"the hard open-file limit ({hard}) is too low to open 1,100 client sockets")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1500), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads a process's CPU time in /proc")
def test_1100_idle_connections_with_1024_fds_neither_spin_nor_block_a_call(many_fds: None) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "chatsync", "emulator", "--port", "0"], preexec_fn=limit_fds_to_1024,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        env={**os.environ, "CHATSYNC_SECRET_KEY": SECRET, "PYTHONPATH": str(REPO)},
    )
    sockets: list[socket.socket] = []
    assert process.stdout is not None
    try:
        url = process.stdout.readline().split()[-1]
        host, port = url.removeprefix("http://").split(":")
        for _ in range(1100):
            sockets.append(socket.create_connection((host, int(port)), timeout=10))
        with httpx.Client(base_url=url, timeout=GUARD) as client:
            api = Api(client)
            assert api("get_all_robots", {})["ErrorCode"] == 0  # behind every connect: all accepted
            before = cpu_seconds(process.pid)
            time.sleep(3)  # 1,100 connections held open, none sending: the emulator must rest
            used = cpu_seconds(process.pid) - before
            assert used < 0.5, f"{used:.2f} s of CPU in 3 s with idle connections (a spinning accept)"
            assert api("get_all_robots", {})["ErrorCode"] == 0
    finally:
        for sock in sockets:
            sock.close()
        process.terminate()
        _, err = process.communicate(timeout=15)
    assert "at the connection limit" in err and "--max-connections 512" in err, err
    assert "Traceback" not in err
