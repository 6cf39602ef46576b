"""Reading the body of a group API request, for the emulator's group handlers (docs/tencent-api.md §10).

The codes a group API answers, the checks of its fields (a wrong type or value is 10004, a batch
over its size 10005), the group a request names (a malformed id 10015, an unknown one 10010), the
accounts it names (10019: not imported, or a deleted bot) and the notices a change sends (a tips
message takes a message seq). JSON ``null`` counts as absent everywhere (§10.23).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chatsync.emulator import group_state
from chatsync.emulator.handlers import ApiError, App
from chatsync.facts import groups as facts
from chatsync.facts import limits

INVALID = 10004
TOO_MANY = 10005
NOT_ALLOWED = 10007
NO_GROUP = 10010
BAD_OPERATOR = 10012
FULL = 10014
BAD_GROUP_ID = 10015
TOO_LARGE = 10018
NO_ACCOUNT = 10019
ID_TAKEN = 10021
ID_YOURS = 10025
AV_LIMIT = 10036
JOINED_LIMIT = 10037
CREATE_OVER_CAP = 10038
TRIAL_LIMIT = 10058

# -- body helpers ---------------------------------------------------------------------------------

def text(body: Mapping[str, Any], key: str, max_bytes: int | None = None, *,
          required: bool = False) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise ApiError(INVALID, f"{key} is missing")
        return None
    if not isinstance(value, str):
        raise ApiError(INVALID, f"{key} must be a string")
    if max_bytes is not None and limits.utf8_len(value) > max_bytes:
        raise ApiError(INVALID, f"{key} is {limits.utf8_len(value)} bytes long; at most {max_bytes}")
    return value


def integer(body: Mapping[str, Any], key: str, low: int, high: int) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(INVALID, f"{key} must be an integer")
    if not low <= value <= high:
        raise ApiError(INVALID, f"{key} is {value}; it must be from {low} to {high}")
    return value


def flag(body: Mapping[str, Any], key: str) -> bool:
    """An optional 0/1 switch (``Silence``, ``WithHugeGroups``)."""
    return integer(body, key, 0, 1) == 1


def choice(body: Mapping[str, Any], key: str, allowed: Iterable[str]) -> str | None:
    value = text(body, key)
    allowed = tuple(allowed)
    if value is not None and value not in allowed:
        raise ApiError(INVALID, f"{key} must be one of {', '.join(allowed)}")
    return value


def strings(body: Mapping[str, Any], key: str) -> list[str] | None:
    """An optional array of strings (a filter)."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ApiError(INVALID, f"{key} must be an array of strings")
    return value


def batch(body: Mapping[str, Any], key: str, most: int) -> list[Any]:
    """A required non-empty array of at most ``most`` items (more: 10005)."""
    items = body.get(key)
    if not isinstance(items, list) or not items:
        raise ApiError(INVALID, f"{key} must be a non-empty array")
    if len(items) > most:
        raise ApiError(TOO_MANY, f"{key} holds {len(items)} accounts; at most {most} per call")
    return items


def account_id(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ApiError(INVALID, f"{what} must be a string")
    return value


def member_entries(items: list[Any], what: str) -> list[tuple[str, dict[str, Any]]]:
    """``[{Member_Account, ...}]`` as (account, item), each account once (stance: a repeat is 10004)."""
    entries: dict[str, dict[str, Any]] = {}
    for item in items:
        if not isinstance(item, dict):
            raise ApiError(INVALID, f"each {what} item must be an object with a Member_Account")
        account = account_id(item.get("Member_Account"), "Member_Account")
        if account in entries:
            raise ApiError(INVALID, f"{what} names {account} twice")
        entries[account] = item
    return list(entries.items())


def defined_data(value: Any, key: str, configured: frozenset[str], max_bytes: int, *,
                  deleting: bool) -> dict[str, str]:
    """``[{Key, Value}]`` of ``AppDefinedData``/``AppMemberDefinedData``: keys configured for the
    app only (stance: any other key is 10004); ``Value: ""`` deletes a key when ``deleting``."""
    if value is None:
        return {}
    if not isinstance(value, list):
        raise ApiError(INVALID, f"{key} must be an array of {{Key, Value}}")
    data: dict[str, str] = {}
    for item in value:
        if not isinstance(item, dict):
            raise ApiError(INVALID, f"each {key} item must be an object with Key and Value")
        name, text = item.get("Key"), item.get("Value")
        if not isinstance(name, str) or not isinstance(text, str):
            raise ApiError(INVALID, f"{key} items need a string Key and a string Value")
        if name not in configured:
            raise ApiError(INVALID, f"{key} key {name!r} is not configured for this app")
        if limits.utf8_len(text) > max_bytes:
            raise ApiError(INVALID, f"the {key} value of {name} is over {max_bytes} bytes")
        if not text and not deleting:
            continue
        data[name] = text
    return data


def now(app: App) -> int:
    return int(app.now())


# -- the group named by a request ---------------------------------------------------------------

def existing_group(app: App, body: Mapping[str, Any],
                   key: str = "GroupId") -> tuple[str, group_state.Group, facts.GroupType]:
    """The existing group a request names: a missing or non-string id is 10004, a malformed one
    10015, an unknown (or destroyed) one 10010 (stance §10.22)."""
    group_id = body.get(key)
    if not isinstance(group_id, str):
        raise ApiError(INVALID, f"{key} is missing or not a string")
    problem = facts.group_id_problem(group_id)
    if problem:
        raise ApiError(BAD_GROUP_ID, f"{key} {problem}")
    group = app.store.groups.get(group_id)
    if group is None:
        raise ApiError(NO_GROUP, f"group {group_id} does not exist (or was destroyed)")
    return group_id, group, facts.GROUP_TYPES[group["Type"]]


def known(app: App, account: str) -> bool:
    """True when ``account`` may be named in a group: an imported account, or an active bot."""
    store = app.store
    if account not in store.accounts:
        return False
    return not limits.is_bot_id(account) or bool(store.bots.get(account))


def require_accounts(app: App, accounts: Iterable[str]) -> None:
    missing = [account for account in accounts if not known(app, account)]
    if missing:
        raise ApiError(NO_ACCOUNT, f"account {missing[0]} does not exist; import it (or create the "
                                   "bot) first")


def check_joined_limit(app: App, accounts: Iterable[str]) -> None:
    """10037 when an account (bots have no limit) already is in ``max_joined_groups`` groups."""
    if app.max_joined_groups is None:
        return
    for account in accounts:
        if not limits.is_bot_id(account) and \
                len(app.store.joined.get(account, ())) >= app.max_joined_groups:
            most = counted(app.max_joined_groups, "group")
            raise ApiError(JOINED_LIMIT, f"{account} is already in {most}, the most the edition allows")


def counted(number: int, noun: str) -> str:
    """``1 group``, ``3 groups``: for the service's messages."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def notice(app: App, group: group_state.Group) -> None:
    """A system notice (tips message) to the group: it takes a message seq."""
    group["NextMsgSeq"] += 1
    group["LastMsgTime"] = now(app)


def member_change_notice(app: App, group: group_state.Group, group_type: facts.GroupType) -> None:
    """The notice of a join or a leave: not for types without them, nor for an unactivated group."""
    if group_type.member_change_notices and group["Active"]:
        notice(app, group)


def new_member(role: str, join_time: int, data: Mapping[str, str]) -> group_state.Member:
    member: group_state.Member = {"Role": role, "JoinTime": join_time}
    if data:
        member["AppMemberDefinedData"] = dict(data)
    return member
