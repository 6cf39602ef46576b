"""Documented limits of UserIDs, profile values, bots and batches, and the checks that apply them.

One place for the rules that both the config validator (before any call) and the emulator (when
answering) enforce, so the two can never disagree. Sources: docs/tencent-api.md §4, §5.7, §6.
"""

from __future__ import annotations

USER_ID_MAX_BYTES = 32
VALUE_MAX_BYTES = 500
MAX_BOTS = 20
BATCH_MAX = 100

BOT_PREFIX = "@RBT#"
#: Prefixes an ordinary account may not use: bots, and the server's internal forms.
RESERVED_PREFIXES = ("@RBT#", "@TLS#", "@TIM#", "@TGS#")

DEFAULT_ADMIN = "administrator"


def utf8_len(text: str) -> int:
    """Length of ``text`` in UTF-8 bytes: every limit of the API counts bytes, not characters.

    A lone UTF-16 surrogate (which JSON's ``\\ud800`` escapes can produce) has no UTF-8 form; it
    counts as 3 bytes here and :func:`encoding_problem` reports it.
    """
    return len(text.encode("utf-8", "surrogatepass"))


def encoding_problem(text: str) -> str | None:
    """Why ``text`` cannot be sent as UTF-8 (a lone surrogate), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone UTF-16 surrogate, which is not valid Unicode text"
    return None


def user_id_problem(user_id: str) -> str | None:
    """Why ``user_id`` is not a valid UserID at all, or None. Does not look at its prefix."""
    if not user_id:
        return "is empty; a UserID needs 1 to 32 bytes"
    size = utf8_len(user_id)
    if size > USER_ID_MAX_BYTES:
        return f"is {size} bytes long; a UserID may have at most {USER_ID_MAX_BYTES} bytes (UTF-8)"
    if not user_id.isprintable():
        return "contains a non-printable character (control character, tab or newline)"
    return encoding_problem(user_id)


def plain_user_ids(user_ids: list[str]) -> bool:
    """True when every one of ``user_ids`` (all strings) is 1 to 32 characters of printable ASCII,
    so valid with no further check (the common case, decided without building any message; any
    other id needs :func:`user_id_problem`)."""
    for user_id in user_ids:
        if not (0 < len(user_id) <= USER_ID_MAX_BYTES and user_id.isascii() and user_id.isprintable()):
            return False
    return True


def is_bot_id(user_id: str) -> bool:
    """True when ``user_id`` names a chatbot (it starts with ``@RBT#``)."""
    return user_id.startswith(BOT_PREFIX)


def reserved_prefix(user_id: str) -> str | None:
    """The reserved prefix ``user_id`` starts with, or None."""
    for prefix in RESERVED_PREFIXES:
        if user_id.startswith(prefix):
            return prefix
    return None


def value_problem(value: str) -> str | None:
    """Why ``value`` cannot be a profile string value (nick, avatar URL, signature), or None."""
    size = utf8_len(value)
    if size > VALUE_MAX_BYTES:
        return f"is {size} bytes long; profile values may have at most {VALUE_MAX_BYTES} bytes (UTF-8)"
    return encoding_problem(value)
