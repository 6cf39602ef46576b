"""The group APIs of the emulator (docs/tencent-api.md §10): pure functions of (app, body) -> answer.

As in :mod:`chatsync.emulator.handlers`, each handler runs under the store's lock, checks the whole
body before it changes anything, and raises :class:`ApiError` for a whole-request failure. The
order of the checks: the body's fields (10004, 10005 for a batch over its size, 10007 for what the
group's type does not allow), the group (10015 malformed id, 10010 unknown), the accounts named
(10019), then the group's and the app's limits (10014, 10038, 10058, 10036, 10037). Where the docs
are silent the emulator takes the stances of §10.22 (constants in :mod:`chatsync.emulator.stance`).
This module holds the APIs that write, and :data:`HANDLERS`, every group API by name (the reads are
in :mod:`chatsync.emulator.group_reads`; reading a request, in :mod:`.group_requests`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chatsync.emulator import group_reads, group_state
from chatsync.emulator import group_requests as req
from chatsync.emulator.handlers import Answer, ApiError, App
from chatsync.facts import groups as facts
from chatsync.facts import limits

_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _generated_id(app: App, group_type: facts.GroupType) -> tuple[str, int]:
    """A new ``@TGS#`` id and its Seq: the Seq scrambled into 8 base-32 letters (unique per Seq)."""
    store = app.store
    while True:
        store.group_seq += 1
        number = (store.group_seq * 0x9E3779B97F) % (1 << 40)
        letters = "".join(_BASE32[(number >> shift) & 31] for shift in range(35, -1, -5))
        group_id = f"{facts.GENERATED_PREFIX}{group_type.id_char}{letters}"
        if group_id not in store.groups:
            return group_id, store.group_seq


# -- create and import a group ------------------------------------------------------------------

def _group_fields(app: App, body: Mapping[str, Any], group_type: facts.GroupType) -> dict[str, Any]:
    """The base info a create or import request sets (``MaxMemberCount``, not ``MaxMemberNum``,
    which create ignores: stance §10.22)."""
    fields: dict[str, Any] = {}
    for text in facts.TEXT_FIELDS:
        value = req.text(body, text.key, text.max_bytes, required=text.required_at_create)
        if value is not None:
            fields[text.key] = value
    if not fields["Name"]:
        raise ApiError(req.INVALID, "Name is empty")
    cap = facts.member_cap(group_type, app.group_member_cap)
    if cap is not None:
        most = req.integer(body, facts.MAX_MEMBERS_CREATE_KEY, 1, 2**32 - 1)
        if most is not None:
            if most > cap:
                raise ApiError(req.INVALID, f"MaxMemberCount {most} is over the cap of {cap} members for "
                                        f"{group_type.api_name} groups")
            fields["MaxMemberNum"] = most
    apply_join = _apply_join(body, group_type)
    if apply_join is not None:
        fields["ApplyJoinOption"] = apply_join
    invite = req.choice(body, "InviteJoinOption", facts.INVITE_JOIN.values())
    if invite is not None:
        if group_type is facts.AVCHATROOM:
            raise ApiError(req.INVALID, "InviteJoinOption is not for AVChatRoom groups")
        fields["InviteJoinOption"] = invite
    data = req.defined_data(body.get("AppDefinedData"), "AppDefinedData", app.group_data_keys,
                         facts.GROUP_DEFINED_VALUE_MAX_BYTES, deleting=False)
    if data:
        fields["AppDefinedData"] = data
    return fields


def _new_group_type(body: Mapping[str, Any]) -> facts.GroupType:
    name = req.text(body, "Type", required=True)
    group_type = facts.GROUP_TYPES.get(name or "")
    if group_type is None:
        raise ApiError(req.INVALID, f"Type must be one of {', '.join(facts.GROUP_TYPES)} (the REST names)")
    return group_type


