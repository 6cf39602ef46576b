"""The group APIs that read (docs/tencent-api.md §10.6, §10.8, §10.13, §10.18): the listing of every
group, a batch of groups' info, a group's members page by page, and an account's groups.

Each answers what the docs say, with the stances of §10.22 where they are silent (the listing's
cursor, the filters, the 1 MB bound); :mod:`chatsync.emulator.groups` registers them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from chatsync.emulator import group_requests as req
from chatsync.emulator import group_state, stance
from chatsync.emulator.handlers import Answer, ApiError, App
from chatsync.facts import groups as facts


def get_appid_group_list(app: App, body: dict[str, Any]) -> Answer:
    """The ids of every group (or of one type), in creation order, ``Limit`` at a time; ``Next``
    is an opaque cursor above 2**32 (a 32-bit parse breaks), 0 when the listing is done."""
    limit = req.integer(body, "Limit", 1, facts.LIST_LIMIT_MAX) or facts.LIST_LIMIT_MAX
    store = app.store
    base = stance.GROUP_LIST_CURSOR_BASE
    cursor = req.integer(body, "Next", 0, facts.CURSOR_MAX) or 0
    if cursor and not base < cursor <= base + store.group_seq:
        raise ApiError(req.INVALID, f"Next {cursor} is not a cursor this listing gave")
    after = cursor - base if cursor else 0
    kind = req.text(body, "GroupType") or None  # "" is absent (§10.22)
    if kind is not None and kind not in facts.LIST_FILTER_TYPES:
        raise ApiError(req.INVALID, f"GroupType must be one of {', '.join(facts.LIST_FILTER_TYPES)}")
    total = 0
    page: list[dict[str, str]] = []
    last = 0
    more = False
    for group_id, group in store.groups.items():
        if kind is not None and group["Type"] != kind:
            continue
        total += 1
        if group["Seq"] <= after:
            continue
        if len(page) < limit:
            page.append({"GroupId": group_id})
            last = group["Seq"]
        else:
            more = True
    return Answer({"TotalCount": total, "GroupIdList": page, "Next": base + last if more else 0})


def _base_info(app: App, group_id: str, group: group_state.Group,
               names: Iterable[str] | None) -> dict[str, Any]:
    """The group's base fields (``names`` only, when a filter is given)."""
    info = {
        "GroupId": group_id, "Type": group["Type"], "Name": group["Name"],
        "Introduction": group["Introduction"], "Notification": group["Notification"],
        "FaceUrl": group["FaceUrl"], "Owner_Account": group["Owner_Account"],
        "CreateTime": group["CreateTime"], "InfoSeq": group["InfoSeq"],
        "LastInfoTime": group["LastInfoTime"], "LastMsgTime": group["LastMsgTime"],
        "NextMsgSeq": group["NextMsgSeq"], "MemberNum": len(group["Members"]),
        "MaxMemberNum": group["MaxMemberNum"], "ApplyJoinOption": group["ApplyJoinOption"],
        "ShutUpAllMember": group["ShutUpAllMember"],
    }
    if "InviteJoinOption" in group:
        info["InviteJoinOption"] = group["InviteJoinOption"]
    if names is not None:
        wanted = set(names) | {"GroupId"}
        info = {key: value for key, value in info.items() if key in wanted}
    return info


def _defined_items(data: Mapping[str, str], keys: Iterable[str] | None) -> list[dict[str, str]]:
    wanted = None if keys is None else set(keys)
    return [{"Key": key, "Value": value} for key, value in data.items()
            if wanted is None or key in wanted]


class _MemberFields:
    """The member fields an answer carries (``names`` only when a filter names them, with
    ``Member_Account`` always; ``Account`` is read as ``Member_Account``, as in the docs' example),
    and the most bytes one member's entry can take with them. Built once per request."""

    def __init__(self, names: Iterable[str] | None, data_keys: Iterable[str] | None) -> None:
        wanted = None if names is None else {"Member_Account" if n == "Account" else n for n in names}
        self.fields = tuple(name for name in facts.MEMBER_INFO_FIELDS[1:]
                            if wanted is None or name in wanted)
        self.with_data = names is None or data_keys is not None
        self.data_keys = None if data_keys is None else list(data_keys)
        self.bound = stance.MEMBER_ENTRY_BOUND + (
            stance.NAME_CARD_BOUND if "NameCard" in self.fields else 0) + (
            stance.MEMBER_DATA_BOUND if self.with_data else 0)

    def entry(self, account: str, member: group_state.Member) -> dict[str, Any]:
        info: dict[str, Any] = {"Member_Account": account}
        defaults = group_state.MEMBER_DEFAULTS
        for name in self.fields:
            value = member.get(name)
            info[name] = defaults[name] if value is None else value
        if self.with_data:
            data = member.get("AppMemberDefinedData")
            if data:
                info["AppMemberDefinedData"] = _defined_items(data, self.data_keys)
        return info


