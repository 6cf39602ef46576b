"""The profile-field table: every field chatsync manages, in one place (docs/profile-fields.md).

Each row says a field's YAML name, its Tencent tag, its type (free text, an enum, an unsigned
32-bit integer), its byte limit, the mapping of its enum names to the values on the wire, and
which create or import call can carry it. Everything else derives from :data:`STANDARD`: the model's
field names, the JSON Schema (:mod:`chatsync.config.schema_build`), validation, the wire mapping of
:mod:`chatsync.tencent.api`, plan rendering, export, the call strategy and the emulator's rules
(:mod:`chatsync.facts.profile_tags`). Adding a standard field is one row here (plus docs).

Custom fields (``custom: {Dept: Sales}`` in YAML, ``Tag_Profile_Custom_Dept`` on the wire) are
managed one key at a time: the field name of key ``Dept`` is ``custom.Dept``
(:func:`custom_field`). This module imports nothing but the API's limits, so the client, the
emulator and the config can all use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from chatsync.facts import limits

Kind = Literal["text", "enum", "uint32"]
Value = str | int

UINT32_MAX = 2**32 - 1
#: A custom field's tag is this prefix plus its key (client SDKs omit the prefix).
CUSTOM_PREFIX = "Tag_Profile_Custom_"
#: A custom field's key: English letters only, at most this many bytes.
CUSTOM_KEY_MAX_BYTES = 8
#: The model's (and plans') name of custom key ``K`` is ``custom.K``.
CUSTOM_NAME_PREFIX = "custom."
#: The YAML key holding the custom fields of a bot or account.
CUSTOM_SECTION = "custom"


@dataclass(frozen=True)
class Field:
    """One managed profile field.

    ``values`` maps each YAML name of an enum field to its value on the wire. ``import_key`` and
    ``robot_key`` name the field in ``account_import``/``multiaccount_import`` and in
    ``create_robot`` (None: only ``portrait_set`` can write it).
    """

    name: str
    tag: str
    kind: Kind
    description: str
    max_bytes: int = limits.VALUE_MAX_BYTES
    values: tuple[tuple[str, str], ...] = ()
    import_key: str | None = None
    robot_key: str | None = None

    @property
    def unset(self) -> Value:
        """What a tag never set reads as: ``0`` for an integer, else ``""``."""
        return 0 if self.kind == "uint32" else ""

    @property
    def names(self) -> tuple[str, ...]:
        """The YAML names of an enum field (``()`` for the others)."""
        return tuple(name for name, _ in self.values)

    @property
    def custom_key(self) -> str | None:
        """The key of a custom field, else None."""
        return self.name[len(CUSTOM_NAME_PREFIX):] if self.name.startswith(CUSTOM_NAME_PREFIX) else None

    def to_wire(self, value: Value) -> Value:
        """The value to send for ``value`` (an enum's YAML name becomes Tencent's value)."""
        if self.kind == "enum":
            return dict(self.values).get(str(value), value)
        return value

    def from_wire(self, value: Value) -> Value:
        """The config's form of a value read from the API. An enum value chatsync does not know
        (or ``""``, never set) stays as it is: it differs from every declared value, so a plan
        shows it and sets the declared one."""
        if self.kind == "enum":
            for name, wire in self.values:
                if wire == value:
                    return name
        return value

    def problem(self, value: object) -> str | None:
        """Why ``value`` cannot be this field's value in a config, or None (type, bytes, enum, range)."""
        if self.kind == "uint32":
            if isinstance(value, bool) or not isinstance(value, int):
                return "must be a whole number (0 to 4294967295), written without quotes"
            if not 0 <= value <= UINT32_MAX:
                return f"must be from 0 to {UINT32_MAX}, not {value}"
            return None
        if not isinstance(value, str):
            return "must be text; put it in quotes"
        if self.kind == "enum":
            return None if value in self.names else f"must be one of {', '.join(self.names)}"
        size = limits.utf8_len(value)
        if size > self.max_bytes:
            return f"is {size} bytes long; it may have at most {self.max_bytes} bytes (UTF-8)"
        return limits.encoding_problem(value)


def _text(name: str, tag: str, description: str, max_bytes: int = limits.VALUE_MAX_BYTES,
          import_key: str | None = None, robot_key: str | None = None) -> Field:
    return Field(name, tag, "text", description, max_bytes, import_key=import_key, robot_key=robot_key)


