"""The emulated app's groups as data: the record of a group and of a member, and the strict check
(with defaults filled in) of the groups a ``--state`` file holds or a test seeds.

A group is a JSON object kept in :attr:`Store.groups <chatsync.emulator.store.Store.groups>` under
its GroupId::

    {"Type": "Public", "Name": "Ops", "Introduction": "", "Notification": "", "FaceUrl": "",
     "Owner_Account": "alice", "CreateTime": 1700000000, "InfoSeq": 1, "LastInfoTime": 1700000000,
     "LastMsgTime": 0, "NextMsgSeq": 1, "MaxMemberNum": 2000, "ApplyJoinOption": "NeedPermission",
     "ShutUpAllMember": "Off", "Active": true, "Seq": 1,
     "Members": {"alice": {"Role": "Owner", "JoinTime": 1700000000}, "@RBT#helper": {...}}}

plus, when set, ``InviteJoinOption`` and ``AppDefinedData`` (``{key: value}``); a member record
holds ``Role`` and ``JoinTime``, plus ``MsgFlag``, ``NameCard``, ``ShutUpUntil``, ``MsgSeq``,
``LastSendMsgTime`` and ``AppMemberDefinedData`` only when set. ``Active`` is False for a Private
group created by REST until its owner speaks (docs/tencent-api.md §10.20); ``Seq`` orders the
listing (creation order). To seed groups, a state file needs only ``Type``, ``Name`` and the
members (``{"Members": {"bob": {}}}``, the owner from ``Owner_Account``): :func:`check_groups` fills
in the rest, as a new group would have it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chatsync.facts import groups as facts
from chatsync.facts import limits

Group = dict[str, Any]
Member = dict[str, Any]

#: Keys a group record may hold, and a member record.
GROUP_KEYS = frozenset({
    "Type", "Name", "Introduction", "Notification", "FaceUrl", "Owner_Account", "CreateTime",
    "InfoSeq", "LastInfoTime", "LastMsgTime", "NextMsgSeq", "MaxMemberNum", "ApplyJoinOption",
    "ShutUpAllMember", "InviteJoinOption", "AppDefinedData", "Active", "Seq", "Members",
})
MEMBER_KEYS = frozenset({"Role", "JoinTime", "MsgSeq", "MsgFlag", "LastSendMsgTime", "ShutUpUntil",
                         "NameCard", "AppMemberDefinedData"})
#: What a member field reads as when its record leaves it out.
MEMBER_DEFAULTS: Mapping[str, Any] = {"MsgSeq": 0, "MsgFlag": "AcceptAndNotify",
                                      "LastSendMsgTime": 0, "ShutUpUntil": 0, "NameCard": ""}
_INTS = ("CreateTime", "InfoSeq", "LastInfoTime", "LastMsgTime", "NextMsgSeq", "MaxMemberNum", "Seq")
_MEMBER_INTS = ("JoinTime", "MsgSeq", "LastSendMsgTime", "ShutUpUntil")
UINT32_MAX = 2**32 - 1


def default_max_members(group_type: facts.GroupType, edition_cap: int) -> int:
    """``MaxMemberNum`` of a new group that names none: the cap (0 for unlimited, AVChatRoom)."""
    cap = facts.member_cap(group_type, edition_cap)
    return 0 if cap is None else cap


def new_group(group_type: facts.GroupType, name: str, now: int, seq: int, edition_cap: int) -> Group:
    """A group of ``group_type`` as ``create_group`` makes it, with no owner and no member yet."""
    return {
        "Type": group_type.api_name, "Name": name, "Introduction": "", "Notification": "",
        "FaceUrl": "", "Owner_Account": "", "CreateTime": now, "InfoSeq": 1, "LastInfoTime": now,
        "LastMsgTime": 0, "NextMsgSeq": 1, "MaxMemberNum": default_max_members(group_type, edition_cap),
        "ApplyJoinOption": facts.PRIVATE_APPLY_JOIN if group_type is facts.PRIVATE
        else facts.APPLY_JOIN_DEFAULT,
        "ShutUpAllMember": "Off", "Active": True, "Seq": seq, "Members": {},
    }


def member_view(member: Member) -> dict[str, Any]:
    """Every field of a member record, defaults filled in (``AppMemberDefinedData`` as stored)."""
    return {**MEMBER_DEFAULTS, **member}


def joined_index(groups: Mapping[str, Group]) -> dict[str, set[str]]:
    """Account -> the ids of the groups it is a member of (the owner included)."""
    index: dict[str, set[str]] = {}
    for group_id, group in groups.items():
        for account in group["Members"]:
            index.setdefault(account, set()).add(group_id)
    return index


# -- the check of a state file's groups ---------------------------------------------------------

def check_groups(data: dict[str, Any], now: float) -> str | None:
    """Check ``data["groups"]`` (and ``data["group_seq"]``) of a state against its accounts and bots,
    filling in the defaults in place; returns the first problem, or None. Absent keys mean no group."""
    groups = data.setdefault("groups", {})
    if not isinstance(groups, dict):
        return "'groups' is not an object"
    accounts, bots = data["accounts"], data["bots"]
    seq = data.get("group_seq", 0)
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        return "'group_seq' is not a non-negative integer"
    seqs: set[int] = set()
    for group_id, group in groups.items():
        problem = facts.group_id_problem(group_id)
        if problem:
            return f"the GroupId {group_id!r} {problem}"
        if not isinstance(group, dict):
            return f"the group {group_id!r} is not an object"
        problem = _group_problem(group, accounts, bots, int(now))
        if problem:
            return f"the group {group_id!r} {problem}"
        if "Seq" in group:
            if group["Seq"] in seqs:
                return f"the group {group_id!r} has the Seq of another group"
            seqs.add(group["Seq"])
    top = max(seqs, default=0)
    if "group_seq" in data and seq < top:
        return f"'group_seq' is {seq}, below a group's Seq ({top})"
    seq = max(seq, top)
    for group in groups.values():
        if "Seq" not in group:  # seeded without one: listed after the others, in file order
            seq += 1
            group["Seq"] = seq
    data["group_seq"] = seq
    data["groups"] = dict(sorted(groups.items(), key=lambda item: item[1]["Seq"]))  # listing order
    return None


def _group_problem(group: Group, accounts: Mapping[str, Any], bots: Mapping[str, bool],
                   now: int) -> str | None:
    unknown = sorted(set(group) - GROUP_KEYS)
    if unknown:
        return f"has an unknown key {unknown[0]!r}"
    group_type = facts.GROUP_TYPES.get(group.get("Type"))  # type: ignore[arg-type]
    if group_type is None:
        return f"has the Type {group.get('Type')!r}, not one of {', '.join(facts.GROUP_TYPES)}"
    for text in facts.TEXT_FIELDS:
        value = group.setdefault(text.key, "")
        if not isinstance(value, str) or limits.utf8_len(value) > text.max_bytes:
            return f"has a {text.key} that is not a string of at most {text.max_bytes} bytes"
    if not group["Name"]:
        return "has no Name"
    created = group.setdefault("CreateTime", now)
    for key, default in (("InfoSeq", 1), ("LastInfoTime", created), ("LastMsgTime", 0),
                         ("NextMsgSeq", 1)):
        group.setdefault(key, default)
    group.setdefault("MaxMemberNum", default_max_members(group_type, facts.DEFAULT_MEMBER_CAP))
    for key in _INTS:
        value = group.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= UINT32_MAX:
            return f"has a {key} that is not an unsigned 32-bit integer"
    if group["CreateTime"] > now:
        return f"was created in the future (CreateTime {group['CreateTime']})"
    if group_type.member_ceiling is None:
        group["MaxMemberNum"] = 0
    elif not 1 <= group["MaxMemberNum"] <= group_type.member_ceiling:
        return f"has a MaxMemberNum outside 1..{group_type.member_ceiling}"
    apply_join = group.setdefault("ApplyJoinOption", facts.APPLY_JOIN_DEFAULT)
    if apply_join not in facts.APPLY_JOIN.values():
        return f"has the ApplyJoinOption {apply_join!r}, not one of {', '.join(facts.APPLY_JOIN.values())}"
    if group_type is facts.PRIVATE:
        group["ApplyJoinOption"] = facts.PRIVATE_APPLY_JOIN
    if group.setdefault("ShutUpAllMember", "Off") not in facts.SHUT_UP_ALL:
        return "has a ShutUpAllMember that is not On or Off"
    if "InviteJoinOption" in group and group["InviteJoinOption"] not in facts.INVITE_JOIN.values():
        return "has an InviteJoinOption that is not FreeAccess, NeedPermission or DisableInvite"
    problem = _defined_data(group.get("AppDefinedData", {}), facts.GROUP_DEFINED_VALUE_MAX_BYTES)
    if problem:
        return f"has AppDefinedData that {problem}"
    if not isinstance(group.setdefault("Active", True), bool):
        return "has an Active that is not true/false"
    return _members_problem(group, group_type, accounts, bots)


def _members_problem(group: Group, group_type: facts.GroupType, accounts: Mapping[str, Any],
                     bots: Mapping[str, bool]) -> str | None:
    owner = group.setdefault("Owner_Account", "")
    members = group.setdefault("Members", {})
    if not isinstance(owner, str) or not isinstance(members, dict):
        return "has an Owner_Account that is not a string or Members that are not an object"
    if owner and owner not in members:
        members[owner] = {"Role": facts.OWNER}
    cap = group["MaxMemberNum"]
    if cap and len(members) > cap:
        return f"has {len(members)} members, over its MaxMemberNum {cap}"
    if not group_type.members_stored and set(members) - {owner}:
        return f"is an {group_type.api_name}, whose members are not stored (only its owner)"
    for account, member in members.items():
        if account not in accounts:
            return f"names the member {account!r}, which is not an account"
        if limits.is_bot_id(account) and not bots.get(account):
            return f"names the bot {account!r}, which is not an active bot"
        if not isinstance(member, dict):
            return f"has a member record of {account!r} that is not an object"
        problem = _member_problem(member, account, owner, group_type, group["CreateTime"])
        if problem:
            return f"has the member {account!r} {problem}"
    return None


def _member_problem(member: Member, account: str, owner: str, group_type: facts.GroupType,
                    created: int) -> str | None:
    role = member.setdefault("Role", facts.OWNER if account == owner else facts.MEMBER)
    joined = member.setdefault("JoinTime", created)
    if len(member) == 2 and role == facts.MEMBER and account != owner and type(joined) is int \
            and 0 <= joined <= UINT32_MAX:
        return None  # the common record, checked at once (a state may hold 200,000 of them)
    unknown = sorted(set(member) - MEMBER_KEYS)
    if unknown:
        return f"with an unknown key {unknown[0]!r}"
    if (role == facts.OWNER) != (account == owner):
        return "with the Role Owner, but it is not the Owner_Account" if role == facts.OWNER \
            else "who is the Owner_Account but has not the Role Owner"
    if role not in group_type.roles:
        return f"with the Role {role!r}, which a {group_type.api_name} group does not have"
    if role != facts.MEMBER and limits.is_bot_id(account):
        return f"with the Role {role}, which a bot may not have"
    for key in _MEMBER_INTS:
        value = member.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= UINT32_MAX:
            return f"with a {key} that is not an unsigned 32-bit integer"
    if member.get("MsgFlag", "AcceptAndNotify") not in facts.MSG_FLAGS:
        return "with a MsgFlag that is not one of " + ", ".join(facts.MSG_FLAGS)
    card = member.get("NameCard", "")
    if not isinstance(card, str) or limits.utf8_len(card) > facts.NAME_CARD_MAX_BYTES:
        return f"with a NameCard that is not a string of at most {facts.NAME_CARD_MAX_BYTES} bytes"
    problem = _defined_data(member.get("AppMemberDefinedData", {}), facts.MEMBER_DEFINED_VALUE_MAX_BYTES)
    return f"with AppMemberDefinedData that {problem}" if problem else None


def _defined_data(data: Any, max_bytes: int) -> str | None:
    if not isinstance(data, dict):
        return "is not an object"
    for key, value in data.items():
        if not facts.DEFINED_KEY.fullmatch(key):
            return f"has the key {key!r} (1-16 letters, digits or _)"
        if not isinstance(value, str) or limits.utf8_len(value) > max_bytes:
            return f"has a value of {key!r} that is not a string of at most {max_bytes} bytes"
    return None
