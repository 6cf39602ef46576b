"""The wire engine: a lean HTTP/1.1 keep-alive client over sockets for direct connections.

The client sends its calls through it when no proxy applies (plain http to loopback, or https with
no ``HTTPS_PROXY``); an injected transport or a proxy goes through :mod:`.httpx_engine` instead.
It does the little chatsync needs and nothing else: one POST per exchange, its head preformatted
and the whole request written at once, and an answer read strictly:

* the status line and headers (the header block at most :data:`HEAD_BYTES`, in at most
  :data:`HEAD_LINES` lines), interim ``1xx`` answers skipped; the body framed by
  ``Content-Length``, ``chunked``, or the end of the connection; ``Connection: close`` and
  HTTP/1.0 without keep-alive close the connection after the answer;
* the whole attempt ends at its deadline: a connect and a TLS handshake get the time left as
  their timeout, and then the socket never blocks: every wait to send or receive is one poll
  bounded by the time left, so a server dripping a byte a second fails at the deadline (at most
  :data:`CONNECT_SECONDS` per connect and :data:`IO_SECONDS` per wait too);
* the body is read through :func:`.bounded.decode_body` (the cap, gzip/deflate without inflating a
  bomb);
* anything malformed is a :class:`Broken` (never a hang, never another exception type): the
  client maps :class:`ConnectFailed`, :class:`TimedOut`, :class:`InvalidHost` and :class:`Broken`
  onto its messages. No error text carries the request's target (its query holds the UserSig).

:meth:`Engine.post` takes the most recently used idle :class:`Connection` (a last-in, first-out
free list, so a few calls at a time keep reusing a few warm connections), or a new one when all
are busy: there are never more connections than calls in flight at once (the client's in-flight
slots). :meth:`Engine.abort` shuts every socket down (a call blocked reading ends now),
:meth:`Engine.close` closes them.
"""

from __future__ import annotations

import contextlib
import math
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TypeVar
from urllib.parse import urlsplit

from chatsync.net import wire_host
from chatsync.tencent.bounded import decode_body

CONNECT_SECONDS = 10.0
"""At most this long for one connect or TLS handshake (less when the attempt has less left)."""
IO_SECONDS = 30.0
"""At most this long for one send or receive (less when the attempt has less left)."""
HEAD_BYTES = 64 * 1024
"""The largest header block (status line and headers) accepted, and the largest chunk trailer."""
HEAD_LINES = 256
"""The most lines in one header block."""
LINE_BYTES = 4096
"""The longest chunk-size line accepted."""
INTERIM_ANSWERS = 16
"""The most ``1xx`` answers skipped before the real one."""
IDLE_CHECK_SECONDS = 1.0
"""A connection idle longer than this is checked before it is reused (one zero-timeout poll: a
readable socket was closed by the server, or holds something unasked). Servers close idle
keep-alive connections after seconds, not milliseconds; a connection used within this time is
reused without the system call (and if the server did close it, the send or the first read finds
out and the request goes once more on a new connection, see :meth:`Connection.post`)."""
READ_SIZE = 65536

Body = Callable[[int], bytes]
"""Reads an answer's body, decoded, capped at the given number of bytes (:func:`.bounded.decode_body`)."""

_T = TypeVar("_T")

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_STATUS = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})(?: [^\r\n]*)?")
_TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
_DIGITS = re.compile(rb"[0-9]{1,18}")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,15}")
_NO_BODY = (204, 304)
_CHUNKED = -1
_UNTIL_CLOSE = -2


class WireError(Exception):
    """No usable answer came. The text names what went wrong, never the request's target."""


class ConnectFailed(WireError):
    """The connection (TCP connect or TLS handshake) could not be made, in time or at all."""


class TimedOut(WireError):
    """The attempt's deadline passed after the connection was made."""


class InvalidHost(WireError):
    """The base URL's host cannot be written on the wire (e.g. a name IDNA refuses)."""


class Broken(WireError):
    """The connection dropped, or the answer is not well-formed HTTP/1.1."""


class _Unanswered(Broken):
    """The connection failed before any byte of the answer arrived."""


