"""Config YAML in its canonical form, written from values: what ``chatsync fmt`` makes of a file, so
``export`` and the effective config (``validate --show``) need no formatting after.

The form: ``version``, ``app``, then one section per kind; the app's settings in the schema's
order; each object's fields in the field table's order, then ``custom``, then ``state``; bot ids
double-quoted; two spaces per level; short lists in flow style (``[a, b]``). A scalar is written
plain when every YAML reader (1.1, as chatsync and PyYAML read, and 1.2) reads it back as the same
text, else double-quoted with JSON's escapes, and every character a terminal or an editor would
act on (controls, bidi marks) escaped, so no value can hide in the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import yaml
from yaml.resolver import Resolver

from chatsync.config.sections import QUOTED_ID_SECTIONS
from chatsync.domain.kinds import Kind
from chatsync.domain.model import AppConfig
from chatsync.facts.fields import CUSTOM_NAME_PREFIX, CUSTOM_SECTION, STANDARD, Value
from chatsync.text.safe import UNSAFE

#: The app settings in the order the schema (and ``fmt``) writes them.
APP_SETTINGS = ("sdkappid", "region", "endpoint", "admin", "secret_key_env", "prune_bots", "prune_groups",
                "protected", "max_deletes", "custom_fields", "rate_limits")
#: The app settings written even at their default (which app, where, and the key's variable).
ALWAYS = ("sdkappid", "region", "secret_key_env")
#: The keys of an object's body in the order ``fmt`` writes them.
BODY_KEYS: tuple[str, ...] = (*(f.name for f in STANDARD), CUSTOM_SECTION, "state")

_RESOLVER = Resolver()
#: The resolver's typing (PyYAML's stubs leave it untyped).
_resolve: Callable[[type, str, tuple[bool, bool]], str] = _RESOLVER.resolve
_STR = "tag:yaml.org,2002:str"
#: Text that may go plain: letters, digits and a few marks, not starting with one YAML reads
#: specially, nor with a digit or a sign (YAML 1.2 reads more of those as numbers than 1.1 does).
_PLAIN = re.compile(r"[^\W\d][\w .,:/()+@=?&%~'-]*")
#: Words YAML 1.1 or 1.2 reads as something other than text, whatever their case.
_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


def scalar(value: Any) -> str:
    """``value`` (text, an integer or a boolean) as a YAML scalar read back as the same value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if (_PLAIN.fullmatch(text) and not text.endswith((" ", ":")) and ": " not in text and " #" not in text
            and text.lower() not in _WORDS and _resolve(yaml.ScalarNode, text, (True, False)) == _STR):
        return text
    quoted = json.dumps(text, ensure_ascii=False)
    return UNSAFE.sub(lambda m: m.group() if m.group() == "\n" else f"\\u{ord(m.group()):04x}", quoted)


def id_key(section: str, user_id: str) -> str:
    """An object's id as a key of ``section``: bot ids double-quoted, others as :func:`scalar`."""
    if section in QUOTED_ID_SECTIONS:
        quoted = json.dumps(user_id, ensure_ascii=False)
        return UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)
    return scalar(user_id)


def app_settings(app: AppConfig, *, defaults: bool) -> Iterator[tuple[str, str]]:
    """(setting, its value as YAML) for the app section, in order; a setting at its default only with
    ``defaults`` (the region is left out when an endpoint replaces it)."""
    plain = AppConfig(sdkappid=app.sdkappid)
    for name in APP_SETTINGS:
        if name == "region" and app.endpoint:
            continue
        if name == "endpoint":
            if app.endpoint:
                yield name, scalar(app.endpoint)
            continue
        attribute = "rates" if name == "rate_limits" else name
        value = getattr(app, attribute)
        if not defaults and name not in ALWAYS and value == getattr(plain, attribute):
            continue
        yield name, _setting(name, value)


def _setting(name: str, value: Any) -> str:
    if name in ("protected", "custom_fields"):
        return "[" + ", ".join(scalar(v) for v in value) + "]"
    if name == "rate_limits":
        return "{" + ", ".join(f"{scalar(k)}: {v}" for k, v in value.items()) + "}"
    return scalar(value)


def body(fields: Mapping[str, Value], state: str, kind: Kind | None = None) -> Iterator[tuple[str, str]]:
    """(field, line without its indentation) for an object's body in order: ``custom:`` is one line
    and each custom key one line (field ``custom.Key``), indented two spaces more by the caller. A
    kind with fields of its own (``kind.fields``: groups) has them written in its order, each list of
    ids (``kind.lists``) in flow style."""
    if kind is not None and kind.fields is not None:
        for name in kind.fields:
            if name in fields:
                value = fields[name]
                if name in kind.lists:
                    yield name, _line(name, [i for i in str(value).split("\n") if i])
                else:
                    yield name, _line(name, value)
        if state == "absent":
            yield "state", "state: absent"
        return
    for f in STANDARD:
        if f.name in fields:
            yield f.name, f"{f.name}: {scalar(fields[f.name])}"
    custom = [(name, name[len(CUSTOM_NAME_PREFIX):])
              for name in fields if name.startswith(CUSTOM_NAME_PREFIX)]
    if custom:
        yield CUSTOM_SECTION, f"{CUSTOM_SECTION}:"
        for name, key in custom:
            yield name, f"  {key}: {scalar(fields[name])}"
    if state == "absent":
        yield "state", "state: absent"


def values_body(values: Mapping[str, Any]) -> Iterator[str]:
    """The lines of a body given as the values a config holds, in their order: text, integers and
    booleans as :func:`scalar`, lists of ids in flow style (``admins: [a, b]``)."""
    for name, value in values.items():
        yield _line(name, value)


def _line(name: str, value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return f"{name}: [" + ", ".join(scalar(item) for item in value) + "]"
    return f"{name}: {scalar(value)}"


#: An object to write: its id, and the lines of its body (without their indentation: :func:`body`,
#: :func:`values_body`).
Written = tuple[str, Iterable[str]]


def document(app: AppConfig | None, sections: Iterable[tuple[str, Iterable[Written]]]) -> Iterator[str]:
    """The lines of a whole config: ``version``, the app section (unless ``app`` is None), then each
    section's objects given as (id, lines of its body); a section with no object is left out."""
    yield "version: 1"
    if app is not None:
        yield "app:"
        for name, value in app_settings(app, defaults=False):
            yield f"  {name}: {value}"
    for section, objects in sections:
        first = True
        for object_id, lines in objects:
            if first:
                yield f"{section}:"
                first = False
            yield f"  {id_key(section, object_id)}:"
            for line in lines:
                yield f"    {line}"
