"""One repository, many environments: shared app settings (``shared:``) and overrides
(``overrides:``), merged into the desired state the loader builds (docs/environments.md).

``shared:`` holds app settings every environment has, written once; each environment's ``app:``
adds its own (``sdkappid``, ``region`` or ``endpoint``, ``secret_key_env``). Where both set a
guardrail it only tightens: ``protected`` ids add up, the smaller ``max_deletes`` holds (a larger
one in ``app:`` is an error), and a kind's prune setting (``prune_bots``, ``prune_groups``) is on
only by the environment's own ``true`` (the shared settings may say ``false``, which no
environment can then turn on). Any other setting is written in one place: both is an error naming
the two.

``overrides:`` maps, per kind section, an id declared in another file to the fields it replaces
for this run (``state`` included); each field is replaced whole (a group's admins and members too:
an id the override gives another role leaves its old one). An override of an id no file declares,
of an id its own file declares, or a second override of one id is a located error; so is a group
an override leaves breaking the rules of its type (admins in a Work group, members over its cap).
The plan is made of the merged objects, so its fingerprint and seal cover them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

from chatsync.config import hints
from chatsync.config.kinds import checks_of
from chatsync.config.sections import KIND_SECTIONS, OVERRIDES, SHARED
from chatsync.config.yaml_loader import Document, YList, YMap, location
from chatsync.domain.kinds import BY_NAME, KINDS, Kind
from chatsync.domain.model import AppConfig, Principal
from chatsync.domain.origins import Override
from chatsync.errors import Location, Problem
from chatsync.facts.fields import CUSTOM_SECTION, Value, custom_name
from chatsync.text.safe import quote


def prune_settings() -> dict[str, Kind]:
    """The settings that prune a kind (``prune_bots``: the live bots no file declares are deleted),
    each a guardrail: on only by an environment's own ``true``."""
    return {kind.prune_setting: kind for kind in KINDS if kind.prune_setting}

#: The problems of one entry: ``(file, section, id, body, key_mark, override)``.
EntryProblems = Callable[[str, str, str, Any, int, bool], Iterator[Problem]]
#: The fields of one body of a kind: ``(body, kind) -> fields``.
FieldsOf = Callable[[YMap, str], dict[str, Value]]


# -- checks of one file ---------------------------------------------------------------------------


def file_problems(file: str, root: YMap, entry_problems: EntryProblems,
                  id_problems: Callable[[str, YMap, str], Iterator[Problem]]) -> Iterator[Problem]:
    """The problems of one file's ``overrides:`` and ``shared:`` that need only that file (the
    schema's come apart): ids and values as in ``bots:`` / ``accounts:``, an override that changes
    nothing, shared ids that are not UserIDs, and a shared ``prune_bots: true``."""
    overrides = root.get(OVERRIDES)
    if isinstance(overrides, YMap):
        for section, entries in overrides.items():
            if section not in KIND_SECTIONS or not isinstance(entries, YMap):
                continue
            kind = KIND_SECTIONS[section]
            for user_id, body in entries.items():
                key_mark = entries.meta[user_id].key_mark
                yield from entry_problems(file, section, user_id, body, key_mark, True)
                if isinstance(body, YMap) and not body:
                    yield Problem(location(file, key_mark),
                                  f"the override of {kind} {quote(user_id)} changes nothing; give the "
                                  "fields it replaces, or remove it")
    shared = root.get(SHARED)
    if isinstance(shared, YMap):
        yield from id_problems(file, shared, SHARED)  # its admin and protected ids, as app:'s
        yield from _shared_problems(file, shared)


def _shared_problems(file: str, shared: YMap) -> Iterator[Problem]:
    for name, kind in prune_settings().items():
        if shared.get(name) is True:
            yield Problem(location(file, shared.meta[name].value_mark),
                          f"{SHARED}.{name}: true would delete, in every environment, the live "
                          f"{kind.section} no file declares; turn it on in each environment's own app: "
                          f"({name}: true), or write false here to forbid it everywhere")


