"""The operations chatsync needs, in its own terms, on top of :class:`~chatsync.tencent.client.Client`.

Profiles are read and written by config field name and value (``nick``, ``gender: male``,
``custom.Dept``; the field table, :mod:`chatsync.facts.fields`): this module maps them to tags and wire
values and back. Batch operations take any number of ids, send them in
chunks of 100 concurrently, and read the answer item by item (``ResultItem[].ResultCode``,
``FailAccounts``, ``Fail_Account``; strictly, :mod:`chatsync.tencent.answers`): each id gets its
own :class:`ItemResult`, and only the items that failed with a transient code are sent again (an
import that ``FailAccounts`` names gets one ``account_import`` of its own, to learn its code).
A failure of a whole chunk becomes the result of each of its items, unless it stops the run (a
wrong key, say), which is raised.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chatsync.errors import CallFailed, ProtocolError, Stopped
from chatsync.facts import error_codes as errors
from chatsync.facts.fields import STANDARD, Value, field_of
from chatsync.facts.limits import BATCH_MAX
from chatsync.tencent import answers
from chatsync.tencent.client import Client, Reply

#: Config field -> the key the import and create APIs use for it (docs/tencent-api.md §4.1, §5.2).
IMPORT_KEYS: dict[str, str] = {f.name: f.import_key for f in STANDARD if f.import_key}
ROBOT_KEYS: dict[str, str] = {f.name: f.robot_key for f in STANDARD if f.robot_key}
#: Every standard field, the default of :meth:`ChatApi.portrait_get`.
ALL_STANDARD = tuple(f.name for f in STANDARD)
#: Said of a 40009 that concerns custom fields: which keys, and what to do.
MISSING_CUSTOM = ("custom field {keys} may not be configured for the app (error 40009): add {them} in "
                  "the Chat console (Configuration > Custom user fields), then run again")

#: Rounds of re-sending only the failed items of a batch, after the first.
ITEM_RETRY_ROUNDS = 4
#: The info of an id that ``FailAccounts`` names, until its own code is known.
UNEXPLAINED = "listed in FailAccounts (the answer gave no code)"


@dataclass(frozen=True)
class ItemResult:
    """The outcome for one id of a batch call.

    ``code`` is 0 on success; the item's (or its chunk's) ErrorCode on failure, or None when the
    service named the item as failed without a code. ``data`` holds what the answer said about
    the item (``AccountStatus`` for account_check, the profile for portrait_get).
    """

    user_id: str
    code: int | None
    info: str = ""
    attempts: int = 1
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the item succeeded."""
        return self.code == 0

    @property
    def hint(self) -> str:
        """What to do about a failure ('' when the code has no hint)."""
        return errors.lookup(self.code).hint if self.code else ""


def chunks(items: Sequence[Any], size: int = BATCH_MAX) -> list[Sequence[Any]]:
    """``items`` cut into consecutive runs of at most ``size``."""
    return [items[start:start + size] for start in range(0, len(items), size)]


# What a chunk's answer says about each of its ids: id -> (code, info, data).
_Said = dict[str, tuple[int | None, str, dict[str, Any]]]
_ItemsReader = Callable[[dict[str, Any], Sequence[str]], _Said]


