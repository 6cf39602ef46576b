"""What a kind of managed object is (:class:`Kind`); each kind is one instance, in its own module."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from chatsync.facts import limits
from chatsync.text.safe import quote

#: What to do about text that holds half of a UTF-16 surrogate pair.
SURROGATE_FIX = (
    "write the character itself, or escape it whole in double quotes (\\U0001F600, not a "
    "\\ud83d\\ude00 pair)"
)


@dataclass(frozen=True)
class Kind:
    """One kind of object chatsync manages, as every layer sees it."""

    #: The word in addresses (``bot.<id>``), plans and messages: ``bot``.
    name: str
    #: The config's top-level key that declares objects of this kind: ``bots``.
    section: str
    #: What the section holds, for the JSON Schema and editors.
    description: str
    #: The JSON Schema of an id (``$defs/<name>_id``): what an editor can check as the user types.
    id_schema: Mapping[str, Any]
    #: Why an id cannot be declared in :attr:`section`, or None; the message names the id.
    id_problem: Callable[[str], str | None]
    #: What a delete means, shown beside it after its reason (docs/contract.md §3).
    delete_note: str
    #: Where a delete of this kind stands among a plan's deletes (lower first).
    delete_rank: int
    #: The API calls that create and delete one (names of ``chatsync.facts.endpoints``).
    create_call: str
    delete_call: str
    #: A call that also updates an existing object's fields it carries (re-importing an account),
    #: used for an update when it costs fewer calls (:func:`chatsync.domain.strategy.import_update`).
    update_call: str | None = None
    #: A warning a plan with a delete of this kind carries (a delete that cannot be undone).
    delete_warning: str | None = None
    #: Kinds of a lower stage are written before those of a higher one, and deleted after them (a
    #: group names accounts: the accounts are created first and deleted last).
    stage: int = 0
    #: True when the API lists every live object of the kind, so undeclared ones are known.
    listed: bool = False
    #: The ``app:`` setting that deletes live objects no file declares (a listed kind only).
    prune_setting: str | None = None
    #: The most objects of this kind an app may hold, when the API caps it.
    max_present: int | None = None
    #: True when the kind's fields are profile fields (``chatsync.facts.fields``), read with
    #: ``portrait_get`` and written with ``portrait_set``.
    profile: bool = True
    #: True when ids are written double-quoted (``chatsync fmt``, export): ids YAML would read
    #: specially unquoted (``@RBT#...``: ``#`` starts a comment after a space).
    quote_ids: bool = False
    #: The JSON Schema of an object's body (``$defs/<name>``), for a kind of its own fields; None:
    #: a body of profile fields (``$defs/principal``).
    body_schema: Mapping[str, Any] | None = None
    #: A kind whose fields are its own (not :attr:`profile`): each name, in order, with ``text`` or
    #: ``uint32``.
    fields: Mapping[str, str] | None = None
    #: Fields declared but never read nor compared (how a change is made, not what the object holds).
    settings: tuple[str, ...] = ()
    #: Fields that hold a list of ids (:func:`list_ids`): plans show the ids added and removed.
    lists: tuple[str, ...] = ()
    #: Fields a change carries together: when one of them differs, each one declared goes in it.
    together: tuple[str, ...] = ()
    #: False for a kind a config summary leaves out when none is declared (``0 groups``).
    counted_when_none: bool = True
    #: Why an object cannot be created with this id and these fields (a group's id its service
    #: generates), or None: ``(id, fields) -> message``.
    create_id_problem: Callable[[str, Mapping[str, Any]], str | None] | None = None
    #: Fields a create must carry (a plan creating one without them is refused).
    required_at_create: tuple[str, ...] = ()
    #: Fields an object gets when it is created and can never change (a plan changing one is refused).
    create_only: tuple[str, ...] = ()
    #: What an update takes away that counts as a delete for the safety rules (a group's members):
    #: ``(before, after) -> ids``.
    removed: Callable[[Mapping[str, Any] | None, Mapping[str, Any] | None], tuple[str, ...]] | None = None
    #: What a change brings in (a group's new members): ``(before, after) -> ids``.
    added: Callable[[Mapping[str, Any] | None, Mapping[str, Any]], tuple[str, ...]] | None = None
    #: The calls one change of a kind not made of profile fields costs: ``(change, seen) -> counts``.
    calls: Callable[[Any, Mapping[str, Any] | None], Mapping[str, int]] | None = None
    #: True when a plan keeps the ids it saw listed (saved as ``observed.<section>``, compared again
    #: before an apply, counted against :attr:`max_present`); else it keeps only how many it saw.
    plan_keeps_ids: bool = False
    #: True when ``export`` writes every live object of this (listed) kind; a listed kind without it
    #: is exported whole only for a config that manages it (declares one, or prunes them), else the
    #: ids named.
    export_all: bool = False
    #: The body ``export`` writes of a live object of a kind of its own fields (each field as a config
    #: declares it, a list of ids as a list): ``fields -> body``.
    export_body: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None
    #: The ids of other objects an object names (a group's owner, admins and members): ``export``
    #: writes those too, as objects of the first kind of a lower :attr:`stage` that takes their ids.
    names: Callable[[Mapping[str, Any]], Iterable[str]] | None = None
    #: Why an id named to ``export`` cannot be exported as this kind (``is a bot id ...``), or None;
    #: without it, :attr:`id_problem` says.
    export_problem: Callable[[str], str | None] | None = None
    #: The setting that has the members a change brings in (:attr:`added`) announced (a group's
    #: ``notify``; ``plan --notify`` sets it on every object of the kind).
    notify_setting: str | None = None
    #: True when a live object holds part of what its create makes, and nothing else (a group
    #: created whose members are not all in yet): ``(planned fields, live fields) -> bool``. A saved
    #: plan then makes its create again, which goes on from where the object is.
    partly_made: Callable[[Mapping[str, Any], Mapping[str, Any]], bool] | None = None

    def address(self, object_id: str) -> str:
        """``bot.<id>``: how plans and reports name an object of this kind."""
        return f"{self.name}.{object_id}"

    def count(self, number: int) -> str:
        """``1 bot``, ``3 bots``."""
        return f"{number} {self.name}" if number == 1 else f"{number} {self.section}"


def list_ids(value: Any) -> list[str]:
    """The ids a list field holds: sorted, joined by newlines."""
    return [item for item in value.split("\n") if item] if isinstance(value, str) and value else []


def json_fields(kind: Kind, fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` as JSON shows them: each list field (:attr:`Kind.lists`) an array of its ids
    (``fields`` itself for a kind without lists)."""
    if not kind.lists:
        return fields
    return {name: list_ids(value) if name in kind.lists else value for name, value in fields.items()}


