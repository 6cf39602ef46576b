"""Plan: the diff of the desired state and the live state, with safety checks, an estimate of the
apply's calls and time, and a fingerprint of what the plan saw (docs/contract.md §2-§4).

The diff compares managed fields only (a field left out of the config is never compared).
Deletes come from ``state: absent`` and, with ``prune_bots``, from live bots that are not declared;
protected ids and the admin are kept, and the plan says so. A plan lists its deletes first, then its
updates, then its creates (:func:`chatsync.domain.plan.review_order`), so no output can hide a delete.
:func:`plan` reads and diffs; :func:`diff` is the pure part, testable without any API.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chatsync.domain import strategy
from chatsync.domain.kinds import BY_NAME, KINDS, Kind, per_registry
from chatsync.domain.live import LiveState, Wanted
from chatsync.domain.model import DesiredState, Fields, Principal, differing, plain
from chatsync.domain.plan import Change, Estimate, Kept, Plan, review_order
from chatsync.engine.read import LiveReader, listings, read_live
from chatsync.facts.endpoints import ENDPOINTS
from chatsync.facts.fields import Value, field_of
from chatsync.tencent.api import ChatApi
from chatsync.tencent.pacing import HEADROOM


@per_registry
def own_integers() -> frozenset[str]:
    """Fields of kinds of their own fields (a group's) that hold an integer."""
    return frozenset(name for kind in KINDS for name, what in (kind.fields or {}).items() if what == "uint32")


def prune_reason(kind: Kind) -> str:
    """Why a live object of ``kind`` no file declares is deleted: ``not declared (prune_bots)``."""
    return f"not declared ({kind.prune_setting})"


def undeclared_reason(kind: Kind) -> str:
    """Why a live object of ``kind`` no file declares is kept (listed in the plan, never changed)."""
    return f"no file declares it; app.{kind.prune_setting} is off, so it stays as it is"




def plan(api: ChatApi, desired: DesiredState, endpoint: str, reader: LiveReader | None = None, *,
         notify: bool = False) -> Plan:
    """Read the live app (batched, read-only) and diff it against ``desired``; ``reader`` is one
    already reading every object ``desired`` declares (:mod:`chatsync.engine.prefetch`). With
    ``notify``, members added are announced (:func:`diff`)."""
    if reader is None:
        reader = LiveReader(api, listed=listings(desired.app))
        for principal in desired.principals():
            reader.declare(principal)
    live = reader.finish()
    return diff(desired, live, endpoint=endpoint, notify=notify)


def diff(desired: DesiredState, live: LiveState, *, endpoint: str, notify: bool = False) -> Plan:
    """The plan that turns ``live`` into ``desired``. With ``notify`` (``plan --notify``), every
    object of a kind with a :attr:`~Kind.notify_setting` has it on, as if each declared it (a
    group's ``notify: true``): the members its change adds are announced."""
    app = desired.app
    changes: list[Change] = []
    deletes: list[Change] = []
    kept: list[Kept] = []
    protected = frozenset(app.protected)  # looked up once per delete: a set, for linear plans
    for want in desired.principals():
        have = live.get(want.kind, want.user_id)
        setting = BY_NAME[want.kind].notify_setting if notify else None
        if setting is not None and want.present:
            want = dataclasses.replace(want, fields={**want.fields, setting: 1})
        if want.present:
            change = _create_or_update(want, have)
            if change is not None:
                changes.append(change)
        elif have is not None:
            _delete(want.kind, want.user_id, "state: absent", protected, app.admin, deletes, kept)
    for kind in KINDS:
        if not kind.prune_setting:
            continue
        declared, pruning = desired.of(kind.name), getattr(app, kind.prune_setting)
        reason = prune_reason(kind) if pruning else undeclared_reason(kind)
        for object_id in live.listed.get(kind.name, []):
            if object_id not in declared:
                if pruning:
                    _delete(kind.name, object_id, reason, protected, app.admin, deletes, kept)
                else:
                    kept.append(Kept(kind.name, object_id, reason))
    changes = review_order(changes + deletes, {app.admin, *protected})  # the risky changes first

    result = Plan(sdkappid=app.sdkappid, endpoint=endpoint, changes=changes, kept=kept,
                  admin=app.admin, secret_key_env=app.secret_key_env, rates=dict(app.rates),
                  protected=list(app.protected), max_deletes=app.max_deletes,
                  observed_ids=kept_listings(live), observed_objects=observed(changes, live),
                  observed_counts={kind: len(live.listed.get(kind, [])) for kind in sorted(listings(app))
                                   if not BY_NAME[kind].plan_keeps_ids})
    check_safety(result)
    calls = apply_calls(changes, result.observed_objects)
    result.estimate = Estimate(calls, _seconds(calls, app.rates))
    result.fingerprint = fingerprint(app.sdkappid, result.observed_ids, result.observed_objects)
    return result


def kept_listings(live: LiveState) -> dict[str, list[str]]:
    """The ids ``live`` lists of each kind whose ids a plan keeps (:attr:`Kind.plan_keeps_ids`)."""
    return {kind.name: list(live.listed.get(kind.name, [])) for kind in KINDS if kind.plan_keeps_ids}


def _create_or_update(want: Principal, have: Principal | None) -> Change | None:
    if have is None:
        return Change(want.kind, want.user_id, "create", None, want.fields)  # read-only: shared
    changed = differing(want.fields, have.fields)
    if not changed:
        return None
    kind = BY_NAME[want.kind]
    if kind.settings or kind.together:
        return _own_update(kind, want, have, changed)
    return Change(want.kind, want.user_id, "update",  # small read-only mappings (model.Fields)
                  Fields(changed, tuple(have.fields.get(name, unset(name)) for name in changed)),
                  Fields(changed, tuple(want.fields[name] for name in changed)))


def _own_update(kind: Kind, want: Principal, have: Principal, changed: tuple[str, ...]) -> Change | None:
    """An update of a kind with settings (never compared) and fields that go together (a group's
    owner, admins and members: each one declared goes in a change that changes one)."""
    names = [name for name in changed if name not in kind.settings]
    if not names:
        return None
    if any(name in kind.together for name in names):
        names = [name for name in want.fields if name in names or name in kind.together]
    before = {name: have.fields.get(name, unset(name)) for name in names}
    after = {name: want.fields[name] for name in names}
    after.update({name: want.fields[name] for name in kind.settings if name in want.fields})
    return Change(want.kind, want.user_id, "update", before, after)


def unset(name: str) -> Value:
    """What field ``name`` reads as when never set (``""``, or ``0`` for an integer field)."""
    try:
        return field_of(name).unset
    except KeyError:
        return 0 if name in own_integers() else ""


def _delete(kind: Any, user_id: str, reason: str, protected: frozenset[str], admin: str,
            deletes: list[Change], kept: list[Kept]) -> None:
    if user_id == admin:
        kept.append(Kept(kind, user_id, "the admin (app.admin) is never deleted"))
    elif user_id in protected:
        kept.append(Kept(kind, user_id, "listed in app.protected"))
    else:
        deletes.append(Change(kind, user_id, "delete", {}, None, reason))


def _count_after(result: Plan, kind: Kind, most: int) -> None:
    """An error when the app would hold more than ``most`` objects of ``kind`` after the plan, naming
    every one counted: those it creates, and the live ones, the undeclared among them apart (the
    usual surprise)."""
    created = {c.user_id for c in result.changes if c.kind == kind.name and c.action == "create"}
    deleted = {c.user_id for c in result.changes if c.kind == kind.name and c.action == "delete"}
    after = (set(result.observed(kind.name)) | created) - deleted
    if len(after) <= most:
        return
    kept_reason = undeclared_reason(kind) if kind.prune_setting else None
    undeclared = {k.user_id for k in result.kept if k.kind == kind.name and k.reason == kept_reason}
    live = [i for i in result.observed(kind.name) if i in after]
    parts = []
    if created & after:
        parts.append(f"{len(created & after)} to create ({_names(sorted(created & after))})")
    declared = [i for i in live if i not in undeclared]
    if declared:
        parts.append(f"{len(declared)} live and declared ({_names(declared)})")
    if undeclared & after:
        parts.append(f"{len(undeclared & after)} live that no file declares "
                     f"({_names([i for i in live if i in undeclared])})")
    fix = f", or set app.{kind.prune_setting}: true" if kind.prune_setting else ""
    result.errors.append(
        f"the app would have {len(after)} active {kind.section} after this plan; it may have at most {most}. "
        f"Counted: {'; '.join(parts)}. Declare some {kind.section} state: absent{fix}")


def check_safety(result: Plan) -> None:
    """Work out the plan's unsafe reasons, errors and warnings from its changes alone (a saved plan
    is checked again this way, so its own flags are never trusted)."""
    result.unsafe_reasons, result.errors, result.warnings = [], [], []
    counts = result.summary
    never = {result.admin, *result.protected}
    removals = 0
    for change in result.changes:
        removed = BY_NAME[change.kind].removed
        if change.action != "update" or removed is None:
            continue
        seen = result.observed_objects.get(change.address)
        gone = removed({**(seen or {}), **(change.before or {})}, change.after)
        removals += len(gone)
        for user_id in gone:
            if user_id in never:
                result.errors.append(
                    f"the plan removes {user_id!r} from {change.address}, which is protected (or the "
                    f"admin); declare it in the {change.kind}'s members, or take it out of app.protected")
    deleted = counts["delete"] + removals
    if deleted > result.max_deletes:
        what = f"{counts['delete']} objects" + (f" and removes {removals} members" if removals else "")
        result.unsafe_reasons.append(
            f"the plan deletes {what}, more than app.max_deletes "
            f"({result.max_deletes}); check the list, then pass --force (or raise app.max_deletes)"
        )
    for change in result.changes:
        if change.action == "delete" and change.user_id in never:
            result.errors.append(f"the plan deletes {change.address}, which is protected (or the admin)")
        missing = [name for name in BY_NAME[change.kind].required_at_create
                   if change.action == "create" and name not in (change.after or {})]
        if missing:
            result.errors.append(
                f"{change.address} does not exist, and creating it needs {' and '.join(missing)}: "
                f"declare {'them' if len(missing) > 1 else 'it'} (or check the id)")
        id_problem = BY_NAME[change.kind].create_id_problem
        if change.action == "create" and id_problem is not None:
            problem = id_problem(change.user_id, change.after or {})
            if problem:
                result.errors.append(f"{change.address} does not exist, and {problem}")
        for name in BY_NAME[change.kind].create_only:
            if change.action == "update" and name in (change.after or {}):
                result.errors.append(
                    f"{change.address}: {name} cannot change once it is made (it is "
                    f"{(change.before or {}).get(name)!r}, the config says {(change.after or {})[name]!r}); "
                    f"declare it as it is, or destroy the {change.kind} (state: absent) and create it again")
    for kind in KINDS:
        if kind.max_present is not None:
            _count_after(result, kind, kind.max_present)
    for kind in KINDS:
        if kind.prune_setting:
            _prune_share(result, kind)
    deleted_kinds = {c.kind for c in result.changes if c.action == "delete"}
    for kind in KINDS:
        if kind.delete_warning and kind.name in deleted_kinds:
            result.warnings.append(kind.delete_warning)


def _prune_share(result: Plan, kind: Kind) -> None:
    """Unsafe when pruning would delete most of the live objects of ``kind`` (a directory of them
    left out of the command, more likely than meant)."""
    reason = prune_reason(kind)
    pruned = sum(1 for c in result.changes
                 if c.action == "delete" and c.kind == kind.name and c.reason == reason)
    live = result.live_count(kind.name)
    if pruned > 1 and pruned * 2 > live:
        result.unsafe_reasons.append(
            f"{kind.prune_setting} would delete {pruned} of the app's {live} live {kind.section}: was a file "
            f"or directory of {kind.section} left out of the command (e.g. chatsync plan bots envs/dev)? If "
            "these deletes are meant, pass --force"
        )


def _names(ids: Iterable[str]) -> str:
    return ", ".join(json.dumps(i, ensure_ascii=False) for i in ids)


def apply_calls(changes: Iterable[Change], observed: strategy.Observed | None = None) -> dict[str, int]:
    """The API calls ``apply`` makes for ``changes``, given what the plan ``observed``, per endpoint
    (:func:`chatsync.domain.strategy.calls`)."""
    return strategy.calls(changes, observed)


def needs_portrait_after_import(change: Change) -> bool:
    """True when a new object has fields its creating call cannot carry (:mod:`chatsync.domain.strategy`)."""
    return bool(strategy.later(change))


def _seconds(calls: Mapping[str, int], rates: Mapping[str, int]) -> float:
    """Time of ``calls`` at the paced rates, endpoint after endpoint (an upper bound)."""
    return sum(count / (rates.get(name, ENDPOINTS[name].rate_per_second) * HEADROOM)
               for name, count in calls.items())


def observed(changes: Iterable[Change], live: LiveState,
             fields_of: Mapping[str, Iterable[str]] | None = None) -> dict[str, Mapping[str, Value] | None]:
    """What ``live`` holds of each object ``changes`` touch: None when it does not exist, else every
    managed field that was read (by default, all the live object carries: its read-only fields,
    shared, not copied)."""
    seen: dict[str, Mapping[str, Value] | None] = {}
    for change in changes:
        have = live.get(change.kind, change.user_id)
        if have is None:
            seen[change.address] = None
        elif fields_of is None:
            seen[change.address] = have.fields
        else:
            names = fields_of[change.address]
            seen[change.address] = {name: have.fields.get(name, unset(name)) for name in names}
    return seen


#: Objects serialised at a time by :func:`fingerprint` (its memory stays small on large plans).
FINGERPRINT_CHUNK = 1000


def fingerprint(sdkappid: int, listed: Mapping[str, Iterable[str]], seen: Mapping[str, Any]) -> str:
    """A digest of the live listings a plan keeps (``listed``: ids by kind name, the bots) and of
    what the plan saw of the objects it touches: the SHA-256 of the compact, key-sorted JSON of
    ``{"sdkappid", "<section>" (the ids of each kind listed, sorted: "bots"), "objects"}``.

    The JSON text is hashed a chunk of objects at a time, never built whole: the digest is the
    one of the whole text (every chunk is the same C-encoded text ``json.dumps`` makes of it)."""
    head: dict[str, Any] = {BY_NAME[kind].section: sorted(ids) for kind, ids in listed.items()}
    head["sdkappid"] = sdkappid
    digest = hashlib.sha256()
    digest.update(b"{")
    for number, key in enumerate(sorted([*head, "objects"])):
        digest.update((("," if number else "") + _compact(key) + ":").encode("utf-8"))
        if key != "objects":
            digest.update(_compact(head[key]).encode("utf-8"))
            continue
        digest.update(b"{")
        items = sorted(seen.items())
        for start in range(0, len(items), FINGERPRINT_CHUNK):
            chunk = _compact({address: None if seen is None else plain(seen)  # read-only mappings: dicts
                              for address, seen in items[start:start + FINGERPRINT_CHUNK]})[1:-1]  # no braces
            digest.update((("," if start else "") + chunk).encode("utf-8"))
        digest.update(b"}")
    digest.update(b"}")
    return "sha256:" + digest.hexdigest()


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@dataclass
class Recheck:
    """What a re-read of the live app says of a saved plan (:func:`recheck`).

    ``stale`` lists every difference that makes the plan no longer applicable ([] when it still
    is). Otherwise each change is still to do, or already done (``done``: nothing is sent for it),
    or, for a create, partly done (``remaining``: the object exists and holds what its creating
    call carries; the fields still to set follow by ``portrait_set``). A create its kind says is
    made in part (:attr:`~chatsync.domain.kinds.base.Kind.partly_made`: a group whose members are
    not all in) is still to do: made again, it recognises its object and goes on.
    """

    stale: list[str] = field(default_factory=list)
    done: frozenset[str] = frozenset()
    remaining: dict[str, dict[str, Value]] = field(default_factory=dict)


def recheck(api: ChatApi, saved: Plan) -> Recheck:
    """What changed in the live app since ``saved`` was made, and how much of the plan is done.

    Re-reads only the listings it keeps (the bot list) and the objects the plan touches (their
    existence, every managed field the plan saw, and the fields a create sets), and compares them
    with what the plan saw and with what the plan makes. The plan stays applicable while every
    object is either as the plan saw it (its change is still to do) or as the plan makes it (done),
    field by field: a create is partly done when the object holds, in each field, either the
    planned value or, for a field its creating call does not carry, the unset value; an update,
    when each changed field holds its before or its after (and every field the plan saw but does
    not change is as seen); a delete is done when the object is gone. A listing kept (the bot list)
    may differ from what the plan saw only by the plan's own creates and deletes of that kind.
    Anything else (a third value, an object another writer created or deleted) makes the plan stale
    (docs/contract.md §4).
    """
    fields_of = {address: tuple(seen or {}) for address, seen in saved.observed_objects.items()}
    wanted = [Wanted(c.kind, c.user_id, tuple(c.after or ()) if c.action == "create"
                     else fields_of.get(c.address, ())) for c in saved.changes]
    live = read_live(api, wanted, listed=list(saved.observed_ids))
    now = observed(saved.changes, live, fields_of)
    if fingerprint(saved.sdkappid, kept_listings(live), now) == saved.fingerprint:
        return Recheck()  # as the plan saw it: every change is still to do
    return _progress(saved, live)


def _progress(saved: Plan, live: LiveState) -> Recheck:
    """:func:`recheck` once the live app differs from what the plan saw: done, partly done or stale."""
    found = [found for kind in saved.observed_ids for found in _listing_differences(saved, live, kind)]
    done: set[str] = set()
    remaining: dict[str, dict[str, Value]] = {}
    for change in saved.changes:
        have = live.get(change.kind, change.user_id)
        seen = saved.observed_objects.get(change.address)
        if change.action == "create":
            partly_made = BY_NAME[change.kind].partly_made
            if have is not None and partly_made is not None and partly_made(change.after or {}, have.fields):
                continue  # made in part (a group without all its members): its create goes on from there
            if have is not None:
                rest = _create_left(change, have.fields, found)
                if rest is None:
                    continue
                if rest:
                    remaining[change.address] = rest
                else:
                    done.add(change.address)
        elif have is None:
            if change.action == "delete":
                done.add(change.address)
            else:
                found.append(f"{change.address}: is gone now (the plan expected an object)")
        elif _update_done(change, seen or {}, have.fields, found):
            done.add(change.address)
    if found:
        return Recheck(stale=found)
    return Recheck(done=frozenset(done), remaining=remaining)


def _listing_differences(saved: Plan, live: LiveState, kind: str) -> list[str]:
    """Objects of ``kind`` (one whose listing the plan keeps: bots) that appeared or disappeared
    other than by the plan's own creates and deletes."""
    before, current = set(saved.observed(kind)), set(live.listed.get(kind, []))
    ours = {c.user_id: c.action for c in saved.changes if c.kind == kind}
    return ([f"{kind} list: {i!r} appeared" for i in sorted(current - before) if ours.get(i) != "create"]
            + [f"{kind} list: {i!r} disappeared" for i in sorted(before - current)
               if ours.get(i) != "delete"])


def _create_left(change: Change, now: Mapping[str, Value], found: list[str]) -> dict[str, Value] | None:
    """For a create whose object exists: the fields still to set ({} when done), or None when it
    holds a value the plan's creating call and ``portrait_set`` would never leave (noted in ``found``)."""
    later = strategy.later(change)
    rest: dict[str, Value] = {}
    wrong = []
    settings = BY_NAME[change.kind].settings
    for name, value in (change.after or {}).items():
        if name in settings:
            continue
        is_now = now.get(name, unset(name))
        if is_now == value:
            continue
        if name in later and is_now == unset(name):
            rest[name] = value
        else:
            wrong.append(f"{name} is {is_now!r}, the plan sets {value!r}")
    if wrong:
        found.append(f"{change.address}: exists now (the plan expected no object); " + "; ".join(wrong))
        return None
    return rest


def _update_done(change: Change, seen: Mapping[str, Value], now: Mapping[str, Value],
                 found: list[str]) -> bool:
    """For an update or delete whose object exists: True when every field it changes already holds
    the planned value; differences (a third value, or a field the plan saw but does not change
    that is no longer as seen) go to ``found``."""
    after = change.after or {}
    done = bool(after)
    for name, value in {**(change.before or {}), **seen}.items():
        is_now = now.get(name, unset(name))
        if is_now == value:
            done = done and name not in after
        elif name in after and is_now == after[name]:
            continue
        else:
            found.append(f"{change.address}: {name} was {value!r} when planned, is {is_now!r} now")
            done = False
    return done and change.action == "update"


def tampered(saved: Plan) -> bool:
    """True when a saved plan's contents no longer match its own fingerprint and observations."""
    if fingerprint(saved.sdkappid, saved.observed_ids, saved.observed_objects) != saved.fingerprint:
        return True
    if set(saved.observed_objects) != {change.address for change in saved.changes}:
        return True
    for change in saved.changes:
        if change.address not in saved.observed_objects:
            return True
        seen = saved.observed_objects[change.address]
        if (change.action == "create") != (seen is None):
            return True
        if change.action == "update" and seen is not None and any(
                seen.get(k, unset(k)) != v for k, v in (change.before or {}).items()):
            return True
    return False
