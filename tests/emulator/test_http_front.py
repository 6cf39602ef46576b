"""The HTTP/1.1 front on the wire: keep-alive, chunked bodies, 100-continue, bad requests."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any, NoReturn

import pytest

from chatsync.emulator import Emulator
from tests.support import Api


def exchange(url: str, raw: bytes, reads: int = 1) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(raw)
        data = b""
        while data.count(b"HTTP/1.1 ") < reads or not _complete(data, reads):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def _complete(data: bytes, reads: int) -> bool:
    answers = data.split(b"HTTP/1.1 ")[1:]
    if len(answers) < reads:
        return False
    last = answers[-1]
    head, _, body = last.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return b"\r\n\r\n" in last


def target(api: Api, name: str = "get_all_robots") -> str:
    from chatsync.facts.endpoints import ENDPOINTS

    return f"{ENDPOINTS[name].path}?{api.query()}"


@pytest.fixture
def wire(served: Callable[..., tuple[Emulator, Api]]) -> tuple[str, Api]:
    _, api = served()
    return str(api.client.base_url), api


def body_of(answer: bytes) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    return body


def test_chunked_body(wire: tuple[str, Api]) -> None:
    url, api = wire
    payload = b'{"UserID": "chunky"}'
    raw = (f"POST {target(api, 'account_import')} HTTP/1.1\r\nHost: x\r\n"
           "Transfer-Encoding: chunked\r\n\r\n").encode()
    rest = payload[5:]
    raw += b"5\r\n" + payload[:5] + b"\r\n" + f"{len(rest):x}\r\n".encode() + rest + b"\r\n0\r\n\r\n"
    assert body_of(exchange(url, raw))["ErrorCode"] == 0
    assert api("account_check", {"CheckItem": [{"UserID": "chunky"}]})["ResultItem"][0][
        "AccountStatus"] == "Imported"


def test_expect_100_continue(wire: tuple[str, Api]) -> None:
    url, api = wire
    raw = (f"POST {target(api)} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
           "Content-Length: 2\r\n\r\n{}").encode()
    answer = exchange(url, raw, reads=2)
    assert answer.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK")


def test_pipelined_keep_alive_requests(wire: tuple[str, Api]) -> None:
    url, api = wire
    one = f"POST {target(api)} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{{}}".encode()
    answer = exchange(url, one * 3, reads=3)
    assert answer.count(b"HTTP/1.1 200 OK") == 3


def test_connection_close_and_http_1_0(wire: tuple[str, Api]) -> None:
    url, api = wire
    for raw in (
        f"POST {target(api)} HTTP/1.1\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{{}}",
        f"POST {target(api)} HTTP/1.0\r\nContent-Length: 2\r\n\r\n{{}}",
    ):
        answer = exchange(url, raw.encode())  # returns once the server closes
        assert b"Connection: close" in answer
        assert body_of(answer)["ErrorCode"] == 0


@pytest.mark.parametrize(
    ("raw", "status"),
    [(b"NONSENSE\r\n\r\n", b"400"), (b"POST / HTTP/2\r\n\r\n", b"400"),
     (b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", b"400"),
     (b"POST / HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n", b"413"),
     (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", b"400")],
)
def test_malformed_requests_get_an_http_error_and_the_server_survives(wire: tuple[str, Api], raw: bytes,
                                                                      status: bytes) -> None:
    url, api = wire
    assert exchange(url, raw).startswith(b"HTTP/1.1 " + status)
    assert api("get_all_robots", {})["ErrorCode"] == 0


def test_head_has_no_body(wire: tuple[str, Api]) -> None:
    url, api = wire
    answer = exchange(url, f"HEAD {target(api)} HTTP/1.1\r\nConnection: close\r\n\r\n".encode())
    head, _, rest = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and rest == b""


def test_an_internal_error_is_70500_and_its_log_holds_no_secret(served: Callable[..., tuple[Emulator, Api]],
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    from chatsync.emulator import handlers
    from tests.support import SECRET

    _, api = served()

    def broken(app: object, body: object) -> NoReturn:
        raise RuntimeError(f"bug while serving /v4/x?usersig={api.sig}&random=1 with key {SECRET}")

    monkeypatch.setitem(handlers.HANDLERS, "get_all_robots", broken)
    with caplog.at_level("ERROR", logger="chatsync.emulator"):
        answer = api("get_all_robots", {})
    assert (answer["ErrorCode"], answer["ActionStatus"]) == (70500, "FAIL")
    logged = caplog.text
    assert "RuntimeError: bug while serving /v4/x?usersig=***&random=1 with key ***" in logged
    assert api.sig not in logged and SECRET not in logged
    assert api("account_check", {"CheckItem": [{"UserID": "x"}]})["ErrorCode"] == 0  # still serving


def chunked(api: Api, *chunks: bytes) -> bytes:
    head = (f"POST {target(api, 'account_import')} HTTP/1.1\r\nHost: x\r\n"
            "Transfer-Encoding: chunked\r\n\r\n").encode()
    return head + b"".join(chunks)


@pytest.mark.parametrize(("chunks", "status"), [
    ((b"-5\r\n{}\r\n0\r\n\r\n",), b"400"),  # a negative size used to read to the end of the stream
    ((b"-1000000\r\n", b"1000010\r\n"), b"400"),  # ...and to slip past the 16 MiB limit
    ((b"+2\r\n{}\r\n0\r\n\r\n",), b"400"),
    ((b"0x2\r\n{}\r\n0\r\n\r\n",), b"400"),
    ((b"2_0\r\n",), b"400"),
    ((b"\r\n",), b"400"),
    ((b"1000001\r\n",), b"413"),  # 16 MiB + 1 in one chunk
    ((b"F" * 5000 + b"\r\n",), b"413"),
    ((b"800000\r\n" + b" " * 0x800000 + b"\r\n", b"800000\r\n" + b" " * 0x800000 + b"\r\n", b"1\r\n"),
     b"413"),  # two chunks of 8 MiB, then one byte more
    ((b"1\r\n{}\r\n0\r\n\r\n",), b"400"),  # a chunk longer than its size
])
def test_bad_chunk_sizes_are_refused_and_the_server_survives(wire: tuple[str, Api], chunks: tuple[bytes, ...],
                                                             status: bytes) -> None:
    url, api = wire
    assert exchange(url, chunked(api, *chunks)).startswith(b"HTTP/1.1 " + status)
    assert api("get_all_robots", {})["ErrorCode"] == 0


@pytest.mark.parametrize(("length", "status"), [
    (b"-1", b"400"), (b"+2", b"400"), (b"1_0", b"400"), ("٢".encode(), b"400"), (b"0x2", b"400"),
    (b"9" * 5000, b"413"), (b"16777217", b"413"),
])
def test_bad_content_lengths_are_refused(wire: tuple[str, Api], length: bytes, status: bytes) -> None:
    url, api = wire
    head = f"POST {target(api)} HTTP/1.1\r\nHost: x\r\n".encode()
    raw = head + b"Content-Length: " + length + b"\r\n\r\n{}"
    assert exchange(url, raw).startswith(b"HTTP/1.1 " + status)


def test_a_chunked_body_with_extensions_and_trailers_is_read(wire: tuple[str, Api]) -> None:
    url, api = wire
    body = b'{"UserID": "ext"}'
    raw = chunked(api, f"{len(body):X};name=value\r\n".encode(), body, b"\r\n0\r\nX-Trailer: 1\r\n\r\n")
    assert body_of(exchange(url, raw))["ErrorCode"] == 0


def test_clients_that_reset_after_a_bad_request_leave_no_traceback(wire: tuple[str, Api],
                                                                   capfd: pytest.CaptureFixture[str],
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    import struct

    url, api = wire
    host, port = url.removeprefix("http://").split(":")
    with caplog.at_level("INFO", logger="chatsync.emulator"):
        for i in range(60):
            sock = socket.create_connection((host, int(port)), timeout=5)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST
            sock.sendall(b"NONSENSE\r\n\r\n" if i % 2 else b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n{")
            sock.close()
        assert api("get_all_robots", {})["ErrorCode"] == 0
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Traceback" not in caplog.text
    for record in caplog.records:
        assert "\n" not in record.getMessage()


# -- strict framing (issue 22): each refusal answers once, with Connection: close, and closes -----

def until_closed(url: str, raw: bytes, wait: float = 5.0) -> bytes:
    """Send ``raw``; everything the server sends until it closes the connection (fails if it has
    not closed within ``wait`` seconds: a refused request must not leave the connection open)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        return data