def joined_ids(value: Any, name: str) -> str:
    """A list field read back from JSON (an array of ids) as :func:`list_ids` reads it; ValueError
    for anything else."""
    if not isinstance(value, list) or not all(isinstance(item, str) and item and "\n" not in item
                                              for item in value):
        raise ValueError(f"{name} is not a list of ids")
    return "\n".join(value)


@dataclass(frozen=True)
class Moves:
    """What one change does to the lists of ids of an object: per list field it gives, the ids
    added and removed (a create adds them all); for a kind with members (:attr:`Kind.added`), who
    joins, who leaves, and whether those who join are announced (``notified``)."""

    added: dict[str, list[str]]
    removed: dict[str, list[str]]
    joins: tuple[str, ...] = ()
    leaves: tuple[str, ...] = ()
    notified: bool = False

    @property
    def data(self) -> dict[str, Any]:
        """The JSON form: ``added``, ``removed``, then ``joins``, ``leaves`` and ``notified``."""
        return {"added": self.added, "removed": self.removed, "joins": list(self.joins),
                "leaves": list(self.leaves), "notified": self.notified}


def moves(kind: Kind, action: Literal["create", "update", "delete"], before: Mapping[str, Any] | None,
          after: Mapping[str, Any] | None) -> Moves | None:
    """The :class:`Moves` of a change of ``kind`` (None for a kind without lists, or a delete)."""
    if not kind.lists or action == "delete" or after is None:
        return None
    old = before or {}
    added: dict[str, list[str]] = {}
    removed: dict[str, list[str]] = {}
    for name in after:
        if name in kind.lists:
            was = set(list_ids(old.get(name))) if action == "update" else set()
            now = set(list_ids(after[name]))
            added[name], removed[name] = sorted(now - was), sorted(was - now)
    joins = kind.added(before, after) if kind.added is not None else ()
    leaves = kind.removed(before, after) if kind.removed is not None and action == "update" else ()
    notified = bool(joins) and kind.notify_setting is not None and bool(after.get(kind.notify_setting))
    return Moves(added, removed, joins, leaves, notified)


def id_text_problem(kind: str, object_id: str) -> str | None:
    """Why ``object_id`` cannot be the id of any object (its encoding, its length), with the fix."""
    problem = limits.encoding_problem(object_id) or limits.user_id_problem(object_id)
    if problem is None:
        return None
    if "surrogate" in problem:
        fix = SURROGATE_FIX
    else:
        fix = "choose a shorter id" if "bytes long" in problem else "fix the id"
    return f"{kind} id {quote(object_id)} {problem}; {fix}"