class _Origin:
    """Where one base URL's requests go, and the preformatted part of their head."""

    __slots__ = ("host", "port", "prefix", "tls", "tls_name")

    def __init__(self, url: str, headers: str, tls: ssl.SSLContext | None) -> None:
        parts = urlsplit(url)
        https = parts.scheme.lower() == "https"
        default = 443 if https else 80
        try:
            self.host = wire_host(parts.hostname or "")
            port = parts.port
        except (ValueError, UnicodeError) as exc:
            raise InvalidHost(str(exc) or type(exc).__name__) from None
        self.port = default if port is None else port
        if https and tls is None:  # pragma: no cover - Engine makes one for every https base
            raise InvalidHost("an https base URL needs a TLS context")
        self.tls = tls if https else None
        self.tls_name = self.host
        shown = f"[{self.host}]" if ":" in self.host else self.host
        authority = shown if self.port == default else f"{shown}:{self.port}"
        self.prefix = f" HTTP/1.1\r\nHost: {authority}\r\n{headers}Content-Length: ".encode("ascii")

    def request(self, target: str, content: bytes) -> bytes:
        """The whole request: ``POST target``, the head, and ``content``."""
        if not (target.isascii() and target.isprintable()) or " " in target:
            raise Broken("the request target is not printable ASCII")
        return b"".join((b"POST ", target.encode("ascii"), self.prefix, str(len(content)).encode("ascii"),
                         b"\r\n\r\n", content))


