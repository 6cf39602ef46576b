"""The value objects chatsync reasons about: bots, accounts, the app settings and a desired state.

Desired state (read from YAML) and live state (read from the API) are made of the same
:class:`Principal` objects, so planning is a plain comparison of two of them (octoDNS style).
A profile field that is absent from :attr:`Principal.fields` is *unmanaged*: never compared,
never changed. A field present with ``""`` is managed and must be empty. Field names and values
follow the field table (:mod:`chatsync.facts.fields`): integers for integer fields, an enum's YAML name
for enum fields, and ``custom.Key`` for each custom key.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, Mapping, ValuesView
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from chatsync.domain.kinds import BY_NAME, KINDS
from chatsync.domain.origins import Origins
from chatsync.errors import Location
from chatsync.facts.fields import TAGS, Value, is_field, ordered
from chatsync.facts.limits import DEFAULT_ADMIN
from chatsync.facts.regions import DEFAULT_REGION

#: Config field name -> Tencent standard profile tag (docs/profile-fields.md), from the field table.
PROFILE_FIELDS: dict[str, str] = dict(TAGS)

DEFAULT_SECRET_KEY_ENV = "CHATSYNC_SECRET_KEY"
DEFAULT_MAX_DELETES = 10

#: The name of a kind of object (``bot``, ``account``): a key of :data:`chatsync.domain.kinds.BY_NAME`.
Kind = str
State = Literal["present", "absent"]


class Fields(Mapping[str, Value]):
    """The managed fields of a principal: read-only, in the field table's order, and small.

    A config of 100,000 accounts holds 100,000 of these (and a plan as many again of what it
    read), so each holds only a tuple of its values; the tuple of names is one object shared by
    every principal that manages the same fields. It compares equal to any mapping with the same
    items, as a dict does.
    """

    __slots__ = ("_names", "_values")

    def __init__(self, names: tuple[str, ...], values: tuple[Value, ...]) -> None:
        self._names = _NAMES.setdefault(names, names)
        self._values = values

    def __getitem__(self, name: str) -> Value:
        try:
            return self._values[self._names.index(name)]
        except ValueError:
            raise KeyError(name) from None

    def get(self, name: str, default: Any = None) -> Any:
        names = self._names
        return self._values[names.index(name)] if name in names else default

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def items(self) -> ItemsView[str, Value]:
        return _Items(self)

    def values(self) -> ValuesView[Value]:
        return _Values(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Fields) and self._names is other._names:
            return self._values == other._values
        if isinstance(other, Mapping):
            return dict(zip(self._names, self._values, strict=True)) == dict(other.items())
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # like a dict's: equal to mappings, so not hashable

    def __repr__(self) -> str:
        return repr(dict(zip(self._names, self._values, strict=True)))


def plain(fields: Mapping[str, Value]) -> dict[str, Value]:
    """``fields`` as a dict (for JSON): from the two tuples of :class:`Fields` at once."""
    if isinstance(fields, Fields):
        return dict(zip(fields._names, fields._values, strict=True))
    return dict(fields)


def differing(fields: Mapping[str, Value], other: Mapping[str, Value]) -> tuple[str, ...]:
    """The names of ``fields`` whose value ``other`` does not hold (another value, or none), in
    order: one comparison of two tuples when both are :class:`Fields` with the same names and the
    same values (a plan reads most objects unchanged)."""
    if isinstance(fields, Fields) and isinstance(other, Fields) and fields._names is other._names:
        if fields._values == other._values:
            return ()
        pairs = zip(fields._names, fields._values, other._values, strict=True)
        return tuple(name for name, mine, theirs in pairs if mine != theirs)
    return tuple(name for name, value in fields.items() if name not in other or other[name] != value)


class _Items(ItemsView[str, Value]):
    _mapping: Fields

    def __iter__(self) -> Iterator[tuple[str, Value]]:
        fields = self._mapping
        return zip(fields._names, fields._values, strict=True)


class _Values(ValuesView[Value]):
    _mapping: Fields

    def __iter__(self) -> Iterator[Value]:
        return iter(self._mapping._values)


#: One tuple of names per distinct set of managed fields (a config repeats a few sets).
_NAMES: dict[tuple[str, ...], tuple[str, ...]] = {}
#: A kind's own fields in its order, by the kind and the names as given (in the order given: the
#: config and the reads give a few orders, each met thousands of times), checked once each.
_OWN_NAMES: dict[tuple[str, ...], tuple[str, ...]] = {}
_OWN_NAMES_MAX = 4096
#: The fields of every principal without any (one shared object, not one each).
_NO_FIELDS = Fields((), ())


def _frozen_fields(fields: Mapping[str, Value], kind: Kind = "") -> Fields:
    if isinstance(fields, Fields):
        return fields
    if not fields:
        return _NO_FIELDS
    own = BY_NAME[kind].fields if kind in BY_NAME else None
    if own is not None:  # a kind of its own fields (a group's)
        written = (kind, *fields)
        names = _OWN_NAMES.get(written)
        if names is None:
            unknown = [name for name in fields if name not in own]
            if unknown:
                raise ValueError(f"unknown {kind} field(s): {', '.join(sorted(unknown))}")
            names = tuple(name for name in own if name in fields)
            if len(_OWN_NAMES) < _OWN_NAMES_MAX:
                _OWN_NAMES[written] = names
        return Fields(names, tuple(map(fields.__getitem__, names)))
    if all(name in PROFILE_FIELDS for name in fields):  # the common case, kept fast
        names = tuple(name for name in PROFILE_FIELDS if name in fields)
    else:
        unknown = [name for name in fields if not is_field(name)]
        if unknown:
            raise ValueError(f"unknown profile field(s): {', '.join(sorted(unknown))}")
        names = tuple(ordered(fields))
    return Fields(names, tuple(fields[name] for name in names))


@dataclass(frozen=True, slots=True)
class Principal:
    """A bot or an ordinary account: its UserID, the profile fields chatsync manages, its state."""

    kind: Kind
    user_id: str
    fields: Mapping[str, Value] = field(default_factory=dict)
    state: State = "present"
    location: Location | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in BY_NAME:
            raise ValueError(f"kind must be one of {', '.join(map(repr, BY_NAME))}, not {self.kind!r}")
        if self.state not in ("present", "absent"):
            raise ValueError(f"state must be 'present' or 'absent', not {self.state!r}")
        object.__setattr__(self, "fields", _frozen_fields(self.fields, self.kind))

    def __hash__(self) -> int:
        return hash((self.kind, self.user_id, self.state, tuple(self.fields.items())))

    @property
    def address(self) -> str:
        """The stable address used in plans, e.g. ``bot.@RBT#support`` or ``account.alice``."""
        return f"{self.kind}.{self.user_id}"

    @property
    def present(self) -> bool:
        """True unless the principal is declared ``state: absent``."""
        return self.state == "present"

    @property
    def data(self) -> dict[str, Any]:
        """A plain, JSON-ready dict: kind, user_id, state and the managed fields."""
        return {
            "kind": self.kind,
            "user_id": self.user_id,
            "state": self.state,
            "fields": plain(self.fields),
        }