def _enum(name: str, tag: str, description: str, *values: tuple[str, str]) -> Field:
    return Field(name, tag, "enum", description, values=values)


def _uint(name: str, tag: str, description: str) -> Field:
    return Field(name, tag, "uint32", description)


#: Every standard profile field (docs/profile-fields.md), in the order plans and exports show them.
STANDARD: tuple[Field, ...] = (
    _text("nick", "Tag_Profile_IM_Nick", "Nickname", import_key="Nick", robot_key="Nick"),
    _text("face_url", "Tag_Profile_IM_Image", "Avatar URL", import_key="FaceUrl", robot_key="FaceUrl"),
    _text("self_signature", "Tag_Profile_IM_SelfSignature", "Signature / status line",
          robot_key="SelfSignature"),
    _enum("gender", "Tag_Profile_IM_Gender", "Gender",
          ("unknown", "Gender_Type_Unknown"), ("female", "Gender_Type_Female"), ("male", "Gender_Type_Male")),
    _uint("birthday", "Tag_Profile_IM_BirthDay", "Birthday, YYYYMMDD by convention (e.g. 19900131)"),
    _text("location", "Tag_Profile_IM_Location", "Location, text of at most 16 bytes (UTF-8)", max_bytes=16),
    _enum("allow_type", "Tag_Profile_IM_AllowType", "Who may add this user as a friend",
          ("need_confirm", "AllowType_Type_NeedConfirm"), ("allow_any", "AllowType_Type_AllowAny"),
          ("deny_any", "AllowType_Type_DenyAny")),
    _uint("language", "Tag_Profile_IM_Language", "Language (the app defines the numbers)"),
    _uint("msg_settings", "Tag_Profile_IM_MsgSettings", "Message settings (0 receive messages, 1 do not)"),
    _enum("admin_forbid_type", "Tag_Profile_IM_AdminForbidType", "Whether an admin forbade sending messages",
          ("none", "AdminForbid_Type_None"), ("send_out", "AdminForbid_Type_SendOut")),
    _uint("level", "Tag_Profile_IM_Level", "Level (the app defines it)"),
    _uint("role", "Tag_Profile_IM_Role", "Role (the app defines it)"),
)

BY_NAME: Mapping[str, Field] = {f.name: f for f in STANDARD}
BY_TAG: Mapping[str, Field] = {f.tag: f for f in STANDARD}
#: Config field name -> Tencent tag, for the standard fields.
TAGS: Mapping[str, str] = {f.name: f.tag for f in STANDARD}


# -- custom fields ----------------------------------------------------------------------------------

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


def custom_name(key: str) -> str:
    """The field name of custom key ``key`` (``custom.Dept``)."""
    return CUSTOM_NAME_PREFIX + key


@lru_cache(maxsize=4096)
def custom_field(key: str) -> Field:
    """The field of custom key ``key``: text of at most 500 bytes, written by ``portrait_set`` only."""
    return _text(custom_name(key), custom_tag(key), f"Custom field {key}")


def field_of(name: str) -> Field:
    """The field called ``name`` (a standard name or ``custom.Key``); KeyError for anything else."""
    found = BY_NAME.get(name)
    if found is not None:
        return found
    if name.startswith(CUSTOM_NAME_PREFIX):
        key = name[len(CUSTOM_NAME_PREFIX):]
        if custom_key_problem(key) is None:
            return custom_field(key)
    raise KeyError(name)


def field_of_tag(tag: str) -> Field | None:
    """The field whose tag is ``tag`` (standard or custom), or None."""
    found = BY_TAG.get(tag)
    if found is not None:
        return found
    key = custom_key(tag)
    return custom_field(key) if key is not None and custom_key_problem(key) is None else None


def is_field(name: str) -> bool:
    """True when ``name`` names a managed field."""
    try:
        field_of(name)
    except KeyError:
        return False
    return True


def ordered(names: Iterable[str]) -> list[str]:
    """``names`` in the table's order: standard fields first, then custom keys by name."""
    wanted = set(names)
    return [f.name for f in STANDARD if f.name in wanted] + sorted(
        n for n in wanted if n not in BY_NAME)

