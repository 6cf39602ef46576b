"""The HTTP engine (chatsync/tencent/transport.py: httpcore through its public interfaces) against
fake servers on loopback (real sockets): framings, keep-alive and its stale connections, answers
paired with their own call (a stray answer never shifts them), every re-send a counted attempt with
a new ``random``, malformed answers (a transport failure, never a hang or a crash, never a secret in
the text), early error answers, statuses outside HTTP's, deadlines, abort, and compressed bodies."""

from __future__ import annotations

import gzip
import json
import logging
import socket
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chatsync.errors import CallFailed, Stopped
from chatsync.tencent import transport
from chatsync.tencent.bounded import Bounds, MiB
from chatsync.tencent.client import HEADERS, Client
from chatsync.tencent.credentials import SigCache
from chatsync.tencent.retry import RetryPolicy
from chatsync.tencent.target import Target
from tests.hostile.conftest import fake as fake  # the hostile tests' fake servers, one per test
from tests.hostile.fakes import Behaviour, FakeServer, Seen, drip, http, ok, read_head, silent
from tests.support import ADMIN, SDKAPPID, SECRET

QUICK = RetryPolicy(max_attempts=2, base_delay=0.001, max_delay=0.01)
TIGHT = Bounds(attempt_seconds=0.6, call_seconds=1.5, answer_bytes=1 * MiB)
ROBOTS = json.dumps(ok(Robot_Account=["@RBT#a"])).encode()
SendRaw = Callable[[socket.socket, threading.Event], None]


def client_for(url: str, bounds: Bounds = TIGHT, retry: RetryPolicy = QUICK, parallelism: int = 1) -> Client:
    return Client(Target((url,), "CHATSYNC_ENDPOINT"), SigCache(SDKAPPID, ADMIN, SECRET), retry=retry,
                  bounds=bounds, environ={}, parallelism=parallelism)


def robots(client: Client) -> Any:
    return client.call("get_all_robots", {}).answer["Robot_Account"]


def failure(server: FakeServer, **options: Any) -> CallFailed:
    """The call's failure, its text checked for secrets."""
    with client_for(server.url, **options) as client, pytest.raises(CallFailed) as caught:
        client.call("get_all_robots", {})
    text = str(caught.value)
    for secret in (*client.secrets(), SECRET):
        assert secret not in text
    assert "usersig=" not in text.lower() and "Traceback" not in text
    assert text.startswith("get_all_robots failed"), text
    return caught.value


def then_close(payload: bytes) -> SendRaw:
    """Send ``payload`` and close the connection (the fake server closes it when this returns)."""

    def send(sock: socket.socket, stopping: threading.Event) -> None:
        sock.sendall(payload)

    return send


def chunked(body: bytes, size: int = 7, head: str = "", version: str = "1.1") -> bytes:
    pieces = [body[i:i + size] for i in range(0, len(body), size)]
    chunks = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece) for piece in pieces)
    return (f"HTTP/{version} 200 OK\r\nContent-Type: application/json\r\n{head}"
            "Transfer-Encoding: chunked\r\n\r\n".encode() + chunks + b"0\r\nX-Trailer: yes\r\n\r\n")


def randoms(server: FakeServer) -> list[str]:
    return [parse_qs(urlsplit(seen.target).query)["random"][0] for seen in server.seen]


# -- framings and keep-alive ------------------------------------------------------------------------

def test_a_keep_alive_connection_carries_every_call_of_a_slot(
    fake: Callable[[Behaviour], FakeServer],
) -> None:
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


def test_a_chunked_body_is_read_and_the_connection_kept(fake: Callable[[Behaviour], FakeServer]) -> None:
    server = fake(lambda endpoint, body: chunked(ROBOTS))
    with client_for(server.url) as client:
        assert robots(client) == ["@RBT#a"]
        assert robots(client) == ["@RBT#a"]
    assert [seen.connection for seen in server.seen] == [1, 1]