def _new_group_id(body: Mapping[str, Any], group_type: facts.GroupType) -> str | None:
    group_id = req.text(body, "GroupId")
    if group_id is not None:
        problem = facts.custom_group_id_problem(group_id, group_type)
        if problem:
            raise ApiError(req.INVALID, f"GroupId {problem}")
    return group_id


def _owner(body: Mapping[str, Any]) -> str:
    """``Owner_Account``: '' (absent, null or empty) for a group with no owner; a bot is 10004."""
    owner = req.text(body, "Owner_Account") or ""
    if limits.is_bot_id(owner):
        raise ApiError(req.INVALID, "a bot cannot own a group")
    return owner


def _check_group_count(app: App, group_type: facts.GroupType) -> None:
    groups = app.store.groups
    if app.max_groups is not None and len(groups) >= app.max_groups:
        raise ApiError(req.TRIAL_LIMIT, f"the app already has {req.counted(len(groups), 'group')}, the "
                                    "most its edition allows")
    if group_type is facts.AVCHATROOM and app.max_av_chatrooms is not None:
        rooms = sum(1 for group in groups.values() if group["Type"] == group_type.api_name)
        if rooms >= app.max_av_chatrooms:
            raise ApiError(req.AV_LIMIT, f"the app already has {req.counted(rooms, 'AVChatRoom')}, the "
                                     "most its edition allows")


def create_group(app: App, body: dict[str, Any]) -> Answer:
    """Create a group, with its owner and up to 100 initial members (not for AVChatRoom)."""
    group_type = _new_group_type(body)
    group_id = _new_group_id(body, group_type)
    fields = _group_fields(app, body, group_type)
    owner = _owner(body)
    items = body.get("MemberList")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise ApiError(req.INVALID, "MemberList must be an array")
    if len(items) > facts.CREATE_MEMBERS_MAX:
        raise ApiError(req.TOO_MANY, f"MemberList holds {len(items)} members; at most "
                                 f"{facts.CREATE_MEMBERS_MAX} at creation")
    if items and not group_type.members_at_create:
        raise ApiError(req.NOT_ALLOWED, f"{group_type.api_name} groups take no MemberList")
    members: dict[str, group_state.Member] = {}
    now = req.now(app)
    for account, item in req.member_entries(items, "MemberList"):
        role = req.choice(item, "Role", (facts.ADMIN,)) or facts.MEMBER
        if role == facts.ADMIN:
            _check_admin(account, group_type)
        data = req.defined_data(item.get("AppMemberDefinedData"), "AppMemberDefinedData",
                             app.member_data_keys, facts.MEMBER_DEFINED_VALUE_MAX_BYTES, deleting=False)
        if account != owner:  # the owner is a member already (stance: its entry is ignored)
            members[account] = req.new_member(role, now, data)
    _check_taken(app, group_id, owner, create=True)
    req.require_accounts(app, [owner, *members] if owner else members)
    cap = fields.get("MaxMemberNum", facts.member_cap(group_type, app.group_member_cap))
    total = len(members) + (1 if owner else 0)
    if cap is not None and total > cap:
        raise ApiError(req.CREATE_OVER_CAP, f"{total} members are more than the group's cap of {cap}")
    _check_group_count(app, group_type)
    req.check_joined_limit(app, [owner, *members] if owner else members)
    group_id = _store_group(app, group_id, group_type, fields, owner, now,
                            active=not group_type.needs_activation)
    for account, member in members.items():
        app.store.add_member(group_id, account, member)
    return Answer({"GroupId": group_id}, changed=True)


def _check_admin(account: str, group_type: facts.GroupType) -> None:
    """An Admin role: 10007 in a type without admins (Private), 10004 for a bot (stance)."""
    if not group_type.admins_allowed:
        raise ApiError(req.NOT_ALLOWED, f"{group_type.api_name} groups have no admins")
    if limits.is_bot_id(account):
        raise ApiError(req.INVALID, f"a bot cannot be an admin ({account})")


