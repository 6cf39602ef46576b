"""The emulator over real HTTP/1.1 (keep-alive, one thread per connection).

Translates sockets to :meth:`Emulator.handle` and back: reads the body whatever the method or
Content-Type (client quirks §9.2-§9.3), decodes chunked bodies, answers JSON, and for a *drop*
fault closes the connection without a word. Access logs never show the query string (it holds
the UserSig).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from chatsync.emulator.gateway import Emulator

log = logging.getLogger("chatsync.emulator")

MAX_BODY_BYTES = 16 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "chatsync-emulator"
    sys_version = ""
    server: EmulatorHTTPServer

    def do_POST(self) -> None:
        self._serve()

    do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_POST  # the gateway answers 60002

    def _serve(self) -> None:
        started = time.perf_counter()
        body = self._read_body()
        if body is None:
            return
        outcome = self.server.emulator.handle(self.command, self.path, body)
        if outcome.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            self._log(outcome.endpoint, "dropped", started)
            return
        self.send_response(outcome.status)
        content_type = "application/json" if outcome.status == 200 else "text/html"
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(outcome.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(outcome.body)
        self._log(outcome.endpoint, f"{outcome.status} code={outcome.code}", started)

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            size = int(length)
        except ValueError:
            size = -1
        if not 0 <= size <= MAX_BODY_BYTES:
            self.send_error(400, "bad Content-Length")
            return None
        return self.rfile.read(size)

    def _read_chunked(self) -> bytes | None:
        parts, total = [], 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                self.send_error(400, "bad chunked body")
                return None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            total += size
            if total > MAX_BODY_BYTES:
                self.send_error(413, "body too large")
                return None
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _log(self, endpoint: str, result: str, started: float) -> None:
        if self.server.access_log:
            elapsed = (time.perf_counter() - started) * 1000
            path = self.path.split("?", 1)[0]  # never the query: it carries the UserSig
            log.info("%s %s %s %.1fms", self.command, endpoint or path, result, elapsed)

    def log_message(self, format: str, *args: object) -> None:
        """Silence http.server's own log: it would print the URL with the UserSig."""


class EmulatorHTTPServer(ThreadingHTTPServer):
    """A threaded HTTP server bound to one :class:`Emulator`."""

    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0,
                 access_log: bool = False) -> None:
        self.emulator = emulator
        self.access_log = access_log
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.address_family = family
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` of the bound socket (the real port when 0 was asked)."""
        host, port = self.server_address[:2]
        if ":" in str(host):
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