@pytest.mark.parametrize("answer", [
    then_close(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + ROBOTS),
    then_close(b"HTTP/1.0 200 OK\r\n\r\n" + ROBOTS),
    http(ROBOTS, headers={"Connection": "close"}),  # the server keeps the socket open: honoured anyway
    http(ROBOTS, headers={"Connection": "keep-alive"}).replace(b"HTTP/1.1", b"HTTP/1.0", 1),
    chunked(ROBOTS, version="1.0"),  # RFC 9112 §6.3: chunked in HTTP/1.0 is read, then the connection closed
], ids=["1.1-no-length", "1.0", "connection-close", "1.0-keep-alive", "1.0-chunked"])
def test_answers_that_end_their_connection_are_read_and_the_next_call_connects_anew(
    fake: Callable[[Behaviour], FakeServer], answer: bytes | SendRaw,
) -> None:
    server = fake(lambda endpoint, body: answer)
    with client_for(server.url) as client:
        assert robots(client) == ["@RBT#a"]
        assert robots(client) == ["@RBT#a"]
    assert [seen.connection for seen in server.seen] == [1, 2]


def test_interim_answers_before_the_answer_are_skipped(fake: Callable[[Behaviour], FakeServer]) -> None:
    interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
    server = fake(lambda endpoint, body: interim + http(ROBOTS))
    with client_for(server.url) as client:
        assert robots(client) == ["@RBT#a"]
        assert robots(client) == ["@RBT#a"]
    assert len(server.seen) == 2


def test_an_obs_folded_header_is_unfolded_not_refused(fake: Callable[[Behaviour], FakeServer]) -> None:
    # RFC 9112 §5.2: a recipient may replace obs-fold by spaces; the answer is good
    server = fake(lambda endpoint, body: http(ROBOTS, headers={"X-Folded": "a\r\n  b"}))
    with client_for(server.url) as client:
        assert robots(client) == ["@RBT#a"]


def test_a_keep_alive_connection_the_server_closed_while_idle_is_replaced(
    fake: Callable[[Behaviour], FakeServer],
) -> None:
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
            time.sleep(0.02)  # the close reaches this side
        assert client.calls["get_all_robots"] == 3
    assert [seen.connection for seen in server.seen] == [1, 2, 3]  # each request reached it once


def test_a_request_lost_on_a_reused_connection_is_sent_again_as_a_counted_logged_attempt(
    fake: Callable[[Behaviour], FakeServer], caplog: pytest.LogCaptureFixture,
) -> None:
    # the server takes the second request and hangs up without an answer (a keep-alive close racing
    # the request): the client's retry sends it again, counted, with a new random, in the -v log
    answers = iter([http(ROBOTS), then_close(b""), http(ROBOTS)])
    server = fake(lambda endpoint, body: next(answers))
    caplog.set_level(logging.DEBUG, logger="chatsync.client")
    with client_for(server.url) as client:
        assert robots(client) == ["@RBT#a"]
        reply = client.call("get_all_robots", {})
        assert reply.attempts == 2 and client.calls["get_all_robots"] == 3
    assert [seen.connection for seen in server.seen] == [1, 1, 2]
    assert len(set(randoms(server))) == 3  # every request that went out carried its own random
    attempts = [r.getMessage() for r in caplog.records if r.getMessage().startswith("get_all_robots ")]
    assert [line.split()[1] for line in attempts] == ["attempt=1", "attempt=1", "attempt=2"], attempts


def test_a_new_connection_dropped_before_the_answer_is_not_sent_again_by_the_engine(
    fake: Callable[[Behaviour], FakeServer],
) -> None:
    server = fake(lambda endpoint, body: then_close(b""))  # reads the request, hangs up
    with client_for(server.url, retry=RetryPolicy(max_attempts=1)) as client:
        with pytest.raises(CallFailed) as caught:
            robots(client)
        assert "the connection failed (" in str(caught.value)
        assert client.calls["get_all_robots"] == 1
    assert len(server.seen) == 1


# -- every answer paired with its own call ------------------------------------------------------------

def numbered(extra: Callable[[bytes, int], Any]) -> Callable[[str, Any], Any]:
    """Answer request k with ``ok(N=k)``, through ``extra(answer, k)``."""
    count = [0]

    def behaviour(endpoint: str, body: Any) -> Any:
        count[0] += 1
        return extra(http(json.dumps(ok(N=count[0])).encode()), count[0])

    return behaviour