def _check_taken(app: App, group_id: str | None, owner: str, *, create: bool) -> None:
    """10025 when the id is taken by a group with the owner asked for (a create retried after a
    lost answer meets its own group), else 10021 (stance §10.21); import always gets 10021."""
    if group_id is None:
        return
    existing = app.store.groups.get(group_id)
    if existing is None:
        return
    if create and existing["Owner_Account"] == owner:
        raise ApiError(req.ID_YOURS, f"group {group_id} exists already with this owner; destroy it "
                                 "first or choose another GroupId")
    raise ApiError(req.ID_TAKEN, f"GroupId {group_id} is already used by another group")


def _store_group(app: App, group_id: str | None, group_type: facts.GroupType,
                 fields: Mapping[str, Any], owner: str, created: int, *, active: bool) -> str:
    store = app.store
    if group_id is None:
        group_id, seq = _generated_id(app, group_type)
    else:
        store.group_seq += 1
        seq = store.group_seq
    group = group_state.new_group(group_type, fields["Name"], created, seq, app.group_member_cap)
    group.update(fields)
    group["CreateTime"] = group["LastInfoTime"] = created
    group["Active"] = active
    if owner:
        group["Owner_Account"] = owner
        group["Members"][owner] = req.new_member(facts.OWNER, created, {})
    store.add_group(group_id, group)
    return group_id


def import_group(app: App, body: dict[str, Any]) -> Answer:
    """Import a group (migration): as create_group without members, with ``CreateTime``; no
    notices, no callbacks, active at once."""
    group_type = _new_group_type(body)
    if group_type is facts.AVCHATROOM:
        raise ApiError(req.NOT_ALLOWED, "AVChatRoom groups cannot be imported")
    group_id = _new_group_id(body, group_type)
    fields = _group_fields(app, body, group_type)
    owner = _owner(body)
    now = req.now(app)
    created = req.integer(body, "CreateTime", 1, now)
    _check_taken(app, group_id, owner, create=False)
    if owner:
        req.require_accounts(app, [owner])
    _check_group_count(app, group_type)
    req.check_joined_limit(app, [owner] if owner else [])
    group_id = _store_group(app, group_id, group_type, fields, owner, created or now, active=True)
    return Answer({"GroupId": group_id}, changed=True)


# -- change a group -------------------------------------------------------------------------------

#: Who may modify a group's base info, besides an App admin (docs/tencent-api.md §10.1).
_MODIFY_ROLES = {
    "Private": frozenset(facts.ROLES), "Public": frozenset({facts.OWNER, facts.ADMIN}),
    "ChatRoom": frozenset({facts.OWNER}), "AVChatRoom": frozenset(),
    "Community": frozenset({facts.OWNER}),
}


