"""Network rules shared by the config, the client and the emulator: which hosts are loopback, and
what an API base URL may look like (docs/tencent-api.md §1.2). Nothing here reads config files, so
the client (:mod:`chatsync.tencent.target`) uses these rules without loading the YAML machinery.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from chatsync.text.redact import redact_url
from chatsync.text.safe import json_quoted


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


ENDPOINT_EXAMPLE = "e.g. https://adminapisgp.im.qcloud.com or http://127.0.0.1:8080"
_EXAMPLE = ENDPOINT_EXAMPLE


def endpoint_problem(url: str) -> str | None:
    """Why ``url`` cannot be an API base URL, or None. ``http://`` is for loopback hosts only."""
    shown = json_quoted(redact_url(url))
    if url != url.strip():
        return f"endpoint {shown} has spaces at the start or end; remove them ({_EXAMPLE})"
    bad = next((ch for ch in url if ch == "\\" or ch.isspace() or not ch.isprintable()), None)
    if bad is not None:
        return (
            f"endpoint {shown} contains {json_quoted(bad)}; a base URL has no spaces, control "
            f"characters or backslashes: remove it ({_EXAMPLE})"
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port  # raises ValueError for a bad port
    except ValueError:
        return f"endpoint {shown} is not a valid URL; write a base URL, {_EXAMPLE}"
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not url.lower().startswith(scheme + "://"):
        return f"endpoint {shown} must start with https:// (or http:// on loopback); {_EXAMPLE}"
    if not host:
        return f"endpoint {shown} has no host; write a base URL, {_EXAMPLE}"
    if parts.username is not None or parts.password is not None:
        return f"endpoint {shown} must not contain credentials; remove the user:password@ part"
    if port == 0:
        return f"endpoint {shown} has port 0; write the port the server listens on (e.g. :8080) or none"
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        return f"endpoint {shown} must not have a query or fragment; write the base URL only"
    if parts.path not in ("", "/"):
        return f"endpoint {shown} must not have a path (chatsync adds /v4/...); write the base URL only"
    if not _encodable_host(host):
        return f"endpoint {shown} has a host that is not a valid domain name; fix it ({_EXAMPLE})"
    if scheme == "http" and not is_loopback(host):
        return (
            f"endpoint {shown} uses http:// on a host that is not loopback; use https:// "
            "(http:// is allowed only for localhost, 127.0.0.0/8 and ::1)"
        )
    return None


def _encodable_host(host: str) -> bool:
    """True when the host can go on the wire: an IP address, or a name that encodes to IDNA."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        pass
    try:
        wire_host(host)
    except (UnicodeError, ValueError):
        return False
    return True


_IPV4_STYLE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")


def wire_host(host: str) -> str:
    """``host`` (from ``urlsplit``: no brackets) as it goes on the wire, the way HTTP clients write
    it (httpx's rules): an IPv4 or IPv6 address as is, an ASCII name in lower case, any other name
    encoded to IDNA (2008, the ``idna`` package). Raises ``ValueError`` (``UnicodeError`` for a name
    IDNA refuses) when it cannot be written."""
    if not host:
        raise ValueError("no host")
    if _IPV4_STYLE.fullmatch(host):
        ipaddress.IPv4Address(host)  # raises for 999.1.1.1
        return host
    if ":" in host:
        ipaddress.IPv6Address(host)
        return host
    if host.isascii():
        return host.lower()
    import idna  # here: only a name outside ASCII needs it (idna.IDNAError is a UnicodeError)

    return str(idna.encode(host.lower()).decode("ascii"))