def refused_once(url: str, raw: bytes, status: bytes) -> None:
    answer = until_closed(url, raw)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:200]
    assert answer.count(b"HTTP/1.1 ") == 1, answer  # nothing after it is served as a request
    assert b"Connection: close" in answer


def request(api: Api, *headers: str, body: bytes = b"{}", name: str = "get_all_robots") -> bytes:
    head = f"POST {target(api, name)} HTTP/1.1\r\nHost: x\r\n" + "".join(h + "\r\n" for h in headers)
    return head.encode() + b"\r\n" + body


@pytest.mark.parametrize(("headers", "body", "status"), [
    (["X-Big: " + "a" * 1024 * 1024, "Content-Length: 2"], b"{}", b"431"),  # a 1 MB header line
    ([f"X-{i}: 1" for i in range(101)] + ["Content-Length: 2"], b"{}", b"431"),  # 101 fields
    ([f"X-{i}: {'a' * 1000}" for i in range(70)] + ["Content-Length: 2"], b"{}", b"431"),  # 70 KB head
    (["Content-Length: 2", "Content-Length: 30"], b"{}" + b"x" * 28, b"400"),  # two, differing
    (["Content-Length: 2", "Content-Length: 2"], b"{}", b"400"),  # two at all
    (["Content-Length: 2, 2"], b"{}", b"400"),
    (["Content-Length: 2", "Transfer-Encoding: chunked"], b"2\r\n{}\r\n0\r\n\r\n", b"400"),
    (["Transfer-Encoding: chunked", "Content-Length: 2"], b"2\r\n{}\r\n0\r\n\r\n", b"400"),
    (["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"], b"0\r\n\r\n", b"400"),
    (["Transfer-Encoding: gzip, chunked"], b"0\r\n\r\n", b"501"),
    (["Transfer-Encoding: xchunked"], b"0\r\n\r\n", b"501"),
    (["X-No-Colon", "Content-Length: 2"], b"{}", b"400"),  # a header line without a colon
    (["Content-Length : 2"], b"{}", b"400"),  # a space before the colon
    (["X-A: 1", " folded", "Content-Length: 2"], b"{}", b"400"),  # obsolete line folding
    (["X-A: 1\rX-B: 2", "Content-Length: 2"], b"{}", b"400"),  # a bare CR
    (["X-A: \x001", "Content-Length: 2"], b"{}", b"400"),
])
def test_framing_that_could_smuggle_or_exhaust_is_refused_and_closed(wire: tuple[str, Api],
                                                                     headers: list[str], body: bytes,
                                                                     status: bytes) -> None:
    url, api = wire
    refused_once(url, request(api, *headers, body=body + request(api, "Content-Length: 2")), status)
    assert api("get_all_robots", {})["ErrorCode"] == 0


