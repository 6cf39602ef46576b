"""The rules JSON Schema cannot express, checked on one file's data (see docs/configuration.md).

Byte lengths (UTF-8, not characters), printable ids, id prefixes, endpoints (``http://`` only for
loopback hosts; the rules live in :mod:`chatsync.facts.network`, shared with the client), secrets written
into the file. Checks across files (one ``app``, ids declared
once, at most 20 bots) live in :mod:`chatsync.config.loader`. Every check here tolerates data of
the wrong shape: the schema reports that, these rules just skip it.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import repeat
from typing import Any

from chatsync.config import hints, overlays
from chatsync.config.checks import SECRET
from chatsync.config.kinds import checks_of
from chatsync.config.sections import OVERRIDES
from chatsync.config.yaml_loader import YList, YMap, location
from chatsync.domain.kinds import BY_SECTION, SECTIONS
from chatsync.domain.model import PROFILE_FIELDS, Principal
from chatsync.errors import Problem
from chatsync.facts import limits
from chatsync.facts.fields import BY_NAME, CUSTOM_SECTION, Field
from chatsync.facts.network import endpoint_problem
from chatsync.text.safe import quote


def user_id_message(where: str, user_id: str) -> str | None:
    """Why ``user_id`` (the admin, a protected id) is not a UserID, or None."""
    problem = limits.user_id_problem(user_id)
    if problem is None:
        return None
    return f"{where} {quote(user_id)} {problem}; fix it"


def text_problem(where: str, field: Field, value: str) -> str | None:
    """Why ``value`` cannot be the text field ``field`` (its byte limit, UTF-8), or None."""
    if field.kind != "text":
        return None  # enums, integers: the schema's rules
    if field.max_bytes == limits.VALUE_MAX_BYTES:
        return hints.value_problem(where, value)
    problem = field.problem(value)
    return f"{where} {problem}; shorten it" if problem else None


def check_file(file: str, root: YMap) -> list[Problem]:
    """Every semantic problem in one file's data."""
    problems = list(_secrets(file, root, top=True))
    app = root.get("app")
    if isinstance(app, YMap):
        problems.extend(_app(file, app))
    for section in SECTIONS:
        entries = root.get(section)
        if isinstance(entries, YMap):
            problems.extend(_principals(file, section, entries))
    problems.extend(overlays.file_problems(file, root, entry_problems, id_problems))
    return problems


def app_problems(file: str, app: YMap) -> Iterator[Problem]:
    """The semantic problems of an ``app:`` mapping on its own, secrets in it included (for the
    whole file, :func:`check_file` finds the secrets anywhere)."""
    yield from _secrets(file, app, top=False)
    yield from _app(file, app)


def _app(file: str, app: YMap) -> Iterator[Problem]:
    def at(key: str) -> Any:
        return location(file, app.meta[key].value_mark)

    env = app.get("secret_key_env")
    if isinstance(env, str):
        message = hints.secret_key_env_problem(env)
        if message:
            yield Problem(at("secret_key_env"), message)
    endpoint = app.get("endpoint")
    if isinstance(endpoint, str):
        message = endpoint_problem(endpoint)
        if message:
            yield Problem(at("endpoint"), message)
    yield from id_problems(file, app, "app")


def id_problems(file: str, settings: YMap, name: str) -> Iterator[Problem]:
    """The problems of the ids a settings section (``app:``, ``shared:``) names: its ``admin`` and
    its ``protected`` ids, each a UserID."""
    admin = settings.get("admin")
    if isinstance(admin, str):
        message = user_id_message(f"{name}.admin", admin)
        if message:
            yield Problem(location(file, settings.meta["admin"].value_mark), message)
    protected = settings.get("protected")
    if isinstance(protected, YList):
        for index, user_id in enumerate(protected):
            if isinstance(user_id, str):
                message = user_id_message(f"{name}.protected[{index + 1}]", user_id)
                if message:
                    yield Problem(location(file, protected.meta[index].value_mark), message)


def _fine(value: str) -> bool:
    """True for a value no byte or encoding rule can refuse: short ASCII text (the common case,
    decided without building any message)."""
    return len(value) * 4 <= limits.VALUE_MAX_BYTES and value.isascii()