@pytest.mark.parametrize("parallelism", [1, 4])
def test_a_stray_answer_in_the_same_segment_is_never_read_as_the_next_calls(
    fake: Callable[[Behaviour], FakeServer], parallelism: int,
) -> None:
    # the server answers, and at once sends a second, unasked answer on the kept-alive connection
    server = fake(numbered(lambda answer, k: answer + http(json.dumps(ok(N=-k)).encode())))
    with client_for(server.url, parallelism=parallelism) as client:
        got = [client.call("get_all_robots", {}).answer["N"] for _ in range(5)]
    assert got == [1, 2, 3, 4, 5]
    assert len({seen.connection for seen in server.seen}) == 5  # no connection with a stray is reused


def test_a_stray_answer_sent_after_a_pause_is_never_read_as_the_next_calls(
    fake: Callable[[Behaviour], FakeServer],
) -> None:
    def late(answer: bytes, k: int) -> SendRaw:
        def send(sock: socket.socket, stopping: threading.Event) -> None:
            sock.sendall(answer)
            time.sleep(0.02)
            sock.sendall(http(json.dumps(ok(N=-k)).encode()))
            stopping.wait(2)  # keep the connection open
        return send

    server = fake(numbered(late))
    with client_for(server.url) as client:
        got = []
        for _ in range(3):
            got.append(client.call("get_all_robots", {}).answer["N"])
            time.sleep(0.08)  # the stray arrives while the connection is idle
    assert got == [1, 2, 3]


def test_junk_after_an_answer_drops_the_connection(fake: Callable[[Behaviour], FakeServer]) -> None:
    server = fake(lambda endpoint, body: http(ROBOTS) + b"HTTP/1.1 200 OK\r\n")
    with client_for(server.url) as client:
        assert robots(client) == ["@RBT#a"]
        assert robots(client) == ["@RBT#a"]
    assert [seen.connection for seen in server.seen] == [1, 2]


def test_calls_one_at_a_time_reuse_one_connection_whatever_the_parallelism(
    fake: Callable[[Behaviour], FakeServer],
) -> None:
    server = fake(lambda endpoint, body: ok(Robot_Account=[]))
    with client_for(server.url, parallelism=8) as client:
        for _ in range(5):
            robots(client)
    assert [seen.connection for seen in server.seen] == [1] * 5


def test_parallel_slots_each_use_their_own_connection(fake: Callable[[Behaviour], FakeServer]) -> None:
    server = fake(lambda endpoint, body: ok(Robot_Account=[]))
    with client_for(server.url, parallelism=4) as client:
        client.map(lambda _: robots(client), range(40))
    assert len(server.seen) == 40
    assert 1 <= len({seen.connection for seen in server.seen}) <= 4


# -- bodies ----------------------------------------------------------------------------------------

def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def two_members(data: bytes) -> bytes:
    return gzip.compress(data[:10]) + gzip.compress(data[10:])


@pytest.mark.parametrize("encoding, encode", [("gzip", gzip.compress), ("deflate", zlib.compress),
                                              ("deflate", raw_deflate), ("gzip", two_members)],
                         ids=["gzip", "zlib-deflate", "raw-deflate", "multi-member-gzip"])
@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_compressed_bodies_are_decoded(fake: Callable[[Behaviour], FakeServer], encoding: str,
                                       encode: Callable[[bytes], bytes], framing: str) -> None:
    body = encode(ROBOTS)
    answer = (http(body, headers={"Content-Encoding": encoding}) if framing == "length"
              else chunked(body, 5, f"Content-Encoding: {encoding}\r\n"))
    server = fake(lambda endpoint, body_: answer)
    with client_for(server.url) as client:
        assert robots(client) == ["@RBT#a"]


@pytest.mark.parametrize("encode", [lambda d: gzip.compress(d, 9), lambda d: raw_deflate(d),
                                    lambda d: gzip.compress(b" ") + gzip.compress(d, 9)],
                         ids=["gzip", "raw-deflate", "second-gzip-member"])
