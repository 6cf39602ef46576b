"""The profile tags of the API (docs/profile-fields.md): each tag's value type and allowed values.

Derived from the one field table, :data:`chatsync.facts.fields.STANDARD`, so the emulator's rules, the
client's mapping and the config's validation can never disagree.
"""

from __future__ import annotations

from chatsync.facts.fields import (
    BY_NAME,
    CUSTOM_KEY_MAX_BYTES,
    CUSTOM_PREFIX,
    STANDARD,
    UINT32_MAX,
    custom_key,
    custom_key_problem,
    custom_tag,
)

__all__ = [
    "CUSTOM_KEY_MAX_BYTES", "CUSTOM_PREFIX", "IMAGE", "NICK", "SIGNATURE", "STRING_TAGS", "UINT32_MAX",
    "UINT32_TAGS", "custom_key", "custom_key_problem", "custom_tag", "has_valid_type", "is_standard",
]

NICK = BY_NAME["nick"].tag
IMAGE = BY_NAME["face_url"].tag
SIGNATURE = BY_NAME["self_signature"].tag

#: String tags: tag -> (max bytes, allowed wire values or None for free text).
STRING_TAGS: dict[str, tuple[int, frozenset[str] | None]] = {
    f.tag: (f.max_bytes, frozenset(wire for _, wire in f.values) if f.kind == "enum" else None)
    for f in STANDARD if f.kind != "uint32"
}

#: Unsigned 32-bit integer tags.
UINT32_TAGS = frozenset(f.tag for f in STANDARD if f.kind == "uint32")


def is_standard(tag: str) -> bool:
    """True for a standard tag."""
    return tag in STRING_TAGS or tag in UINT32_TAGS


def has_valid_type(tag: str, value: object) -> bool:
    """True when ``value`` has the JSON type of ``tag`` (string, or unsigned 32-bit integer)."""
    if tag in UINT32_TAGS:
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= UINT32_MAX
    return isinstance(value, str)
