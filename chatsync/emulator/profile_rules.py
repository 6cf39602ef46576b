"""Which profile tags the emulated app knows, and which values each accepts.

The standard tags of docs/tencent-api.md §6.3 (with their types, enums and byte limits) plus the
custom fields configured with ``--custom-field KEY`` (§6.4: strings of at most 500 bytes). One
function answers "is this value acceptable for this tag, and if not, which code": ``portrait_set``
answers with it, and the state file loader refuses a profile it would have refused.
"""

from __future__ import annotations

from collections.abc import Collection

from chatsync.facts import limits
from chatsync.facts.profile_tags import STRING_TAGS, UINT32_MAX, UINT32_TAGS, custom_key, is_standard

#: Codes (docs/tencent-api.md §6.2).
UNKNOWN_TAG = 40009  # the tag does not exist, or the custom field is not configured
TOO_LONG = 40601  # a value over 500 bytes
BAD_VALUE = 40605  # not one of a standard field's values (enum, range, a shorter byte limit)
WRONG_TYPE = 40610  # a string where a number belongs, or the other way round


class TagProblem(Exception):
    """A tag or value the app refuses with ``code``; the text says why."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code


def check_tag(tag: object, custom_fields: Collection[str]) -> str:
    """``tag`` if this app knows it; raises :class:`TagProblem` (40009) otherwise.

    A non-string tag raises ``TypeError`` for the caller to answer as a malformed request.
    """
    if not isinstance(tag, str):
        raise TypeError("Tag must be a string")
    if is_standard(tag):
        return tag
    key = custom_key(tag)
    if key is not None and key in custom_fields:
        return tag
    if key is not None:
        raise TagProblem(UNKNOWN_TAG, f"custom field {key} is not configured for this app "
                                      "(the emulator's --custom-field)")
    raise TagProblem(UNKNOWN_TAG, f"tag {tag} does not exist")


def check_value(tag: str, value: object) -> str | int:
    """``value`` if ``tag`` (a known tag) accepts it; raises :class:`TagProblem` otherwise."""
    if tag in UINT32_TAGS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TagProblem(WRONG_TYPE, f"{tag} takes an unsigned integer")
        if not 0 <= value <= UINT32_MAX:
            raise TagProblem(BAD_VALUE, f"{tag} is out of the uint32 range")
        return value
    if not isinstance(value, str):
        raise TagProblem(WRONG_TYPE, f"{tag} takes a string")
    max_bytes, allowed = STRING_TAGS.get(tag, (limits.VALUE_MAX_BYTES, None))  # custom: 500 bytes
    size = limits.utf8_len(value)
    if size > max_bytes:
        code = TOO_LONG if max_bytes == limits.VALUE_MAX_BYTES else BAD_VALUE
        raise TagProblem(code, f"{tag} is {size} bytes long; at most {max_bytes} bytes")
    if limits.encoding_problem(value):
        raise TagProblem(BAD_VALUE, f"{tag} {limits.encoding_problem(value)}")
    if allowed is not None and value not in allowed:
        raise TagProblem(BAD_VALUE, f"{tag} must be one of {', '.join(sorted(allowed))}")
    return value
