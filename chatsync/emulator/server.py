"""The emulator over real HTTP/1.1 (keep-alive, one thread per connection), fit to run as a service.

A lean, strict HTTP/1.1 front that hands each request to :meth:`Emulator.handle`: it reads the body
whatever the method or Content-Type (client quirks §9.2-§9.3), decodes chunked bodies, answers
100-continue, writes each answer in one send, and for a *drop* fault closes the connection without
a word. Access logs never show the query string: it carries the UserSig.

It parses HTTP itself rather than with ``http.server`` (which spends most of its time parsing
headers with the email package, and is lax: a header line without a colon, two Content-Lengths) or
h11 (strict, but it merges two equal Content-Lengths, keeps chunk sizes to itself so a 16 MiB chunk
cannot be refused before it is read, counts no header fields, and reads no socket: the deadlines
below would still be ours). The rules, each a documented default (``chatsync emulator --help``):

* time: a whole request head must arrive within :data:`HEAD_TIMEOUT_SECONDS` of the connection or
  of the previous answer (so an idle keep-alive connection closes after that long, and bytes with no
  end of head cannot hold a connection; a started head gets 408); its body within
  :data:`BODY_TIMEOUT_SECONDS` of the head; an answer must be taken within
  :data:`SEND_TIMEOUT_SECONDS`;
* connections: at most ``max_connections`` open (default :func:`default_max_connections`: half the
  open-file limit, at most 1,000). At the limit a new connection closes the one idle longest (waiting
  for a request with no byte of it received), or, when none is idle, is answered 503 and closed.
  Both are logged on stderr, one line per second at most, with how many. Accepting never spins: when
  the process is out of file descriptors it waits a moment before trying again;
* framing: a request line of at most 16 KiB (414), header lines of at most 16 KiB, a head of at most
  64 KiB and 100 header fields (431); every header line needs a colon, after a name with no space
  before it (400), and no line folding, bare CR or NUL (400); exactly one Content-Length (two: 400),
  never with Transfer-Encoding (400); Transfer-Encoding only ``chunked`` (501). Every refused request
  is answered with ``Connection: close`` and the connection is closed (after reading what the client
  still sends for a moment, so it sees the answer rather than a reset).
"""

from __future__ import annotations

import contextlib
import email.utils
import errno
import logging
import re
import socket
import socketserver
import sys
import threading
import time
import traceback
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from chatsync.emulator.gateway import Emulator
from chatsync.text.redact import redact

log = logging.getLogger("chatsync.emulator")

MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_REQUEST_LINE_BYTES = 16 * 1024
MAX_LINE_BYTES = 16 * 1024  # a header, trailer or chunk-size line
MAX_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 100
HEAD_TIMEOUT_SECONDS = 10.0
BODY_TIMEOUT_SECONDS = 30.0
SEND_TIMEOUT_SECONDS = 10.0
MAX_CONNECTIONS_CAP = 1000
FD_RESERVE = 32  # descriptors kept for the state file, logs and the listening socket
LINGER_SECONDS = 2.0  # after refusing a request: read what the client still sends, this long...
LINGER_BYTES = 4 * 1024 * 1024  # ...and at most this much, then close
ACCEPT_BACKOFF_SECONDS = 0.1
REPORT_EVERY_SECONDS = 1.0
SERVER_NAME = "chatsync-emulator"
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_REQUEST_LINE = re.compile(rb"(%s) ([\x21-\x7e]+) (HTTP/1\.[01])" % _TOKEN.pattern)


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


def default_max_connections() -> int:
    """Half the soft open-file limit (each connection holds one), at most 1,000; 1,000 when the
    limit is unknown or unlimited."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return MAX_CONNECTIONS_CAP
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft == resource.RLIM_INFINITY or soft <= 0:
        return MAX_CONNECTIONS_CAP
    return max(1, min(MAX_CONNECTIONS_CAP, soft // 2))


def max_connections_problem(wanted: int) -> str | None:
    """Why ``wanted`` connections cannot be held under the open-file limit, or None."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return None
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft == resource.RLIM_INFINITY or wanted <= soft - FD_RESERVE:
        return None
    return (f"is more than the open-file limit allows (ulimit -n is {soft}; at most "
            f"{max(1, soft - FD_RESERVE)} leaves room for the state file); raise the limit or ask "
            "for fewer")


