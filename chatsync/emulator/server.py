"""The emulator over real HTTP/1.1 (keep-alive, one thread per connection).

A lean HTTP/1.1 front (``http.server`` spends most of its time parsing headers with the email
package) that hands each request to :meth:`Emulator.handle`: it reads the body whatever the
method or Content-Type (client quirks §9.2-§9.3), decodes chunked bodies, answers 100-continue,
writes each answer in one send, and for a *drop* fault closes the connection without a word.
Access logs never show the query string: it carries the UserSig.
"""

from __future__ import annotations

import contextlib
import email.utils
import io
import logging
import socket
import socketserver
import sys
import threading
import time
import traceback
from http import HTTPStatus
from typing import BinaryIO

from chatsync.emulator.gateway import Emulator
from chatsync.redact import redact

log = logging.getLogger("chatsync.emulator")

MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_LINE_BYTES = 64 * 1024
MAX_HEADERS = 100
SERVER_NAME = "chatsync-emulator"
IDLE_TIMEOUT_SECONDS = 300


class BadRequest(Exception):
    """The bytes on the wire are not an HTTP/1.x request we can serve."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class _Request:
    """One parsed request: method, target, body, and whether the connection stays open."""

    __slots__ = ("body", "keep_alive", "method", "target")

    def __init__(self, method: str, target: str, body: bytes, keep_alive: bool) -> None:
        self.method, self.target, self.body, self.keep_alive = method, target, body, keep_alive


def read_request(rfile: BinaryIO | io.BufferedIOBase, wfile: BinaryIO | io.BufferedIOBase) -> _Request | None:
    """Read one request from the stream; None when the client closed the connection."""
    line = rfile.readline(MAX_LINE_BYTES + 1)
    while line in (b"\r\n", b"\n"):  # tolerate blank lines between requests (RFC 9112 §2.2)
        line = rfile.readline(MAX_LINE_BYTES + 1)
    if not line:
        return None
    if len(line) > MAX_LINE_BYTES:
        raise BadRequest(414, "request line too long")
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest(400, "malformed request line")
    method, target, version = parts
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS + 1):
        header = rfile.readline(MAX_LINE_BYTES + 1)
        if header in (b"\r\n", b"\n", b""):
            break
        name, _, value = header.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    else:
        raise BadRequest(431, "too many headers")
    connection = headers.get("connection", "").lower()
    keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
    if headers.get("expect", "").lower() == "100-continue":
        wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _read_chunked(rfile)
    else:
        size = _size(headers.get("content-length", "0").strip() or "0", 10, "bad Content-Length")
        body = rfile.read(size)
        if len(body) < size:
            return None  # the client hung up mid-body
    if body is None:
        return None
    return _Request(method, target, body, keep_alive)


def _size(text: str, base: int, problem: str) -> int:
    """A body or chunk size: digits of ``base`` only (no sign, no '_', no other scripts' digits),
    at most :data:`MAX_BODY_BYTES` (413 beyond, checked before converting a long number)."""
    digits = "0123456789abcdefABCDEF"[: 10 if base == 10 else 22]
    if not text or any(c not in digits for c in text):
        raise BadRequest(400, problem)
    if len(text.lstrip("0")) > len(f"{MAX_BODY_BYTES:{'d' if base == 10 else 'x'}}"):
        raise BadRequest(413, "body too large")
    size = int(text, base)
    if size > MAX_BODY_BYTES:
        raise BadRequest(413, "body too large")
    return size


def _read_chunked(rfile: BinaryIO | io.BufferedIOBase) -> bytes | None:
    """A chunked body; None when the client hung up mid-body."""
    parts: list[bytes] = []
    total = 0
    while True:
        line = rfile.readline(MAX_LINE_BYTES + 1)
        if not line:
            return None
        if len(line) > MAX_LINE_BYTES or not line.endswith(b"\n"):
            raise BadRequest(400, "bad chunk size line")
        size_text = line.split(b";")[0].strip().decode("latin-1")
        size = _size(size_text, 16, "bad chunk size")
        if size == 0:
            for _ in range(MAX_HEADERS + 1):
                if rfile.readline(MAX_LINE_BYTES) in (b"\r\n", b"\n", b""):
                    return b"".join(parts)  # after the trailers
            raise BadRequest(431, "too many trailers")
        total += size
        if total > MAX_BODY_BYTES:
            raise BadRequest(413, "body too large")
        chunk = rfile.read(size)
        if len(chunk) < size:
            return None
        parts.append(chunk)
        if rfile.readline(MAX_LINE_BYTES) not in (b"\r\n", b"\n"):
            raise BadRequest(400, "a chunk is longer than its size")


_date_cache: tuple[int, str] = (0, "")


def _http_date() -> str:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, email.utils.formatdate(now, usegmt=True))
    return _date_cache[1]


def render_response(status: int, body: bytes, keep_alive: bool, head_only: bool = False) -> bytes:
    """Status line, headers and body as one buffer (one send: no small-packet stalls)."""
    content_type = "application/json" if status == 200 else "text/html"
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        f"Server: {SERVER_NAME}\r\n"
        f"Date: {_http_date()}\r\n"
        f"Content-Type: {content_type}; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        + ("" if keep_alive else "Connection: close\r\n")
        + "\r\n"
    ).encode("latin-1")
    return head if head_only else head + body


class _Handler(socketserver.StreamRequestHandler):
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT_SECONDS  # an idle keep-alive connection is closed, freeing its thread
    server: EmulatorHTTPServer

    def handle(self) -> None:
        while True:
            try:
                request = read_request(self.rfile, self.wfile)
            except BadRequest as bad:
                page = f"<html><body>{bad.status} {bad}</body></html>".encode()
                try:
                    self.wfile.write(render_response(bad.status, page, keep_alive=False))
                except OSError as exc:  # the client sent garbage and reset: one line, no traceback
                    self._gone(f"after a bad request ({bad.status} {bad})", exc)
                    return
                log.info("bad request from %s: %s %s", self.client_address[0], bad.status, bad)
                return
            except (ConnectionError, TimeoutError) as exc:  # reset or idle: routine
                log.info("connection from %s ended: %s", self.client_address[0],
                         getattr(exc, "strerror", None) or exc)
                return
            if request is None:
                return
            started = time.perf_counter()
            outcome = self.server.emulator.handle(request.method, request.target, request.body)
            if outcome.drop:
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                self._log(request, outcome.endpoint, "dropped", started)
                return
            try:
                self.wfile.write(render_response(outcome.status, outcome.body, request.keep_alive,
                                                 head_only=request.method == "HEAD"))
            except OSError as exc:  # reset, broken pipe, timeout: the client is gone
                self._gone(f"before its answer ({outcome.endpoint or 'unknown path'})", exc)
                return
            self._log(request, outcome.endpoint, f"{outcome.status} code={outcome.code}", started)
            if not request.keep_alive:
                return

    def _gone(self, when: str, error: OSError) -> None:
        log.warning("client %s closed the connection %s: %s", self.client_address[0], when,
                    error.strerror or error)

    def _log(self, request: _Request, endpoint: str, result: str, started: float) -> None:
        if self.server.access_log:
            path = request.target.split("?", 1)[0]  # never the query: it carries the UserSig
            elapsed = (time.perf_counter() - started) * 1000
            log.info("%s %s %s %.1fms", request.method, endpoint or path, result, elapsed)


class EmulatorHTTPServer(socketserver.ThreadingTCPServer):
    """A threaded HTTP server bound to one :class:`Emulator`."""

    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0,
                 access_log: bool = False) -> None:
        self.emulator = emulator
        self.access_log = access_log
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host.strip("[]"), port), _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        """A connection that failed outside a request's answer: one log line, never a traceback
        (a client that resets is routine); anything else is a bug, logged with its traceback."""
        error = sys.exc_info()[1]
        host = client_address[0] if isinstance(client_address, tuple) else client_address
        if isinstance(error, OSError):
            log.warning("connection from %s ended: %s", host, error.strerror or error)
        else:
            log.error("connection from %s failed: %s", host,
                      redact(traceback.format_exc(), self.emulator.config.secret_key))

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` of the bound socket (the real port when 0 was asked)."""
        address, port = self.server_address[:2]
        host = address.decode() if isinstance(address, bytes) else str(address)
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"


class RunningEmulator:
    """An emulator served on a background thread; a context manager for tests and benchmarks."""

    def __init__(self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self.emulator = emulator
        self.server = EmulatorHTTPServer(emulator, host, port)
        self._thread = threading.Thread(target=self.server.serve_forever, name="emulator",
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        """Base URL to point a client at."""
        return self.server.url

    def __enter__(self) -> RunningEmulator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop serving, close the socket and save the state."""
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
        self.emulator.close()
