"""The httpx engine: calls through an httpx transport, bounded as a whole and mapped onto
:mod:`.wire`'s errors.

The client uses it for an injected transport (the tests' in-process ones) and for https through a
proxy (``HTTPS_PROXY``: a CONNECT tunnel, :mod:`.proxies`); direct connections use :mod:`.wire`.
httpx's timeouts bound each read, not an exchange, so here:

* :class:`DeadlineBackend` wraps httpcore's network backend so that every connect, TLS handshake,
  read and write of the current thread gets at most the time left until that thread's deadline,
  set with :func:`deadline` around one attempt (connect, headers and body together);
* :func:`read_body` reads a streamed answer through :func:`.bounded.decode_body` (the cap);
* :class:`HttpxLane` sends one request and raises :mod:`.wire`'s errors for httpx's, so both
  engines give the client the same failures with the same texts.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import httpcore
import httpx

from chatsync.tencent import wire
from chatsync.tencent.bounded import AnswerTooLarge, decode_body

_T = TypeVar("_T")

TIMEOUT = httpx.Timeout(wire.IO_SECONDS, connect=wire.CONNECT_SECONDS)
_TIMEOUTS = TIMEOUT.as_dict()

_local = threading.local()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Bound every network operation of this thread, until the block ends, to ``seconds`` in all."""
    previous = getattr(_local, "deadline", None)
    _local.deadline = time.monotonic() + seconds
    try:
        yield
    finally:
        _local.deadline = previous


def _left(timeout: float | None, expired: type[Exception]) -> float | None:
    """``timeout`` shortened to the time left before this thread's deadline (raise when none is left)."""
    until: float | None = getattr(_local, "deadline", None)
    if until is None:
        return timeout
    left = until - time.monotonic()
    if left <= 0:
        raise expired("the attempt's deadline passed")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every operation ends by the deadline of the thread using it."""

    def __init__(self, inner: httpcore.NetworkStream, backend: DeadlineBackend | None = None) -> None:
        self._inner = inner
        self._backend = backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout))
        tls = DeadlineStream(inner, self._backend)
        return self._backend._track(tls) if self._backend is not None else tls

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's backend, with :class:`DeadlineStream` streams; :meth:`abort` cuts them all."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner
        self._streams: weakref.WeakSet[DeadlineStream] = weakref.WeakSet()
        self._lock = threading.Lock()

    def _track(self, stream: DeadlineStream) -> DeadlineStream:
        with self._lock:
            self._streams.add(stream)
        return stream

    def abort(self) -> None:
        """Shut every open connection down, so calls blocked reading end now (after a stop)."""
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            sock = stream.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None, socket_options: Any = None) -> httpcore.NetworkStream:
        left = _left(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, left, local_address, socket_options)
        return self._track(DeadlineStream(stream, self))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore.NetworkStream:
        left = _left(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_unix_socket(path, left, socket_options)
        return self._track(DeadlineStream(stream, self))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class BoundedTransport(httpx.HTTPTransport):
    """httpx's transport with its connections (and its proxy's) under :class:`DeadlineBackend`."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        pool = self._pool  # httpcore.ConnectionPool or HTTPProxy: both keep their backend here
        inner = pool._network_backend
        if not isinstance(inner, httpcore.NetworkBackend):  # pragma: no cover - a changed httpcore
            raise RuntimeError("this httpcore keeps no network backend where chatsync expects it")
        self.backend = DeadlineBackend(inner)
        pool._network_backend = self.backend

    def abort(self) -> None:
        """Cut every open connection (calls in flight fail now instead of at their deadline)."""
        self.backend.abort()


def read_body(response: httpx.Response, limit: int) -> bytes:
    """The body of a streamed ``response``, decoded, raising :class:`AnswerTooLarge` as soon as it
    (or the encoded body) passes ``limit`` bytes."""
    if response.is_stream_consumed:  # a transport in this process (a test's) read it already
        if len(response.content) > limit:
            raise AnswerTooLarge
        return response.content
    return decode_body(response.iter_raw(), response.headers.get("Content-Encoding", ""), limit)


class HttpxLane:
    """Requests through one httpx transport to the client's base URLs, with :class:`.wire.Engine`'s
    interface: ``post`` hands the status and a body reader to ``read`` and returns what it returns."""

    def __init__(self, transport: httpx.BaseTransport, urls: tuple[str, ...],
                 headers: Mapping[str, str]) -> None:
        self.transport = transport
        self._urls = urls
        self._headers = dict(headers)

    def post(self, base: int, target: str, content: bytes, until: float,
             read: Callable[[int, wire.Body], _T]) -> _T:
        """POST ``content`` to ``target`` (path and query) on base URL number ``base``, all of it
        before ``until`` (``time.monotonic()``); raises a :class:`.wire.WireError` when no answer came."""
        url = self._urls[base] + target
        try:
            with deadline(until - time.monotonic()):
                request = httpx.Request("POST", url, headers=self._headers, content=content,
                                        extensions={"timeout": _TIMEOUTS})
                response = self.transport.handle_request(request)
                response.request = request
                try:
                    return read(response.status_code, lambda limit: read_body(response, limit))
                finally:
                    response.close()
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise wire.ConnectFailed(_text(exc)) from None
        except httpx.TimeoutException as exc:
            raise wire.TimedOut(_text(exc)) from None
        except (httpx.InvalidURL, UnicodeError) as exc:  # e.g. a host that is not valid IDNA
            raise wire.InvalidHost(_text(exc)) from None
        except httpx.TransportError as exc:
            raise wire.Broken(_text(exc)) from None


def _text(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
