"""The wire engine (chatsync/tencent/wire.py), the client's HTTP/1.1 for direct connections, against
fake servers on loopback (real sockets): framings (chunked, until close, Connection: close, 1xx
before the answer), keep-alive and its stale connections, malformed answers (a transport failure,
never a hang or a crash, never a secret in the text), deadlines, abort, and gzip/deflate bodies."""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import threading
import zlib
from collections.abc import Callable
from typing import Any

import pytest

from chatsync.tencent import wire
from chatsync.tencent.bounded import Bounds, MiB
from chatsync.tencent.client import HEADERS, CallFailed, Client, Stopped
from chatsync.tencent.credentials import SigCache
from chatsync.tencent.retry import RetryPolicy
from chatsync.tencent.target import Target
from tests.hostile.conftest import fake as fake  # the hostile tests' fake servers, one per test
from tests.hostile.fakes import FakeServer, drip, http, ok, silent
from tests.support import ADMIN, SDKAPPID, SECRET

QUICK = RetryPolicy(max_attempts=2, base_delay=0.001, max_delay=0.01)
TIGHT = Bounds(attempt_seconds=0.6, call_seconds=1.5, answer_bytes=1 * MiB)
ROBOTS = json.dumps(ok(Robot_Account=["@RBT#a"])).encode()
SendRaw = Callable[[socket.socket, threading.Event], None]


def client_for(url: str, bounds: Bounds = TIGHT, retry: RetryPolicy = QUICK, parallelism: int = 1) -> Client:
    client = Client(Target((url,), "CHATSYNC_ENDPOINT"), SigCache(SDKAPPID, ADMIN, SECRET), retry=retry,
                    bounds=bounds, environ={}, parallelism=parallelism)
    assert client._wire is not None  # a direct connection: the wire engine, not httpx
    return client


def robots(client: Client) -> Any:
    return client.call("get_all_robots", {}).answer["Robot_Account"]


def failure(server: FakeServer, **options: Any) -> str:
    """The text of the call's failure, checked for secrets."""
    with client_for(server.url, **options) as client, pytest.raises(CallFailed) as caught:
        client.call("get_all_robots", {})
    text = str(caught.value)
    for secret in (*client.secrets(), SECRET):
        assert secret not in text
    assert "usersig=" not in text.lower() and "Traceback" not in text
    assert text.startswith("get_all_robots failed"), text
    return text


def then_close(payload: bytes) -> SendRaw:
    """Send ``payload`` and close the connection (the fake server closes it when this returns)."""

    def send(sock: socket.socket, stopping: threading.Event) -> None:
        sock.sendall(payload)

    return send


def chunked(body: bytes, size: int = 7, head: str = "") -> bytes:
    pieces = [body[i:i + size] for i in range(0, len(body), size)]
    chunks = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece) for piece in pieces)
    return (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{head}Transfer-Encoding: chunked\r\n\r\n"
            .encode() + chunks + b"0\r\nX-Trailer: yes\r\n\r\n")


# -- framings and keep-alive ------------------------------------------------------------------------

def test_a_keep_alive_connection_carries_every_call_of_a_slot(fake):
    server = fake(lambda endpoint, body: ok(Robot_Account=["@RBT#a"]))
    with client_for(server.url) as client:
        for _ in range(3):
            assert robots(client) == ["@RBT#a"]
    assert [seen.connection for seen in server.seen] == [1, 1, 1]
    head = server.seen[0].raw_head.decode()
    assert head.startswith("POST /v4/openim_robot_http_svc/get_all_robots?sdkappid=")
    for name, value in {**HEADERS, "Content-Length": "2"}.items():
        assert f"\r\n{name}: {value}" in head, (name, head)
    assert f"\r\nHost: {server.url.removeprefix('http://')}" in head


def test_a_chunked_body_is_read_and_the_connection_kept(fake):
    server = fake(lambda endpoint, body: chunked(ROBOTS))
    with client_for(server.url) as client:
        assert robots(client) == ["@RBT#a"]
        assert robots(client) == ["@RBT#a"]
    assert [seen.connection for seen in server.seen] == [1, 1]


@pytest.mark.parametrize("head", ["HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n",
                                  "HTTP/1.0 200 OK\r\n\r\n"], ids=["1.1-no-length", "1.0"])