def modify_group_base_info(app: App, body: dict[str, Any]) -> Answer:
    """Change any of Name, Introduction, Notification, FaceUrl, MaxMemberNum, ApplyJoinOption,
    ShutUpAllMember, InviteJoinOption and AppDefinedData; a request that names none is 10004."""
    _, group, group_type = req.existing_group(app, body)
    changes: dict[str, Any] = {}
    for text in facts.TEXT_FIELDS:
        value = req.text(body, text.key, text.max_bytes)
        if value is not None:
            if text.required_at_create and not value:
                raise ApiError(req.INVALID, f"{text.key} cannot be empty")
            changes[text.key] = value
    most = req.integer(body, facts.MAX_MEMBERS_KEY, 1, 2**32 - 1)
    cap = facts.member_cap(group_type, app.group_member_cap)
    named = most is not None
    if most is not None and cap is not None:  # AVChatRoom: ignored (stance)
        if most > cap:
            raise ApiError(req.INVALID, f"MaxMemberNum {most} is over the cap of {cap} members")
        if most < len(group["Members"]):
            raise ApiError(req.INVALID, f"MaxMemberNum {most} is below the group's "
                                    f"{len(group['Members'])} members")
        changes["MaxMemberNum"] = most
    apply_join = _apply_join(body, group_type)
    if apply_join is not None:
        changes["ApplyJoinOption"] = apply_join
    shut_up = req.choice(body, "ShutUpAllMember", facts.SHUT_UP_ALL)
    if shut_up is not None:
        changes["ShutUpAllMember"] = shut_up
    invite = req.choice(body, "InviteJoinOption", facts.INVITE_JOIN.values())
    if invite is not None:
        if group_type is facts.AVCHATROOM:
            raise ApiError(req.INVALID, "InviteJoinOption is not for AVChatRoom groups")
        changes["InviteJoinOption"] = invite
    data = req.defined_data(body.get("AppDefinedData"), "AppDefinedData", app.group_data_keys,
                         facts.GROUP_DEFINED_VALUE_MAX_BYTES, deleting=True)
    if not changes and not data and not named:
        raise ApiError(req.INVALID, "nothing to modify: name at least one field to change")
    _check_operator(app, body, group, group_type)
    changed = {key: value for key, value in changes.items() if group.get(key) != value}
    if data:
        merged = {**group.get("AppDefinedData", {}), **data}
        kept = {key: value for key, value in merged.items() if value}
        if kept != group.get("AppDefinedData", {}):
            changed["AppDefinedData"] = kept
    if not changed:
        return Answer()
    group.update(changed)
    if group.get("AppDefinedData") == {}:
        del group["AppDefinedData"]
    group["InfoSeq"] += 1
    group["LastInfoTime"] = req.now(app)
    if group["Active"] and group_type is not facts.AVCHATROOM:
        req.notice(app, group)
    return Answer(changed=True)


def _check_operator(app: App, body: Mapping[str, Any], group: group_state.Group,
                    group_type: facts.GroupType) -> None:
    """``From_Account``, when given, acts instead of the App admin: it must be an account (else
    10012) with the rights its role has in this type (else 10007)."""
    operator = req.text(body, "From_Account")
    if operator is None or operator in app.store.admins:
        return
    if operator not in app.store.accounts:
        raise ApiError(req.BAD_OPERATOR, f"From_Account {operator} is not an account")
    member = group["Members"].get(operator)
    if member is None or member["Role"] not in _MODIFY_ROLES[group_type.api_name]:
        raise ApiError(req.NOT_ALLOWED, f"{operator} may not modify this {group_type.api_name} group")


def destroy_group(app: App, body: dict[str, Any]) -> Answer:
    """Destroy a group, for good; its id may be used again (stance)."""
    group_id, _, _ = req.existing_group(app, body)
    app.store.drop_group(group_id)
    return Answer(changed=True)


def add_group_member(app: App, body: dict[str, Any]) -> Answer:
    """Add up to 20 members: ``Result`` 1 added, 2 already a member. Every member gets a notice
    unless ``Silence: 1`` (one tips message; none in an unactivated or a ChatRoom group)."""
    group_id, group, group_type = req.existing_group(app, body)
    silence = req.flag(body, "Silence")
    entries = req.member_entries(req.batch(body, "MemberList", facts.ADD_BATCH), "MemberList")
    if not group_type.member_writes:
        raise ApiError(req.NOT_ALLOWED, f"{group_type.api_name} groups take no members")
    req.require_accounts(app, (account for account, _ in entries))
    new = [account for account, _ in entries if account not in group["Members"]]
    _check_room(group, len(new))
    req.check_joined_limit(app, new)
    now = req.now(app)
    for account in new:
        app.store.add_member(group_id, account, req.new_member(facts.MEMBER, now, {}))
    if new and not silence:
        req.member_change_notice(app, group, group_type)
    results = [{"Member_Account": account,
                "Result": facts.RESULT_ADDED if account in new else facts.RESULT_ALREADY_MEMBER}
               for account, _ in entries]
    return Answer({"MemberList": results}, changed=bool(new))


def _check_room(group: group_state.Group, adding: int) -> None:
    cap = group["MaxMemberNum"]
    if cap and len(group["Members"]) + adding > cap:
        raise ApiError(req.FULL, f"the group has {len(group['Members'])} of at most {cap} members; "
                             f"{adding} more do not fit")