def _principals(file: str, section: str, entries: YMap) -> Iterator[Problem]:
    for user_id, body in entries.items():
        if isinstance(body, Principal):
            continue  # made of an entry that passed every check as the file was read (loader.py)
        yield from entry_problems(file, section, user_id, body, entries.meta[user_id].key_mark)


def entry_problems(file: str, section: str, user_id: str, body: Any, key_mark: int,
                   override: bool = False) -> Iterator[Problem]:
    """The semantic problems of one entry of a kind's section (its id written at the packed place
    ``key_mark``), or of an ``override`` of one (a group's: without the rules of its type, which
    the merged group meets: :func:`chatsync.config.groups.merged_problems`)."""
    kind = BY_SECTION[section].name
    message = hints.id_problem(section, user_id)
    if message:
        yield Problem(location(file, key_mark), message)
    if isinstance(body, YMap):
        own = checks_of(BY_SECTION[section])
        if own is None:
            yield from _body_problems(file, kind, user_id, body)
        else:  # a kind of its own fields (a group)
            yield from own.body_problems(file, user_id, body, whole=not override)
            yield from _secrets(file, body, top=False)


def _body_problems(file: str, kind: str, user_id: str, body: YMap) -> Iterator[Problem]:
    where = ""  # e.g. account "alice": made only when there is a message to make
    for name, value in body.items():
        field = BY_NAME.get(name)
        if field is None or not isinstance(value, str):
            continue
        if field.kind != "text" or (field.max_bytes == limits.VALUE_MAX_BYTES and _fine(value)):
            continue
        where = where or f"{kind} {quote(user_id)}"
        message = text_problem(f"{where} {name}", field, value)
        if message:
            yield Problem(location(file, body.meta[name].value_mark), message)
    custom = body.get(CUSTOM_SECTION)
    if isinstance(custom, YMap):
        for key, value in custom.items():
            if isinstance(value, str) and isinstance(key, str) and not _fine(value):
                where = where or f"{kind} {quote(user_id)}"
                message = hints.value_problem(f"{where} {CUSTOM_SECTION}.{key}", value)
                if message:
                    yield Problem(location(file, custom.meta[key].value_mark), message)
    if body.get("state") == "absent":
        where = where or f"{kind} {quote(user_id)}"
        managed = [name for name in body if name in PROFILE_FIELDS or name == CUSTOM_SECTION]
        if managed:
            yield Problem(
                location(file, body.meta[managed[0]].key_mark),
                f"{where} is state: absent, so its fields are ignored; remove {', '.join(managed)}",
            )
    yield from _secrets(file, body, top=False)


def _secrets(file: str, node: Any, top: bool, extension: bool = False) -> Iterator[Problem]:
    """Keys that would hold a secret, anywhere except where keys are ids.

    Under a top-level ``x-`` section (free-form: anchors for merge keys) a value that looks like a
    key (32+ hex digits) is reported too. The value itself is never shown.
    """
    if isinstance(node, YMap):
        for key, value in node.items():
            inside = extension or (top and key.startswith("x-"))
            if hints.is_secret_name(key):
                yield Problem(location(file, node.meta[key].key_mark), hints.SECRET_FIELD, SECRET)
            elif inside and isinstance(value, str) and hints.looks_like_key_value(value):
                yield Problem(location(file, node.meta[key].value_mark), hints.SECRET_VALUE, SECRET)
            if top and key in (*SECTIONS, OVERRIDES):
                continue  # keys below are ids; their bodies are checked with the principals
            if isinstance(value, (YMap, YList)):  # a scalar has nothing below it
                yield from _secrets(file, value, False, inside)
    elif isinstance(node, YList):
        if not extension and all(map(isinstance, node, repeat(str))):
            return  # a list of ids or names (a group's members): nothing below, no key (C loop)
        for index, value in enumerate(node):
            if extension and isinstance(value, str) and hints.looks_like_key_value(value):
                yield Problem(location(file, node.meta[index].value_mark), hints.SECRET_VALUE, SECRET)
            if isinstance(value, (YMap, YList)):  # a scalar has nothing below it
                yield from _secrets(file, value, False, extension)
