"""Each kind's own config checks (:class:`KindChecks`), for a kind of its own fields (not profile
fields): how an entry's body becomes its fields, the rules of one body beyond the schema, and the
rules across files. Groups have theirs (:mod:`chatsync.config.groups`); a kind of its own fields
with none has :class:`OwnFields` (each field of the right type, no other rule); a profile kind
(bots, accounts) has the profile checks they share (:mod:`chatsync.config.semantic`).

The loader and the semantic checks ask :func:`checks_of`, so they name no kind; a kind added
while a program runs brings its checks with it (``chatsync.engine.kinds.register``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from chatsync.config import groups
from chatsync.config.yaml_loader import YMap
from chatsync.domain.kinds import Kind
from chatsync.domain.model import AppConfig, Principal
from chatsync.domain.origins import Override
from chatsync.errors import Location, Problem
from chatsync.facts.fields import Value


class KindChecks(Protocol):
    """The config checks of one kind of its own fields."""

    @property
    def kind(self) -> Kind:
        """The kind checked."""

    def fields(self, body: YMap) -> dict[str, Value]:
        """The fields of one entry's body whose values have the right type (the schema reports the
        others)."""

    def body_problems(self, file: str, object_id: str, body: YMap, *,
                      whole: bool = True) -> Iterable[Problem]:
        """The problems of one entry's body that need nothing else (its types are the schema's).
        An override's body is not ``whole``: rules that need fields it does not give are left to
        the object it makes."""

    def reference_problems(self, declared: Mapping[str, Principal],
                           objects: Mapping[str, Mapping[str, Principal]], app: AppConfig,
                           overrides: Mapping[str, Override] | None = None) -> Iterable[Problem]:
        """The problems of the ``declared`` objects of this kind that need the whole config:
        ``objects`` holds every declared object by kind name, then by id; ``overrides`` the
        overrides that changed them, by address (to locate a field an override gave)."""

    def settled(self, fields: Mapping[str, Value]) -> dict[str, Value]:
        """The fields of an object an override made (the declared ones with the override's), made
        consistent where the kind's fields depend on one another (a group's roles)."""

    def merged_problems(self, base: Principal, merged: Principal, where: Mapping[str, Location],
                        here: Location) -> Iterable[Problem]:
        """The rules broken by the object an override made (``merged``, from ``base`` and the
        override at ``here``, whose fields are at ``where``) and not by the declaration alone."""


@dataclass(frozen=True)
class OwnFields:
    """The checks of a kind of its own fields that needs no rule beyond its schema: each field its
    table (:attr:`Kind.fields <chatsync.domain.kinds.Kind.fields>`) names, when of the right type."""

    kind: Kind

    def fields(self, body: YMap) -> dict[str, Value]:
        found: dict[str, Value] = {}
        for name, what in (self.kind.fields or {}).items():
            value = body.get(name)
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                continue
            if (what == "uint32") == isinstance(value, int):
                found[name] = value
        return found

    def body_problems(self, file: str, object_id: str, body: YMap, *,
                      whole: bool = True) -> Iterable[Problem]:
        return ()

    def reference_problems(self, declared: Mapping[str, Principal],
                           objects: Mapping[str, Mapping[str, Principal]], app: AppConfig,
                           overrides: Mapping[str, Override] | None = None) -> Iterable[Problem]:
        return ()

    def settled(self, fields: Mapping[str, Value]) -> dict[str, Value]:
        return dict(fields)

    def merged_problems(self, base: Principal, merged: Principal, where: Mapping[str, Location],
                        here: Location) -> Iterable[Problem]:
        return ()


#: The kinds with checks of their own, by kind name.
CHECKS: dict[str, KindChecks] = {checks.kind.name: checks for checks in (groups.CHECKS,)}


def checks_of(kind: Kind) -> KindChecks | None:
    """The checks of ``kind``; None for a profile kind (the profile checks are every such kind's)."""
    if kind.profile:
        return None
    return CHECKS.get(kind.name) or OwnFields(kind)