def test_a_compression_bomb_is_refused_at_the_cap(fake: Callable[[Behaviour], FakeServer],
                                                  encode: Callable[[bytes], bytes]) -> None:
    bomb = encode(b'{"ErrorCode":0,"x":"' + b"0" * (16 * MiB))
    encoding = "deflate" if len(bomb) and bomb[:2] != b"\x1f\x8b" else "gzip"
    server = fake(lambda endpoint, body: chunked(bomb, 4096, f"Content-Encoding: {encoding}\r\n"))
    assert "larger than 1 MiB" in str(failure(server))
    assert len(server.seen) == 1


def test_an_answer_that_is_not_200_is_not_read_and_a_5xx_is_retried(
    fake: Callable[[Behaviour], FakeServer],
) -> None:
    answers = iter([http(b"x" * 1000, status="503 Service Unavailable"), http(ROBOTS)])
    server = fake(lambda endpoint, body: next(answers))
    with client_for(server.url) as client:
        assert robots(client) == ["@RBT#a"]
    assert len(server.seen) == 2


class EarlyAnswer(FakeServer):
    """Answers 413 and closes as soon as it has a request's head (the body is never read)."""

    def _serve(self, sock: socket.socket) -> None:
        buffer = read_head(sock)
        if buffer is None:
            return
        head = buffer.partition(b"\r\n\r\n")[0]
        target = head.split(b"\r\n")[0].split(b" ")[1].decode("latin-1")
        with self.lock:
            self.seen.append(Seen("early", target, None, head, 1))
        sock.sendall(http(b"too large", status="413 Payload Too Large", headers={"Connection": "close"}))
        sock.shutdown(socket.SHUT_RDWR)


def test_an_early_error_answer_while_the_body_goes_out_is_reported_with_its_status() -> None:
    # 413 and close after the head, while a large body is still being sent: the library reads the
    # answer after the failed write; it is the server's answer, not a flaky network
    big = {"From_Account": "a", "ProfileItem": [{"Tag": "x", "Value": "v" * (8 * MiB)}]}
    with EarlyAnswer(lambda endpoint, body: ok()) as server, \
            client_for(server.url, bounds=Bounds(attempt_seconds=10, call_seconds=20)) as client, \
            pytest.raises(CallFailed) as caught:
        client.call("portrait_set", big)
    assert "HTTP 413" in str(caught.value) and caught.value.attempts == 1, str(caught.value)
    assert len(server.seen) == 1


@pytest.mark.parametrize("status", ["600 Odd", "700 Odd", "999 Odd"])
def test_a_status_that_is_not_a_final_http_status_is_a_protocol_error_not_retried(
    fake: Callable[[Behaviour], FakeServer], status: str,
) -> None:
    server = fake(lambda endpoint, body: http(b"{}", status=status))
    caught = failure(server)
    assert "protocol error" in str(caught) and status.split()[0] in str(caught), str(caught)
    assert caught.attempts == 1 and caught.stops_run and len(server.seen) == 1


# -- malformed answers: one clear failure, no hang, no secret ---------------------------------------

@pytest.mark.parametrize("answer", [
    b"HTTX/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 2000 OK\r\n\r\n",
    b"HTTP/1.1 099 Odd\r\nContent-Length: 2\r\n\r\n{}",
    http(ROBOTS, headers={"X-Big": "a" * (200 * 1024)}),
    b"HTTP/1.1 200 OK\r\n" + b"X" * (200 * 1024),  # never ends
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}}\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nNo colon here\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
], ids=["bad-version", "bad-status", "status-0xx", "huge-header", "endless-head", "chunk-zz",
        "chunk-negative", "chunk-overrun", "te-gzip", "two-lengths", "negative-length", "no-colon", "101"])
def test_a_malformed_answer_is_one_clear_transport_failure(fake: Callable[[Behaviour], FakeServer],
                                                           answer: bytes) -> None:
    server = fake(lambda endpoint, body: answer)
    text = str(failure(server))
    assert "the connection failed (" in text or "no usable answer" in text, text


