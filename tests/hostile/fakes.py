"""Fake servers on loopback that answer as a hostile network would.

:class:`FakeServer` is a real TCP server on 127.0.0.1 (a thread per connection) that reads each
HTTP request and hands it to a *behaviour*: a function of (endpoint name, JSON body) that returns
either a JSON-able answer (sent as HTTP 200 with a correct Content-Length), raw bytes (sent as the
whole response, verbatim), or a callable that gets the socket and does as it likes (drip a byte
every few seconds, never end a chunked body, stall its headers). It records every request, so a
test can tell what reached it (a write after a protocol error, the UserSig through a proxy).
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chatsync.facts.endpoints import BY_PATH

Behaviour = Callable[[str, Any], Any]


def ok(**fields: Any) -> dict[str, Any]:
    """A successful envelope with ``fields``."""
    return {"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "", **fields}


def fail(code: int, info: str = "", **fields: Any) -> dict[str, Any]:
    """A failed envelope."""
    return {"ActionStatus": "FAIL", "ErrorCode": code, "ErrorInfo": info, **fields}


def http(body: bytes, *, status: str = "200 OK", headers: dict[str, str] | None = None) -> bytes:
    """A whole HTTP/1.1 response with ``body`` and a Content-Length (unless headers give one)."""
    head = {"Content-Type": "application/json", "Content-Length": str(len(body)), **(headers or {})}
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in head.items() if v is not None), "", ""]
    return "\r\n".join(lines).encode() + body


def loopback_server(serve: Callable[[socket.socket], None]) -> socketserver.ThreadingTCPServer:
    """A threaded TCP server on a free loopback port handing each connection to ``serve``."""

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            serve(self.request)

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    return Server(("127.0.0.1", 0), Handler)


@dataclass
class Seen:
    """One request the fake server got."""

    endpoint: str
    target: str
    body: Any
    raw_head: bytes
    connection: int = 0  # which connection carried it (numbered from 1, in the order accepted)


@dataclass
class FakeServer:
    """A loopback HTTP server driven by ``behaviour``; use as a context manager."""

    behaviour: Behaviour
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._server = loopback_server(self._serve)
        host, port = self._server.socket.getsockname()[:2]
        self._url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.stopping = threading.Event()
        self.connections = 0

    @property
    def url(self) -> str:
        return self._url

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def endpoints(self) -> list[str]:
        with self.lock:
            return [s.endpoint for s in self.seen]

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(30)
        with self.lock:
            self.connections += 1
            connection = self.connections
        buffer = b""
        try:
            while not self.stopping.is_set():
                while b"\r\n\r\n" not in buffer:
                    data = sock.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    field_name, _, value = line.partition(b":")
                    if field_name.strip().lower() == b"content-length":
                        length = int(value.strip())
                while len(buffer) < length:
                    data = sock.recv(65536)
                    if not data:
                        return
                    buffer += data
                body, buffer = buffer[:length], buffer[length:]
                target = head.split(b"\r\n")[0].split(b" ")[1].decode("latin-1")
                endpoint = BY_PATH.get(urlsplit(target).path)
                name = endpoint.name if endpoint else target
                try:
                    payload = json.loads(body) if body else None
                except ValueError:
                    payload = None
                with self.lock:
                    self.seen.append(Seen(name, target, payload, head, connection))
                answer = self.behaviour(name, payload)
                if callable(answer):
                    answer(sock, self.stopping)
                    return
                if not isinstance(answer, bytes):
                    answer = http(json.dumps(answer).encode())
                sock.sendall(answer)
        except OSError:
            return


def read_head(sock: socket.socket) -> bytes | None:
    """What ``sock`` sends up to and including the end of a request's head (None if it hangs up)."""
    head = b""
    while b"\r\n\r\n" not in head:
        data = sock.recv(65536)
        if not data:
            return None
        head += data
    return head


def drip(payload: bytes, every: float) -> Callable[[socket.socket, threading.Event], None]:
    """Send ``payload`` one byte at a time, ``every`` seconds apart (each read is short)."""

    def send(sock: socket.socket, stopping: threading.Event) -> None:
        for byte in payload:
            if stopping.wait(every):
                return
            sock.sendall(bytes([byte]))

    return send


def endless_chunks() -> Callable[[socket.socket, threading.Event], None]:
    """A chunked answer whose body never ends: a small chunk every 50 ms, forever."""

    def send(sock: socket.socket, stopping: threading.Event) -> None:
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        sock.sendall(b"1\r\n{\r\n")
        while not stopping.wait(0.05):
            sock.sendall(b"1\r\n \r\n")

    return send


