"""The wording of config problems: what is wrong and what to do, shared by every check.

The schema translation and the semantic rules can find the same fault (an id too long, a secret in
the file); both build their message here so the user reads one message, once.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from chatsync.domain.kinds import BY_SECTION
from chatsync.domain.kinds.base import SURROGATE_FIX
from chatsync.facts import limits
from chatsync.text.safe import cut, quote, visible

#: Parts of field names that would hold a secret (compared without case, "_", "-" and spaces).
SECRET_PARTS = re.compile("secret|password|passwd|token|usersig|privatekey|apikey")
#: Whole field names that would hold a secret (same comparison).
SECRET_NAMES = frozenset({"key", "sig"})
#: Names with a secret-ish part that name no secret themselves.
NOT_SECRET_NAMES = frozenset({"secretkeyenv"})
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HEX_RUN = re.compile(r"[0-9a-fA-F]{16,}")
_LONG_HEX = re.compile(r"[0-9a-fA-F]{32,}")


def single_quote(text: str) -> str:
    """``'text'`` as Python writes it (unprintable characters escaped), cut as :func:`quote` cuts."""
    shown, more = cut(text)
    return repr(shown) + more


def piece(text: str) -> str:
    """``text`` unquoted, unprintable characters escaped, cut as :func:`quote` cuts."""
    shown, more = cut(text)
    return visible(shown) + more


def describe(path: Sequence[Any]) -> str:
    """A human name for the value at a data path, e.g. ``account "alice" nick``."""
    if not path:
        return "the file"
    head = path[0]
    if head == "overrides" and len(path) >= 3 and path[1] in BY_SECTION:
        return f"the override of {describe(path[1:])}"
    if head in BY_SECTION and len(path) >= 2:
        kind = BY_SECTION[head].name
        name = f"{kind} {quote(str(path[1]))}"
        rest = [piece(str(p)) for p in path[2:]]
        return f"{name} {'.'.join(rest)}".rstrip()
    text = piece(str(head))
    for step in path[1:]:
        text += f"[{step + 1}]" if isinstance(step, int) else f".{piece(str(step))}"
    return text


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to a misspelt ``word``, if any is close."""
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


@lru_cache(maxsize=4096)  # the same few keys, once per account
def is_secret_name(name: str) -> bool:
    """True when a field called ``name`` would hold a secret (``tencent_secret``, ``api-key``...)."""
    normal = re.sub(r"[_\-\s]", "", name.lower())
    if normal in NOT_SECRET_NAMES:
        return False
    return normal in SECRET_NAMES or SECRET_PARTS.search(normal) is not None


def looks_like_key(text: str) -> bool:
    """True when ``text`` looks like a key or token rather than a name a person chose.

    A run of 16+ hex digits, or an ``_``-separated part of 24+ characters with a digit in it, or
    one of 32+ characters: environment variable names are words (``TENCENT_IM_KEY_PROD``).
    """
    if _HEX_RUN.search(text):
        return True
    for part in re.split(r"[_\s]+", text):
        if len(part) >= 32 or (len(part) >= 24 and any(c.isdigit() for c in part)):
            return True
    return False


def looks_like_key_value(text: str) -> bool:
    """True when a scalar value (under an ``x-`` section) looks like a key: 32+ hex digits."""
    return _LONG_HEX.search(text) is not None


HIDDEN = "(a value that looks like a secret key, not shown)"


def safe(text: str) -> str:
    """``text`` to show in a message, unless it looks like a key pasted into the wrong field."""
    return HIDDEN if looks_like_key_value(text) else text


SECRET_FIELD = (
    "do not put the secret key in the file; set secret_key_env to the NAME of an environment "
    "variable and put the key in that variable"
)
SECRET_VALUE = (
    "this value looks like a secret key (32 or more hex digits); do not put keys in the file: set "
    "app.secret_key_env to the NAME of an environment variable and put the key in that variable"
)
SECRET_KEY_ENV_KEY = (
    "secret_key_env looks like a secret key itself; do not put the key in the file: set "
    "secret_key_env to the NAME of an environment variable (e.g. CHATSYNC_SECRET_KEY)"
)