@pytest.mark.parametrize("payload", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"Er",
    b"HTTP/1.1 200 OK\r\nContent-Le",
    b"",
], ids=["short-body", "cut-chunked", "cut-head", "nothing"])
def test_a_server_that_hangs_up_mid_answer_is_a_transport_failure_retried(
    fake: Callable[[Behaviour], FakeServer], payload: bytes,
) -> None:
    server = fake(lambda endpoint, body: then_close(payload))
    text = str(failure(server))
    assert "the connection failed (" in text, text
    assert len(server.seen) == QUICK.max_attempts  # retried, as a dropped connection
    assert len(set(randoms(server))) == QUICK.max_attempts


def test_headers_dripped_slower_than_the_deadline_end_at_the_deadline(
    fake: Callable[[Behaviour], FakeServer],
) -> None:
    # 5 s of drip, then the server hangs up: only the deadlines (0.4 s an attempt, 0.7 s the call)
    # make the failure a timeout rather than a dropped connection
    server = fake(lambda endpoint, body: drip(b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100, 0.05))
    text = str(failure(server, bounds=Bounds(attempt_seconds=0.4, call_seconds=0.7)))
    assert "no complete answer within" in text or "gave up" in text, text
    assert 1 <= len(server.seen) <= QUICK.max_attempts


def test_a_refused_connection_is_a_connect_failure_that_stops_the_run() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        with client_for(url) as client, pytest.raises(CallFailed) as caught:
            client.call("get_all_robots", {})
    assert "cannot reach http://127.0.0.1:" in str(caught.value) and caught.value.stops_run
    assert caught.value.attempts == QUICK.connect_attempts  # a few quick tries only (retry.py)


@pytest.mark.parametrize("how", ["abort", "stop-then-abort"])
def test_abort_ends_a_call_blocked_waiting_for_its_answer(fake: Callable[[Behaviour], FakeServer],
                                                          how: str) -> None:
    asked = threading.Event()

    def behaviour(endpoint: str, body: Any) -> Any:
        asked.set()
        return silent()

    server = fake(behaviour)
    outcome: list[BaseException] = []
    client = client_for(server.url, bounds=Bounds(attempt_seconds=3600, call_seconds=7200))

    def call() -> None:
        try:
            client.call("get_all_robots", {})
        except BaseException as exc:  # the test inspects it
            outcome.append(exc)

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    try:
        assert asked.wait(10)
        if how == "stop-then-abort":
            client.stop()
        client.abort()
        thread.join(60)  # a guard against a hang: the attempt would otherwise wait an hour
        assert not thread.is_alive(), "abort() did not end the call blocked reading"
    finally:
        client.close()
    assert len(outcome) == 1 and isinstance(outcome[0], (Stopped, CallFailed)), outcome
    assert len(server.seen) == 1  # nothing is sent again after the abort


# -- the engine itself -----------------------------------------------------------------------------

def _soon() -> float:
    return time.monotonic() + 5