def test_a_body_that_ends_with_the_connection_is_read_and_the_next_call_connects_anew(fake, head):
    server = fake(lambda endpoint, body: then_close(head.encode() + ROBOTS))
    with client_for(server.url) as client:
        assert robots(client) == ["@RBT#a"]
        assert robots(client) == ["@RBT#a"]
    assert [seen.connection for seen in server.seen] == [1, 2]


def test_connection_close_is_honoured_even_when_the_server_keeps_the_socket_open(fake):
    server = fake(lambda endpoint, body: http(ROBOTS, headers={"Connection": "close"}))
    with client_for(server.url) as client:
        assert robots(client) == ["@RBT#a"]
        assert robots(client) == ["@RBT#a"]
    assert [seen.connection for seen in server.seen] == [1, 2]


def test_an_http_1_0_keep_alive_answer_keeps_the_connection(fake):
    server = fake(lambda endpoint, body: http(ROBOTS, status="200 OK", headers={"Connection": "keep-alive"})
                  .replace(b"HTTP/1.1", b"HTTP/1.0", 1))
    with client_for(server.url) as client:
        assert robots(client) == ["@RBT#a"]
        assert robots(client) == ["@RBT#a"]
    assert [seen.connection for seen in server.seen] == [1, 1]


def test_interim_answers_before_the_answer_are_skipped(fake):
    interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
    server = fake(lambda endpoint, body: interim + http(ROBOTS))
    with client_for(server.url) as client:
        assert robots(client) == ["@RBT#a"]
        assert robots(client) == ["@RBT#a"]
    assert [seen.connection for seen in server.seen] == [1, 1]


@pytest.mark.parametrize("check_after", [0.0, 60.0], ids=["polled-before-reuse", "found-by-sending"])
def test_a_keep_alive_connection_the_server_closed_while_idle_is_replaced(fake, monkeypatch, check_after):
    # a connection idle longer than IDLE_CHECK_SECONDS is polled before reuse; one used more
    # recently is not, and the server's close is found by the send or the first read
    monkeypatch.setattr(wire, "IDLE_CHECK_SECONDS", check_after)
    closed = threading.Event()

    def behaviour(endpoint: str, body: Any) -> Any:
        def send(sock: socket.socket, stopping: threading.Event) -> None:
            sock.sendall(http(ROBOTS))  # no Connection: close, then gone
            closed.set()
        return send

    server = fake(behaviour)
    with client_for(server.url, retry=RetryPolicy(max_attempts=1)) as client:  # no retry by the client
        for _ in range(3):
            assert robots(client) == ["@RBT#a"]
            assert closed.wait(5)
            closed.clear()
        assert client.calls["get_all_robots"] == 3
    assert [seen.connection for seen in server.seen] == [1, 2, 3]  # each request reached it once


def test_a_close_the_readability_check_missed_is_retried_once_on_a_new_connection(fake, monkeypatch):
    # the server's close lands just after the zero-timeout readability check saw nothing
    polled = wire.Connection._ready_for
    monkeypatch.setattr(wire, "IDLE_CHECK_SECONDS", 0.0)
    monkeypatch.setattr(wire.Connection, "_ready_for",
                        lambda self, writing, seconds: seconds > 0 and polled(self, writing, seconds))
    server = fake(lambda endpoint, body: then_close(http(ROBOTS)))
    with client_for(server.url, retry=RetryPolicy(max_attempts=1)) as client:
        assert robots(client) == ["@RBT#a"]
        assert robots(client) == ["@RBT#a"]
    assert [seen.connection for seen in server.seen] == [1, 2]  # the request reached the server once