def silent() -> Callable[[socket.socket, threading.Event], None]:
    """Accept the request and never answer (headers never come)."""

    def send(sock: socket.socket, stopping: threading.Event) -> None:
        stopping.wait(60)

    return send


class TlsFakeServer(FakeServer):
    """A :class:`FakeServer` speaking TLS with ``context`` (a server-side SSLContext)."""

    def __init__(self, behaviour: Behaviour, context: Any) -> None:
        super().__init__(behaviour)
        self.context = context

    @property
    def url(self) -> str:
        return super().url.replace("http://", "https://")

    def _serve(self, sock: socket.socket) -> None:
        try:
            wrapped = self.context.wrap_socket(sock, server_side=True)
        except OSError:
            return
        super()._serve(wrapped)


class ConnectProxy:
    """A loopback HTTP proxy: tunnels CONNECT, records every byte it saw from the client, and
    answers any other (plain-http, proxied) request itself with a forged success, as an attacker
    would. ``refuse`` makes it answer every CONNECT with that status line; ``credentials``
    (``user:password``) makes it ask for them (407) unless the CONNECT carries them."""

    def __init__(self, refuse: str | None = None, credentials: str | None = None) -> None:
        self.refuse = refuse
        self.credentials = credentials
        self.heads: list[bytes] = []
        self.seen = bytearray()
        self.lock = threading.Lock()
        self._server = loopback_server(self._serve)
        host, port = self._server.socket.getsockname()[:2]
        self._url = f"http://{host}:{port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return self._url

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(10)
        head = read_head(sock)
        if head is None:
            return
        with self.lock:
            self.heads.append(head)
            self.seen += head
        first = head.split(b"\r\n")[0].split(b" ")
        if first[0] != b"CONNECT":
            sock.sendall(http(json.dumps(ok(Robot_Account=["@RBT#forged"])).encode()))
            return
        if self.refuse is not None:
            sock.sendall(f"HTTP/1.1 {self.refuse}\r\nContent-Length: 0\r\n\r\n".encode())
            return
        if self.credentials is not None:
            import base64

            expected = b"proxy-authorization: basic " + base64.b64encode(self.credentials.encode())
            if expected.lower() not in head.lower():
                sock.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                             b"Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
                return
        host, _, port = first[1].decode().rpartition(":")
        upstream = socket.create_connection((host, int(port)), timeout=10)
        sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

        def pump(source: socket.socket, sink: socket.socket, record: bool) -> None:
            try:
                while data := source.recv(65536):
                    if record:
                        with self.lock:
                            self.seen += data
                    sink.sendall(data)
            except OSError:
                pass
            finally:
                for s in (source, sink):
                    with contextlib.suppress(OSError):
                        s.shutdown(socket.SHUT_RDWR)

        back = threading.Thread(target=pump, args=(upstream, sock, False), daemon=True)
        back.start()
        pump(sock, upstream, True)
        back.join(10)


class Pki:
    """A throw-away certificate authority in ``folder`` (made with the openssl command), and
    certificates it signs for 127.0.0.1: good, expired, or for another name."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.ca, self._ca_key = self.folder / "ca.pem", self.folder / "ca.key"
        self._run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                  "-subj", "/CN=chatsync test CA", "-keyout", str(self._ca_key), "-out", str(self.ca))

    def _run(self, *args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    def server_context(self, name: str = "good", *, days: int = 1, san: str = "IP:127.0.0.1") -> Any:
        """A server-side SSLContext with a certificate the CA signed (``days`` < 0: expired)."""
        import ssl

        key, request, cert = (self.folder / f"{name}.{ext}" for ext in ("key", "csr", "pem"))
        extensions = self.folder / f"{name}.ext"
        if not cert.exists():  # made once per name
            self._make(key, request, cert, extensions, days, san)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        return context

    def _make(self, key: Path, request: Path, cert: Path, extensions: Path, days: int, san: str) -> None:
        extensions.write_text(f"subjectAltName={san}\n", encoding="ascii")
        self._run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=chatsync test server",
                  "-keyout", str(key), "-out", str(request))
        self._run("x509", "-req", "-in", str(request), "-CA", str(self.ca), "-CAkey", str(self._ca_key),
                  "-CAcreateserial", "-days", str(days), "-extfile", str(extensions), "-out", str(cert))

    def hashed_store(self) -> Path:
        """A directory holding the CA the way a system store does (``openssl rehash``: <hash>.0)."""
        import shutil

        store = self.folder / "store"
        store.mkdir(exist_ok=True)
        shutil.copy(self.ca, store / "chatsync-test-ca.pem")
        self._run("rehash", str(store))
        return store
