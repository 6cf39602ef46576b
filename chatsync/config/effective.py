"""The effective config: the one desired state that several files, shared settings and overrides
make, written back as a single config (``chatsync validate --show``; docs/environments.md).

Every value is the one plan and apply use, each object and setting with a comment saying where it
was written: ``file:line:column`` of its declaration, of the shared setting, of the override.
Settings left at their default say so. The text is a config chatsync reads back to the same
desired state, in the form ``chatsync fmt`` writes (the field table's order, bot ids quoted, two
spaces), so it can be compared between environments with ``diff``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import yaml
from yaml.resolver import Resolver

from chatsync.config.sections import KIND_SECTIONS, QUOTED_ID_SECTIONS
from chatsync.domain.model import AppConfig, DesiredState, Location, Principal
from chatsync.domain.origins import Override
from chatsync.facts.fields import CUSTOM_NAME_PREFIX, CUSTOM_SECTION, STANDARD, Value
from chatsync.text.safe import UNSAFE

#: Where the comments start (or two spaces after a longer line).
COMMENT_COLUMN = 40
#: The app settings in the order the schema (and ``fmt``) writes them.
APP_SETTINGS = ("sdkappid", "region", "endpoint", "admin", "secret_key_env", "prune_bots", "protected",
                "max_deletes", "custom_fields", "rate_limits")

_RESOLVER = Resolver()
#: The resolver's typing (PyYAML's stubs leave it untyped).
_resolve: Callable[[type, str, tuple[bool, bool]], str] = _RESOLVER.resolve
_PLAIN = re.compile(r"[\w(/.][\w .,:/()+@=?&%~'-]*")


def text(desired: DesiredState, paths: Sequence[str] = ()) -> str:
    """The effective config of ``desired`` (loaded from ``paths``, named in its first line)."""
    return "".join(f"{line}\n" for line in lines(desired, paths))


def lines(desired: DesiredState, paths: Sequence[str] = ()) -> Iterator[str]:
    """:func:`text`, a line at a time (a large config is never held twice)."""
    given = " ".join(paths) or "chatsync.yaml"
    yield f"# The effective config of: {_comment_text(given)}"
    yield "# What plan and apply use; each comment says where a value was written (file:line:column)."
    yield "version: 1"
    yield from _app(desired.app, desired.origins.settings)
    for section, kind in KIND_SECTIONS.items():
        principals = [p for p in desired.principals() if p.kind == kind]
        if not principals:
            continue
        yield f"{section}:"
        for principal in principals:
            yield from _principal(section, principal, desired.origins.overrides.get(principal.address))


def _app(app: AppConfig, origins: Any) -> Iterator[str]:
    yield _with("app:", [app.location] if app.location else [])
    for name in APP_SETTINGS:
        value = _setting(app, name)
        if value is None:
            continue
        places = origins.get(name, ())
        where = " + ".join(str(p) for p in places) if places else "default"
        yield _with(f"  {name}: {value}", [], where)


def _setting(app: AppConfig, name: str) -> str | None:
    if name == "region" and app.endpoint:
        return None  # the endpoint is used instead
    if name == "endpoint":
        return _scalar(app.endpoint) if app.endpoint else None
    if name == "protected":
        return "[" + ", ".join(_scalar(p) for p in app.protected) + "]"
    if name == "custom_fields":
        return "[" + ", ".join(_scalar(k) for k in app.custom_fields) + "]"
    if name == "rate_limits":
        return "{" + ", ".join(f"{_scalar(k)}: {v}" for k, v in app.rates.items()) + "}"
    if name == "prune_bots":
        return "true" if app.prune_bots else "false"
    value = getattr(app, name)
    return _scalar(value)


def _principal(section: str, principal: Principal, override: Override | None) -> Iterator[str]:
    key = json.dumps(principal.user_id, ensure_ascii=False) if section in QUOTED_ID_SECTIONS \
        else _scalar(principal.user_id, key=True)
    where = str(principal.location) if principal.location else ""
    if override is not None:
        where = "; ".join(filter(None, [where, f"overridden at {override.location}"]))
    yield _with(f"  {key}:", [], where)
    yield from _body(principal, override)


def _body(principal: Principal, override: Override | None) -> list[str]:
    replaced = override.fields if override is not None else {}
    body = []
    fields = principal.fields
    for f in STANDARD:
        if f.name in fields:
            body.append(_field(f"    {f.name}: {_value(fields[f.name])}", replaced.get(f.name)))
    custom = [(name[len(CUSTOM_NAME_PREFIX):], value) for name, value in fields.items()
              if name.startswith(CUSTOM_NAME_PREFIX)]
    if custom:
        body.append(f"    {CUSTOM_SECTION}:")
        for key, value in custom:
            body.append(_field(f"      {key}: {_value(value)}", replaced.get(CUSTOM_NAME_PREFIX + key)))
    if not principal.present:
        body.append(_field("    state: absent", replaced.get("state")))
    elif "state" in replaced:
        body.append(_field("    state: present", replaced["state"]))
    return body


def _field(line: str, place: Location | None) -> str:
    return _with(line, [], f"override {place}") if place is not None else line


def _with(line: str, places: list[Location], where: str = "") -> str:
    note = where or ", ".join(str(p) for p in places)
    if not note:
        return line
    return f"{line:<{COMMENT_COLUMN - 2}}  # {_comment_text(note)}"


def _comment_text(note: str) -> str:
    """``note`` as comment text: on one line, with nothing a terminal would act on."""
    return UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", note)


def _value(value: Value) -> str:
    return str(value) if isinstance(value, int) else _scalar(value)


def _scalar(value: Any, *, key: bool = False) -> str:
    """``value`` as a YAML scalar that PyYAML (and chatsync) read back as the same value: plain
    when that is safe, else double-quoted with JSON's escapes (valid YAML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if (_PLAIN.fullmatch(text) and not text.endswith((" ", ":")) and ": " not in text and " #" not in text
            and (key or _resolve(yaml.ScalarNode, text, (True, False)) == "tag:yaml.org,2002:str")):
        return text
    quoted = json.dumps(text, ensure_ascii=False)
    return UNSAFE.sub(lambda m: m.group() if m.group() == "\n" else f"\\u{ord(m.group()):04x}", quoted)
