"""The standard profile tags (tencent-chat-api.md §6.3): each tag's value type and allowed values."""

from __future__ import annotations

from chatsync.tencent import limits

NICK = "Tag_Profile_IM_Nick"
IMAGE = "Tag_Profile_IM_Image"
SIGNATURE = "Tag_Profile_IM_SelfSignature"

#: String tags: tag -> (max bytes, allowed values or None for free text).
STRING_TAGS: dict[str, tuple[int, frozenset[str] | None]] = {
    NICK: (limits.VALUE_MAX_BYTES, None),
    "Tag_Profile_IM_Gender": (
        limits.VALUE_MAX_BYTES,
        frozenset({"Gender_Type_Unknown", "Gender_Type_Female", "Gender_Type_Male"}),
    ),
    "Tag_Profile_IM_Location": (16, None),
    SIGNATURE: (limits.VALUE_MAX_BYTES, None),
    "Tag_Profile_IM_AllowType": (
        limits.VALUE_MAX_BYTES,
        frozenset({"AllowType_Type_NeedConfirm", "AllowType_Type_AllowAny", "AllowType_Type_DenyAny"}),
    ),
    IMAGE: (limits.VALUE_MAX_BYTES, None),
    "Tag_Profile_IM_AdminForbidType": (
        limits.VALUE_MAX_BYTES,
        frozenset({"AdminForbid_Type_None", "AdminForbid_Type_SendOut"}),
    ),
}

#: Unsigned 32-bit integer tags.
UINT32_TAGS = frozenset({
    "Tag_Profile_IM_BirthDay", "Tag_Profile_IM_Language", "Tag_Profile_IM_MsgSettings",
    "Tag_Profile_IM_Level", "Tag_Profile_IM_Role",
})
UINT32_MAX = 2**32 - 1


def is_standard(tag: str) -> bool:
    """True for a standard tag of §6.3."""
    return tag in STRING_TAGS or tag in UINT32_TAGS


def has_valid_type(tag: str, value: object) -> bool:
    """True when ``value`` has the JSON type of ``tag`` (string, or unsigned 32-bit integer)."""
    if tag in UINT32_TAGS:
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= UINT32_MAX
    return isinstance(value, str)


# -- custom profile fields (tencent-chat-api.md §6.4) -----------------------------------------------

#: A custom field's tag is this prefix plus its key (client SDKs omit the prefix).
CUSTOM_PREFIX = "Tag_Profile_Custom_"
#: A custom field's key: English letters only, at most this many bytes.
CUSTOM_KEY_MAX_BYTES = 8


def custom_key_problem(key: str) -> str | None:
    """Why ``key`` cannot name a custom profile field, or None."""
    if not key:
        return "is empty; a custom field key needs 1 to 8 English letters"
    if not (key.isascii() and key.isalpha()):
        return "may hold English letters (a-z, A-Z) only"
    if len(key) > CUSTOM_KEY_MAX_BYTES:
        return f"is {len(key)} bytes long; a custom field key may have at most {CUSTOM_KEY_MAX_BYTES}"
    return None


def custom_tag(key: str) -> str:
    """The tag of the custom field ``key``."""
    return CUSTOM_PREFIX + key


def custom_key(tag: str) -> str | None:
    """The key of a custom tag (``Tag_Profile_Custom_Key`` -> ``Key``), or None for another tag."""
    return tag[len(CUSTOM_PREFIX):] if tag.startswith(CUSTOM_PREFIX) else None