# -- shared app settings --------------------------------------------------------------------------


def merge_app(documents: list[Document], app_file: str, app: AppConfig,
              problems: list[Problem]) -> tuple[AppConfig, dict[str, tuple[Location, ...]]]:
    """``app`` (read from ``app_file``'s ``app:``) with the shared settings merged in, and where
    each setting came from. Problems (a second ``shared:``, a setting written in both places, a
    guardrail loosened by the environment) go to ``problems``; the app is then returned as merged
    as it can be (the load fails anyway)."""
    app_map: YMap = next(doc.root for doc in documents if doc.file == app_file)["app"]
    origins: dict[str, tuple[Location, ...]] = {
        name: (location(app_file, app_map.meta[name].value_mark),)
        for name in app_map if name in app_map.meta}
    found = [(doc.file, doc.root) for doc in documents if isinstance(doc.root, YMap) and SHARED in doc.root]
    if not found:
        return app, origins
    shared_file, shared_root = found[0]
    first = location(shared_file, shared_root.meta[SHARED].key_mark)
    for file, root in found[1:]:
        problems.append(Problem(location(file, root.meta[SHARED].key_mark),
                                f"a second {SHARED}: section; the first is at {first}; keep the settings "
                                "every environment shares in one file"))
    shared = shared_root[SHARED]
    if not isinstance(shared, YMap):
        return app, origins
    changes: dict[str, Any] = {}
    for name, value in shared.items():
        if name not in shared.meta or not _well_typed(name, value):
            continue  # the schema says what is wrong with it
        here = location(shared_file, shared.meta[name].value_mark)
        if name not in app_map:
            changes[_attribute(name)] = _value(name, value)
            origins[name] = (here,)
            continue
        theirs = location(app_file, app_map.meta[name].value_mark)
        own = app_map[name]
        if name == "protected":
            changes["protected"] = tuple(dict.fromkeys(
                [p for p in value if isinstance(p, str)] + [p for p in app.protected]))
            origins[name] = (here, theirs)
        elif name == "max_deletes":
            if isinstance(own, int) and not isinstance(own, bool) and own > value:
                problems.append(Problem(theirs, (
                    f"app.max_deletes {own} loosens the shared max_deletes {value} ({here}); an "
                    f"environment can only tighten a guardrail: write {value} or less, or raise it in the "
                    "shared settings")))
            origins[name] = (here, theirs)
        elif name in prune_settings():
            if own is True and value is False:
                problems.append(Problem(theirs, (
                    f"app.{name}: true loosens the shared {name}: false ({here}), which forbids "
                    "pruning in every environment; remove one of the two")))
            origins[name] = (here, theirs)
        else:
            problems.append(Problem(theirs, (
                f"app.{name} is also set in the shared settings ({here}); set it in one place: in "
                f"{SHARED}: for every environment, or in each environment's app:")))
    return dataclasses.replace(app, **changes), origins


def _well_typed(name: str, value: Any) -> bool:
    if name in ("protected", "custom_fields"):
        return isinstance(value, YList)
    if name == "rate_limits":
        return isinstance(value, YMap)
    if name == "max_deletes":
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if name in prune_settings():
        return isinstance(value, bool)
    if name == "admin":
        return isinstance(value, str)
    return False


def _attribute(name: str) -> str:
    return "rates" if name == "rate_limits" else name


def _value(name: str, value: Any) -> Any:
    if name == "protected":
        return tuple(p for p in value if isinstance(p, str))
    if name == "custom_fields":
        return tuple(dict.fromkeys(k for k in value if isinstance(k, str)))
    if name == "rate_limits":
        return {k: v for k, v in value.items() if isinstance(v, int) and not isinstance(v, bool)}
    return value


# -- overrides ------------------------------------------------------------------------------------


