"""UserSig (TLS sig v2): made with Tencent's ``tls-sig-api-v2`` package, verified here.

Tencent publishes no Python verifier, so :func:`verify` follows the official Go/PHP verifiers
(docs/tencent-api.md §3.2): inflate and parse the document, check sdkappid, identifier, expiry,
then recompute the HMAC over the document's own fields. Serialisation details (key order, zlib
level, ``%2A`` in the query string) therefore never matter.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import zlib
from dataclasses import dataclass
from typing import Any

DEFAULT_EXPIRE = 180 * 86400

# Outcome codes of verification, as the REST gateway reports them (§3.2 table).
OK = 0
EXPIRED = 70001
EMPTY = 70002
UNDECODABLE = 70003
WRONG_KEY = 70009
IDENTIFIER_MISMATCH = 70013
SDKAPPID_MISMATCH = 70014


def make(sdkappid: int, secret_key: str, identifier: str, expire: int = DEFAULT_EXPIRE) -> str:
    """A UserSig for ``identifier`` valid ``expire`` seconds from now, by Tencent's own signer."""
    import TLSSigAPIv2  # the PyPI package tls-sig-api-v2

    api = TLSSigAPIv2.TLSSigAPIv2(sdkappid, secret_key)
    # PyPI 1.1 names it gen_sig; the unreleased GitHub HEAD renamed it genUserSig.
    generate = getattr(api, "gen_sig", None) or api.genUserSig
    return str(generate(identifier, expire))


def content_to_sign(
    identifier: str, sdkappid: int, issued: int, expire: int, userbuf: str | None = None
) -> bytes:
    """The exact bytes the HMAC covers (§3.1 step 2)."""
    text = (
        f"TLS.identifier:{identifier}\n"
        f"TLS.sdkappid:{sdkappid}\n"
        f"TLS.time:{issued}\n"
        f"TLS.expire:{expire}\n"
    )
    if userbuf is not None:
        text += f"TLS.userbuf:{userbuf}\n"
    return text.encode("utf-8")


def signature(
    secret_key: str, identifier: str, sdkappid: int, issued: int, expire: int,
    userbuf: str | None = None,
) -> str:
    """``TLS.sig``: standard base64 of HMAC-SHA256 keyed with the secret key's UTF-8 bytes."""
    digest = hmac.new(
        secret_key.encode("utf-8"),
        content_to_sign(identifier, sdkappid, issued, expire, userbuf),
        hashlib.sha256,
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def encode(document: dict[str, Any], level: int = -1) -> str:
    """Serialise a sig document as a UserSig (zlib, base64, URL-safe replacements)."""
    raw = zlib.compress(json.dumps(document).encode("utf-8"), level)
    text = base64.b64encode(raw).decode("ascii")
    return text.replace("+", "*").replace("/", "-").replace("=", "_")


class UndecodableSig(ValueError):
    """The UserSig is not url-base64 of a zlib stream of a JSON object."""


def decode(usersig: str) -> dict[str, Any]:
    """The JSON document inside a UserSig. Raises :class:`UndecodableSig`."""
    text = usersig.replace("*", "+").replace("-", "/").replace("_", "=")
    try:
        raw = base64.b64decode(text, validate=True)
        document = json.loads(zlib.decompress(raw))
    except (binascii.Error, ValueError, zlib.error, UnicodeDecodeError) as exc:
        raise UndecodableSig(str(exc)) from None
    if not isinstance(document, dict):
        raise UndecodableSig("not a JSON object")
    return document


def _int_field(document: dict[str, Any], name: str) -> int:
    value = document.get(name)
    if isinstance(value, bool):
        raise UndecodableSig(f"{name} is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise UndecodableSig(f"{name} is missing or not an integer")


@dataclass(frozen=True)
class Verdict:
    """What a UserSig check found, before looking at the clock (so it can be cached)."""

    code: int  # OK, WRONG_KEY, or a code that no clock can change
    issued: int = 0  # TLS.time
    expires_at: int = 0  # TLS.time + TLS.expire

    def at(self, now: float) -> int:
        """The gateway's code at time ``now``: expiry is checked after the ids, before the HMAC."""
        if self.code in (OK, WRONG_KEY) and now > self.expires_at:
            return EXPIRED
        return self.code


def check(usersig: str, *, sdkappid: int, identifier: str, secret_key: str) -> Verdict:
    """Check a UserSig the way the gateway does, all but the clock (see :meth:`Verdict.at`).

    Order (as Tencent's Go verifier): decode -> sdkappid -> identifier -> expiry -> HMAC.
    """
    if not usersig:
        return Verdict(EMPTY)
    try:
        document = decode(usersig)
        sig_appid = _int_field(document, "TLS.sdkappid")
        issued = _int_field(document, "TLS.time")
        expire = _int_field(document, "TLS.expire")
        sig_identifier = document.get("TLS.identifier")
        claimed = document.get("TLS.sig")
        if not isinstance(sig_identifier, str) or not isinstance(claimed, str):
            raise UndecodableSig("TLS.identifier or TLS.sig missing")
        userbuf = document.get("TLS.userbuf")
        if userbuf is not None and not isinstance(userbuf, str):
            raise UndecodableSig("TLS.userbuf is not a string")
    except UndecodableSig:
        return Verdict(UNDECODABLE)
    if sig_appid != sdkappid:
        return Verdict(SDKAPPID_MISMATCH, issued)
    if sig_identifier != identifier:
        return Verdict(IDENTIFIER_MISMATCH, issued)
    expected = signature(secret_key, sig_identifier, sig_appid, issued, expire, userbuf)
    matches = hmac.compare_digest(expected.encode("ascii"), claimed.encode("utf-8", "replace"))
    return Verdict(OK if matches else WRONG_KEY, issued, issued + expire)


def verify(usersig: str, *, sdkappid: int, identifier: str, secret_key: str, now: float) -> int:
    """Check a UserSig at time ``now``; returns :data:`OK` or the REST error code (§3.2)."""
    return check(usersig, sdkappid=sdkappid, identifier=identifier, secret_key=secret_key).at(now)
