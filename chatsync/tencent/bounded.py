"""Bounded calls: the limits of one call, and the reading of an answer's body under a cap.

:class:`Bounds` holds the limits: seconds per attempt, seconds per call including retries (counted
from the first send, so queueing for a rate limit does not count), and bytes per answer. Both
engines (:mod:`.wire` for direct connections, :mod:`.httpx_engine` otherwise) end each attempt at
its deadline as a whole (connect, TLS, request, headers and body: every socket operation gets at
most the time left), so a server that drips a byte every few seconds, never ends a chunked body or
stalls its headers cannot keep a call alive. Both read bodies through :func:`decode_body`, which
decodes ``gzip``/``deflate`` itself and stops as soon as the decoded (or the encoded) size passes
the cap, so a gzip bomb never inflates in memory.
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
    encoding other than identity, gzip or deflate, and ``zlib.error`` for a corrupt or cut body."""
    decoder = _decoder(encoding)
    out = bytearray()
    received = 0
    for chunk in chunks:
        received += len(chunk)
        if received > limit:
            raise AnswerTooLarge
        if decoder is None:
            out += chunk
            continue
        data = chunk
        while data:
            out += decoder.decompress(data, limit + 1 - len(out))
            if len(out) > limit:
                raise AnswerTooLarge
            data = decoder.unconsumed_tail
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