class Engine:
    """Direct HTTP/1.1 to the base URLs ``urls`` (the client's primary and backup), with the request
    headers ``headers`` (Host and Content-Length are added) and ``tls`` for https."""

    def __init__(self, urls: Sequence[str], headers: Mapping[str, str], tls: ssl.SSLContext | None) -> None:
        self._urls = tuple(urls)
        self._headers = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        if tls is not None:
            tls.set_alpn_protocols(["http/1.1"])
        self._tls = tls
        self._origins: list[_Origin | None] = [None] * len(self._urls)
        self._connections: list[Connection] = []
        self._idle: list[Connection] = []  # the free list: append and pop are atomic
        self._lock = threading.Lock()
        self.aborted = False

    def post(self, base: int, target: str, content: bytes, until: float,
             read: Callable[[int, Body], _T]) -> _T:
        """:meth:`Connection.post` on an idle connection (the last one freed), or on a new one."""
        try:
            connection = self._idle.pop()
        except IndexError:
            connection = self.connection()
        try:
            return connection.post(base, target, content, until, read)
        finally:
            self._idle.append(connection)

    def connection(self) -> Connection:
        """A new connection (it connects on first use); the engine aborts and closes it with the rest."""
        connection = Connection(self)
        with self._lock:
            self._connections.append(connection)
        return connection

    def origin(self, base: int) -> _Origin:
        """Base URL number ``base``, parsed once (raises :class:`InvalidHost`)."""
        origin = self._origins[base]
        if origin is None:
            origin = self._origins[base] = _Origin(self._urls[base], self._headers, self._tls)
        return origin

    def abort(self) -> None:
        """Shut every open connection down: calls blocked sending or receiving fail now, and no
        connection is opened or reused after this."""
        self.aborted = True
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            connection.shutdown()

    def close(self) -> None:
        """Close every connection (when no call is in flight)."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            connection.close()


class Connection:
    """One keep-alive connection, used by one thread at a time (taken from the engine's free list)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sock: socket.socket | None = None
        self._origin: _Origin | None = None
        self._readable: select.poll | None = None  # pollers of the socket (None without poll())
        self._writable: select.poll | None = None
        self._buffer = bytearray()
        self._done = False  # the last answer's body was read to its end
        self._idle_since = 0.0  # time.monotonic() when the last answer was read

    def post(self, base: int, target: str, content: bytes, until: float,
             read: Callable[[int, Body], _T]) -> _T:
        """POST ``content`` to ``target`` (path and query) on base URL number ``base``, all of it
        before ``until`` (``time.monotonic()``). ``read`` gets the final status and a reader of the
        body, and what it returns is returned; the connection stays open for the next call only if
        the answer was read to its end and the server keeps it alive. Raises a :class:`WireError`
        when no answer came."""
        origin = self._engine.origin(base)
        request = origin.request(target, content)
        try:
            reused = self._ready(origin)
            if not reused:
                self._open(origin, until)
            try:
                status, encoding, framing, keep = self._exchange(request, until)
            except _Unanswered:
                if self._engine.aborted:
                    raise Broken("the client was stopped") from None
                if not reused:
                    raise
                # A kept-alive connection that fails before any byte of the answer came was closed
                # by the server while idle (its keep-alive timeout ran out as the request left):
                # the request never reached the server's handler, so it goes once more, on a new
                # connection. (A server that read it and hung up without a byte of answer looks the
                # same; the client retries such a dropped connection anyway, as it always has.)
                self.close()
                self._open(origin, until)
                status, encoding, framing, keep = self._exchange(request, until)
            self._done = framing == 0
            result = read(status, lambda limit: decode_body(self._body(framing, until), encoding, limit))
        except BaseException:
            self.close()
            raise
        if not (keep and self._done) or self._buffer:  # closing, not read to the end, or junk after it
            self.close()
        else:
            self._idle_since = time.monotonic()
        return result

    # -- the connection ----------------------------------------------------------------------------

    def _ready(self, origin: _Origin) -> bool:
        """True when the open connection can carry the next request; else it is closed.

        An idle keep-alive connection has nothing to read: if the socket is readable, the server
        closed it (or sent something unasked), so it is dropped. One poll, no wait, for a
        connection idle longer than :data:`IDLE_CHECK_SECONDS`."""
        sock = self._sock
        if sock is None:
            return False
        if self._origin is not origin or self._engine.aborted:
            self.close()
            return False
        if time.monotonic() - self._idle_since < IDLE_CHECK_SECONDS:
            return True
        try:
            readable = self._ready_for(False, 0.0) or (isinstance(sock, ssl.SSLSocket) and sock.pending() > 0)
        except (OSError, ValueError):
            readable = True
        if readable:
            self.close()
        return not readable

    def _open(self, origin: _Origin, until: float) -> None:
        """Connect (and shake hands, for https), bounded by ``until`` and :data:`CONNECT_SECONDS`."""
        left = until - time.monotonic()
        if left <= 0:
            raise ConnectFailed("the attempt's deadline passed")
        try:
            # the host as bytes (it is ASCII, net.wire_host): as text, the resolver would load
            # Python's IDNA codec first, about 8 ms of every command's start
            address = (origin.host.encode("ascii"), origin.port)
            sock = socket.create_connection(address, timeout=min(left, CONNECT_SECONDS))  # type: ignore[arg-type]
        except OSError as exc:
            raise ConnectFailed(_reason(exc)) from None
        self._use(sock, origin)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if origin.tls is not None:
                left = until - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the attempt's deadline passed")
                sock.settimeout(min(left, CONNECT_SECONDS))
                self._use(origin.tls.wrap_socket(sock, server_hostname=origin.tls_name), origin)
            # From here the socket never blocks: each wait is one poll bounded by the time left
            # (settimeout would cost a system call per operation, and a poll before each anyway).
            self._socket().setblocking(False)
        except OSError as exc:  # ssl.SSLError (a certificate refused) is one too
            self.close()
            raise ConnectFailed(_reason(exc)) from None
        if hasattr(select, "poll"):
            self._readable, self._writable = select.poll(), select.poll()
            self._readable.register(self._socket(), select.POLLIN)
            self._writable.register(self._socket(), select.POLLOUT)

    def _use(self, sock: socket.socket, origin: _Origin) -> None:
        self._sock, self._origin = sock, origin
        self._buffer.clear()
        if self._engine.aborted:  # abort() looked at the sockets before this one existed
            self.close()
            raise Broken("the client was stopped")

    def shutdown(self) -> None:
        """Shut the socket down for both directions (from another thread): its user's operations end."""
        sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the TCP socket, under any TLS layer

    def close(self) -> None:
        """Close the socket (the next call connects anew)."""
        sock, self._sock, self._readable, self._writable = self._sock, None, None, None
        self._buffer.clear()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    # -- one exchange ------------------------------------------------------------------------------

    def _exchange(self, request: bytes, until: float) -> tuple[int, str, int, bool]:
        """Send ``request`` and read the final answer's head: (status, Content-Encoding, framing, keep
        alive). Framing is the body's length, :data:`_CHUNKED` or :data:`_UNTIL_CLOSE`."""
        self._send(request, until)
        for interim in range(INTERIM_ANSWERS + 1):
            version, status, lines = self._head(until, first=interim == 0)
            if status >= 200:
                return self._framing(version, status, lines)
            if status == 101:
                raise Broken("the server switched protocols (HTTP 101)")
        raise Broken(f"more than {INTERIM_ANSWERS} interim (1xx) answers")

    def _head(self, until: float, *, first: bool) -> tuple[int, int, list[bytes]]:
        """Read one header block: (HTTP/1.x minor version, status, header lines)."""
        buffer = self._buffer
        start = 0
        while (end := _HEAD_END.search(buffer, start)) is None:
            if len(buffer) > HEAD_BYTES:
                raise Broken(f"the answer's header block is larger than {HEAD_BYTES // 1024} KiB")
            start = max(0, len(buffer) - 3)
            try:
                more = self._receive(until)
            except Broken as exc:
                if first and not buffer:
                    raise _Unanswered(str(exc)) from None
                raise
            if not more:
                if first and not buffer:
                    raise _Unanswered("the server closed the connection without answering")
                raise Broken("the server closed the connection in the middle of the answer's headers")
        if end.end() > HEAD_BYTES:
            raise Broken(f"the answer's header block is larger than {HEAD_BYTES // 1024} KiB")
        lines = bytes(buffer[:end.start()]).split(b"\n")
        del buffer[:end.end()]
        if len(lines) > HEAD_LINES:
            raise Broken(f"the answer has more than {HEAD_LINES} header lines")
        status = _STATUS.fullmatch(lines[0].removesuffix(b"\r"))
        if status is None:
            raise Broken("the answer does not start with an HTTP/1.x status line")
        return int(status[1]), int(status[2]), lines[1:]

    def _framing(self, version: int, status: int, lines: list[bytes]) -> tuple[int, str, int, bool]:
        length: int | None = None
        transfer: list[bytes] = []
        connection: list[bytes] = []
        encoding: list[str] = []
        for raw in lines:
            name, colon, value = raw.removesuffix(b"\r").partition(b":")
            if not colon or _TOKEN.fullmatch(name) is None:
                raise Broken("the answer has a malformed header line")
            key = name.lower()
            if key == b"content-length":
                for part in value.split(b","):
                    digits = part.strip(b" \t")
                    if _DIGITS.fullmatch(digits) is None or (length is not None and int(digits) != length):
                        raise Broken("the answer's Content-Length is not a single number")
                    length = int(digits)
            elif key == b"transfer-encoding":
                transfer += [word.strip(b" \t").lower() for word in value.split(b",") if word.strip(b" \t")]
            elif key == b"connection":
                connection += [word.strip(b" \t").lower() for word in value.split(b",")]
            elif key == b"content-encoding":
                encoding.append(value.strip(b" \t").decode("latin-1"))
        keep = b"close" not in connection and (version == 1 or b"keep-alive" in connection)
        if status in _NO_BODY:
            framing = 0
        elif transfer:
            if transfer != [b"chunked"]:
                raise Broken("the answer's Transfer-Encoding is not chunked")
            framing = _CHUNKED
        elif length is not None:
            framing = length
        else:
            framing, keep = _UNTIL_CLOSE, False
        return status, ", ".join(encoding), framing, keep

    def _body(self, framing: int, until: float) -> Iterator[bytes]:
        """The body's raw pieces as they arrive; sets ``_done`` at its end."""
        if framing == _CHUNKED:
            while (size := self._chunk_size(until)) > 0:
                yield from self._exactly(size, until)
                if self._line(until):
                    raise Broken("a chunk of the answer does not end where its size says")
            trailer = 0
            while line := self._line(until):  # trailer fields: read and ignored
                trailer += len(line)
                if trailer > HEAD_BYTES:
                    raise Broken(f"the answer's trailer is larger than {HEAD_BYTES // 1024} KiB")
        elif framing == _UNTIL_CLOSE:
            buffer = self._buffer
            while True:
                if buffer:
                    piece = bytes(buffer)
                    buffer.clear()
                    yield piece
                if not self._receive(until):
                    break
        else:
            yield from self._exactly(framing, until)
        self._done = True

    def _chunk_size(self, until: float) -> int:
        size = self._line(until).partition(b";")[0].strip(b" \t")
        if _HEX.fullmatch(size) is None:
            raise Broken("the answer has a malformed chunk size")
        return int(size, 16)

    def _exactly(self, count: int, until: float) -> Iterator[bytes]:
        buffer = self._buffer
        while count:
            if not buffer and not self._receive(until):
                raise Broken("the server closed the connection before the end of the answer's body")
            if len(buffer) <= count:
                piece = bytes(buffer)
                buffer.clear()
            else:
                piece = bytes(buffer[:count])
                del buffer[:count]
            count -= len(piece)
            yield piece

    def _line(self, until: float) -> bytes:
        """One line of the chunked framing, without its line end."""
        buffer = self._buffer
        while (end := buffer.find(b"\n")) < 0:
            if len(buffer) > LINE_BYTES:
                raise Broken("the answer has a chunk-size line too long")
            if not self._receive(until):
                raise Broken("the server closed the connection before the end of the answer's body")
        line = bytes(buffer[:end]).removesuffix(b"\r")
        del buffer[:end + 1]
        return line

    def _send(self, request: bytes, until: float) -> None:
        """Send all of ``request`` by ``until`` (raises :class:`_Unanswered` if the connection fails)."""
        if time.monotonic() >= until:
            raise TimedOut("the attempt's deadline passed")
        sock = self._socket()
        data = memoryview(request)
        writing = True  # what the next wait is for (TLS may need to read to write)
        while data:
            try:
                data = data[sock.send(data):]
                continue
            except (BlockingIOError, ssl.SSLWantWriteError):
                writing = True
            except ssl.SSLWantReadError:
                writing = False
            except OSError as exc:
                raise _Unanswered(_reason(exc)) from None
            self._wait(writing, until, "timed out sending the request")

    def _receive(self, until: float) -> bool:
        """Read what arrived into the buffer (waiting at most until ``until``); False at the end."""
        sock = self._socket()
        # Wait first: right after a request, or in the middle of an answer, nothing is there yet
        # (a TLS layer may already hold decrypted bytes, though).
        writing: bool | None = None if isinstance(sock, ssl.SSLSocket) and sock.pending() else False
        while True:
            if writing is not None:
                self._wait(writing, until, "timed out waiting for the answer")
            try:
                data = sock.recv(READ_SIZE)
                break
            except (BlockingIOError, ssl.SSLWantReadError):
                writing = False
            except ssl.SSLWantWriteError:
                writing = True
            except OSError as exc:
                raise Broken(_reason(exc)) from None
        if not data:
            return False
        self._buffer += data
        return True

    def _wait(self, writing: bool, until: float, problem: str) -> None:
        """Wait until the socket can be written (or read), at most until ``until`` and at most
        :data:`IO_SECONDS`; raise :class:`TimedOut` saying ``problem`` when it cannot."""
        left = until - time.monotonic()
        if left <= 0:
            raise TimedOut("the attempt's deadline passed")
        try:
            ready = self._ready_for(writing, min(left, IO_SECONDS))
        except (OSError, ValueError) as exc:
            raise Broken(str(exc) or type(exc).__name__) from None
        if not ready:
            raise TimedOut(problem)

    def _ready_for(self, writing: bool, seconds: float) -> bool:
        """One poll of the socket: True when it can be written (or read, or has hung up) within
        ``seconds``."""
        poller = self._writable if writing else self._readable
        if poller is not None:
            return bool(poller.poll(math.ceil(seconds * 1000)))
        sock = self._socket()  # pragma: no cover - platforms without poll()
        found = select.select([], [sock], [], seconds) if writing else select.select([sock], [], [], seconds)
        return bool(found[0] or found[1])  # pragma: no cover

    def _socket(self) -> socket.socket:
        sock = self._sock
        if sock is None:  # pragma: no cover - post() opens it first
            raise Broken("the connection is closed")
        return sock


def _reason(exc: OSError) -> str:
    return str(exc) or type(exc).__name__
