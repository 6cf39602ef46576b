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