class ChatApi:
    """Typed operations on one app; thread-safe like the :class:`Client` under it."""

    def __init__(self, client: Client) -> None:
        self.client = client

    # -- single calls ----------------------------------------------------------------------

    def get_all_robots(self) -> list[str]:
        """The ids of the app's active bots."""
        reply = self.client.call("get_all_robots", {})
        try:
            return answers.robot_ids(reply.answer)
        except answers.AnswerError as exc:
            raise ProtocolError.from_answer("get_all_robots", exc, reply.attempts) from None

    def create_robot(self, user_id: str, profile: Mapping[str, Value]) -> Reply:
        """Create the bot ``user_id`` with the profile fields ``create_robot`` carries (nick,
        face_url, self_signature; any other field is a ValueError): a repeat is OK and changes nothing."""
        body: dict[str, Any] = {"UserID": user_id}
        for name, value in profile.items():
            if name not in ROBOT_KEYS:
                raise ValueError(f"create_robot cannot carry {name}; set it with portrait_set")
            body[ROBOT_KEYS[name]] = value
        return self.client.call("create_robot", body)

    def delete_robot(self, user_id: str) -> Reply:
        """Invalidate the bot ``user_id``."""
        return self.client.call("delete_robot", {"Robot_Account": user_id})

    def portrait_set(self, user_id: str, profile: Mapping[str, Value]) -> Reply:
        """Set the given profile fields of ``user_id`` in one call (enum names go as Tencent's values).

        A 40009 when custom fields were sent says which keys, and to add them in the console."""
        fields = [field_of(name) for name in profile]
        items = [{"Tag": f.tag, "Value": f.to_wire(profile[f.name])} for f in fields]
        try:
            return self.client.call("portrait_set", {"From_Account": user_id, "ProfileItem": items})
        except CallFailed as failure:
            _explain_custom(failure, [f.custom_key for f in fields if f.custom_key])
            raise

    # -- batches ---------------------------------------------------------------------------

    def account_check(self, user_ids: Iterable[str]) -> dict[str, ItemResult]:
        """Whether each id is imported: ``data["AccountStatus"]`` is ``Imported`` or ``NotImported``."""

        def read(answer: dict[str, Any], ids: Sequence[str]) -> _Said:
            return answers.result_items(answer, frozenset(ids), statuses=True)

        return self._per_item(
            "account_check", user_ids, lambda ids: {"CheckItem": [{"UserID": i} for i in ids]}, read
        )

    def portrait_get(self, user_ids: Iterable[str], fields: Iterable[str] = ALL_STANDARD) -> dict[
            str, ItemResult]:
        """The given profile fields of each id, as ``data`` in the config's form (a tag never set
        reads as ``""``, or ``0`` for an integer field; an enum value as its YAML name)."""
        asked = [field_of(name) for name in fields]
        tags = [f.tag for f in asked]
        by_tag = {f.tag: f for f in asked}
        custom = [f.custom_key for f in asked if f.custom_key]

        def read(answer: dict[str, Any], ids: Sequence[str]) -> _Said:
            said = answers.profiles(answer, frozenset(ids), {tag: (f.name, f.kind == "uint32", f.unset)
                                                              for tag, f in by_tag.items()})
            for _, _, data in said.values():
                for f in asked:
                    if f.name in data:
                        data[f.name] = f.from_wire(data[f.name])
            return said

        results = self._per_item(
            "portrait_get", user_ids, lambda ids: {"To_Account": list(ids), "TagList": tags}, read
        )
        if custom:
            for user_id, result in results.items():
                if result.code == _UNKNOWN_TAG:
                    results[user_id] = dataclasses.replace(result, info=_custom_text(custom))
        return results

    def multiaccount_import(self, accounts: Mapping[str, Mapping[str, Value]]) -> dict[str, ItemResult]:
        """Import each id with the profile fields the import carries (nick, face_url; others ignored).

        The answer names failed ids in ``FailAccounts`` with no code of their own (§5.2). The reason
        of each is learnt once: a single ``account_import`` of it (the same fields) either imports it
        or fails with its code, which is final (a transient one was already retried by the client).
        So an id costs at most one extra call, and every failure ends with a code and its hint.
        """
        bodies = {
            user_id: {"UserID": user_id, **{IMPORT_KEYS[n]: v for n, v in fields.items() if n in IMPORT_KEYS}}
            for user_id, fields in accounts.items()
        }

        def read(answer: dict[str, Any], ids: Sequence[str]) -> _Said:
            failed = set(answers.failed_accounts(answer, frozenset(ids)))
            return {i: (None, UNEXPLAINED, {}) if i in failed else (0, "", {}) for i in ids}

        results = self._per_item(
            "multiaccount_import", list(accounts), lambda ids: {"AccountList": [bodies[i] for i in ids]},
            read, rounds=0,
        )
        unexplained = [result for result in results.values() if result.code is None]
        if not unexplained:
            return results
        try:
            for learnt in self.client.map(lambda r: self._import_one(bodies[r.user_id], r), unexplained):
                results[learnt.user_id] = learnt
        except Stopped as stop:
            stop.partial = dict(results)  # the unexplained ones too: the answer said they failed
            raise
        except CallFailed as failure:
            failure.partial = {i: r for i, r in results.items() if r.code is not None}  # the rest: its code
            raise
        return results

    def _import_one(self, body: Mapping[str, Any], before: ItemResult) -> ItemResult:
        """One ``account_import`` of an id ``FailAccounts`` named: its outcome is the id's."""
        try:
            reply = self.client.call("account_import", body)
        except CallFailed as failure:
            if failure.stops_run:
                raise
            return ItemResult(before.user_id, failure.code, failure.info or UNEXPLAINED,
                              before.attempts + failure.attempts)
        return ItemResult(before.user_id, 0, "", before.attempts + reply.attempts)

    def account_delete(self, user_ids: Iterable[str]) -> dict[str, ItemResult]:
        """Delete each id. An id that does not exist comes back with code 70107 (for the caller to judge)."""

        def read(answer: dict[str, Any], ids: Sequence[str]) -> _Said:
            return answers.result_items(answer, frozenset(ids), statuses=False)

        return self._per_item(
            "account_delete", user_ids, lambda ids: {"DeleteItem": [{"UserID": i} for i in ids]}, read
        )

    # -- the per-item engine ---------------------------------------------------------------

    def _per_item(
        self,
        endpoint: str,
        user_ids: Iterable[str],
        body_for: Callable[[Sequence[str]], dict[str, Any]],
        read: _ItemsReader,
        *,
        rounds: int = ITEM_RETRY_ROUNDS,
    ) -> dict[str, ItemResult]:
        results: dict[str, ItemResult] = {}
        try:
            return self._rounds(endpoint, user_ids, body_for, read, rounds, results)
        except (Stopped, CallFailed) as stop:
            stop.partial = dict(results)  # what was answered before it
            raise

    def _rounds(
        self,
        endpoint: str,
        user_ids: Iterable[str],
        body_for: Callable[[Sequence[str]], dict[str, Any]],
        read: _ItemsReader,
        rounds: int,
        results: dict[str, ItemResult],
    ) -> dict[str, ItemResult]:
        pending = list(dict.fromkeys(user_ids))  # each id once, in order
        attempts = dict.fromkeys(pending, 0)
        lock = threading.Lock()
        for round_number in range(rounds + 1):
            if not pending:
                break
            if round_number:
                self.client.pause(self.client.retry.delay(round_number))
            last_round = round_number == rounds
            again: list[str] = []

            def run(ids: Sequence[str], last_round: bool = last_round, again: list[str] = again) -> None:
                outcome = _send(self.client, endpoint, body_for(ids))
                said: _Said = {}
                if isinstance(outcome, Reply):
                    try:
                        said = read(outcome.answer, ids)
                    except answers.AnswerError as exc:
                        raise ProtocolError.from_answer(endpoint, exc, outcome.attempts) from None
                with lock:
                    for user_id in ids:
                        attempts[user_id] += outcome.attempts
                        data: dict[str, Any]
                        if isinstance(outcome, CallFailed):
                            code, info, data = outcome.code, outcome.info, {}
                        else:
                            code, info, data = said.get(user_id, (None, "missing from the answer", {}))
                        retry = code is None or errors.kind_of(code) is errors.Kind.TRANSIENT
                        if code != 0 and retry and not last_round and not isinstance(outcome, CallFailed):
                            again.append(user_id)
                            continue
                        results[user_id] = ItemResult(user_id, code, info, attempts[user_id], data)

            self.client.map(run, chunks(pending))
            pending = again
        return results


def _send(client: Client, endpoint: str, body: dict[str, Any]) -> Reply | CallFailed:
    """The reply, or the failure when it concerns only this request (run-stopping ones raise)."""
    try:
        return client.call(endpoint, body)
    except CallFailed as failure:
        if failure.stops_run:
            raise
        return failure


_UNKNOWN_TAG = 40009


def _custom_text(keys: Sequence[str]) -> str:
    listed = ", ".join(keys)
    return MISSING_CUSTOM.format(keys=listed, them="it" if len(keys) == 1 else "them")


def _explain_custom(failure: CallFailed, keys: Sequence[str]) -> None:
    """Make a 40009 about custom fields say which keys (its info names them, its hint what to do)."""
    if failure.code == _UNKNOWN_TAG and keys:
        failure.info = _custom_text(keys)
        failure.args = (failure._text(),)
