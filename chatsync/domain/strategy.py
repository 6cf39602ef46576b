"""The call strategy: which API calls ``apply`` makes for each change (docs/contract.md §4).

One place, read by both the estimate (:mod:`chatsync.engine.plan`) and the calls themselves
(:mod:`chatsync.engine.apply`), so what a plan says an apply costs is what the apply does:

* a new bot: ``create_robot`` with the fields it carries (nick, face_url, self_signature), then one
  ``portrait_set`` for the rest, if any;
* a new account: ``multiaccount_import``, 100 a call, with the fields it carries (nick, face_url),
  then one ``portrait_set`` for the rest, if any;
* a changed account whose changed fields are all carried by ``multiaccount_import`` (nick,
  face_url), and whose other carried fields were read by the plan: ``multiaccount_import``, 100 a
  call, sending every carried field (the changed ones with their new values, the others with the
  values read, so nothing is cleared), read back with the rest (below); an account whose values did
  not take gets the ``portrait_set`` it would have had (docs/tencent-api.md §5.2: the import
  updates an existing account's Nick and FaceUrl, but chatsync never trusts that without reading
  it back);
* any other changed object: one ``portrait_set`` with every changed field;
* a deleted bot: ``delete_robot``; a deleted account: ``account_delete``, 100 a call;
* once every write is made: ``portrait_get``, 100 a call, of every object whose fields were set
  (created with fields, or updated), to read back what was written (a field another writer
  changed meanwhile fails its change).

Which call carries which field is a column of the field table (:mod:`chatsync.facts.fields`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from functools import lru_cache

from chatsync.domain.kinds import BY_NAME
from chatsync.domain.plan import Change
from chatsync.facts.endpoints import ENDPOINTS
from chatsync.facts.fields import STANDARD, Value, ordered
from chatsync.facts.limits import BATCH_MAX

#: Fields each creating call carries, from the field table.
CARRIED_BY: Mapping[str, frozenset[str]] = {
    "create_robot": frozenset(f.name for f in STANDARD if f.robot_key),
    "multiaccount_import": frozenset(f.name for f in STANDARD if f.import_key),
}
#: Calls that take up to 100 changes at once.
BATCHED = frozenset({"multiaccount_import", "account_delete"})
#: The fields an update by ``multiaccount_import`` sends (all of them, so none is cleared).
IMPORT_UPDATED: tuple[str, ...] = tuple(ordered(CARRIED_BY["multiaccount_import"]))
#: What the plan saw of each object it touches, by address (``Plan.observed_objects``).
Observed = Mapping[str, Mapping[str, Value] | None]


def import_update(change: Change, seen: Mapping[str, Value] | None) -> dict[str, Value] | None:
    """The fields a ``multiaccount_import`` update of ``change`` sends, or None when ``change`` is
    not made that way: it must update an existing account, change only fields the import carries,
    and ``seen`` (what the plan read of it) must hold the current value of every other one."""
    if (change.action != "update" or not change.after or seen is None
            or BY_NAME[change.kind].update_call != "multiaccount_import"):
        return None
    after = change.after
    if any(name not in CARRIED_BY["multiaccount_import"] for name in after):
        return None
    sent: dict[str, Value] = {}
    for name in IMPORT_UPDATED:
        if name in after:
            sent[name] = after[name]
        elif name in seen:
            sent[name] = seen[name]
        else:
            return None  # not read: sending nothing for it could clear it
    return sent


def first_call(change: Change, seen: Mapping[str, Value] | None = None) -> str:
    """The endpoint that makes ``change`` (for a create, the call before any ``portrait_set``);
    ``seen`` is what the plan read of the object (without it an update is a ``portrait_set``)."""
    if change.action == "create":
        return _creating_call(change.kind)
    if change.action == "update":
        return "multiaccount_import" if import_update(change, seen) is not None else "portrait_set"
    return BY_NAME[change.kind].delete_call


def carried(change: Change) -> dict[str, Value]:
    """The fields :func:`first_call` sends for a create or delete (for an update made by
    ``multiaccount_import``, :func:`import_update`; for any other update, every changed field)."""
    after = dict(change.after or {})
    call = first_call(change)
    if call == "portrait_set":
        return after
    fields = CARRIED_BY.get(call, frozenset())
    return {name: value for name, value in after.items() if name in fields}


def later(change: Change) -> dict[str, Value]:
    """The fields a ``portrait_set`` after :func:`first_call` sets ({} when none is needed)."""
    if change.action != "create":
        return {}
    call = first_call(change)
    if call not in CARRIED_BY:
        return {}
    fields = CARRIED_BY[call]
    return {name: value for name, value in (change.after or {}).items() if name not in fields}


def _creating_call(kind: str) -> str:
    """The call that creates an object of ``kind``."""
    return BY_NAME[kind].create_call


@lru_cache(maxsize=256)
def _sets_later(kind: str, names: tuple[str, ...]) -> bool:
    """True when a create of ``kind`` with fields ``names`` needs a ``portrait_set`` after its first
    call (:func:`later`, decided once per set of names: most creates declare the same few)."""
    carried_by = CARRIED_BY[_creating_call(kind)]
    return any(name not in carried_by for name in names)


def calls(changes: Iterable[Change], observed: Observed | None = None) -> dict[str, int]:
    """The API calls ``apply`` makes for ``changes``, per endpoint (the busy ones only), given what
    the plan ``observed`` (without it, every update is a ``portrait_set``). Updates by import go in
    batches of their own. Every object whose fields are set is read back at the end, 100 a
    ``portrait_get``; an update by import whose values did not take costs one more ``portrait_set``
    and read, which are not counted (they are not expected)."""
    counts = dict.fromkeys(ENDPOINTS, 0)
    batched = dict.fromkeys(BATCHED, 0)
    import_updates = written = 0
    seen_of = observed or {}
    for change in changes:
        own = BY_NAME[change.kind].calls
        if own is not None:  # a kind of its own calls (a group)
            for name, count in own(change, seen_of.get(change.address)).items():
                counts[name] += count
            continue
        if change.action != "delete" and change.after:
            written += 1
        call = first_call(change, seen_of.get(change.address))
        if change.action == "update" and call == "multiaccount_import":
            import_updates += 1
            continue
        if call in batched:
            batched[call] += 1
        else:
            counts[call] += 1
        if change.action == "create" and _sets_later(change.kind, tuple(change.after or ())):
            counts["portrait_set"] += 1
    for call, count in batched.items():
        counts[call] = math.ceil(count / BATCH_MAX)
    counts["multiaccount_import"] += math.ceil(import_updates / BATCH_MAX)
    counts["portrait_get"] += math.ceil(written / BATCH_MAX)
    return {name: count for name, count in counts.items() if count}
