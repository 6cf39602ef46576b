"""Network helpers shared by the config rules, the client and the emulator."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1`` (bracketed or not): hosts that never leave
    this machine, so plain ``http://`` to them exposes no secret and binding them exposes nothing.
    """
    host = host.strip("[]")
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