def import_group_member(app: App, body: dict[str, Any]) -> Answer:
    """Import up to 20 members (migration: no notice): ``Result`` 1 imported, 2 already a member,
    0 failed (a ``JoinTime`` not after the group's creation and before now)."""
    group_id, group, group_type = req.existing_group(app, body)
    entries = req.member_entries(req.batch(body, "MemberList", facts.IMPORT_BATCH), "MemberList")
    if not group_type.member_writes:
        raise ApiError(req.NOT_ALLOWED, f"{group_type.api_name} groups take no members")
    now = req.now(app)
    planned: dict[str, group_state.Member] = {}
    failed: set[str] = set()
    for account, item in entries:
        role = req.choice(item, "Role", (facts.ADMIN,)) or facts.MEMBER
        if role == facts.ADMIN:
            _check_admin(account, group_type)
        joined = req.integer(item, "JoinTime", 0, 2**32 - 1)
        req.integer(item, "UnreadMsgNum", 0, 2**32 - 1)
        if joined is not None and not group["CreateTime"] < joined < now:
            failed.add(account)
            continue
        if account not in group["Members"]:
            planned[account] = req.new_member(role, now if joined is None else joined, {})
    req.require_accounts(app, (account for account, _ in entries))
    _check_room(group, len(planned))
    req.check_joined_limit(app, planned)
    for account, member in planned.items():
        app.store.add_member(group_id, account, member)
    results = [{"Member_Account": account,
                "Result": facts.RESULT_FAILED if account in failed else
                facts.RESULT_ADDED if account in planned else facts.RESULT_ALREADY_MEMBER}
               for account, _ in entries]
    return Answer({"MemberList": results}, changed=bool(planned))


def delete_group_member(app: App, body: dict[str, Any]) -> Answer:
    """Remove up to 100 members (an account that is not a member is fine); never the owner
    (stance: 10004); AVChatRoom 10004 (use muting)."""
    group_id, group, group_type = req.existing_group(app, body)
    silence = req.flag(body, "Silence")
    req.text(body, "Reason")
    accounts = req.batch(body, "MemberToDel_Account", facts.DELETE_BATCH)
    if not all(isinstance(account, str) for account in accounts):
        raise ApiError(req.INVALID, "MemberToDel_Account must hold UserIDs (strings)")
    if len(set(accounts)) != len(accounts):
        raise ApiError(req.INVALID, "MemberToDel_Account names an account twice")
    if not group_type.members_stored:
        raise ApiError(req.INVALID, f"{group_type.api_name} members cannot be deleted; mute them instead")
    if group["Owner_Account"] and group["Owner_Account"] in accounts:
        raise ApiError(req.INVALID, "the owner cannot be deleted; change the owner first")
    removed = [account for account in accounts if account in group["Members"]]
    for account in removed:
        app.store.remove_member(group_id, account)
    if removed and not silence:
        req.member_change_notice(app, group, group_type)
    return Answer(changed=bool(removed))


def change_group_owner(app: App, body: dict[str, Any]) -> Answer:
    """Make a member the owner (the old owner becomes a Member; an ownerless group gets one)."""
    group_id, group, group_type = req.existing_group(app, body)
    new_owner = req.account_id(body.get("NewOwner_Account"), "NewOwner_Account")
    if not group_type.member_writes:
        raise ApiError(req.NOT_ALLOWED, f"{group_type.api_name} groups cannot change owner by REST")
    if limits.is_bot_id(new_owner):
        raise ApiError(req.INVALID, "a bot cannot own a group")
    members = group["Members"]
    if new_owner not in members:
        raise ApiError(req.INVALID, f"{new_owner} is not a member of {group_id}; add it first")
    old = group["Owner_Account"]
    if old == new_owner:
        return Answer()
    if old:
        members[old]["Role"] = facts.MEMBER
    members[new_owner]["Role"] = facts.OWNER
    group["Owner_Account"] = new_owner
    if group["Active"]:
        req.notice(app, group)
    return Answer(changed=True)


