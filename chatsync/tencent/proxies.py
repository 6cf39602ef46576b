"""How a call reaches the service: which proxy it may use, and which CAs it trusts.

A plain-http call (allowed for loopback only) never goes through a proxy: ``HTTP_PROXY`` or
``ALL_PROXY`` would get the UserSig in clear and could answer in the service's place. An https call
follows the proxy rules users know from curl (and Python, and requests):

* the proxy is the first set of ``https_proxy``, ``HTTPS_PROXY``, ``all_proxy``, ``ALL_PROXY``
  (the lower-case name first); a value without a scheme is ``http://``; the proxy sees only a
  CONNECT, and the UserSig stays inside TLS;
* ``no_proxy`` (or, when it is not set, ``NO_PROXY``) lists, comma-separated, where no proxy is
  used: ``*`` (everywhere), a host or a domain (``example.com`` and ``.example.com`` both match the
  domain and every name under it), ``host:port`` (that port only), an IP address, or a CIDR block
  (``10.0.0.0/8``, ``fd00::/8``; matched against an endpoint written as an address).

The CAs trusted are those of ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when either is set; otherwise the
system's store (through ``truststore``: the OS verifier on macOS and Windows, OpenSSL's default
locations on Linux, where ``update-ca-certificates`` puts a corporate CA) and certifi's bundle.
A proxy variable or CA setting that cannot be used is one clear line (:class:`NetworkSetupError`).
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Mapping
from urllib.parse import urlsplit

from chatsync.errors import NetworkSetupError
from chatsync.tencent.target import Target
from chatsync.tencent.transport import Proxy
from chatsync.text.redact import redact_url
from chatsync.text.safe import visible

#: Checked in this order for an https endpoint: the lower-case name first, as curl does.
PROXY_VARIABLES = ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
NO_PROXY_VARIABLES = ("no_proxy", "NO_PROXY")


def proxy_for(target: Target, environ: Mapping[str, str]) -> Proxy | None:
    """The proxy for ``target`` from ``environ``: None for plain http, or when none applies."""
    parts = urlsplit(target.url)
    if parts.scheme != "https":
        return None  # loopback plain http: never through a proxy
    if bypassed(parts.hostname or "", parts.port or 443, environ):
        return None
    for name in PROXY_VARIABLES:
        value = environ.get(name, "").strip()
        if value:
            return _proxy(name, value)
    return None


def _proxy(name: str, value: str) -> Proxy:
    shown = visible(redact_url(value))
    url = value if "://" in value else f"http://{value}"  # host:port, as curl reads it
    try:
        parts = urlsplit(url)
        port = parts.port
        problem = None
        if parts.scheme.lower() not in ("http", "https"):
            problem = f"the scheme {visible(parts.scheme)!r} is not supported (use http:// or https://)"
        elif not parts.hostname:
            problem = "it names no host"
        elif parts.path not in ("", "/") or parts.query or parts.fragment:
            problem = "a proxy URL has no path, query or fragment"
        elif port is not None and port <= 0:
            problem = f"port {port} is not a port"
        elif not url.isascii() or any(ch.isspace() or not ch.isprintable() for ch in url):
            problem = "it holds characters a URL cannot"
        if problem is None:
            return Proxy(url, name, visible(redact_url(url)))
    except ValueError as exc:
        problem = visible(str(exc)) or "it is not a URL"
    raise NetworkSetupError(f"{name} is not a usable proxy ({shown}): {problem}; set it to "
                            f"http://host:port, or unset it")


def bypassed(host: str, port: int, environ: Mapping[str, str]) -> bool:
    """Whether ``no_proxy`` (else ``NO_PROXY``) exempts ``host`` on ``port`` from the proxy."""
    value = next((environ[name] for name in NO_PROXY_VARIABLES if name in environ), "")
    host = host.strip("[]").lower().rstrip(".")
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for raw in value.replace(" ", ",").split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        entry, wanted = _split_port(entry)
        if wanted is not None and wanted != port:
            continue
        entry = entry.strip("[]").rstrip(".")
        if "/" in entry or _is_address(entry):
            if address is not None and _in_network(address, entry):
                return True
            continue
        entry = entry.lstrip(".")
        if entry and (host == entry or host.endswith("." + entry)):
            return True
    return False


def _split_port(entry: str) -> tuple[str, int | None]:
    """``host:port`` and ``[v6]:port`` to (host, port); anything else (a bare IPv6 address) as is."""
    if entry.startswith("["):
        end = entry.find("]")
        rest = entry[end + 1:]
        if end > 0 and rest.startswith(":") and rest[1:].isdigit():
            return entry[:end + 1], int(rest[1:])
        return entry, None
    if entry.count(":") == 1:
        name, _, port = entry.partition(":")
        if port.isdigit():
            return name, int(port)
    return entry, None


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _in_network(address: ipaddress.IPv4Address | ipaddress.IPv6Address, entry: str) -> bool:
    try:
        return address in ipaddress.ip_network(entry, strict=False)
    except (ValueError, TypeError):
        return False


def tls_context(environ: Mapping[str, str]) -> ssl.SSLContext:
    """The TLS context of a client's https calls, made once per client so that its connections share
    it (making one loads the CAs: tens of milliseconds): ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when
    set, else the system's store and certifi's bundle. Hostnames are checked."""
    cafile = environ.get("SSL_CERT_FILE", "").strip() or None
    capath = environ.get("SSL_CERT_DIR", "").strip() or None
    if cafile is not None or capath is not None:
        try:
            return ssl.create_default_context(cafile=cafile, capath=capath)
        except (OSError, ssl.SSLError, ValueError) as exc:
            which = "SSL_CERT_FILE" if cafile else "SSL_CERT_DIR"
            reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or type(exc).__name__
            raise NetworkSetupError(f"{which} ({visible(cafile or capath or '')}) cannot be used: "
                                    f"{visible(str(reason))}; point it at a PEM file of CA certificates, "
                                    "or unset it") from None
    import certifi  # here: plain http needs no CA bundle
    import truststore

    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=certifi.where())
    return context