def _check_size(answer: Mapping[str, Any], bound: int) -> None:
    """10018 when the answer would pass 1 MB (measured only when ``bound``, the most bytes it can
    take, says it might)."""
    if bound < facts.ANSWER_MAX_BYTES:
        return
    size = len(json.dumps(answer, ensure_ascii=False).encode("utf-8"))
    if size > facts.ANSWER_MAX_BYTES:
        raise ApiError(req.TOO_LARGE, f"the answer would be {size} bytes, over 1 MB; page the members "
                                  "with get_group_member_info")


def get_group_info(app: App, body: dict[str, Any]) -> Answer:
    """Up to 50 groups, each with its own ErrorCode (10015 malformed id, 10010 unknown).

    Without ``ResponseFilter``: every base field, ``Appid``, ``AppDefinedData`` and every member.
    With one (stance): base fields as ``GroupBaseInfoFilter`` names them (all when it is absent);
    ``MemberList`` only when ``MemberInfoFilter`` is given; custom data only for the keys named.
    """
    ids = body.get("GroupIdList")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise ApiError(req.INVALID, "GroupIdList must be a non-empty array of GroupIds")
    if len(ids) > facts.INFO_BATCH:
        raise ApiError(req.INVALID, f"GroupIdList holds {len(ids)} groups; at most {facts.INFO_BATCH}")
    filters = body.get("ResponseFilter")
    if filters is not None and not isinstance(filters, dict):
        raise ApiError(req.INVALID, "ResponseFilter must be an object")
    filtered = filters is not None
    filters = filters or {}
    base_names = req.strings(filters, "GroupBaseInfoFilter")
    member_names = req.strings(filters, "MemberInfoFilter")
    group_keys = req.strings(filters, "AppDefinedDataFilter_Group")
    member_keys = req.strings(filters, "AppDefinedDataFilter_GroupMember")
    fields = _MemberFields(member_names if filtered else None, member_keys if filtered else None)
    items = []
    bound = 0
    for group_id in ids:
        problem = facts.group_id_problem(group_id)
        group = None if problem else app.store.groups.get(group_id)
        if group is None:
            code = req.BAD_GROUP_ID if problem else req.NO_GROUP
            items.append({"GroupId": group_id, "ErrorCode": code,
                          "ErrorInfo": f"GroupId {problem}" if problem else
                          f"group {group_id} does not exist (or was destroyed)"})
            continue
        item: dict[str, Any] = {**_base_info(app, group_id, group, base_names),
                                "ErrorCode": 0, "ErrorInfo": ""}
        if not filtered:
            item["Appid"] = app.store.sdkappid
        bound += stance.GROUP_ENTRY_BOUND
        data = group.get("AppDefinedData", {})
        if data and (not filtered or group_keys is not None):
            item["AppDefinedData"] = _defined_items(data, group_keys)
            bound += stance.GROUP_DATA_BOUND
        if not filtered or member_names is not None:
            entry = fields.entry
            item["MemberList"] = [entry(account, member) for account, member in group["Members"].items()]
            bound += fields.bound * len(group["Members"])
        items.append(item)
    answer = {"GroupInfo": items}
    _check_size(answer, bound)
    return Answer(answer)


