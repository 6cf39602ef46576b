"""A threaded HTTP server on a free loopback port, for the fakes of forge APIs (fake_github.py).

``handle(request)`` answers each request; the server only reads and writes the bytes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]  # the first value of each name
    raw_query: str
    headers: Mapping[str, str]
    body: Any  # JSON, or None


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # JSON, or bytes as they are
    headers: Mapping[str, str] = field(default_factory=dict)


@contextmanager
def serve(handle: Callable[[Request], Answer]) -> Iterator[str]:
    """The server's base URL while the block runs; one request at a time reaches ``handle``."""
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def answer(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(self.command, parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()},
                              parts.query, dict(self.headers.items()),
                              json.loads(self.rfile.read(length)) if length else None)
            with lock:
                answer = handle(request)
            raw = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/octet-stream" if isinstance(answer.body, bytes)
                             else "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
