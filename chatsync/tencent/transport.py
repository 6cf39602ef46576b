"""The HTTP engine of the client: httpcore (httpx's engine), used through its public interfaces only.

This is the one module that knows which HTTP library carries the calls: moving to another one
(httpx's successor, urllib3, pycurl) is this module and its tests (tests/client/test_transport.py).
The client sees :class:`Engine` (one per client), its lanes (``lane.post(...)``: one request, its
status and a capped body reader handed to a ``read`` function) and the errors below. It does the
little chatsync needs, and leaves every byte of HTTP framing to the library:

* **Pools.** Direct calls go through :class:`httpcore.ConnectionPool`; https through a proxy
  through :class:`httpcore.HTTPProxy` (a CONNECT tunnel: the proxy never sees the UserSig). Both
  with ``retries=0``: the library never connects or sends again on its own, so every request that
  goes out is one of the client's counted, paced and logged attempts. httpcore's pool works under
  one lock and scans all its connections at each request, so ``--parallelism`` is spread over
  pools of at most :data:`SHARD_CONNECTIONS` (each in-flight slot belongs to one pool, so no pool
  ever has more requests than connections).
* **The whole-attempt deadline.** httpcore's timeouts bound each read; the pools' network backend
  (:class:`DeadlineBackend`, through the public ``network_backend=``) gives every connect, TLS
  handshake, read and write of a thread at most the time left before that thread's deadline, set
  around one attempt. So a server dripping a byte a second fails at the deadline.
* **Abort.** :meth:`Engine.abort` shuts every socket down (a call blocked reading ends now) and
  refuses new connections.
* **Answers paired with their call.** A connection is reused only when the bytes that came in on it
  were exactly the last answer (its head and its ``Content-Length``): bytes after an answer (a stray
  answer, junk) would otherwise wait in the parser's buffer and be read as the next call's answer.
  Such a connection reports itself readable, and httpcore then drops it instead of reusing it (the
  same check it makes on every reuse for a server's close).
* **The body** is read through :func:`.bounded.decode_body` (the 4 MiB cap; gzip, multi-member gzip,
  zlib and raw deflate, without inflating a bomb).

An injected ``httpx`` transport (the tests' in-process emulator) is served through
``handle_request`` with the same interface and errors (:class:`_HttpxLane`).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import unquote, urlsplit

import h11
import httpcore

from chatsync.facts.network import wire_host
from chatsync.tencent.bounded import AnswerTooLarge, decode_body

if TYPE_CHECKING:
    import httpx

CONNECT_SECONDS = 10.0
"""At most this long for one connect or TLS handshake (less when the attempt has less left)."""
IO_SECONDS = 30.0
"""At most this long for one read or write (less when the attempt has less left)."""
KEEPALIVE_SECONDS = 5.0
"""An idle connection older than this is closed rather than reused (httpx's default)."""
SHARD_CONNECTIONS = 4
"""Connections per pool: ``--parallelism`` beyond this is spread over several pools."""
COALESCE_BYTES = 64 * 1024
"""A request up to this size goes out in one write (httpcore writes its head and body apart: two
system calls and two segments, each waking the server); a larger one is written as it comes."""
TIMEOUTS = {"connect": CONNECT_SECONDS, "read": IO_SECONDS, "write": IO_SECONDS, "pool": IO_SECONDS}

Body = Callable[[int], bytes]
"""Reads an answer's body, decoded, capped at the given number of bytes (:func:`.bounded.decode_body`)."""

_T = TypeVar("_T")


class TransportError(Exception):
    """No usable answer came. The text names what went wrong, never the request's target."""


class ConnectFailed(TransportError):
    """The connection (TCP connect or TLS handshake) could not be made, in time or at all."""


class TimedOut(TransportError):
    """The attempt's deadline passed after the connection was made."""


class InvalidHost(TransportError):
    """The base URL's host cannot be written on the wire (e.g. a name IDNA refuses)."""


class Broken(TransportError):
    """The connection dropped, or the answer is not well-formed HTTP/1.1."""


class CertificateFailed(TransportError):
    """The server's certificate does not verify. ``code`` is OpenSSL's verify code (None when the
    platform's verifier gives none), ``reason`` what it means in words."""

    def __init__(self, host: str, code: int | None, reason: str) -> None:
        super().__init__(f"the certificate of {host} does not verify: {reason}")
        self.host = host
        self.code = code
        self.reason = reason


class ProxyFailed(TransportError):
    """The proxy could not be reached, or refused the tunnel. ``status`` is its answer to CONNECT
    (None when it could not be reached at all)."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


#: OpenSSL's verify codes (``X509_V_ERR_*``) and what each means to a user.
EXPIRED = frozenset({10})  # CERT_HAS_EXPIRED
NOT_YET_VALID = frozenset({9})  # CERT_NOT_YET_VALID
WRONG_HOST = frozenset({62, 64})  # HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH
UNKNOWN_CA = frozenset({2, 18, 19, 20, 21})  # no issuer, self-signed, self-signed in chain, no local issuer


def certificate_reason(code: int | None, message: str) -> str:
    """What a verify ``code`` means (``message``, OpenSSL's own words, for the others)."""
    if code in EXPIRED:
        return "it has expired"
    if code in NOT_YET_VALID:
        return "it is not valid yet"
    if code in WRONG_HOST:
        return "it was issued for another host name"
    if code in UNKNOWN_CA:
        return "it is not signed by a certificate authority this machine trusts"
    return message or "verification failed"


# -- the whole-attempt deadline and abort: httpcore's network backend, wrapped ----------------------

_local = threading.local()  # ``until``: the deadline of this thread's attempt (``time.monotonic()``)


def answer_time() -> float | None:
    """When the first bytes of the answer to this thread's last request came in (``time.monotonic()``),
    or None when none did: the server had counted the call by then (the client's pacing frees the
    call's unit of allowance a window after this, not after the answer was also parsed)."""
    answered: float | None = getattr(_local, "answered", None)
    return answered


def _left(timeout: float | None, expired: type[Exception]) -> float | None:
    """``timeout`` shortened to the time left before this thread's deadline (raise when none is left)."""
    until: float | None = getattr(_local, "until", None)
    if until is None:
        return timeout
    left = until - time.monotonic()
    if left <= 0:
        raise expired("the attempt's deadline passed")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every operation ends by the deadline of the thread using it, that
    sends a small request in one write, and that tells httpcore it is not reusable once more bytes
    came in than the last answer was made of."""

    def __init__(self, inner: httpcore.NetworkStream, backend: DeadlineBackend) -> None:
        self._inner = inner
        self._backend = backend
        self._received = bytearray()  # what came in since this exchange's request went out
        self._pending = bytearray()  # a small request's pieces, sent together before the first read
        self._reading = False
        self.stale = False

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._pending:  # the request is written: send it (one segment, one system call)
            with contextlib.suppress(httpcore.WriteError):  # then read what the server said, as
                self._flush(timeout)  # httpcore does after a failed write (e.g. an early 413)
        data = self._inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))
        if not self._reading:  # the first bytes of the answer (or the close): the server had the call
            _local.answered = time.monotonic()
        self._reading = True
        self._received += data
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if self._reading:  # a new exchange starts
            self._reading = False
            self._received.clear()
        if len(self._pending) + len(buffer) <= COALESCE_BYTES:  # httpcore writes head and body apart
            self._pending += buffer
            return
        self._flush(timeout)
        self._inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def _flush(self, timeout: float | None) -> None:
        data = bytes(self._pending)
        self._pending.clear()
        self._inner.write(data, _left(timeout, httpcore.WriteTimeout))

    def answered(self, length: int | None) -> None:
        """The answer of this exchange is read: its body had ``length`` bytes on the wire (None when
        not framed by Content-Length). Unless exactly that answer came in, the connection is not used
        again. The common case (one head, then ``length`` bytes) is told by counting; any other (a
        chunked body, interim answers, more bytes than the answer) is left to h11, the parser
        httpcore itself uses."""
        received, self._received = self._received, bytearray()
        head = received.find(b"\r\n\r\n")
        if length is not None and head >= 0 and len(received) == head + 4 + length:
            return
        if not _just_one_answer(bytes(received)):
            self.stale = True

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout))
        return self._backend.track(DeadlineStream(inner, self._backend))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self.stale:
            return True  # httpcore checks this before each reuse: the connection is dropped
        return self._inner.get_extra_info(info)


def _just_one_answer(received: bytes) -> bool:
    """Whether ``received`` is one whole answer to a POST (interim answers before it allowed), and
    nothing more."""
    parser = h11.Connection(h11.CLIENT)
    parser.send(h11.Request(method="POST", target="/", headers=[("Host", "x"), ("Content-Length", "0")]))
    parser.send(h11.EndOfMessage())
    parser.receive_data(received)
    try:
        while True:
            event = parser.next_event()
            if isinstance(event, h11.EndOfMessage):
                return parser.trailing_data == (b"", False)
            if event is h11.NEED_DATA or event is h11.PAUSED or isinstance(event, h11.ConnectionClosed):
                return False
    except h11.ProtocolError:
        return False


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's backend, with :class:`DeadlineStream` streams; :meth:`abort` cuts them all."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner
        self._streams: weakref.WeakSet[DeadlineStream] = weakref.WeakSet()
        self._lock = threading.Lock()
        self.aborted = False

    def track(self, stream: DeadlineStream) -> DeadlineStream:
        with self._lock:
            self._streams.add(stream)
        if self.aborted:  # an abort raced this connect: cut it too
            self._shut(stream)
        return stream

    def abort(self) -> None:
        """Shut every open connection down, so calls blocked on one end now; connect no more."""
        self.aborted = True
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            self._shut(stream)

    @staticmethod
    def _shut(stream: DeadlineStream) -> None:
        sock = stream.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None, socket_options: Any = None) -> httpcore.NetworkStream:
        if self.aborted:
            raise httpcore.ConnectError("the client was stopped")
        left = _left(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, left, local_address, socket_options)
        return self.track(DeadlineStream(stream, self))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore.NetworkStream:  # pragma: no cover
        raise httpcore.ConnectError("chatsync does not connect to unix sockets")

    def sleep(self, seconds: float) -> None:  # pragma: no cover - only for retries, which are off
        self._inner.sleep(seconds)


# -- where requests go ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Proxy:
    """An https proxy: its URL (with any credentials), the variable that named it, and how to show it
    (redacted)."""

    url: str
    variable: str
    shown: str


@dataclass(frozen=True)
class _Origin:
    """One base URL: where its requests go and the head lines they carry."""

    scheme: bytes
    host: str
    port: int
    headers: dict[bytes | str, bytes]  # in the order they go out (a mapping: httpcore checks it in one test)
    host_bytes: bytes


def _origin(url: str, headers: Mapping[str, str]) -> _Origin:
    parts = urlsplit(url)
    https = parts.scheme.lower() == "https"
    default = 443 if https else 80
    try:
        host = wire_host(parts.hostname or "")
        port = parts.port
    except (ValueError, UnicodeError) as exc:
        raise InvalidHost(str(exc) or type(exc).__name__) from None
    port = default if port is None else port
    shown = f"[{host}]" if ":" in host else host
    authority = shown if port == default else f"{shown}:{port}"
    lines: dict[bytes | str, bytes] = {b"Host": authority.encode("ascii"),
                                       **{name.encode("ascii"): value.encode("ascii")
                                          for name, value in headers.items()}}
    return _Origin(b"https" if https else b"http", host, port, lines, host.encode("ascii"))


class Engine:
    """The client's HTTP: requests to the base URLs ``urls`` (the primary and the backup) with the
    headers ``headers`` (Host and Content-Length are added), ``tls`` for https, through ``proxy``
    when one applies, or through an injected httpx ``transport``; at most ``connections`` at once
    (the caller's in-flight slots)."""

    def __init__(self, urls: Sequence[str], headers: Mapping[str, str], *, tls: ssl.SSLContext | None,
                 proxy: Proxy | None, connections: int, transport: httpx.BaseTransport | None = None) -> None:
        self.proxy = proxy
        self.transport = transport
        self._backend = DeadlineBackend(httpcore.SyncBackend())
        self._pools: list[httpcore.ConnectionPool | httpcore.HTTPProxy] = []
        self._lanes: list[_Lane] = []  # direct: each its own connections
        # The free lanes, one per connection a pool may have: the last freed is taken first, so a few
        # calls at a time keep reusing a few warm connections (list append and pop are atomic).
        self._idle: list[_Lane | _HttpxLane] = []
        if transport is not None:
            self._idle = [_HttpxLane(transport, tuple(urls), headers)] * connections
            return
        origins: list[_Origin | InvalidHost] = []
        for url in urls:
            try:
                origins.append(_origin(url, headers))
            except InvalidHost as exc:
                origins.append(exc)
        if proxy is None:  # a connection per lane
            self._lanes = [_Lane(None, origins, False, tls, self._backend) for _ in range(connections)]
            self._idle = list(self._lanes)
            return
        sizes = shard_sizes(connections)
        lanes = [_Lane(self._pool(size, tls, proxy), origins, True) for size in sizes]
        for round_ in range(max(sizes)):  # interleaved: many calls in flight spread over the pools
            for lane, size in zip(reversed(lanes), reversed(sizes), strict=True):
                if round_ < size:
                    self._idle.append(lane)

    def _pool(self, size: int, tls: ssl.SSLContext | None,
              proxy: Proxy | None) -> httpcore.ConnectionPool | httpcore.HTTPProxy:
        options: dict[str, Any] = {
            "ssl_context": tls, "max_connections": size, "max_keepalive_connections": size,
            "keepalive_expiry": KEEPALIVE_SECONDS, "http1": True, "http2": False, "retries": 0,
            "network_backend": self._backend}
        pool: httpcore.ConnectionPool | httpcore.HTTPProxy
        if proxy is None:
            pool = httpcore.ConnectionPool(**options)
        else:
            parts = urlsplit(proxy.url)
            auth = None
            if parts.username is not None:
                auth = (unquote(parts.username), unquote(parts.password or ""))
            bare = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
            proxy_tls = tls if parts.scheme.lower() == "https" else None
            pool = httpcore.HTTPProxy(proxy_url=bare, proxy_auth=auth, proxy_ssl_context=proxy_tls, **options)
        self._pools.append(pool)
        return pool

    def post(self, base: int, target: str, content: bytes, until: float,
             read: Callable[[int, Body], _T]) -> _T:
        """POST ``content`` to ``target`` (path and query) on base URL number ``base``, all of it
        before ``until`` (``time.monotonic()``); hands the status and a body reader to ``read`` and
        returns what it returns, or raises a :class:`TransportError` when no answer came. The caller
        has at most ``connections`` calls in flight."""
        lane = self._idle.pop()
        try:
            return lane.post(base, target, content, until, read)
        finally:
            self._idle.append(lane)

    def abort(self) -> None:
        """Shut every connection down: calls blocked on one fail now; nothing connects after this."""
        self._backend.abort()
        if self.transport is not None and hasattr(self.transport, "abort"):
            self.transport.abort()

    def close(self) -> None:
        """Close every connection (when no call is in flight)."""
        for pool in self._pools:
            pool.close()
        for lane in self._lanes:
            lane.close()
        if self.transport is not None:
            self.transport.close()


def shard_sizes(connections: int) -> list[int]:
    """Connections of each pool: ``connections`` spread as evenly as possible over pools of at most
    :data:`SHARD_CONNECTIONS`."""
    count = -(-connections // SHARD_CONNECTIONS)
    return [connections // count + (1 if i < connections % count else 0) for i in range(count)]


class _Lane:
    """Requests through one httpcore pool (through a proxy), or one keep-alive connection per base
    URL (direct: :class:`httpcore.HTTPConnection`, no pool's locks and scans per request)."""

    def __init__(self, pool: httpcore.ConnectionPool | httpcore.HTTPProxy | None,
                 origins: Sequence[_Origin | InvalidHost], proxied: bool,
                 tls: ssl.SSLContext | None = None, backend: DeadlineBackend | None = None) -> None:
        self._pool = pool
        self._origins = origins
        self._proxied = proxied
        self._tls = tls
        self._backend = backend
        self._connections: list[httpcore.HTTPConnection | None] = [None] * len(origins)

    def _connection(self, base: int, origin: _Origin) -> httpcore.HTTPConnection:
        """Base URL number ``base``'s connection: the kept-alive one unless it expired (idle too
        long, closed by the server, or holding bytes no call asked for), else a new one."""
        connection = self._connections[base]
        if connection is not None and connection.has_expired():
            connection.close()
            connection = None
        if connection is None:
            connection = self._connections[base] = httpcore.HTTPConnection(
                httpcore.Origin(origin.scheme, origin.host_bytes, origin.port),
                ssl_context=self._tls, keepalive_expiry=KEEPALIVE_SECONDS, http1=True, http2=False,
                retries=0, network_backend=self._backend)
        return connection

    def _done(self, base: int) -> None:
        """After an exchange: a connection not ready for another request is closed and let go."""
        connection = self._connections[base]
        if connection is not None and not connection.is_idle():
            connection.close()
            self._connections[base] = None

    def close(self) -> None:
        for connection in self._connections:
            if connection is not None:
                connection.close()

    def post(self, base: int, target: str, content: bytes, until: float,
             read: Callable[[int, Body], _T]) -> _T:
        """:meth:`Engine.post` through this pool."""
        origin = self._origins[base]
        if isinstance(origin, InvalidHost):
            raise origin
        try:
            path = target.encode("ascii")
        except UnicodeError:
            raise Broken("the request target is not ASCII") from None
        extensions: dict[str, Any] = {"timeout": TIMEOUTS}
        tunnel: list[int] = []
        if self._proxied:
            extensions["trace"] = lambda name, info: _tunnel_status(name, info, tunnel)
        url = httpcore.URL(scheme=origin.scheme, host=origin.host_bytes, port=origin.port, target=path)
        request = httpcore.Request(b"POST", url, content=content, extensions=extensions,
                                   headers={**origin.headers, b"Content-Length": b"%d" % len(content)})
        previous = getattr(_local, "until", None)
        _local.until = until
        _local.answered = None
        try:
            if self._pool is not None:
                response = self._pool.handle_request(request)
            else:
                response = self._connection(base, origin).handle_request(request)
            try:
                encoding, length = _framing(response.headers)
                body = cast("Iterable[bytes]", response.stream)  # a sync pool's: what iter_stream() yields
                result = read(response.status, lambda limit: decode_body(body, encoding, limit))
                stream = response.extensions.get("network_stream")
                if isinstance(stream, DeadlineStream):
                    stream.answered(length)
                return result
            finally:
                response.close()
        except httpcore.ProxyError as exc:
            raise _proxy_refused(exc, tunnel, origin) from None
        except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
            raise _connect_failed(exc, origin, self._proxied and not tunnel) from None
        except httpcore.TimeoutException as exc:
            raise TimedOut(_text(exc)) from None
        except (httpcore.NetworkError, httpcore.ProtocolError) as exc:
            raise Broken(_text(exc)) from None
        finally:
            _local.until = previous
            if self._pool is None:
                self._done(base)


def _framing(headers: Sequence[tuple[bytes, bytes]]) -> tuple[str, int | None]:
    """An answer's Content-Encoding, and its body's length on the wire when Content-Length gives it
    (None for a chunked body, or one that ends with the connection)."""
    encoding = ""
    length: int | None = None
    chunked = False
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-length" and value.isdigit():
            length = int(value)
        elif lowered == b"content-encoding":
            encoding = value.decode("latin-1")
        elif lowered == b"transfer-encoding":
            chunked = True
    return encoding, None if chunked else length


def _tunnel_status(name: str, info: Mapping[str, Any], seen: list[int]) -> None:
    """A trace hook (httpcore's public ``trace`` extension): the status of each answer's head. Until
    the tunnel is open, the only answer is the proxy's to CONNECT."""
    if name == "http11.receive_response_headers.complete":
        seen.append(info["return_value"][1])


def _proxy_refused(exc: Exception, tunnel: list[int], origin: _Origin) -> ProxyFailed:
    status = tunnel[-1] if tunnel else None
    where = f"{origin.host}:{origin.port}"
    if status == 407:
        return ProxyFailed(f"the proxy asks for credentials (HTTP 407) to open a tunnel to {where}", 407)
    shown = f"HTTP {status}" if status is not None else _text(exc)
    return ProxyFailed(f"the proxy refused a tunnel to {where} ({shown})", status)


def _connect_failed(exc: Exception, origin: _Origin, to_proxy: bool) -> TransportError:
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, ssl.SSLCertVerificationError):
        code = getattr(cause, "verify_code", None)
        message = str(getattr(cause, "verify_message", "") or "")
        return CertificateFailed(origin.host, code if isinstance(code, int) else None,
                                 certificate_reason(code, message))
    if to_proxy:
        return ProxyFailed(f"the proxy cannot be reached ({_text(exc)})")
    return ConnectFailed(_text(exc))


def _text(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


class _HttpxLane:
    """Requests through an injected ``httpx`` transport (the tests' in-process emulator), with
    :class:`_Lane`'s interface and errors."""

    def __init__(self, transport: httpx.BaseTransport, urls: tuple[str, ...],
                 headers: Mapping[str, str]) -> None:
        self.transport = transport
        self._urls = urls
        self._headers = dict(headers)

    def post(self, base: int, target: str, content: bytes, until: float,
             read: Callable[[int, Body], _T]) -> _T:
        import httpx

        url = self._urls[base] + target
        previous = getattr(_local, "until", None)
        _local.until = until
        _local.answered = None  # the transport's own streams are not seen here
        try:
            request = httpx.Request("POST", url, headers=self._headers, content=content,
                                    extensions={"timeout": TIMEOUTS})
            response = self.transport.handle_request(request)
            response.request = request
            try:
                return read(response.status_code, lambda limit: _httpx_body(response, limit))
            finally:
                response.close()
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ConnectFailed(_text(exc)) from None
        except httpx.TimeoutException as exc:
            raise TimedOut(_text(exc)) from None
        except (httpx.InvalidURL, UnicodeError) as exc:  # e.g. a host that is not valid IDNA
            raise InvalidHost(_text(exc)) from None
        except httpx.TransportError as exc:
            raise Broken(_text(exc)) from None
        finally:
            _local.until = previous


def _httpx_body(response: httpx.Response, limit: int) -> bytes:
    if response.is_stream_consumed:  # a transport in this process read it already
        if len(response.content) > limit:
            raise AnswerTooLarge
        return response.content
    return decode_body(response.iter_raw(), response.headers.get("Content-Encoding", ""), limit)