def test_a_request_line_over_16_kib_is_414_and_a_long_query_within_it_is_served(
    wire: tuple[str, Api],
) -> None:
    url, api = wire
    refused_once(url, f"POST /v4/{'a' * 17000} HTTP/1.1\r\n\r\n".encode(), b"414")
    long = (f"POST {target(api)}&x={'1' * 15000} HTTP/1.1\r\n"
            "Content-Length: 2\r\nConnection: close\r\n\r\n{}")
    assert body_of(until_closed(url, long.encode()))["ErrorCode"] == 0


@pytest.mark.parametrize("line", [
    b"POST  /v4/x HTTP/1.1", b"POST /v4/x  HTTP/1.1", b"POST\t/v4/x HTTP/1.1", b"POST /v4/x HTTP/1.2",
    b"POST /v4/\xff HTTP/1.1", b"P(ST /v4/x HTTP/1.1",
])
def test_a_malformed_request_line_is_400(wire: tuple[str, Api], line: bytes) -> None:
    url, _ = wire
    refused_once(url, line + b"\r\nContent-Length: 0\r\n\r\n", b"400")


def test_well_formed_heads_are_still_served(wire: tuple[str, Api]) -> None:
    url, api = wire
    answer = exchange(url, request(api, "content-length:2", "X-Empty:", "X-Tabs:\t v \t",
                                   "Connection: keep-alive", "Connection: close"))
    assert body_of(answer)["ErrorCode"] == 0
    answer = exchange(url, b"\r\n\r\n" + request(api, "Content-Length: 2"))  # blank lines before
    assert body_of(answer)["ErrorCode"] == 0