def test_a_new_connection_dropped_before_the_answer_is_not_sent_again_by_the_engine(fake):
    server = fake(lambda endpoint, body: then_close(b""))  # reads the request, hangs up
    with client_for(server.url, retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(CallFailed) as caught:
            robots(client)
        assert "the connection failed (" in str(caught.value)
    assert len(server.seen) == 1  # only a kept-alive connection gets the one more try


def test_junk_after_an_answer_drops_the_connection(fake):
    server = fake(lambda endpoint, body: http(ROBOTS) + b"HTTP/1.1 200 OK\r\n")
    with client_for(server.url) as client:
        assert robots(client) == ["@RBT#a"]
        assert robots(client) == ["@RBT#a"]
    assert [seen.connection for seen in server.seen] == [1, 2]


def test_calls_one_at_a_time_reuse_one_connection_whatever_the_parallelism(fake):
    server = fake(lambda endpoint, body: ok(Robot_Account=[]))
    with client_for(server.url, parallelism=8) as client:
        for _ in range(5):
            robots(client)
    assert [seen.connection for seen in server.seen] == [1] * 5


def test_parallel_slots_each_use_their_own_connection(fake):
    server = fake(lambda endpoint, body: ok(Robot_Account=[]))
    with client_for(server.url, parallelism=4) as client:
        client.map(lambda _: robots(client), range(40))
    assert len(server.seen) == 40
    assert 1 <= len({seen.connection for seen in server.seen}) <= 4


# -- bodies ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding, encode", [("gzip", gzip.compress), ("deflate", zlib.compress)])
@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_gzip_and_deflate_bodies_are_decoded(fake, encoding, encode, framing):
    body = encode(ROBOTS)
    answer = (http(body, headers={"Content-Encoding": encoding}) if framing == "length"
              else chunked(body, 5, f"Content-Encoding: {encoding}\r\n"))
    server = fake(lambda endpoint, body_: answer)
    with client_for(server.url) as client:
        assert robots(client) == ["@RBT#a"]


def test_a_chunked_gzip_bomb_is_refused_at_the_cap(fake):
    bomb = gzip.compress(b'{"ErrorCode":0,"x":"' + b"0" * (64 * MiB), 9)
    server = fake(lambda endpoint, body: chunked(bomb, 4096, "Content-Encoding: gzip\r\n"))
    assert "larger than 1 MiB" in failure(server)
    assert len(server.seen) == 1


def test_an_answer_that_is_not_200_is_not_read_and_its_connection_not_reused(fake):
    answers = iter([http(b"x" * 1000, status="503 Service Unavailable"), http(ROBOTS)])
    server = fake(lambda endpoint, body: next(answers))
    with client_for(server.url) as client:
        assert robots(client) == ["@RBT#a"]  # the 503 is retried
    assert [seen.connection for seen in server.seen] == [1, 2]


# -- malformed answers: one clear failure, no hang, no secret ---------------------------------------

@pytest.mark.parametrize("answer, reason", [
    (b"HTTX/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", "status line"),
    (b"HTTP/1.1 2000 OK\r\n\r\n", "status line"),
    (http(ROBOTS, headers={"X-Big": "a" * (70 * 1024)}), "header block is larger"),
    (b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 300 + b"Content-Length: 0\r\n\r\n", "header lines"),
    (b"HTTP/1.1 200 OK\r\n" + b"X" * (70 * 1024), "header block is larger"),  # never ends
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", "chunk size"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", "chunk size"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}}\r\n0\r\n\r\n", "chunk"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1" * 5000, "chunk-size line"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n{}", "Transfer-Encoding"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\n{}", "Content-Length"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\n{}", "Content-Length"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n{}", "Content-Length"),
    (b"HTTP/1.1 200 OK\r\n Folded: header\r\nContent-Length: 2\r\n\r\n{}", "header line"),
    (b"HTTP/1.1 200 OK\r\nNo colon here\r\nContent-Length: 2\r\n\r\n{}", "header line"),
    (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", "switched protocols"),
    (b"HTTP/1.1 100 Continue\r\n\r\n" * 20, "interim"),
], ids=["bad-version", "bad-status", "huge-header", "many-lines", "endless-head", "chunk-zz",
        "chunk-negative", "chunk-overrun", "chunk-line-long", "te-gzip", "two-lengths", "negative-length",
        "long-length", "folded", "no-colon", "101", "many-100"])
def test_a_malformed_answer_is_one_clear_transport_failure(fake, answer, reason):
    server = fake(lambda endpoint, body: answer)
    text = failure(server)
    assert "the connection failed (" in text and reason in text, text


@pytest.mark.parametrize("payload", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"Er",
    b"HTTP/1.1 200 OK\r\nContent-Le",
    b"",
], ids=["short-body", "cut-chunked", "cut-head", "nothing"])
def test_a_server_that_hangs_up_mid_answer_is_a_transport_failure(fake, payload):
    server = fake(lambda endpoint, body: then_close(payload))
    text = failure(server)
    assert "the connection failed (" in text and "closed the connection" in text, text
    assert len(server.seen) == QUICK.max_attempts  # retried, as a dropped connection


