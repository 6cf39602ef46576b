"""Bounded calls: the limits of one call, and the reading of an answer's body under a cap.

:class:`Bounds` holds the limits: seconds per attempt, seconds per call including retries (counted
from the first send, so queueing for a rate limit does not count), and bytes per answer. The engine
(:mod:`.transport`) ends each attempt at its deadline as a whole (connect, TLS, request, headers and
body: every socket operation gets at most the time left), so a server that drips a byte every few
seconds, never ends a chunked body or stalls its headers cannot keep a call alive. It reads bodies
through :func:`decode_body`, which decodes ``gzip``/``deflate`` itself and stops as soon as the
decoded (or the encoded) size passes the cap, so a gzip bomb never inflates in memory.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

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


def decode_body(chunks: Iterable[bytes], encoding: str, limit: int) -> bytes:
    """The body whose raw (encoded) pieces ``chunks`` yields, decoded by its ``Content-Encoding``
    value ``encoding``; raises :class:`AnswerTooLarge` as soon as the encoded or the decoded size
    passes ``limit`` bytes (before reading or inflating more), :class:`UnreadableEncoding` for an
    encoding other than identity, gzip or deflate, and ``zlib.error`` for a corrupt or cut body.

    ``gzip`` may hold several members one after another (RFC 1952 §2.2: all are read); ``deflate``
    is zlib-wrapped as RFC 9110 says, or raw deflate as some servers send it (told apart by the first
    bytes, as browsers and httpx do)."""
    name = encoding.strip().lower()
    if name in ("", "identity"):
        out = bytearray()
        for chunk in chunks:
            out += chunk
            if len(out) > limit:
                raise AnswerTooLarge
        return bytes(out)
    if name not in ("gzip", "x-gzip", "deflate"):
        raise UnreadableEncoding(encoding)
    return _Inflater(name != "deflate", limit).run(chunks)


class _Inflater:
    """Inflates a gzip (every member) or deflate (zlib or raw) body under a cap."""

    def __init__(self, gzip: bool, limit: int) -> None:
        self.gzip = gzip
        self.limit = limit
        self.out = bytearray()
        self.decoder: Any = None
        self.head = b""  # deflate: the first bytes, until zlib or raw can be told apart

    def run(self, chunks: Iterable[bytes]) -> bytes:
        received = 0
        for chunk in chunks:
            received += len(chunk)
            if received > self.limit:
                raise AnswerTooLarge
            self.feed(chunk)
        if self.decoder is None and self.head:
            self._start(self.head)
            self.head = b""
            self.feed(b"")
        if self.decoder is None or not self.decoder.eof:
            raise zlib.error("the compressed body ends early")
        return bytes(self.out)

    def _start(self, first: bytes) -> None:
        if self.gzip:
            self.decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        else:  # a zlib header is two bytes whose big-endian value is a multiple of 31, method 8
            wrapped = len(first) >= 2 and first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0
            self.decoder = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)

    def feed(self, data: bytes) -> None:
        if self.decoder is None:
            if not self.gzip and len(self.head) + len(data) < 2:
                self.head += data
                return
            data, self.head = self.head + data, b""
            self._start(data)
        while data:
            if self.decoder.eof:  # another gzip member follows (deflate: bytes after the end)
                if not self.gzip:
                    raise zlib.error("bytes after the end of the compressed body")
                self.decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self.out += self.decoder.decompress(data, self.limit + 1 - len(self.out))
            if len(self.out) > self.limit:
                raise AnswerTooLarge
            data = self.decoder.unconsumed_tail or self.decoder.unused_data
        if self.decoder.eof:
            self.out += self.decoder.flush()
            if len(self.out) > self.limit:
                raise AnswerTooLarge
