"""Scrub secrets from text before it reaches a log, an error message or a file.

The UserSig travels in the query string (``usersig=...``), so any URL, request line or exception
text that quotes one must pass through :func:`redact` first. A URL may also carry a user and a
password (``https://user:pass@host``, a proxy or an endpoint): :func:`redact_url` hides them, and
:func:`redact` does it too wherever such a URL stands in a text.
"""

from __future__ import annotations

import logging
import re

_USERSIG = re.compile(r"(usersig=)[^&\s'\"<>]*", re.IGNORECASE)
#: ``scheme://userinfo@``: the userinfo (a user, or user:password) is replaced.
_USERINFO = re.compile(r"([a-z][a-z0-9+.-]*://)[^/?#\s'\"<>]*@", re.IGNORECASE)  # to the last @


_AUTHORITY_END = re.compile(r"[/?#]")


def redact_url(url: str) -> str:
    """``url`` (with or without a scheme) with any ``user:password@`` written as ``***@`` and any
    usersig scrubbed: the one redaction of every URL chatsync prints (endpoints, proxies)."""
    start = url.find("://")
    start = 0 if start < 0 else start + 3
    end = _AUTHORITY_END.search(url, start)
    at = url.rfind("@", start, end.start() if end else len(url))
    url = url if at < 0 else url[:start] + "***" + url[at:]
    return _USERSIG.sub(r"\1***", url)


def redact(text: str, *secrets: str) -> str:
    """``text`` with every ``usersig=...`` value, every URL's ``user:password@`` and each given
    secret replaced by ``***``."""
    text = _USERINFO.sub(r"\1***@", _USERSIG.sub(r"\1***", text))
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that passes every record's text through :func:`redact` (a safety net)."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), *self.secrets)
        record.args = ()
        return True

