"""Bounded calls: a deadline for each attempt as a whole, and a cap on the size of an answer.

httpx's timeouts bound each read, not an exchange: a server that drips a byte every few seconds,
never ends a chunked body, or stalls its headers keeps a call alive forever. Here:

* :class:`DeadlineBackend` wraps httpcore's network backend so that every connect, TLS handshake,
  read and write of the current thread gets at most the time left until that thread's deadline,
  set with :func:`deadline` around one attempt (connect, headers and body together);
* :func:`read_body` reads an answer's body, decoding ``gzip``/``deflate`` itself, and stops as soon
  as the decoded size passes the cap, so a gzip bomb never inflates in memory.

:class:`Bounds` holds the limits: seconds per attempt, seconds per call including retries (counted
from the first send, so queueing for a rate limit does not count), and bytes per answer.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import weakref
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

MiB = 1024 * 1024


@dataclass(frozen=True)
class Bounds:
    """The limits of one call. The defaults suit the real service; tests pass smaller ones."""

    attempt_seconds: float = 30.0  # one attempt: connect, TLS, request, headers and body
    call_seconds: float = 120.0  # one call, its retries and their waits included
    answer_bytes: int = 4 * MiB  # the decoded body of one answer


class AnswerTooLarge(Exception):
    """The decoded answer passed the cap."""


class UnreadableEncoding(Exception):
    """The answer uses a Content-Encoding chatsync does not decode."""


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


# -- the body -----------------------------------------------------------------------------------

def read_body(response: httpx.Response, limit: int) -> bytes:
    """The body of a streamed ``response``, decoded, raising :class:`AnswerTooLarge` as soon as it
    (or the encoded body) passes ``limit`` bytes."""
    if response.is_stream_consumed:  # a transport in this process (a test's) read it already
        if len(response.content) > limit:
            raise AnswerTooLarge
        return response.content
    decoder = _decoder(response.headers.get("Content-Encoding", ""))
    out = bytearray()
    received = 0
    for chunk in response.iter_raw():
        received += len(chunk)
        if received > limit:
            raise AnswerTooLarge
        if decoder is None:
            out += chunk
        else:
            data = chunk
            while data:
                out += decoder.decompress(data, limit + 1 - len(out))
                if len(out) > limit:
                    raise AnswerTooLarge
                data = decoder.unconsumed_tail
        if len(out) > limit:
            raise AnswerTooLarge
    if decoder is not None:
        if not decoder.eof:
            raise zlib.error("the compressed body ends early")
        out += decoder.flush()
        if len(out) > limit:
            raise AnswerTooLarge
    return bytes(out)


def _decoder(encoding: str) -> Any:
    name = encoding.strip().lower()
    if name in ("", "identity"):
        return None
    if name in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if name == "deflate":
        return zlib.decompressobj(zlib.MAX_WBITS)
    raise UnreadableEncoding(encoding)
