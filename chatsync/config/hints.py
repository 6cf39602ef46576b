"""The wording of config problems: what is wrong and what to do, shared by every check.

The schema translation and the semantic rules can find the same fault (an id too long, a secret in
the file); both build their message here so the user reads one message, once.
"""

from __future__ import annotations

import datetime
import difflib
import json
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from chatsync.tencent import limits

#: Field names that would hold a secret (compared without case, "_" and "-").
SECRET_NAMES = frozenset(
    {
        "secret",
        "secretkey",
        "secretkeys",
        "key",
        "apikey",
        "password",
        "token",
        "usersig",
        "usersignature",
        "sig",
    }
)
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def quote(text: str) -> str:
    """``text`` in double quotes, with control characters escaped."""
    return json.dumps(text, ensure_ascii=False)


def describe(path: Sequence[Any]) -> str:
    """A human name for the value at a data path, e.g. ``account "alice" nick``."""
    if not path:
        return "the file"
    head = path[0]
    if head in ("bots", "accounts") and len(path) >= 2:
        kind = "bot" if head == "bots" else "account"
        name = f"{kind} {quote(str(path[1]))}"
        rest = [str(p) for p in path[2:]]
        return f"{name} {'.'.join(rest)}".rstrip()
    text = str(head)
    for step in path[1:]:
        text += f"[{step + 1}]" if isinstance(step, int) else f".{step}"
    return text


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to a misspelt ``word``, if any is close."""
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


@lru_cache(maxsize=1024)
def is_secret_name(name: str) -> bool:
    """True when a field called ``name`` would hold a secret."""
    return re.sub(r"[_\-\s]", "", name.lower()) in SECRET_NAMES


SECRET_FIELD = (
    "do not put the secret key in the file; set secret_key_env to the NAME of an environment "
    "variable and put the key in that variable"
)


def secret_key_env_problem(value: str) -> str | None:
    """Why ``value`` is not a usable ``secret_key_env`` (an environment variable *name*), or None."""
    looks_like_key = bool(
        re.fullmatch(r"[0-9a-fA-F]{16,}", value)
        or (len(value) >= 32 and "_" not in value and re.search(r"\d", value))
    )
    if looks_like_key:
        return (
            "secret_key_env looks like a secret key itself; do not put the key in the file: set "
            "secret_key_env to the NAME of an environment variable (e.g. CHATSYNC_SECRET_KEY)"
        )
    if not ENV_NAME.fullmatch(value):
        return (
            f"secret_key_env {quote(value)} is not an environment variable name; use letters, "
            "digits and _ (not starting with a digit), e.g. CHATSYNC_SECRET_KEY"
        )
    return None


def id_problem(section: str, user_id: str) -> str | None:
    """Why ``user_id`` cannot be declared under ``bots:`` / ``accounts:``, or None."""
    kind = "bot" if section == "bots" else "account"
    problem = limits.user_id_problem(user_id)
    if problem is not None:
        fix = "choose a shorter id" if "bytes long" in problem else "fix the id"
        return f"{kind} id {quote(user_id)} {problem}; {fix}"
    if section == "bots":
        if not limits.is_bot_id(user_id):
            suggestion = limits.BOT_PREFIX + user_id.lstrip("@")
            return (
                f"bot id {quote(user_id)} must start with {limits.BOT_PREFIX}; write "
                f"{quote(suggestion)} (quoted), or move it under accounts:"
            )
        return None
    prefix = limits.reserved_prefix(user_id)
    if prefix == limits.BOT_PREFIX:
        return f"{quote(user_id)} is a bot id ({prefix}); move it under bots:"
    if prefix is not None:
        return (
            f"account id {quote(user_id)} starts with the reserved prefix {prefix} (the server's "
            "own ids use it); choose another id"
        )
    return None


def value_problem(where: str, value: str) -> str | None:
    """Why ``value`` cannot be a profile value, or None."""
    if len(value) * 4 <= limits.VALUE_MAX_BYTES:  # a character is at most 4 bytes in UTF-8
        return None
    problem = limits.value_problem(value)
    if problem is None:
        return None
    return f"{where} {problem}; shorten it"


def _read_as(value: Any) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return "a date"
    if isinstance(value, bytes):
        return "binary data"
    return type(value).__name__


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
    return f"{where}: YAML reads {written} as {_read_as(value)}; quote it: {quote(written)}"


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
