"""How a call reaches the service: which proxy it may use, which CAs it trusts, and its transport.

A plain-http call (allowed for loopback only) never goes through a proxy: ``HTTP_PROXY`` or
``ALL_PROXY`` would get the UserSig in clear and could answer in the service's place. An https call
honours ``HTTPS_PROXY`` (then ``ALL_PROXY``) and ``NO_PROXY``: the proxy sees only a CONNECT, and the
UserSig stays inside TLS. ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` name the CAs to trust instead of the
bundled ones. A proxy variable or CA file that cannot be used is one clear line
(:class:`NetworkSetupError`). A call through a proxy goes through httpx (:func:`http_transport`,
:mod:`.httpx_engine`); a direct one through :mod:`.wire`, which never imports httpx.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from chatsync.errors import ChatsyncError
from chatsync.redact import redact_url
from chatsync.safe_text import visible
from chatsync.tencent.target import Target

if TYPE_CHECKING:
    import httpx

    from chatsync.tencent.httpx_engine import BoundedTransport

#: Checked in this order for an https endpoint (the lower-case names too, as curl does).
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")
NO_PROXY_VARIABLES = ("NO_PROXY", "no_proxy")


class NetworkSetupError(ChatsyncError):
    """A proxy variable or a CA setting that cannot be used."""


def proxy_for(target: Target, environ: Mapping[str, str]) -> httpx.Proxy | None:
    """The proxy for ``target`` from ``environ``: None for plain http, or when none applies."""
    parts = urlsplit(target.url)
    if parts.scheme != "https":
        return None  # loopback plain http: never through a proxy
    if _bypassed(parts.hostname or "", environ):
        return None
    for name in PROXY_VARIABLES:
        value = environ.get(name, "").strip()
        if value:
            return _proxy(name, value)
    return None


def _proxy(name: str, value: str) -> httpx.Proxy:
    import httpx  # here: only a call through a proxy needs httpx

    shown = visible(redact_url(value))
    url = value if "://" in value else f"http://{value}"  # host:port, as curl reads it
    try:
        parts = urlsplit(url)
        port = parts.port
        problem = None
        if parts.scheme not in ("http", "https"):
            problem = f"the scheme {visible(parts.scheme)!r} is not supported (use http:// or https://)"
        elif not parts.hostname:
            problem = "it names no host"
        elif parts.path not in ("", "/") or parts.query or parts.fragment:
            problem = "a proxy URL has no path, query or fragment"
        if problem is None:
            if port is not None and port <= 0:
                raise ValueError(f"port {port} is not a port")
            return httpx.Proxy(url)
    except (ValueError, TypeError, httpx.InvalidURL) as exc:
        problem = visible(str(exc)) or "it is not a URL"
    raise NetworkSetupError(f"{name} is not a usable proxy ({shown}): {problem}; set it to "
                            f"http://host:port, or unset it")


def _bypassed(host: str, environ: Mapping[str, str]) -> bool:
    for name in NO_PROXY_VARIABLES:
        for entry in environ.get(name, "").split(","):
            entry = entry.strip().lower().lstrip(".")
            if entry == "*" or (entry and (host == entry or host.endswith("." + entry))):
                return True
    return False


def verification(environ: Mapping[str, str]) -> ssl.SSLContext | bool:
    """The CAs to trust: ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set, else the bundled ones (True)."""
    cafile = environ.get("SSL_CERT_FILE", "").strip() or None
    capath = environ.get("SSL_CERT_DIR", "").strip() or None
    if cafile is None and capath is None:
        return True
    try:
        return ssl.create_default_context(cafile=cafile, capath=capath)
    except (OSError, ssl.SSLError, ValueError) as exc:
        which = "SSL_CERT_FILE" if cafile else "SSL_CERT_DIR"
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or type(exc).__name__
        raise NetworkSetupError(f"{which} ({visible(cafile or capath or '')}) cannot be used: "
                                f"{visible(str(reason))}; point it at a PEM file of CA certificates, "
                                "or unset it") from None


def tls_context(environ: Mapping[str, str]) -> ssl.SSLContext:
    """The TLS context :func:`verification` asks for, made once per client so that its connections
    share it (making one loads the CA bundle: tens of milliseconds). The bundled CAs are certifi's,
    as httpx's own default context has them; hostnames are checked."""
    verify = verification(environ)
    if isinstance(verify, ssl.SSLContext):
        return verify
    import certifi  # here: plain http needs no CA bundle

    return ssl.create_default_context(cafile=certifi.where())


def http_transport(
    target: Target, environ: Mapping[str, str], parallelism: int, *, tls: ssl.SSLContext | None = None,
) -> BoundedTransport:
    """The httpx transport of a client for ``target``: its proxy (if any), its CAs (``tls``, or made
    from ``environ``), bounded operations."""
    import httpx

    from chatsync.tencent.httpx_engine import BoundedTransport

    return BoundedTransport(
        verify=verification(environ) if tls is None else tls,
        proxy=proxy_for(target, environ),
        limits=httpx.Limits(max_connections=parallelism, max_keepalive_connections=parallelism),
        trust_env=False,
    )