def get_group_member_info(app: App, body: dict[str, Any]) -> Answer:
    """A group's members, all of them or ``Limit`` (at most 200) from ``Offset``; a Community group
    pages by the string cursor ``Next`` instead ("" first, "" again when done)."""
    group_id, group, group_type = req.existing_group(app, body)
    if not group_type.members_stored:
        raise ApiError(req.NOT_ALLOWED, f"{group_type.api_name} groups do not keep members")
    names = req.strings(body, "MemberInfoFilter")
    roles = req.strings(body, "MemberRoleFilter")
    if roles is not None and not set(roles) <= set(facts.ROLES):
        raise ApiError(req.INVALID, f"MemberRoleFilter holds only {', '.join(facts.ROLES)}")
    keys = req.strings(body, "AppDefinedDataFilter_GroupMember")
    limit = req.integer(body, "Limit", 1, facts.MEMBER_PAGE_MAX)
    offset = req.integer(body, "Offset", 0, 2**32 - 1) or 0
    community = group_type is facts.COMMUNITY
    if community:
        if offset:
            raise ApiError(req.INVALID, "Community groups page with Next, not Offset")
        offset = _community_cursor(body.get("Next"), group_id)
    chosen = [(account, member) for account, member in group["Members"].items()
              if roles is None or member["Role"] in roles]
    end = len(chosen) if limit is None else min(len(chosen), offset + limit)
    fields = _MemberFields(names, keys)
    page = [fields.entry(account, member) for account, member in chosen[offset:end]]
    answer: dict[str, Any] = {"MemberNum": len(group["Members"]), "MemberList": page}
    if community:
        answer["Next"] = f"{stance.MEMBER_CURSOR_PREFIX}{end}" if end < len(chosen) else ""
    _check_size(answer, stance.GROUP_ENTRY_BOUND + fields.bound * len(page))
    return Answer(answer)


def _community_cursor(value: Any, group_id: str) -> int:
    """The offset a Community ``Next`` stands for: ``""`` (or ``0``/``"0"``) first, then one given."""
    if value is None:
        raise ApiError(req.INVALID, f"group {group_id} is a Community: Next is required (\"\" at first)")
    if value in ("", "0") or (value == 0 and not isinstance(value, bool)):
        return 0
    prefix = stance.MEMBER_CURSOR_PREFIX
    if isinstance(value, str) and value.startswith(prefix) and value[len(prefix):].isdigit() and \
            value[len(prefix):].isascii() and len(value) < 20:
        return int(value[len(prefix):])
    raise ApiError(req.INVALID, "Next is not a cursor this group's member listing gave")


def get_joined_group_list(app: App, body: dict[str, Any]) -> Answer:
    """The groups an account is in, in creation order; leaves out AVChatRooms (unless
    ``WithHugeGroups: 1``) and unactivated Private groups (unless ``WithNoActiveGroups: 1``)."""
    account = req.account_id(body.get("Member_Account"), "Member_Account")
    if account not in app.store.accounts:
        raise ApiError(req.INVALID, f"Member_Account {account} is not an account")
    huge = req.flag(body, "WithHugeGroups")
    inactive = req.flag(body, "WithNoActiveGroups")
    limit = req.integer(body, "Limit", 1, facts.JOINED_LIMIT_MAX)
    offset = req.integer(body, "Offset", 0, 2**32 - 1) or 0
    kind = req.text(body, "GroupType") or None
    if kind is not None and kind not in facts.LIST_FILTER_TYPES:
        raise ApiError(req.INVALID, f"GroupType must be one of {', '.join(facts.LIST_FILTER_TYPES)}")
    filters = body.get("ResponseFilter")
    if filters is not None and not isinstance(filters, dict):
        raise ApiError(req.INVALID, "ResponseFilter must be an object")
    base_names = req.strings(filters or {}, "GroupBaseInfoFilter")
    self_names = req.strings(filters or {}, "SelfInfoFilter")
    store = app.store
    chosen = []
    for group_id in sorted(store.joined.get(account, ()), key=lambda i: store.groups[i]["Seq"]):
        group = store.groups[group_id]
        if (huge or group["Type"] != facts.AVCHATROOM.api_name) and (inactive or group["Active"]) \
                and (kind is None or group["Type"] == kind):
            chosen.append((group_id, group))
    end = len(chosen) if limit is None else min(len(chosen), offset + limit)
    listed = []
    for group_id, group in chosen[offset:end]:
        entry = _base_info(app, group_id, group, base_names or ())
        if self_names is not None:
            view = group_state.member_view(group["Members"][account])
            entry["SelfInfo"] = {name: view[name] for name in self_names if name in view}
        listed.append(entry)
    return Answer({"TotalCount": len(chosen), "GroupIdList": listed})
