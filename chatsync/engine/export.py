"""Export: write the live app as a config, kind by kind as the registry says
(:data:`chatsync.domain.kinds.KINDS`), so ``plan`` on it right after shows no changes
(docs/adopting.md).

Which objects of each kind (:func:`choose`): every live one of a listed kind that is always exported
whole (:attr:`~chatsync.domain.kinds.Kind.export_all`: every bot), or of a listed kind the config
manages (declares one, or prunes them: groups) unless ids of it are named; else the ids the config
declares and those named (``--accounts-file``, ``--groups-file``), that exist. An object that names
others (a group its owner, admins and members: :attr:`~chatsync.domain.kinds.Kind.names`) has them
written too, as objects of the lower-stage kind whose ids they are (the accounts), so the export
validates: kinds are read stage by stage, the highest first.

By default only the fields that hold a value are written: a field never set (``""``, ``0``, an
enum at its first value: ``unknown``, ``need_confirm``, ``none``) stays unmanaged, so adopting an
app manages what it uses. ``all_fields`` writes every field (integers as integers, enums by their
YAML name; an enum set to a value chatsync does not know is left out, unmanaged), and ``fields``
picks the fields written: standard names and ``custom.Key`` for the keys ``app.custom_fields``
lists. A kind of its own fields is written whole (:attr:`~chatsync.domain.kinds.Kind.export_body`).
``with_app=False`` leaves the ``app:`` section out, so the export plans beside the user's own app
file. The text is in the canonical form ``chatsync fmt`` writes (:mod:`chatsync.config.canonical`).

Named ids that cannot be exported (not ids of their kind at all, an account's that is a bot's, or
not in the app) are not dropped silently: :class:`Export` lists each with why (:class:`LeftOut`),
and the CLI makes that an error unless told to skip them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from chatsync.config import canonical
from chatsync.domain.kinds import KINDS, Kind
from chatsync.domain.live import LiveState, Wanted
from chatsync.domain.model import AppConfig, DesiredState, Principal
from chatsync.engine.read import LiveReader
from chatsync.facts.fields import STANDARD, Value, custom_name, field_of
from chatsync.tencent.api import ChatApi

HEADER = ("# Exported by chatsync export from the live app. Every field written is managed; a field left\n"
          "# out is not (chatsync never compares or changes it).\n")


class LeftOut(NamedTuple):
    """A named object the export could not write: its kind (a name), its id, and why."""

    kind: str
    object_id: str
    why: str


@dataclass(frozen=True)
class Export:
    """The config text, and the named objects left out of it."""

    text: str
    left_out: list[LeftOut] = field(default_factory=list)


def choose(desired: DesiredState, named: Mapping[str, Iterable[str]]) -> dict[str, list[str] | None]:
    """Which objects of each kind an export of ``desired`` writes, by kind name: None for every
    live one (a listed kind), else the ids, those ``desired`` declares then those ``named`` (more
    ids, by kind name) lists. A kind left out is written only as other objects name it."""
    chosen: dict[str, list[str] | None] = {}
    for kind in KINDS:
        declared = desired.of(kind.name)
        given = named.get(kind.name)
        managed = bool(declared) or bool(kind.prune_setting and getattr(desired.app, kind.prune_setting))
        if kind.listed and given is None and (kind.export_all or managed):
            chosen[kind.name] = None
        elif declared or given:
            chosen[kind.name] = list(dict.fromkeys([*declared, *(given or ())]))
    return chosen


def export(api: ChatApi, desired: DesiredState, named: Mapping[str, Iterable[str]] | None = None, *,
           fields: Sequence[str] | None = None, all_fields: bool = False, with_app: bool = True) -> Export:
    """The config: ``desired.app`` as given (unless not ``with_app``) and the live objects of each
    kind :func:`choose` picks (``named``: more ids by kind name), with ``fields`` (default: every
    standard field and the custom keys ``app.custom_fields`` lists), only those set unless
    ``all_fields``. An id declared ``state: absent`` that does not exist is not reported."""
    app = desired.app
    names = tuple(fields) if fields is not None else exportable(app)
    chosen = choose(desired, named or {})
    absent = {p.address for p in desired.principals() if not p.present}
    left_out: list[LeftOut] = []
    written: dict[str, list[canonical.Written]] = {}
    for stage in sorted({kind.stage for kind in KINDS}, reverse=True):
        kinds = [kind for kind in KINDS if kind.stage == stage and kind.name in chosen]
        if not kinds:
            continue
        live, ids = _read(api, kinds, chosen, names, left_out)
        for kind in kinds:
            written[kind.name] = []
            named_by: list[str] = []
            for object_id in ids[kind.name]:
                found = live.get(kind.name, object_id)
                if found is None:
                    if kind.address(object_id) not in absent:
                        left_out.append(LeftOut(kind.name, object_id, "does not exist in the app"))
                    continue
                body = kind.export_body(found.fields) if kind.export_body is not None else None
                written[kind.name].append((object_id, _lines(kind, found, body, names, all_fields)))
                if kind.names is not None:
                    named_by += kind.names(found.fields if body is None else body)
            _add_named(kind, named_by, chosen, app)
    order = {kind.name: number for number, kind in enumerate(KINDS)}
    left_out.sort(key=lambda item: order[item.kind])  # stable: in the order named, kind by kind
    lines = canonical.document(app if with_app else None,
                               [(kind.section, written.get(kind.name, [])) for kind in KINDS])
    return Export(HEADER + "".join(f"{line}\n" for line in lines), left_out)


def _read(api: ChatApi, kinds: Sequence[Kind], chosen: Mapping[str, list[str] | None], names: tuple[str, ...],
          left_out: list[LeftOut]) -> tuple[LiveState, dict[str, list[str]]]:
    """Read the chosen objects of ``kinds`` (one stage); the ids named that cannot be of their kind go
    to ``left_out``. Returns what was read and the ids to write of each kind, in order."""
    every = {kind.name: _to_read(kind, names) for kind in kinds if chosen[kind.name] is None}
    reader = LiveReader(api, every=every, kinds=[kind.name for kind in kinds])
    ids: dict[str, list[str]] = {}
    try:
        for kind in kinds:
            for object_id in chosen[kind.name] or ():
                why = _why_not(kind, object_id)
                if why:
                    left_out.append(LeftOut(kind.name, object_id, why))
                    continue
                ids.setdefault(kind.name, []).append(object_id)
                reader.want(Wanted(kind.name, object_id, _to_read(kind, names)))
        live = reader.finish()
    finally:
        reader.cancel()
    for kind in kinds:
        every_one = chosen[kind.name] is None
        ids[kind.name] = list(live.listed.get(kind.name, [])) if every_one else ids.get(kind.name, [])
    return live, ids


def _to_read(kind: Kind, names: tuple[str, ...]) -> tuple[str, ...]:
    """The fields to read of an object of ``kind``: ``names`` for profile fields, else all its own."""
    if kind.fields is None:
        return names
    return tuple(name for name in kind.fields if name not in kind.settings)


def _why_not(kind: Kind, object_id: str) -> str | None:
    """Why ``object_id`` cannot be exported as ``kind``, or None."""
    if kind.export_problem is not None:
        return kind.export_problem(object_id)
    problem = kind.id_problem(object_id)
    return f"cannot be exported: {problem}" if problem else None


def _add_named(kind: Kind, named: Iterable[str], chosen: dict[str, list[str] | None], app: AppConfig) -> None:
    """Add the ids objects of ``kind`` name (``named``) to the objects of the lower-stage kind whose
    ids they are (the first that takes them), after those chosen, sorted; never the admin."""
    lower = [other for other in KINDS if other.stage < kind.stage]
    taken: dict[str, set[str]] = {}
    for object_id in set(named):
        if object_id == app.admin:
            continue
        owner = next((other for other in lower if _why_not(other, object_id) is None), None)
        if owner is not None:
            taken.setdefault(owner.name, set()).add(object_id)
    for name, ids in taken.items():
        if name in chosen and chosen[name] is None:
            continue  # every live one is written already
        have = chosen.get(name) or []
        chosen[name] = [*have, *sorted(ids - set(have))]


def _lines(kind: Kind, found: Principal, body: Mapping[str, Any] | None, names: Sequence[str],
           all_fields: bool) -> list[str]:
    """The lines of the body written of ``found``."""
    if body is not None:
        return list(canonical.values_body(body))
    if kind.fields is not None:
        own = {name: value for name, value in found.fields.items() if name not in kind.settings}
        return [line for _, line in canonical.body(own, "present", kind)]
    return [line for _, line in canonical.body(_profile(found, names, all_fields), "present")]


def exportable(app: AppConfig) -> tuple[str, ...]:
    """Every field an export of ``app`` can write: the standard fields, then the custom keys."""
    return (*(f.name for f in STANDARD), *(custom_name(key) for key in app.custom_fields))


def holds_value(name: str, value: Value) -> bool:
    """True when field ``name`` holds a value someone set: not its unset value (``""``, ``0``), and
    for an enum, not its first value (the API's default: ``unknown``, ``need_confirm``, ``none``)."""
    f = field_of(name)
    if value == f.unset:
        return False
    return not (f.kind == "enum" and value == f.names[0])


def _profile(principal: Principal, names: Sequence[str], all_fields: bool) -> dict[str, Value]:
    """The fields of ``principal`` to write: each of ``names`` read that is set (or every one, with
    ``all_fields``), if it is a value the config can hold (an enum chatsync does not know is not)."""
    profile: dict[str, Value] = {}
    for name in names:
        f = field_of(name)
        value = principal.fields.get(name, f.unset)
        if f.problem(value) is None and (all_fields or holds_value(name, value)):
            profile[name] = value
    return profile
