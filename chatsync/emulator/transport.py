"""The emulator as an httpx transport: the same gateway, in process, with no socket.

``httpx.Client(transport=EmulatorTransport(emulator), base_url="http://emulator")`` talks to it
exactly as to the HTTP server, including 502 pages and dropped connections (raised as
``httpx.RemoteProtocolError``, as httpx does for a real server that hangs up).
"""

from __future__ import annotations

import httpx

from chatsync.emulator.gateway import Emulator


class EmulatorTransport(httpx.BaseTransport):
    """Serve httpx requests from an :class:`Emulator` directly."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        outcome = self.emulator.handle(
            request.method, request.url.raw_path.decode("ascii"), request.read()
        )
        if outcome.drop:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        content_type = "application/json" if outcome.status == 200 else "text/html"
        return httpx.Response(
            outcome.status,
            content=outcome.body,
            headers={"Content-Type": f"{content_type}; charset=utf-8"},
            request=request,
        )