class Wire:
    """One connection's incoming bytes, read against a deadline (a request head's, then its body's).

    ``idle_since`` is set while the connection waits for a request of which no byte has arrived:
    the server may then close it to make room for a new connection.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.deadline = float("inf")
        self.idle_since: float | None = time.monotonic()  # accepted, nothing received yet

    def fill(self) -> bool:
        """Receive more bytes before the deadline (TimeoutError after it); False at the end."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out")
        self.sock.settimeout(remaining)
        data = self.sock.recv(65536)
        if not data:
            return False
        self.idle_since = None
        self.buffer += data
        return True

    def line(self, limit: int, status: int, problem: str) -> bytes | None:
        """The next line without its LF or CRLF; None when the stream ends first. A line longer
        than ``limit`` is refused with ``status`` (without reading further); a bare CR or a NUL
        with 400."""
        searched = 0
        while (end := self.buffer.find(b"\n", searched)) < 0:
            if len(self.buffer) > limit:
                raise BadRequest(status, problem)
            searched = len(self.buffer)
            if not self.fill():
                return None
        if end > limit:
            raise BadRequest(status, problem)
        line = bytes(self.buffer[:end])
        del self.buffer[:end + 1]
        return _checked_line(line[:-1] if line.endswith(b"\r") else line)

    def head(self) -> bytes | None:
        """The bytes of the next request head up to its blank line (not included), blank lines
        before it skipped (RFC 9112 §2.2); None when the stream ends first. Refused past the
        request line's limit (414) or the head's (431), without reading further."""
        skipped = 0
        while True:
            stripped = 0
            while stripped < len(self.buffer) and self.buffer[stripped] in b"\r\n":
                stripped += 1
            if stripped:
                skipped += stripped
                del self.buffer[:stripped]
            if skipped > MAX_HEAD_BYTES:
                raise BadRequest(400, "blank lines instead of a request")
            if self.buffer:
                break
            if not self.fill():
                return None
        searched = 0
        while (end := _end_of_head(self.buffer, searched)) is None:
            if self.buffer.find(b"\n", 0, MAX_REQUEST_LINE_BYTES + 2) < 0 and \
                    len(self.buffer) > MAX_REQUEST_LINE_BYTES + 1:
                raise BadRequest(414, "request line too long")
            if len(self.buffer) > MAX_HEAD_BYTES:
                raise BadRequest(431, "request head too large")
            searched = max(0, len(self.buffer) - 3)
            if not self.fill():
                return None
        if end[0] > MAX_HEAD_BYTES:
            raise BadRequest(431, "request head too large")
        head = bytes(self.buffer[:end[0]])
        del self.buffer[:end[1]]
        return head[:-1] if head.endswith(b"\r") else head

    def read(self, size: int) -> bytes | None:
        """Exactly ``size`` bytes; None when the stream ends first."""
        while len(self.buffer) < size:
            if not self.fill():
                return None
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data


def _end_of_head(buffer: bytearray, start: int) -> tuple[int, int] | None:
    """Where the blank line ending a head begins and ends (LF LF, or LF CR LF), or None."""
    stop = MAX_HEAD_BYTES + 3  # never scan far into pipelined requests or past the limit
    crlf = buffer.find(b"\n\r\n", start, stop)
    lf = buffer.find(b"\n\n", start, crlf + 2 if crlf >= 0 else stop)
    if lf >= 0:
        return lf, lf + 2
    return (crlf, crlf + 3) if crlf >= 0 else None


def _checked_line(line: bytes) -> bytes:
    if b"\r" in line or b"\0" in line:
        raise BadRequest(400, "a bare CR or a NUL in the request head")
    return line