def test_headers_dripped_slower_than_the_deadline_end_at_the_deadline(fake):
    server = fake(lambda endpoint, body: drip(b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100, 0.05))
    text = failure(server, bounds=Bounds(attempt_seconds=0.4, call_seconds=0.7))
    assert "no complete answer within" in text or "gave up" in text, text


def test_a_refused_connection_is_a_connect_failure_that_stops_the_run():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        with client_for(url) as client, pytest.raises(CallFailed) as caught:
            client.call("get_all_robots", {})
    assert "cannot reach http://127.0.0.1:" in str(caught.value) and caught.value.stops_run
    assert caught.value.attempts == QUICK.connect_attempts  # a few quick tries only (retry.py)


def test_abort_ends_a_call_blocked_waiting_for_its_answer(fake):
    asked = threading.Event()

    def behaviour(endpoint: str, body: Any) -> Any:
        asked.set()
        return silent()

    server = fake(behaviour)
    outcome: list[BaseException] = []
    client = client_for(server.url, bounds=Bounds(attempt_seconds=60, call_seconds=120))

    def call() -> None:
        try:
            client.call("get_all_robots", {})
        except BaseException as exc:  # the test inspects it
            outcome.append(exc)

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    try:
        assert asked.wait(10)
        client.abort()
        thread.join(20)  # far less than the 60 s the attempt would otherwise wait
        assert not thread.is_alive(), "abort() did not end the call blocked in recv"
    finally:
        client.close()
    assert len(outcome) == 1 and isinstance(outcome[0], (Stopped, CallFailed)), outcome
    assert len(server.seen) == 1  # nothing is sent again after the abort


# -- the engine itself -----------------------------------------------------------------------------

def test_wire_errors_never_carry_the_request_target(fake):
    target = "/v4/x?usersig=SECRET-SIG&identifier=admin"
    for answer in (b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", b"junk\r\n\r\n"):
        server = fake(lambda endpoint, body, answer=answer: answer)
        engine = wire.Engine((server.url,), HEADERS, None)
        with pytest.raises(wire.Broken) as caught:
            engine.post(0, target, b"{}", _soon(), lambda status, body: body(100))
        engine.close()
        assert "SECRET-SIG" not in str(caught.value) and "usersig" not in str(caught.value)


def test_an_invalid_host_is_refused_before_connecting():
    engine = wire.Engine(("http://bad\u200d.example",), HEADERS, None)
    with pytest.raises(wire.InvalidHost):
        engine.post(0, "/v4/x", b"{}", _soon(), lambda status, body: status)


def test_a_target_that_is_not_printable_ascii_is_never_sent(fake):
    server = fake(lambda endpoint, body: ok())
    engine = wire.Engine((server.url,), HEADERS, None)
    for target in ("/v4/x y", "/v4/x\r\nX: y", "/v4/\u00e9"):
        with pytest.raises(wire.Broken):
            engine.post(0, target, b"{}", _soon(), lambda status, body: status)
    engine.close()
    assert server.seen == []


def _soon() -> float:
    import time

    return time.monotonic() + 5


@pytest.mark.parametrize("url, host", [
    ("http://127.0.0.1:8080", b"127.0.0.1:8080"),
    ("http://localhost:80", b"localhost"),
    ("https://AdminAPISGP.im.qcloud.com", b"adminapisgp.im.qcloud.com"),
    ("https://example.com:443", b"example.com"),
    ("https://example.com:8443", b"example.com:8443"),
    ("http://[::1]:9", b"[::1]:9"),
    ("https://b\u00fccher.example", b"xn--bcher-kva.example"),
])
def test_the_request_head_names_the_host_as_http_clients_write_it(url, host):
    engine = wire.Engine((url,), {"Accept": "application/json"}, ssl.create_default_context())
    request = engine.origin(0).request("/v4/x?a=1", b"{}")
    assert request == (b"POST /v4/x?a=1 HTTP/1.1\r\nHost: " + host +
                       b"\r\nAccept: application/json\r\nContent-Length: 2\r\n\r\n{}")