def test_transport_errors_never_carry_the_request_target(fake: Callable[[Behaviour], FakeServer]) -> None:
    target = "/v4/x?usersig=SECRET-SIG&identifier=admin"
    for answer in (b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", b"junk\r\n\r\n"):
        def behaviour(endpoint: str, body: Any, answer: bytes = answer) -> bytes:
            return answer

        server = fake(behaviour)
        engine = transport.Engine((server.url,), HEADERS, tls=None, proxy=None, connections=1)
        with pytest.raises(transport.Broken) as caught:
            engine.post(0, target, b"{}", _soon(), lambda status, body: body(100))
        engine.close()
        assert "SECRET-SIG" not in str(caught.value) and "usersig" not in str(caught.value)


def test_an_invalid_host_is_refused_before_connecting() -> None:
    engine = transport.Engine(("http://bad\u200d.example",), HEADERS, tls=None, proxy=None, connections=1)
    with pytest.raises(transport.InvalidHost):
        engine.post(0, "/v4/x", b"{}", _soon(), lambda status, body: status)


def test_a_target_that_is_not_a_valid_request_target_is_never_sent(
    fake: Callable[[Behaviour], FakeServer],
) -> None:
    server = fake(lambda endpoint, body: ok())
    engine = transport.Engine((server.url,), HEADERS, tls=None, proxy=None, connections=1)
    for target in ("/v4/x y", "/v4/x\r\nX: y", "/v4/\u00e9"):
        with pytest.raises(transport.TransportError):
            engine.post(0, target, b"{}", _soon(), lambda status, body: status)
    engine.close()
    assert server.seen == []


def test_the_engine_never_sends_a_request_again_on_its_own(fake: Callable[[Behaviour], FakeServer]) -> None:
    # retries=0 in the library: a connection dropped before the answer is one request on the wire
    server = fake(lambda endpoint, body: then_close(b""))
    engine = transport.Engine((server.url,), HEADERS, tls=None, proxy=None, connections=1)
    for _ in range(2):
        with pytest.raises(transport.Broken):
            engine.post(0, "/v4/x", b"{}", _soon(), lambda status, body: status)
    engine.close()
    assert len(server.seen) == 2


@pytest.mark.parametrize("url, host", [
    ("http://127.0.0.1:8080", b"127.0.0.1:8080"),
    ("http://localhost:80", b"localhost"),
    ("https://AdminAPISGP.im.qcloud.com", b"adminapisgp.im.qcloud.com"),
    ("https://example.com:443", b"example.com"),
    ("https://example.com:8443", b"example.com:8443"),
    ("http://[::1]:9", b"[::1]:9"),
    ("https://b\u00fccher.example", b"xn--bcher-kva.example"),
])
def test_the_request_head_names_the_host_as_http_clients_write_it(url: str, host: bytes) -> None:
    origin = transport._origin(url, {"Accept": "application/json"})
    assert list(origin.headers.items()) == [(b"Host", host), (b"Accept", b"application/json")]


@pytest.mark.parametrize("connections", [1, 3, 4, 5, 8, 16, 17, 64, 256])
def test_pools_split_the_connections_evenly_and_none_is_larger_than_the_limit(connections: int) -> None:
    sizes = transport.shard_sizes(connections)
    assert sum(sizes) == connections
    assert max(sizes) <= transport.SHARD_CONNECTIONS and max(sizes) - min(sizes) <= 1
    assert len(sizes) == -(-connections // transport.SHARD_CONNECTIONS)


def test_the_answer_time_is_when_its_first_bytes_came_not_when_it_was_read_whole(
    fake: Callable[[Behaviour], FakeServer], monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the pacing frees a call's unit a window after this moment: the server counted the call by then.
    # The server sends the rest of the answer only once the client has read its first bytes.
    answer = http(ROBOTS)
    first_read = threading.Event()
    rest_sent: list[float] = []
    read = transport.DeadlineStream.read

    def reading(self: transport.DeadlineStream, max_bytes: int, timeout: float | None = None) -> bytes:
        data = read(self, max_bytes, timeout)
        if data:
            first_read.set()
        return data

    monkeypatch.setattr(transport.DeadlineStream, "read", reading)

    def behaviour(endpoint: str, body: Any) -> Any:
        def send(sock: socket.socket, stopping: threading.Event) -> None:
            sock.sendall(answer[:20])
            first_read.wait(60)  # a guard against a hang only
            rest_sent.append(time.monotonic())
            sock.sendall(answer[20:])
        return send

    server = fake(behaviour)
    engine = transport.Engine((server.url,), HEADERS, tls=None, proxy=None, connections=1)
    began = time.monotonic()
    assert engine.post(0, "/v4/x", b"{}", _soon(), lambda status, body: body(1000)) == ROBOTS
    answered = transport.answer_time()
    engine.close()
    assert first_read.is_set() and len(rest_sent) == 1
    assert answered is not None and began <= answered <= rest_sent[0]  # before the rest was even sent
    silent_server = fake(lambda endpoint, body: then_close(b""))
    engine = transport.Engine((silent_server.url,), HEADERS, tls=None, proxy=None, connections=1)
    with pytest.raises(transport.Broken):  # the connection closed: that moment, not an earlier answer's
        engine.post(0, "/v4/x", b"{}", _soon(), lambda status, body: status)
    engine.close()
    closed = transport.answer_time()
    assert closed is not None and closed > answered
    with pytest.raises(transport.ConnectFailed):  # no connection: no answer time at all
        transport.Engine(("http://127.0.0.1:9",), HEADERS, tls=None, proxy=None, connections=1).post(
            0, "/v4/x", b"{}", _soon(), lambda status, body: status)
    assert transport.answer_time() is None
