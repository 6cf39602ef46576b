"""The HTTP/1.1 front on the wire: keep-alive, chunked bodies, 100-continue, bad requests."""

from __future__ import annotations

import json
import socket

import pytest

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
    from chatsync.tencent.endpoints import ENDPOINTS

    return f"{ENDPOINTS[name].path}?{api.query()}"


@pytest.fixture
def wire(served):
    _, api = served()
    return str(api.client.base_url), api


def body_of(answer: bytes) -> dict:
    return json.loads(answer.split(b"\r\n\r\n", 1)[1])


def test_chunked_body(wire):
    url, api = wire
    payload = b'{"UserID": "chunky"}'
    raw = (f"POST {target(api, 'account_import')} HTTP/1.1\r\nHost: x\r\n"
           "Transfer-Encoding: chunked\r\n\r\n").encode()
    rest = payload[5:]
    raw += b"5\r\n" + payload[:5] + b"\r\n" + f"{len(rest):x}\r\n".encode() + rest + b"\r\n0\r\n\r\n"
    assert body_of(exchange(url, raw))["ErrorCode"] == 0
    assert api("account_check", {"CheckItem": [{"UserID": "chunky"}]})["ResultItem"][0][
        "AccountStatus"] == "Imported"


def test_expect_100_continue(wire):
    url, api = wire
    raw = (f"POST {target(api)} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
           "Content-Length: 2\r\n\r\n{}").encode()
    answer = exchange(url, raw, reads=2)
    assert answer.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK")


def test_pipelined_keep_alive_requests(wire):
    url, api = wire
    one = f"POST {target(api)} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{{}}".encode()
    answer = exchange(url, one * 3, reads=3)
    assert answer.count(b"HTTP/1.1 200 OK") == 3


def test_connection_close_and_http_1_0(wire):
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
def test_malformed_requests_get_an_http_error_and_the_server_survives(wire, raw, status):
    url, api = wire
    assert exchange(url, raw).startswith(b"HTTP/1.1 " + status)
    assert api("get_all_robots", {})["ErrorCode"] == 0


def test_head_has_no_body(wire):
    url, api = wire
    answer = exchange(url, f"HEAD {target(api)} HTTP/1.1\r\nConnection: close\r\n\r\n".encode())
    head, _, rest = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and rest == b""


def test_an_internal_error_is_70500_and_its_log_holds_no_secret(served, monkeypatch, caplog):
    from chatsync.emulator import handlers
    from tests.support import SECRET

    _, api = served()

    def broken(app, body):
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
def test_bad_chunk_sizes_are_refused_and_the_server_survives(wire, chunks, status):
    url, api = wire
    assert exchange(url, chunked(api, *chunks)).startswith(b"HTTP/1.1 " + status)
    assert api("get_all_robots", {})["ErrorCode"] == 0


@pytest.mark.parametrize(("length", "status"), [
    (b"-1", b"400"), (b"+2", b"400"), (b"1_0", b"400"), ("٢".encode(), b"400"), (b"0x2", b"400"),
    (b"9" * 5000, b"413"), (b"16777217", b"413"),
])
def test_bad_content_lengths_are_refused(wire, length, status):
    url, api = wire
    head = f"POST {target(api)} HTTP/1.1\r\nHost: x\r\n".encode()
    raw = head + b"Content-Length: " + length + b"\r\n\r\n{}"
    assert exchange(url, raw).startswith(b"HTTP/1.1 " + status)


def test_a_chunked_body_with_extensions_and_trailers_is_read(wire):
    url, api = wire
    body = b'{"UserID": "ext"}'
    raw = chunked(api, f"{len(body):X};name=value\r\n".encode(), body, b"\r\n0\r\nX-Trailer: 1\r\n\r\n")
    assert body_of(exchange(url, raw))["ErrorCode"] == 0


def test_clients_that_reset_after_a_bad_request_leave_no_traceback(wire, capfd, caplog):
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
