"""Scrub secrets from text before it reaches a log, an error message or a file.

The UserSig travels in the query string (``usersig=...``), so any URL, request line or exception
text that quotes one must pass through :func:`redact` first.
"""

from __future__ import annotations

import logging
import re

_USERSIG = re.compile(r"(usersig=)[^&\s'\"<>]*", re.IGNORECASE)


def redact(text: str, *secrets: str) -> str:
    """``text`` with every ``usersig=...`` value and each given secret replaced by ``***``."""
    text = _USERSIG.sub(r"\1***", text)
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


_AUTHORITY_END = re.compile(r"[/?#]")


def redact_userinfo(url: str) -> str:
    """``url`` with any ``user:password@`` part shown as ``***@``: messages never echo a password."""
    start = url.find("://")
    start = 0 if start < 0 else start + 3
    end = _AUTHORITY_END.search(url, start)
    at = url.rfind("@", start, end.start() if end else len(url))
    return url if at < 0 else url[:start] + "***" + url[at:]


def redact_url(url: str) -> str:
    """``url`` fit to print: credentials (``user:pass@``) and any UserSig replaced by ``***``."""
    return redact(redact_userinfo(url))