def secret_key_env_problem(value: str) -> str | None:
    """Why ``value`` is not a usable ``secret_key_env`` (an environment variable *name*), or None.

    The value is never shown: it may be the key itself, pasted into the wrong field.
    """
    if looks_like_key(value):
        return SECRET_KEY_ENV_KEY
    if not ENV_NAME.fullmatch(value):
        if not value:
            what = "it is empty"
        elif value[0].isdigit():
            what = "it starts with a digit"
        else:
            bad = next(ch for ch in value if not (ch.isascii() and (ch.isalnum() or ch == "_")))
            what = f"it contains {quote(bad)}"
        return (
            f"secret_key_env is not an environment variable name ({what}); use letters, digits "
            "and _ (not starting with a digit), e.g. CHATSYNC_SECRET_KEY"
        )
    return None


def secret_key_env_not_text(value: Any, text: str | None) -> str:
    """``secret_key_env`` holds something other than text: say so without showing it."""
    if text is not None and looks_like_key(text):
        return SECRET_KEY_ENV_KEY
    if isinstance(value, list) and any(isinstance(v, str) and looks_like_key(v) for v in value):
        return SECRET_KEY_ENV_KEY
    return (
        f"app.secret_key_env must be the NAME of an environment variable, not {kind_of(value)}; "
        "write e.g. secret_key_env: CHATSYNC_SECRET_KEY"
    )


def id_problem(section: str, user_id: str) -> str | None:
    """Why ``user_id`` cannot be declared under ``section`` (``bots:``, ``accounts:``...), or None."""
    return BY_SECTION[section].id_problem(user_id)




def value_problem(where: str, value: str) -> str | None:
    """Why ``value`` cannot be a profile value, or None."""
    if len(value) * 4 <= limits.VALUE_MAX_BYTES and value.isascii():  # at most 4 bytes a character
        return None
    problem = limits.encoding_problem(value)
    if problem is not None:
        return f"{where} {problem}; {SURROGATE_FIX}"
    problem = limits.value_problem(value)
    if problem is None:
        return None
    return f"{where} {problem}; shorten it"


def _read_as(value: Any) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({piece(_number(value))})"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return "a date"
    if isinstance(value, bytes):
        return "binary data"
    return type(value).__name__


def _number(value: float) -> str:
    """``value`` as text (a huge integer, which ``str`` refuses, said so)."""
    try:
        return str(value)
    except ValueError:  # more digits than int -> str converts
        return "a huge integer"


def kind_of(value: Any) -> str:
    """A user's word for the YAML kind of ``value``."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return _read_as(value)


def not_text(where: str, value: Any, text: str | None, field: str | None = None) -> str:
    """A value that must be text is something else (YAML 1.1 reads yes, 0123, 1e3 specially)."""
    if value is None:
        if field is not None:
            return (
                f'{where} has no value; write {field}: "" to manage it as empty, or remove the '
                "line to leave it unmanaged"
            )
        return f"{where} has no value; write the text it should have"
    if isinstance(value, (dict, list)):
        return f"{where} must be text, not {kind_of(value)}; write a single value"
    written = text if text is not None else str(value)
    if looks_like_key_value(written):
        return f"{where} looks like a secret key; do not put keys in the file (quote it if it is not one)"
    return f"{where}: YAML reads {piece(written)} as {_read_as(value)}; quote it: {quote(written)}"


def wrong_type(where: str, value: Any, text: str | None, expected: Sequence[str]) -> str:
    """The message for a value of the wrong JSON type (other than text expected)."""
    if "string" in expected:
        return not_text(where, value, text)
    if "integer" in expected:
        if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
            return f"{where} must be a number, not text; remove the quotes: {value.strip()}"
        return f"{where} must be a whole number, not {kind_of(value)}; write e.g. 10"
    if "boolean" in expected:
        return f"{where} must be true or false, not {kind_of(value)}; write true or false"
    if "array" in expected:
        return f"{where} must be a list, not {kind_of(value)}; write e.g. [administrator, ops]"
    if "object" in expected:
        if "null" in expected:
            return (
                f"{where} must be a mapping of fields (or nothing), not {kind_of(value)}; "
                "write e.g. nick: Alice on the next line, indented"
            )
        return f"{where} must be a mapping, not {kind_of(value)}; write key: value lines under it"
    return f"{where} has the wrong type ({kind_of(value)}); expected {' or '.join(expected)}"