@dataclass(frozen=True)
class AppConfig:
    """The ``app:`` section: which app to manage, how to reach it, and the safety settings."""

    sdkappid: int
    region: str = DEFAULT_REGION
    endpoint: str | None = None
    admin: str = DEFAULT_ADMIN
    secret_key_env: str = DEFAULT_SECRET_KEY_ENV
    prune_bots: bool = False
    #: Destroy live groups that no file declares.
    prune_groups: bool = False
    protected: tuple[str, ...] = ()
    max_deletes: int = DEFAULT_MAX_DELETES
    #: Custom profile keys the app has configured in the console (``app.custom_fields``).
    custom_fields: tuple[str, ...] = ()
    #: Per-endpoint rate overrides (calls per second), keyed by ``chatsync.facts.endpoints`` name.
    rates: Mapping[str, int] = field(default_factory=dict)
    location: Location | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "protected", tuple(self.protected))
        object.__setattr__(self, "custom_fields", tuple(self.custom_fields))
        object.__setattr__(self, "rates", MappingProxyType(dict(self.rates)))

    def __hash__(self) -> int:
        return hash((self.sdkappid, self.region, self.endpoint, self.admin, self.protected))

    @property
    def protected_ids(self) -> frozenset[str]:
        """Ids chatsync never deletes: ``protected`` plus the admin, which always is."""
        return frozenset((*self.protected, self.admin))