def read_request(wire: Wire, send: Callable[[bytes], None],
                 body_timeout: float = BODY_TIMEOUT_SECONDS) -> _Request | None:
    """Read one request (its head before ``wire.deadline``); None when the client closed or hung
    up mid-request. Raises :class:`BadRequest` for anything the module docstring refuses."""
    head = wire.head()
    if head is None:
        return None
    lines = _checked_line(head.replace(b"\r\n", b"\n")).split(b"\n")
    if len(lines[0]) > MAX_REQUEST_LINE_BYTES:
        raise BadRequest(414, "request line too long")
    start = _REQUEST_LINE.fullmatch(lines[0])
    if start is None:
        raise BadRequest(400, "malformed request line")
    method, target, version = (part.decode("ascii") for part in start.groups())
    headers = _fields(lines[1:])
    connection = headers.get("connection", "").lower()
    keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
    coding = headers.get("transfer-encoding")
    if coding is not None:
        if "content-length" in headers:
            raise BadRequest(400, "both Content-Length and Transfer-Encoding")
        if version == "HTTP/1.0":
            raise BadRequest(400, "Transfer-Encoding in an HTTP/1.0 request")
        if coding.lower() != "chunked":
            raise BadRequest(501, "only Transfer-Encoding: chunked is supported")
    size = 0 if coding else _size(headers.get("content-length", "0"), 10, "bad Content-Length")
    if headers.get("expect", "").lower() == "100-continue":
        send(b"HTTP/1.1 100 Continue\r\n\r\n")
    wire.deadline = time.monotonic() + body_timeout
    body = _read_chunked(wire) if coding else wire.read(size)
    if body is None:
        return None  # the client hung up mid-body
    return _Request(method, target, body, keep_alive)


def _fields(lines: list[bytes], what: str = "header") -> dict[str, str]:
    """Header (or trailer) fields, lower-case names. Content-Length and Transfer-Encoding may each
    come once; other repeats are joined with ", "."""
    if len(lines) > MAX_HEADERS:
        raise BadRequest(431, f"too many {what} fields")
    fields: dict[str, str] = {}
    for line in lines:
        if len(line) > MAX_LINE_BYTES:
            raise BadRequest(431, f"a {what} line is too long")
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            problem = ("folded" if line[:1] in (b" ", b"\t") else
                       "without a colon" if not colon else "with a malformed name")
            raise BadRequest(400, f"a {what} line {problem}")
        key = name.decode("ascii").lower()
        text = value.strip(b" \t").decode("latin-1")
        if key in fields:
            if key in ("content-length", "transfer-encoding"):
                raise BadRequest(400, f"more than one {name.decode('ascii')}")
            text = f"{fields[key]}, {text}"
        fields[key] = text
    return fields


def _trailers(wire: Wire) -> bool:
    """Read the trailer fields after a chunked body (and drop them); False when the stream ends."""
    lines: list[bytes] = []
    size = 0
    while True:
        line = wire.line(MAX_LINE_BYTES, 431, "a trailer line is too long")
        if line is None:
            return False
        if not line:
            _fields(lines, "trailer")
            return True
        size += len(line) + 2
        lines.append(line)
        if size > MAX_HEAD_BYTES or len(lines) > MAX_HEADERS:
            raise BadRequest(431, "the trailers are too large")


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


def _read_chunked(wire: Wire) -> bytes | None:
    """A chunked body; None when the client hung up mid-body."""
    parts: list[bytes] = []
    total = 0
    while True:
        line = wire.line(MAX_LINE_BYTES, 400, "bad chunk size line")
        if line is None:
            return None
        size = _size(line.split(b";")[0].strip(b" \t").decode("latin-1"), 16, "bad chunk size")
        if size == 0:
            return b"".join(parts) if _trailers(wire) else None
        total += size
        if total > MAX_BODY_BYTES:
            raise BadRequest(413, "body too large")
        chunk = wire.read(size)
        if chunk is None:
            return None
        parts.append(chunk)
        end = wire.line(MAX_LINE_BYTES, 400, "a chunk is longer than its size")
        if end is None:
            return None
        if end:
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


def _error_page(status: int, reason: str) -> bytes:
    return render_response(status, f"<html><body>{status} {reason}</body></html>".encode(),
                           keep_alive=False)