def modify_group_member_info(app: App, body: dict[str, Any]) -> Answer:
    """Change one member's Role (Admin/Member), MsgFlag, NameCard, AppMemberDefinedData or mute
    (``ShutUpTime`` seconds, or ``MuteTime``); naming nothing to change is 10004."""
    group_id, group, group_type = req.existing_group(app, body)
    account = req.account_id(body.get("Member_Account"), "Member_Account")
    role = req.choice(body, "Role", (facts.ADMIN, facts.MEMBER))
    flag = req.choice(body, "MsgFlag", facts.MSG_FLAGS)
    card = req.text(body, "NameCard", facts.NAME_CARD_MAX_BYTES)
    data = req.defined_data(body.get("AppMemberDefinedData"), "AppMemberDefinedData",
                         app.member_data_keys, facts.MEMBER_DEFINED_VALUE_MAX_BYTES, deleting=True)
    mute = req.integer(body, "ShutUpTime", 0, 2**32 - 1)
    if mute is None:
        mute = req.integer(body, "MuteTime", 0, 2**32 - 1)
    if role is None and flag is None and card is None and not data and mute is None:
        raise ApiError(req.INVALID, "nothing to modify: give Role, MsgFlag, NameCard, "
                                "AppMemberDefinedData or ShutUpTime")
    member = group["Members"].get(account)
    if not group_type.members_stored and member is None:
        raise ApiError(req.NOT_ALLOWED, f"{group_type.api_name} groups keep no member profiles")
    if member is None:
        raise ApiError(req.INVALID, f"{account} is not a member of {group_id}")
    if role is not None:
        if member["Role"] == facts.OWNER:
            raise ApiError(req.INVALID, "the owner's role cannot be changed; use change_group_owner")
        if role == facts.ADMIN:
            _check_admin(account, group_type)
    if mute is not None and group_type is facts.PRIVATE:
        raise ApiError(req.NOT_ALLOWED, "members of Private (Work) groups cannot be muted")
    before = dict(member)
    if role is not None:
        member["Role"] = role
    if flag is not None:
        member["MsgFlag"] = flag
    if card is not None:
        member["NameCard"] = card
    if data:
        merged = {**member.get("AppMemberDefinedData", {}), **data}
        member["AppMemberDefinedData"] = {key: value for key, value in merged.items() if value}
        if not member["AppMemberDefinedData"]:
            del member["AppMemberDefinedData"]
    if mute is not None:
        member["ShutUpUntil"] = req.now(app) + mute if mute else 0
    if member == before:
        return Answer()
    if member["Role"] != before["Role"] and group["Active"]:
        req.notice(app, group)
    return Answer(changed=True)


HANDLERS: dict[str, Callable[[App, dict[str, Any]], Answer]] = {
    "get_appid_group_list": group_reads.get_appid_group_list,
    "create_group": create_group,
    "get_group_info": group_reads.get_group_info,
    "modify_group_base_info": modify_group_base_info,
    "destroy_group": destroy_group,
    "add_group_member": add_group_member,
    "delete_group_member": delete_group_member,
    "get_group_member_info": group_reads.get_group_member_info,
    "import_group": import_group,
    "import_group_member": import_group_member,
    "change_group_owner": change_group_owner,
    "modify_group_member_info": modify_group_member_info,
    "get_joined_group_list": group_reads.get_joined_group_list,
}


def _apply_join(body: Mapping[str, Any], group_type: Any) -> str | None:
    """The ``ApplyJoinOption`` a request sets, as the group keeps it (a Private group's is fixed)."""
    apply_join = req.choice(body, "ApplyJoinOption", facts.APPLY_JOIN.values())
    if apply_join is None:
        return None
    return facts.PRIVATE_APPLY_JOIN if group_type is facts.PRIVATE else apply_join
