"""The rules JSON Schema cannot express, checked on one file's data (see design.md §1).

Byte lengths (UTF-8, not characters), printable ids, id prefixes, endpoints (``http://`` only for
loopback hosts), secrets written into the file. Checks across files (one ``app``, ids declared
once, at most 20 bots) live in :mod:`chatsync.config.loader`. Every check here tolerates data of
the wrong shape: the schema reports that, these rules just skip it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx

from chatsync.config import hints
from chatsync.config.errors import Problem
from chatsync.config.yaml_loader import YList, YMap, location
from chatsync.model import PROFILE_FIELDS
from chatsync.net import is_loopback
from chatsync.redact import redact_url
from chatsync.tencent import limits

ENDPOINT_EXAMPLE = "e.g. https://adminapisgp.im.qcloud.com or http://127.0.0.1:8080"
_EXAMPLE = ENDPOINT_EXAMPLE


def endpoint_problem(url: str) -> str | None:
    """Why ``url`` cannot be an API base URL, or None. ``http://`` is for loopback hosts only."""
    shown = hints.quote(redact_url(url))
    if url != url.strip():
        return f"endpoint {shown} has spaces at the start or end; remove them ({_EXAMPLE})"
    bad = next((ch for ch in url if ch == "\\" or ch.isspace() or not ch.isprintable()), None)
    if bad is not None:
        return (
            f"endpoint {shown} contains {hints.quote(bad)}; a base URL has no spaces, control "
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
        httpx.URL(f"https://{host}/")  # the check every request makes
    except (UnicodeError, ValueError, httpx.InvalidURL):
        return False
    return True


def user_id_message(where: str, user_id: str) -> str | None:
    """Why ``user_id`` (the admin, a protected id) is not a UserID, or None."""
    problem = limits.user_id_problem(user_id)
    if problem is None:
        return None
    return f"{where} {hints.quote(user_id)} {problem}; fix it"


def check_file(file: str, root: YMap) -> list[Problem]:
    """Every semantic problem in one file's data."""
    problems = list(_secrets(file, root, top=True))
    app = root.get("app")
    if isinstance(app, YMap):
        problems.extend(_app(file, app))
    for section in ("bots", "accounts"):
        entries = root.get(section)
        if isinstance(entries, YMap):
            problems.extend(_principals(file, section, entries))
    return problems


def _app(file: str, app: YMap) -> Iterator[Problem]:
    def at(key: str) -> Any:
        return location(file, app.meta[key].value_mark)

    env = app.get("secret_key_env")
    if isinstance(env, str):
        message = hints.secret_key_env_problem(env)
        if message:
            yield Problem(at("secret_key_env"), message)
    endpoint = app.get("endpoint")
    if isinstance(endpoint, str):
        message = endpoint_problem(endpoint)
        if message:
            yield Problem(at("endpoint"), message)
    admin = app.get("admin")
    if isinstance(admin, str):
        message = user_id_message("app.admin", admin)
        if message:
            yield Problem(at("admin"), message)
    protected = app.get("protected")
    if isinstance(protected, YList):
        for index, user_id in enumerate(protected):
            if isinstance(user_id, str):
                message = user_id_message(f"app.protected[{index + 1}]", user_id)
                if message:
                    yield Problem(location(file, protected.meta[index].value_mark), message)


def _principals(file: str, section: str, entries: YMap) -> Iterator[Problem]:
    kind = "bot" if section == "bots" else "account"
    for user_id, body in entries.items():
        entry = entries.meta[user_id]
        message = hints.id_problem(section, user_id)
        if message:
            yield Problem(location(file, entry.key_mark), message)
        if not isinstance(body, YMap):
            continue
        where = f"{kind} {hints.quote(user_id)}"
        for name in PROFILE_FIELDS:
            value = body.get(name)
            if isinstance(value, str):
                message = hints.value_problem(f"{where} {name}", value)
                if message:
                    yield Problem(location(file, body.meta[name].value_mark), message)
        if body.get("state") == "absent":
            managed = [name for name in body if name in PROFILE_FIELDS]
            if managed:
                yield Problem(
                    location(file, body.meta[managed[0]].key_mark),
                    f"{where} is state: absent, so its fields are ignored; remove {', '.join(managed)}",
                )
        yield from _secrets(file, body, top=False)


def _secrets(file: str, node: Any, top: bool, extension: bool = False) -> Iterator[Problem]:
    """Keys that would hold a secret, anywhere except where keys are ids.

    Under a top-level ``x-`` section (free-form: anchors for merge keys) a value that looks like a
    key (32+ hex digits) is reported too. The value itself is never shown.
    """
    if isinstance(node, YMap):
        for key, value in node.items():
            inside = extension or (top and key.startswith("x-"))
            if hints.is_secret_name(key):
                yield Problem(location(file, node.meta[key].key_mark), hints.SECRET_FIELD)
            elif inside and isinstance(value, str) and hints.looks_like_key_value(value):
                yield Problem(location(file, node.meta[key].value_mark), hints.SECRET_VALUE)
            if top and key in ("bots", "accounts"):
                continue  # keys below are ids; their bodies are checked with the principals
            yield from _secrets(file, value, False, inside)
    elif isinstance(node, YList):
        for index, value in enumerate(node):
            if extension and isinstance(value, str) and hints.looks_like_key_value(value):
                yield Problem(location(file, node.meta[index].value_mark), hints.SECRET_VALUE)
            yield from _secrets(file, value, False, extension)