class _Connection:
    """Serve the requests of one connection until it closes, times out or sends a bad one."""

    def __init__(self, server: EmulatorHTTPServer, sock: socket.socket, host: str, wire: Wire) -> None:
        self.server, self.sock, self.host, self.wire = server, sock, host, wire

    def send(self, data: bytes) -> None:
        self.sock.settimeout(self.server.send_timeout)
        self.sock.sendall(data)

    def run(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        wire = self.wire
        since = wire.idle_since or time.monotonic()  # the connection, then each answer
        while True:
            wire.deadline = since + self.server.head_timeout
            try:
                request = read_request(wire, self.send, self.server.body_timeout)
            except BadRequest as bad:
                self._refuse(bad.status, str(bad))
                return
            except TimeoutError:
                if wire.idle_since is None:  # a request was started: say why it ends
                    self._refuse(408, "the request did not arrive in time")
                return
            except OSError as exc:  # reset, or closed by the server to make room: routine
                log.info("connection from %s ended: %s", self.host, exc.strerror or exc)
                return
            wire.idle_since = None
            if request is None or not self._answer(request):
                return
            since = time.monotonic()
            if not wire.buffer:  # no pipelined request: the server may close it to make room
                wire.idle_since = since

    def _answer(self, request: _Request) -> bool:
        """Answer one request; False when the connection must close."""
        started = time.perf_counter()
        outcome = self.server.emulator.handle(request.method, request.target, request.body)
        if outcome.drop:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)
            self._log(request, outcome.endpoint, "dropped", started)
            return False
        try:
            self.send(render_response(outcome.status, outcome.body, request.keep_alive,
                                      head_only=request.method == "HEAD"))
        except OSError as exc:  # reset, broken pipe, timeout: the client is gone
            self._gone(f"before its answer ({outcome.endpoint or 'unknown path'})", exc)
            return False
        self._log(request, outcome.endpoint, f"{outcome.status} code={outcome.code}", started)
        return request.keep_alive

    def _refuse(self, status: int, reason: str) -> None:
        """Answer ``status`` and close; read what the client still sends for a moment first, so
        that closing with unread bytes does not reset the connection before it reads the answer."""
        try:
            self.send(_error_page(status, reason))
            self.sock.shutdown(socket.SHUT_WR)
        except OSError as exc:  # the client sent garbage and reset: one line, no traceback
            self._gone(f"after a bad request ({status} {reason})", exc)
            return
        log.info("bad request from %s: %s %s", self.host, status, reason)
        deadline, drained = time.monotonic() + LINGER_SECONDS, 0
        with contextlib.suppress(OSError):
            while drained < LINGER_BYTES and (remaining := deadline - time.monotonic()) > 0:
                self.sock.settimeout(remaining)
                data = self.sock.recv(65536)
                if not data:
                    break
                drained += len(data)

    def _gone(self, when: str, error: OSError) -> None:
        log.warning("client %s closed the connection %s: %s", self.host, when,
                    error.strerror or error)

    def _log(self, request: _Request, endpoint: str, result: str, started: float) -> None:
        if self.server.access_log:
            path = request.target.split("?", 1)[0]  # never the query: it carries the UserSig
            elapsed = (time.perf_counter() - started) * 1000
            log.info("%s %s %s %.1fms", request.method, endpoint or path, result, elapsed)


