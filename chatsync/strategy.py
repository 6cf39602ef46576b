"""The call strategy: which API calls ``apply`` makes for each change (docs/contract.md §4).

One place, read by both the estimate (:mod:`chatsync.planner`) and the calls themselves
(:mod:`chatsync.applier`), so what a plan says an apply costs is what the apply does:

* a new bot: ``create_robot`` with the fields it carries (nick, face_url, self_signature), then one
  ``portrait_set`` for the rest, if any;
* a new account: ``multiaccount_import``, 100 a call, with the fields it carries (nick, face_url),
  then one ``portrait_set`` for the rest, if any;
* a changed object: one ``portrait_set`` with every changed field;
* a deleted bot: ``delete_robot``; a deleted account: ``account_delete``, 100 a call.

Which call carries which field is a column of the field table (:mod:`chatsync.fields`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from chatsync.fields import STANDARD, Value
from chatsync.plans import Change
from chatsync.tencent.endpoints import ENDPOINTS
from chatsync.tencent.limits import BATCH_MAX

#: Fields each creating call carries, from the field table.
CARRIED_BY: Mapping[str, frozenset[str]] = {
    "create_robot": frozenset(f.name for f in STANDARD if f.robot_key),
    "multiaccount_import": frozenset(f.name for f in STANDARD if f.import_key),
}
#: Calls that take up to 100 changes at once.
BATCHED = frozenset({"multiaccount_import", "account_delete"})


def first_call(change: Change) -> str:
    """The endpoint that makes ``change`` (for a create, the call before any ``portrait_set``)."""
    if change.action == "create":
        return "create_robot" if change.kind == "bot" else "multiaccount_import"
    if change.action == "update":
        return "portrait_set"
    return "delete_robot" if change.kind == "bot" else "account_delete"


def carried(change: Change) -> dict[str, Value]:
    """The fields :func:`first_call` sends."""
    after = dict(change.after or {})
    call = first_call(change)
    if call == "portrait_set":
        return after
    fields = CARRIED_BY.get(call, frozenset())
    return {name: value for name, value in after.items() if name in fields}


def later(change: Change) -> dict[str, Value]:
    """The fields a ``portrait_set`` after :func:`first_call` sets ({} when none is needed)."""
    call = first_call(change)
    if call not in CARRIED_BY:
        return {}
    fields = CARRIED_BY[call]
    return {name: value for name, value in (change.after or {}).items() if name not in fields}


def calls(changes: Iterable[Change]) -> dict[str, int]:
    """The API calls ``apply`` makes for ``changes``, per endpoint (the busy ones only)."""
    counts = dict.fromkeys(ENDPOINTS, 0)
    batched = dict.fromkeys(BATCHED, 0)
    for change in changes:
        call = first_call(change)
        if call in batched:
            batched[call] += 1
        else:
            counts[call] += 1
        if later(change):
            counts["portrait_set"] += 1
    for call, count in batched.items():
        counts[call] = math.ceil(count / BATCH_MAX)
    return {name: count for name, count in counts.items() if count}
