"""A plan: the changes that make the live app match the desired state, and what it knows about them.

Value objects only (octoDNS style): :class:`Change`, :class:`Kept` and :class:`Plan` each carry a
``.data`` dict that is exactly their JSON form (docs/contract.md §3), so every renderer and the saved-plan
file read the same thing, and :func:`Plan.from_data` reads a saved plan back. Building a plan is
:mod:`chatsync.engine.plan`'s job; this module only holds and serialises it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from chatsync.domain.kinds import BY_NAME, KINDS
from chatsync.domain.kinds.base import joined_ids, json_fields, moves
from chatsync.domain.model import DEFAULT_MAX_DELETES, DEFAULT_SECRET_KEY_ENV, AppConfig, Kind, plain
from chatsync.errors import PlanFileError
from chatsync.facts.endpoints import ENDPOINTS
from chatsync.facts.fields import Value, field_of
from chatsync.facts.limits import DEFAULT_ADMIN

#: The plan file's format: 2 writes a list of ids (a group's members) as a JSON array; a file of
#: format 1 (the same, but such lists as one newline-joined string) is still read.
FORMAT_VERSION = "2"
READABLE_VERSIONS = ("1", FORMAT_VERSION)
#: The keys of a change's JSON form that say what it does to lists of ids (worked out from ``before``
#: and ``after``; :func:`chatsync.domain.kinds.base.moves`).
MOVES_KEYS = ("added", "removed", "joins", "leaves", "notified")
ACTIONS = ("create", "update", "delete")
Action = Literal["create", "update", "delete"]

#: Where each action stands in a plan: deletes first, then updates, then creates (docs/contract.md §3).
#: A reviewer reads the risky changes before any cut of a long plan can hide them.
REVIEW_ORDER = {"delete": 1, "update": 2, "create": 3}


@dataclass(frozen=True, slots=True)
class Change:
    """One object to create, update or delete, with the managed fields before and after.

    ``before`` is None for a create; for an update it holds the old values of the changed fields
    only, and ``after`` their new values; for a delete ``before`` holds what is known of the live
    object and ``after`` is None. ``reason`` says why a delete was planned.
    """

    kind: Kind
    user_id: str
    action: Action
    before: Mapping[str, Value] | None
    after: Mapping[str, Value] | None
    reason: str = ""

    @property
    def address(self) -> str:
        """``bot.<id>`` or ``account.<id>``."""
        return f"{self.kind}.{self.user_id}"

    @property
    def note(self) -> str:
        """The remark shown beside a delete: why, and what it means ('' for other changes)."""
        if self.action != "delete":
            return ""
        note = BY_NAME[self.kind].delete_note
        return f"{self.reason}; {note}" if self.reason else note

    @property
    def data(self) -> dict[str, Any]:
        """The JSON form (docs/contract.md §3): lists of ids as arrays, and for a kind with such
        lists what the change does to them (:data:`MOVES_KEYS`)."""
        kind = BY_NAME[self.kind]
        data: dict[str, Any] = {
            "address": self.address,
            "kind": self.kind,
            "user_id": self.user_id,
            "action": self.action,
            "before": None if self.before is None else json_fields(kind, plain(self.before)),
            "after": None if self.after is None else json_fields(kind, plain(self.after)),
        }
        if self.reason:
            data["reason"] = self.reason
        moved = moves(kind, self.action, self.before, self.after)
        if moved is not None:
            data.update(moved.data)
        return data


@dataclass(frozen=True, slots=True)
class Kept:
    """An object chatsync keeps that a plan could delete, and why: a protected id, or a live bot no
    file declares while ``app.prune_bots`` is off."""

    kind: Kind
    user_id: str
    reason: str

    @property
    def address(self) -> str:
        """``bot.<id>`` or ``account.<id>``."""
        return f"{self.kind}.{self.user_id}"

    @property
    def data(self) -> dict[str, Any]:
        """The JSON form."""
        return {"address": self.address, "kind": self.kind, "user_id": self.user_id, "reason": self.reason}


@dataclass(frozen=True)
class Estimate:
    """What applying the plan costs: API calls per endpoint, and seconds at the paced rates."""

    calls: Mapping[str, int]
    seconds: float

    @property
    def api_calls(self) -> int:
        """Calls in all."""
        return sum(self.calls.values())

    @property
    def data(self) -> dict[str, Any]:
        """The JSON form."""
        return {"api_calls": self.api_calls, "seconds": round(float(self.seconds), 2),
                "calls": {name: count for name, count in self.calls.items() if count}}


@dataclass
class Plan:
    """Everything ``plan`` found: changes, kept ids, warnings, safety, estimate and fingerprint.

    ``unsafe_reasons`` can be overridden with ``--force``; ``errors`` cannot (e.g. more than 20
    bots). ``observed_ids`` and ``observed_objects`` are what the plan saw live, kept for the
    stale check: the ids listed of each kind whose ids a plan keeps (:attr:`Kind.plan_keeps_ids
    <chatsync.domain.kinds.Kind.plan_keeps_ids>`: the bots), and for each object it touches None
    (absent) or every managed field it read (``{}`` for an object that exists with none).
    """

    sdkappid: int
    endpoint: str
    changes: list[Change]
    admin: str = DEFAULT_ADMIN
    secret_key_env: str = DEFAULT_SECRET_KEY_ENV  # the variable's NAME (never the key)
    rates: dict[str, int] = field(default_factory=dict)
    protected: list[str] = field(default_factory=list)
    max_deletes: int = DEFAULT_MAX_DELETES
    kept: list[Kept] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unsafe_reasons: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    estimate: Estimate = field(default_factory=lambda: Estimate({}, 0.0))
    fingerprint: str = ""
    #: The ids the plan saw listed of each kind whose ids it keeps, by kind name.
    observed_ids: dict[str, list[str]] = field(default_factory=dict)
    observed_objects: dict[str, Mapping[str, Value] | None] = field(default_factory=dict)
    #: How many objects the plan saw listed of each other listed kind (it keeps no ids of those).
    observed_counts: dict[str, int] = field(default_factory=dict)
    signature: str = ""  # HMAC of everything else with the app's secret key (see sign())

    @property
    def app(self) -> AppConfig:
        """The app settings needed to apply this plan (``apply --plan`` has no config files)."""
        return AppConfig(sdkappid=self.sdkappid, endpoint=self.endpoint, admin=self.admin,
                         secret_key_env=self.secret_key_env, rates=self.rates,
                         protected=tuple(self.protected), max_deletes=self.max_deletes)

    def observed(self, kind: str) -> list[str]:
        """The ids the plan saw listed of ``kind`` (a kind whose ids it keeps); [] for another."""
        return self.observed_ids.get(kind, [])

    def live_count(self, kind: str) -> int:
        """How many objects of a listed kind the plan saw live."""
        ids = self.observed_ids.get(kind)
        return len(ids) if ids is not None else self.observed_counts.get(kind, 0)

    @property
    def summary(self) -> dict[str, int]:
        """How many changes of each action."""
        counts = dict.fromkeys(ACTIONS, 0)
        for change in self.changes:
            counts[change.action] += 1
        return counts

    @property
    def safe(self) -> bool:
        """True when the plan can be applied without ``--force`` (and has no errors)."""
        return not self.unsafe_reasons and not self.errors

    @property
    def empty(self) -> bool:
        """True when the app already matches."""
        return not self.changes

    def summary_line(self) -> str:
        """``Plan: X to create, Y to update, Z to delete.`` (scripts read this exact form)."""
        n = self.summary
        return f"Plan: {n['create']} to create, {n['update']} to update, {n['delete']} to delete."

    @property
    def data(self) -> dict[str, Any]:
        """The JSON form written by ``--format json`` and ``--out`` (docs/contract.md §3)."""
        return {  # safety first: a reader of the file sees at once whether it can be applied
            "format_version": FORMAT_VERSION,
            "safe": self.safe,
            "unsafe_reasons": list(self.unsafe_reasons),
            "errors": list(self.errors),
            "summary": self.summary,
            "app": {"sdkappid": self.sdkappid, "endpoint": self.endpoint, "admin": self.admin,
                    "secret_key_env": self.secret_key_env, "rate_limits": dict(self.rates),
                    "protected": list(self.protected), "max_deletes": self.max_deletes},
            "changes": [change.data for change in self.changes],
            "kept": [kept.data for kept in self.kept],
            "warnings": list(self.warnings),
            "estimate": self.estimate.data,
            "observed": {**{kind.section: list(self.observed(kind.name)) for kind in KINDS
                            if kind.plan_keeps_ids},
                         **({"counts": dict(self.observed_counts)} if self.observed_counts else {}),
                         "objects": {address: None if seen is None else _seen_data(address, seen)
                                     for address, seen in self.observed_objects.items()}},
            "fingerprint": self.fingerprint,
            "signature": self.signature,
        }

    def sign(self, secret_key: str) -> None:
        """Seal the plan: :attr:`signature` becomes an HMAC-SHA256, keyed with the app's secret
        key, of everything else in :attr:`data`. Only someone holding the key can make a plan file
        that :func:`seal_matches` accepts, so an edited file (a delete added, an endpoint changed,
        the unsafe flag removed) or one made for another app is refused."""
        self.signature = seal(self.data, secret_key)

    @classmethod
    def from_data(cls, data: Any, source: str = "the plan file") -> Plan:
        """Read back what :attr:`data` wrote; :class:`PlanFileError` for anything else."""
        try:
            return _plan_from_data(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            detail = f" ({exc})" if isinstance(exc, ValueError) else ""
            raise PlanFileError(
                f"{source} is not a chatsync plan{detail}; make one with: chatsync plan --out FILE"
            ) from None


def review_order(changes: Iterable[Change], never: Collection[str] = ()) -> list[Change]:
    """``changes`` in the order every output lists them: a delete of an id in ``never`` (the admin
    or a protected id: an error, :func:`chatsync.engine.plan.check_safety`) first, then the deletes
    (by their kind's ``delete_rank``: accounts before bots), the updates, the creates; in a group, the
    order they came in."""
    def rank(change: Change) -> tuple[int, int]:
        if change.action != "delete":
            return REVIEW_ORDER[change.action], 0
        return (0 if change.user_id in never else REVIEW_ORDER["delete"]), BY_NAME[change.kind].delete_rank

    return sorted(changes, key=rank)  # stable


def seal(data: Mapping[str, Any], secret_key: str) -> str:
    """The seal of a plan's JSON form: an HMAC-SHA256 of everything but its ``signature``.

    It is computed over the JSON text as written and read back (sorted keys, no spaces), so the
    seal of a file and of the plan that wrote it are one and the same: a plan survives any JSON
    round trip (``0`` and ``0.0`` are told apart by JSON itself, not by how Python held them).
    A form holding a string that is not Unicode text (a lone surrogate, which JSON's ``\\ud800``
    lets through) or that JSON cannot hold raises :class:`PlanFileError`: it cannot be sealed.
    """
    content = {key: value for key, value in data.items() if key != "signature"}
    try:
        text = json.dumps(json.loads(json.dumps(content)), ensure_ascii=False, sort_keys=True,
                          separators=(",", ":")).encode("utf-8")
    except (ValueError, RecursionError):  # UnicodeEncodeError is a ValueError
        raise PlanFileError("the plan cannot be sealed: it holds text that is not Unicode (half of a "
                            "surrogate pair) or a value JSON cannot hold; make a new plan") from None
    return "hmac-sha256:" + hmac.new(secret_key.encode("utf-8"), text, hashlib.sha256).hexdigest()


def seal_matches(data: Mapping[str, Any], secret_key: str) -> bool:
    """True when the ``signature`` of a plan's JSON form seals exactly that form with ``secret_key``."""
    signature = data.get("signature")
    if not isinstance(signature, str) or not signature.isascii():  # compare_digest takes ASCII text only
        return False
    return hmac.compare_digest(signature, seal(data, secret_key))


def _seen_data(address: str, seen: Mapping[str, Value]) -> dict[str, Any]:
    kind = BY_NAME.get(address.partition(".")[0])
    return plain(seen) if kind is None else json_fields(kind, plain(seen))


def _plan_from_data(data: Any) -> Plan:
    data = _object(data)
    version = data["format_version"]
    if version not in READABLE_VERSIONS:
        raise ValueError(f"format_version {version!r}; this chatsync reads "
                         f"{' and '.join(map(repr, READABLE_VERSIONS))}")
    arrays = version != "1"
    app = _object(data["app"])
    changes = []
    for item in _list(data["changes"]):
        item = _object(item)
        if item["kind"] not in BY_NAME or item["action"] not in ACTIONS:
            raise ValueError(f"unknown kind or action in {item.get('address')!r}")
        kind = item["kind"]
        change = Change(kind, _text(item["user_id"]), item["action"], _fields(item["before"], kind, arrays),
                        _fields(item["after"], kind, arrays), _text(item.get("reason", "")))
        if arrays:  # format 1 had none: they are worked out again when it is written
            moved = moves(BY_NAME[kind], change.action, change.before, change.after)
            if {key: item[key] for key in MOVES_KEYS if key in item} != (moved.data if moved else {}):
                raise ValueError(f"{item.get('address')!r}: its {', '.join(MOVES_KEYS)} do not follow from "
                                 "its before and after")
        changes.append(change)
    kept = []
    for item in _list(data.get("kept", [])):
        item = _object(item)
        if item["kind"] not in BY_NAME:
            raise ValueError(f"unknown kind in kept {item.get('address')!r}")
        kept.append(Kept(item["kind"], _text(item["user_id"]), _text(item["reason"])))
    estimate = _object(data.get("estimate") or {})
    observed = _object(data["observed"])
    admin = _text(app.get("admin", DEFAULT_ADMIN))
    protected = [_text(p) for p in _list(app.get("protected", []))]
    return Plan(
        sdkappid=_integer(app["sdkappid"]),
        endpoint=_text(app["endpoint"]),
        admin=admin,
        secret_key_env=_text(app.get("secret_key_env", DEFAULT_SECRET_KEY_ENV)),
        rates=_rates(app.get("rate_limits", {})),
        protected=protected,
        max_deletes=_integer(app.get("max_deletes", DEFAULT_MAX_DELETES)),
        changes=review_order(changes, {admin, *protected}),  # a file from an older chatsync, or edited
        kept=kept,
        warnings=[_text(w) for w in _list(data.get("warnings", []))],
        unsafe_reasons=[_text(r) for r in _list(data.get("unsafe_reasons", []))],
        errors=[_text(e) for e in _list(data.get("errors", []))],
        estimate=Estimate({_text(k): _integer(v) for k, v in _object(estimate.get("calls", {})).items()},
                          _number(estimate.get("seconds", 0.0))),
        fingerprint=_text(data["fingerprint"]),
        observed_ids={kind.name: [_text(i) for i in _list(observed[kind.section])]
                      for kind in KINDS if kind.plan_keeps_ids},
        observed_objects={_text(k): _fields(v, _text(k).partition(".")[0], arrays)
                          for k, v in _object(observed["objects"]).items()},
        observed_counts={_text(k): _integer(v) for k, v in _object(observed.get("counts", {})).items()},
        signature=_text(data.get("signature", "")),
    )


def _rates(value: Any) -> dict[str, int]:
    rates = {_text(k): _integer(v) for k, v in _object(value).items()}
    unknown = sorted(set(rates) - set(ENDPOINTS))
    if unknown:
        raise ValueError(f"rate_limits names an API this chatsync does not know: {unknown[0]}")
    if any(rate < 1 for rate in rates.values()):
        raise ValueError("rate_limits must be 1 or more calls per second")
    return rates


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError("expected an object")
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("expected a list")
    return value


def _integer(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("expected an integer")
    return value


def _number(value: Any) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError("expected a number")
    return float(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _fields(value: Any, kind: str = "", arrays: bool = True) -> dict[str, Value] | None:
    """Field values: text, or integers for the integer fields (docs/profile-fields.md; a kind of
    its own fields, its table); a list of ids an array of them (with ``arrays``; format 1 wrote one
    newline-joined string)."""
    if value is None:
        return None
    fields: dict[str, Value] = {}
    own = BY_NAME[kind].fields if kind in BY_NAME else None
    lists = BY_NAME[kind].lists if kind in BY_NAME else ()
    for name, item in _object(value).items():
        if own is not None:
            if name not in own:
                raise ValueError(f"unknown {kind} field {name!r}")
            if arrays and name in lists:
                fields[name] = joined_ids(item, name)
                continue
            fields[name] = _integer(item) if own[name] == "uint32" else _text(item)
            continue
        try:
            kind = field_of(_text(name)).kind
        except KeyError:
            raise ValueError(f"unknown profile field {name!r}") from None
        fields[name] = _integer(item) if kind == "uint32" else _text(item)
    return fields