class EmulatorHTTPServer(socketserver.TCPServer):
    """A threaded HTTP server bound to one :class:`Emulator`, with the limits of the module
    docstring (every timeout and the connection bound can be given; the defaults are documented)."""

    request_queue_size = 1024  # the kernel caps it (somaxconn); a burst of connects waits here
    allow_reuse_address = True

    def __init__(self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0,
                 access_log: bool = False, *, max_connections: int | None = None,
                 head_timeout: float = HEAD_TIMEOUT_SECONDS,
                 body_timeout: float = BODY_TIMEOUT_SECONDS,
                 send_timeout: float = SEND_TIMEOUT_SECONDS) -> None:
        self.emulator = emulator
        self.access_log = access_log
        self.max_connections = max_connections or default_max_connections()
        self.head_timeout, self.body_timeout, self.send_timeout = head_timeout, body_timeout, send_timeout
        self._open: dict[socket.socket, Wire] = {}
        self._open_lock = threading.Lock()
        self._refused = self._evicted = self._accept_failures = 0
        self._accept_error = ""
        self._last_report = float("-inf")
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # connections are served by _Connection on threads of their own (process_request)
        super().__init__((host.strip("[]"), port), socketserver.BaseRequestHandler)

    @property
    def open_connections(self) -> int:
        """Connections being served now."""
        with self._open_lock:
            return len(self._open)

    @property
    def idle_connections(self) -> int:
        """Connections waiting for a request of which no byte has arrived (those that may be closed
        to make room)."""
        with self._open_lock:
            return sum(1 for wire in self._open.values() if wire.idle_since is not None)

    def get_request(self) -> tuple[socket.socket, object]:
        """Accept a connection. Out of file descriptors, the listening socket stays readable: wait
        a moment instead of trying again at once (which spins a core and answers nobody)."""
        try:
            return self.socket.accept()
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                with self._open_lock:
                    self._accept_failures += 1
                    self._accept_error = exc.strerror or str(exc)
                self._report()
                time.sleep(ACCEPT_BACKOFF_SECONDS)
            raise

    def process_request(self, request: socket.socket | tuple[bytes, socket.socket],
                        client_address: Any) -> None:
        """Admit the connection (closing the longest-idle one at the limit, else refusing it with
        503) and serve it on a thread of its own."""
        assert isinstance(request, socket.socket)  # a TCP server: never a datagram
        wire = Wire(request)
        with self._open_lock:
            admitted = len(self._open) < self.max_connections
            if not admitted:
                idle = [w for w in self._open.values() if w.idle_since is not None]
                if idle:
                    victim = min(idle, key=lambda w: w.idle_since or 0.0)
                    del self._open[victim.sock]
                    with contextlib.suppress(OSError):
                        victim.sock.shutdown(socket.SHUT_RDWR)  # its thread reads the end, closes
                    self._evicted += 1
                    admitted = True
                else:
                    self._refused += 1
            if admitted:
                self._open[request] = wire
        if not admitted:
            with contextlib.suppress(OSError):
                request.setblocking(False)
                request.send(_error_page(503, "the emulator has too many open connections"))
            self.shutdown_request(request)
            self._report()
            return
        host = client_address[0] if isinstance(client_address, tuple) else str(client_address)
        thread = threading.Thread(target=self._serve, args=(request, host, wire), daemon=True,
                                  name=f"emulator-{host}")
        try:
            thread.start()
        except BaseException:
            self._forget(request, wire)
            raise
        self._report()

    def _serve(self, request: socket.socket, host: str, wire: Wire) -> None:
        try:
            _Connection(self, request, host, wire).run()
        except Exception:
            self.handle_error(request, (host,))
        finally:
            self._forget(request, wire)
            self.shutdown_request(request)

    def _forget(self, request: socket.socket, wire: Wire) -> None:
        with self._open_lock:
            if self._open.get(request) is wire:
                del self._open[request]

    def service_actions(self) -> None:
        """Called by serve_forever at least every poll interval: flush the refusal count."""
        self._report()

    def _report(self) -> None:
        """One line on stderr (a warning) at most every second: how many connections were refused
        or closed to make room, and accept failures, since the previous line."""
        with self._open_lock:
            now = time.monotonic()
            if not (self._refused or self._evicted or self._accept_failures) or \
                    now - self._last_report < REPORT_EVERY_SECONDS:
                return
            refused, evicted, failures, error = (self._refused, self._evicted, self._accept_failures,
                                                 self._accept_error)
            self._refused = self._evicted = self._accept_failures = 0
            self._last_report = now
            held = len(self._open)
        parts = []
        if refused or evicted:
            parts.append(f"at the connection limit ({held} open, --max-connections "
                         f"{self.max_connections}): refused {refused} new "
                         f"connection{'' if refused == 1 else 's'} (503) and closed {evicted} idle "
                         f"one{'' if evicted == 1 else 's'} to make room")
        if failures:
            parts.append(f"could not accept a connection {failures} time{'' if failures == 1 else 's'}"
                         f" ({error}); check ulimit -n")
        log.warning("emulator: %s", "; ".join(parts))

    def server_close(self) -> None:
        """Stop listening, and close the connections waiting idle for a request."""
        super().server_close()
        with self._open_lock:
            idle = [w for w in self._open.values() if w.idle_since is not None]
        for wire in idle:
            with contextlib.suppress(OSError):
                wire.sock.shutdown(socket.SHUT_RDWR)

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
    """An emulator served on a background thread; a context manager for tests and benchmarks.
    ``options`` go to :class:`EmulatorHTTPServer` (``max_connections``, the timeouts)."""

    def __init__(self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0,
                 **options: Any) -> None:
        self.emulator = emulator
        self.server = EmulatorHTTPServer(emulator, host, port, **options)
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