def apply_overrides(documents: list[Document], declared: dict[str, dict[str, Principal]],
                    problems: list[Problem], fields_of: FieldsOf,
                    custom_check: Callable[[str, str, str, YMap], None]) -> dict[str, Override]:
    """Replace, in ``declared`` (section -> id -> principal, as the loader collected them), each
    object an override changes by the merged object, and return where each override is (by the
    object's address). ``fields_of`` reads an override's well-typed fields; ``custom_check(file,
    kind, id, body)`` reports custom keys the app does not list. A merged group is checked against
    the rules of its type (its kind's checks: ``merged_problems``), each problem located in the override."""
    done: dict[str, Override] = {}
    for document in documents:
        overrides = document.root.get(OVERRIDES) if isinstance(document.root, YMap) else None
        if not isinstance(overrides, YMap):
            continue
        for section, entries in overrides.items():
            if section not in KIND_SECTIONS or not isinstance(entries, YMap):
                continue
            kind = KIND_SECTIONS[section]
            for user_id, body in entries.items():
                here = location(document.file, entries.meta[user_id].key_mark)
                allowed = _override(document.file, kind, user_id, body, here, declared[section], done,
                                    problems)
                if allowed is None or not isinstance(body, YMap):
                    continue
                custom_check(document.file, kind, user_id, body)
                base = declared[section][user_id]
                if not base.present and body.get("state") != "present" and fields_of(body, kind):
                    problems.append(Problem(here, (
                        f"overrides: {kind} {quote(user_id)} is state: absent ({base.location}), so "
                        "the fields given would be ignored; add state: present to the override, or remove "
                        "them")))
                    continue
                merged, where = _merged(document.file, base, body, fields_of)
                declared[section][user_id] = merged
                done[base.address] = Override(here, where)
                own = checks_of(BY_NAME[kind])
                if own is not None:  # the rules its declaration alone did not break (a group's type)
                    problems.extend(own.merged_problems(base, merged, where, here))
    return done


def _override(file: str, kind: str, user_id: str, body: Any, here: Location, declared: dict[str, Principal],
              done: dict[str, Override], problems: list[Problem]) -> bool | None:
    """True when the override at ``here`` may apply; else None, its problem in ``problems``."""
    base = declared.get(user_id)
    what = f"{kind} {quote(user_id)}"
    if base is None:
        guess = hints.closest(user_id, declared)
        hint = f"did you mean {quote(guess)}? " if guess else ""
        problems.append(Problem(here, (
            f"overrides: {what} is not declared in any file given; an override changes an object another "
            f"file declares: {hint}declare it there, or pass the directory that declares it")))
        return None
    earlier = done.get(f"{kind}.{user_id}")
    if earlier is not None:
        problems.append(Problem(here, (
            f"overrides: {what} is already overridden at {earlier.location}; override each id once")))
        return None
    if base.location is not None and base.location.file == file:
        problems.append(Problem(here, (
            f"overrides: {what} is declared in this file ({base.location}); change it there")))
        return None
    return True if isinstance(body, YMap) and body else None


def _merged(file: str, base: Principal, body: YMap,
            fields_of: FieldsOf) -> tuple[Principal, dict[str, Location]]:
    """``base`` with the fields of an override ``body`` replacing its own, and where each came from."""
    state = base.state
    where: dict[str, Location] = {}
    if body.get("state") in ("present", "absent"):
        state = body["state"]
        where["state"] = location(file, body.meta["state"].value_mark)
    replaced = fields_of(body, base.kind)
    for name in replaced:
        if name.startswith(custom_name("")):
            custom = body[CUSTOM_SECTION]
            where[name] = location(file, custom.meta[name[len(custom_name("")):]].value_mark)
        else:
            where[name] = location(file, body.meta[name].value_mark)
    fields: dict[str, Value] = {} if state == "absent" else {**base.fields, **replaced}
    own = checks_of(BY_NAME[base.kind])
    if own is not None:  # a kind whose fields depend on one another (a group's roles)
        fields = own.settled(fields)
    return Principal(base.kind, base.user_id, fields, state, base.location), where
