"""The live state: what the app holds, made of the same :class:`~chatsync.domain.model.Principal`
objects as the desired state (octoDNS style), and what a plan must read of it (:class:`Wanted`).

Pure data: the reads themselves are :mod:`chatsync.engine.read`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from chatsync.domain.kinds import BY_NAME
from chatsync.domain.model import DesiredState, Kind, Principal
from chatsync.domain.strategy import IMPORT_UPDATED


class Wanted(NamedTuple):
    """An object to look up: its existence, and the managed ``fields`` to read if it exists.

    A named tuple: a plan of 100,000 accounts makes as many, and a tuple is made several times
    faster than a frozen dataclass."""

    kind: Kind
    user_id: str
    fields: tuple[str, ...] = ()
    #: The declared object, when there is one: values read equal to its own are kept as its
    #: objects, not as copies (a plan of 100,000 accounts reads most of them unchanged).
    declared: Principal | None = None


@dataclass(init=False)
class LiveState:
    """What the app holds: the ids the API lists of each listed kind (in the order listed), and the
    wanted objects that exist.

    ``principals`` maps an address (``bot.<id>``, ``account.<id>``) to a live :class:`Principal`
    whose ``fields`` hold exactly the fields that were read. A wanted object missing from it does not
    exist.
    """

    listed: dict[Kind, list[str]]
    principals: dict[str, Principal] = field(default_factory=dict)

    def __init__(self, principals: dict[str, Principal] | None = None, *,
                 listed: dict[Kind, list[str]] | None = None) -> None:
        self.listed = {kind.name: [] for kind in BY_NAME.values() if kind.listed}
        self.listed.update(listed or {})
        self.principals = principals if principals is not None else {}
        self._sets: dict[Kind, tuple[list[str], frozenset[str]]] = {}

    def listed_set(self, kind: Kind) -> frozenset[str]:
        """The ids listed of ``kind`` as a set (built once per list), for lookups in constant time."""
        ids = self.listed.get(kind, [])
        cached = self._sets.get(kind)
        if cached is None or cached[0] is not ids:
            cached = (ids, frozenset(ids))
            self._sets[kind] = cached
        return cached[1]

    def get(self, kind: Kind, user_id: str) -> Principal | None:
        """The live object, or None when it does not exist. A listed object that was not wanted (a
        bot to prune) exists with no fields read."""
        found = self.principals.get(f"{kind}.{user_id}")
        if found is None and kind in self.listed and user_id in self.listed_set(kind):
            return Principal(kind, user_id)
        return found


def wanted_for(desired: DesiredState) -> list[Wanted]:
    """What a plan of ``desired`` must read: every declared object, with its managed fields. An
    account that declares any field ``multiaccount_import`` can update also has the others read, so
    that an update of those fields alone can go by that call without clearing any
    (:func:`chatsync.domain.strategy.import_update`); the read costs no extra call."""
    return [wanted_of(p) for p in desired.principals()]


@lru_cache(maxsize=4096)
def _fields_to_read(kind: Kind, names: tuple[str, ...]) -> tuple[str, ...]:
    """The fields to read of an object declaring ``names`` (one shared tuple per distinct list:
    most accounts declare the same few fields)."""
    if BY_NAME[kind].update_call == "multiaccount_import" and any(name in IMPORT_UPDATED for name in names):
        return names + tuple(name for name in IMPORT_UPDATED if name not in names)
    return names


def wanted_of(principal: Principal) -> Wanted:
    """What a plan must read of one declared object (see :func:`wanted_for`)."""
    fields = _fields_to_read(principal.kind, tuple(principal.fields)) if principal.state == "present" else ()
    return Wanted(principal.kind, principal.user_id, fields, principal)