class DesiredState:
    """Everything the YAML files declare: the app, and the objects of each kind (in file order).

    :attr:`objects` maps each kind's name (:data:`~chatsync.domain.kinds.KINDS`) to its declared
    objects by id: ``DesiredState(app, objects={"bot": {...}, "account": {...}})``, or, for the
    first two kinds, ``DesiredState(app, bots, accounts)``.
    """

    def __init__(self, app: AppConfig, bots: Mapping[str, Principal] | None = None,
                 accounts: Mapping[str, Principal] | None = None, sources: tuple[str, ...] = (), *,
                 objects: Mapping[str, Mapping[str, Principal]] | None = None,
                 origins: Origins | None = None) -> None:
        self.app = app
        self.sources = tuple(sources)
        #: Where app settings and overrides came from (``chatsync validate --show``); plans ignore it.
        self.origins = origins if origins is not None else Origins()
        given = dict(objects or {})
        if bots is not None:  # the two first kinds, as the API has always taken them
            given["bot"] = bots
        if accounts is not None:
            given["account"] = accounts
        unknown = sorted(set(given) - {kind.name for kind in KINDS})
        if unknown:
            raise TypeError(f"DesiredState() got objects of an unknown kind: {unknown[0]!r}")
        self.objects: dict[str, dict[str, Principal]] = {k.name: dict(given.get(k.name, {})) for k in KINDS}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DesiredState):
            return NotImplemented
        return (self.app, self.objects, self.sources) == (other.app, other.objects, other.sources)

    def __repr__(self) -> str:
        counts = ", ".join(f"{kind.section}={len(self.objects[kind.name])}" for kind in KINDS)
        return f"DesiredState(app={self.app!r}, {counts}, sources={self.sources!r})"

    __hash__ = None  # type: ignore[assignment]  # mutable

    def of(self, kind: str) -> dict[str, Principal]:
        """The declared objects of ``kind`` (its name), by id."""
        return self.objects[kind]

    @property
    def bots(self) -> dict[str, Principal]:
        """The declared bots, by id."""
        return self.objects["bot"]

    @property
    def accounts(self) -> dict[str, Principal]:
        """The declared accounts, by id."""
        return self.objects["account"]

    def principals(self) -> Iterator[Principal]:
        """Every declared object: kind by kind (:data:`~chatsync.domain.kinds.KINDS`), each in
        declaration order."""
        for declared in self.objects.values():
            yield from declared.values()

    @property
    def bot_count(self) -> int:
        """Bots declared (present or absent)."""
        return len(self.bots)

    @property
    def account_count(self) -> int:
        """Accounts declared (present or absent)."""
        return len(self.accounts)

    @property
    def deletion_count(self) -> int:
        """Objects declared ``state: absent``."""
        return sum(1 for p in self.principals() if not p.present)

    def summary(self) -> str:
        """One line for humans, e.g. ``1 app, 3 bots, 120 accounts (2 to delete) in 4 files``."""
        files = len(self.sources)
        counts = ", ".join(kind.count(len(self.objects[kind.name])) for kind in KINDS
                           if kind.counted_when_none or self.objects[kind.name])
        return f"1 app, {counts} ({self.deletion_count} to delete) in {_plural(files, 'file')}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
