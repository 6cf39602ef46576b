"""The strict reading of the group APIs' answers (docs/tencent-api.md §10.6-§10.18).

As :mod:`chatsync.tencent.answers` does for the other APIs: every field is checked for its type and
shape before use, and an answer that does not fit raises :class:`~.answers.AnswerError` (the caller
makes it a run-stopping :class:`~chatsync.tencent.client.ProtocolError`). GroupIds must be
well-formed (printable ASCII, at most 48 bytes), member ids valid UserIDs, roles and per-member
results one of the documented values, the listing's cursor an unsigned 64-bit integer, and a batch
answer may name only what was asked for, each once. Absent strings read as ``""`` (a server may
leave out what is empty); a value of the wrong type is never accepted. Every loop is linear in the
size of the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from chatsync.facts import groups as facts
from chatsync.facts import limits
from chatsync.tencent.answers import (
    AnswerError,
    asked_id,
    info,
    integer,
    listed,
    obj,
    text,
    type_name,
    uint32,
)
from chatsync.text.safe import clipped, quoted

#: A group's members: each member's UserID -> its role (``Owner``, ``Admin`` or ``Member``), in the
#: order the service lists them.
Members = dict[str, str]
_ROLES = frozenset(facts.ROLES)
_USER_ID_MAX = limits.USER_ID_MAX_BYTES
_UINT32_MAX = 2**32 - 1


@dataclass(frozen=True)
class GroupInfo:
    """A group as ``get_group_info`` reads it (API values: ``type`` is the REST name, ``apply_join``
    ``FreeAccess``/``NeedPermission``/``DisableApply``; ``owner`` is ``""`` for no owner;
    ``max_members`` 0 means unlimited). ``members`` (UserID -> role) is None when they were not
    read."""

    group_id: str
    type: str
    name: str
    introduction: str
    notification: str
    face_url: str
    owner: str
    max_members: int
    apply_join: str
    member_count: int
    members: Members | None
    invite_join: str = ""
    shut_up_all: str = ""
    create_time: int = 0
    info_seq: int = 0
    next_msg_seq: int = 0

    @property
    def group_type(self) -> facts.GroupType | None:
        """The type's facts, or None for a type chatsync does not know."""
        return facts.GROUP_TYPES.get(self.type)


#: What a per-group answer says about one group: (code, info, the group when the code is 0).
GroupItem = tuple[int, str, GroupInfo | None]


def group_id(value: Any, field: str) -> str:
    """A well-formed GroupId."""
    return _id(value, field, facts.group_id_problem, "GroupId")


def user_id(value: Any, field: str) -> str:
    """A valid UserID."""
    return _id(value, field, limits.user_id_problem, "UserID")


def _id(value: Any, field: str, problem_of: Callable[[str], str | None], what: str) -> str:
    found = text(value, field)
    problem = problem_of(found)
    if problem:
        raise AnswerError(field, f"is {_shown(found)}, not a {what}: it {problem}")
    return found


def _optional_text(item: Mapping[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if value is None:
        return ""
    return value if isinstance(value, str) else text(value, f"{where}.{key}")  # named only to refuse


def _optional_uint(item: Mapping[str, Any], key: str, where: str) -> int:
    value = item.get(key)
    if value is None:
        return 0
    if value.__class__ is int and 0 <= value <= _UINT32_MAX:
        return value
    return uint32(value, f"{where}.{key}")


def _choice(value: Any, field: str, allowed: Collection[str]) -> str:
    found = text(value, field)
    if found not in allowed:
        raise AnswerError(field, f"is {_shown(found)}, not one of {', '.join(allowed)}")
    return found


# -- get_appid_group_list -------------------------------------------------------------------------

@dataclass(frozen=True)
class GroupPage:
    """One page of the listing: ``total`` groups in all, these ids, and the cursor (0: done)."""

    total: int
    group_ids: tuple[str, ...]
    next: int


def group_page(answer: Mapping[str, Any]) -> GroupPage:
    """``TotalCount``, ``GroupIdList[].GroupId`` and ``Next`` (an unsigned 64-bit integer) of
    get_appid_group_list (§10.6)."""
    total = integer(answer.get("TotalCount", 0), "TotalCount")
    if total < 0:
        raise AnswerError("TotalCount", f"is {total}, a negative count")
    ids = []
    for n, entry in enumerate(listed(answer.get("GroupIdList"), "GroupIdList")):
        entry = obj(entry, f"GroupIdList[{n}]")
        ids.append(group_id(entry.get("GroupId"), f"GroupIdList[{n}].GroupId"))
    cursor = integer(answer.get("Next", 0), "Next")
    if not 0 <= cursor <= facts.CURSOR_MAX:
        raise AnswerError("Next", f"is {cursor}, not an unsigned 64-bit integer")
    return GroupPage(total, tuple(ids), cursor)


# -- get_group_info -------------------------------------------------------------------------------

def members(value: Any, where: str) -> Members:
    """``MemberList[]``: each a valid UserID, once, with a documented ``Role``.

    A group read can list hundreds of thousands of members, so the common case (a printable ASCII
    id, a known role) is checked inline; anything else goes through the full checks, which say why.
    """
    found: Members = {}
    for n, entry in enumerate(listed(value, where)):
        if type(entry) is not dict:
            obj(entry, f"{where}[{n}]")
        member = entry.get("Member_Account")
        role = entry.get("Role")
        if type(member) is not str or not (0 < len(member) <= _USER_ID_MAX and member.isascii()
                                           and member.isprintable()):
            member = user_id(member, f"{where}[{n}].Member_Account")
        if type(role) is not str or role not in _ROLES:
            _choice(role, f"{where}[{n}].Role", facts.ROLES)
        if member in found:
            raise AnswerError(f"{where}[{n}].Member_Account",
                              f"is {_shown(member)} again (each member is listed once)")
        found[member] = role
    return found


def group_infos(answer: Mapping[str, Any], asked: Collection[str], *,
                with_members: bool) -> dict[str, GroupItem]:
    """``GroupInfo[]`` of get_group_info (§10.8): one item per asked id, with its own ``ErrorCode``;
    a failed item carries no group. ``with_members``: the answer must list each group's members."""
    found: dict[str, GroupItem] = {}
    for n, item in enumerate(listed(answer.get("GroupInfo"), "GroupInfo")):
        where = f"GroupInfo[{n}]"
        item = obj(item, where)
        group_id = asked_id(item.get("GroupId"), f"{where}.GroupId", asked, found, what="a group")
        code = integer(item.get("ErrorCode", 0), f"{where}.ErrorCode")
        said = info(item.get("ErrorInfo"), f"{where}.ErrorInfo")
        found[group_id] = (code, said, _group(item, group_id, where, with_members) if code == 0 else None)
    return found


def _group(item: Mapping[str, Any], group_id: str, where: str, with_members: bool) -> GroupInfo:
    kind = text(item.get("Type"), f"{where}.Type")
    owner = _optional_text(item, "Owner_Account", where)
    if owner and not limits.plain_user_ids([owner]):
        user_id(owner, f"{where}.Owner_Account")
    listed_members = None
    if with_members or item.get("MemberList") is not None:
        listed_members = members(item.get("MemberList"), f"{where}.MemberList")
        listed_owners = list(listed_members.values()).count(facts.OWNER)
        if listed_owners and (listed_owners > 1 or listed_members.get(owner) != facts.OWNER):
            owners = [member for member, role in listed_members.items() if role == facts.OWNER]
            raise AnswerError(f"{where}.MemberList", f"names {_shown(owners[0])} as owner, but "
                                                     f"Owner_Account is {_shown(owner)}")
    return GroupInfo(
        group_id=group_id, type=kind, name=_optional_text(item, "Name", where),
        introduction=_optional_text(item, "Introduction", where),
        notification=_optional_text(item, "Notification", where),
        face_url=_optional_text(item, "FaceUrl", where), owner=owner,
        max_members=_optional_uint(item, "MaxMemberNum", where),
        apply_join=_optional_text(item, "ApplyJoinOption", where),
        member_count=_optional_uint(item, "MemberNum", where), members=listed_members,
        invite_join=_optional_text(item, "InviteJoinOption", where),
        shut_up_all=_optional_text(item, "ShutUpAllMember", where),
        create_time=_optional_uint(item, "CreateTime", where),
        info_seq=_optional_uint(item, "InfoSeq", where),
        next_msg_seq=_optional_uint(item, "NextMsgSeq", where),
    )


# -- get_group_member_info ------------------------------------------------------------------------

@dataclass(frozen=True)
class MemberPage:
    """One page of a group's members: ``total`` members in all, these, and (Community) the cursor."""

    total: int
    members: Members
    next: str | None


def member_page(answer: Mapping[str, Any]) -> MemberPage:
    """``MemberNum``, ``MemberList[]`` and, for a Community, the string ``Next`` (§10.13)."""
    total = _optional_uint(answer, "MemberNum", "the answer")
    page = members(answer.get("MemberList"), "MemberList")
    cursor = answer.get("Next")
    if cursor is not None:
        cursor = text(cursor, "Next")
        if len(cursor) > 1000:
            raise AnswerError("Next", f"is a string of {len(cursor)} characters, not a cursor")
    return MemberPage(total, page, cursor)


# -- add_group_member / import_group_member -------------------------------------------------------

def member_results(answer: Mapping[str, Any], asked: Collection[str]) -> dict[str, int]:
    """``MemberList[]: {Member_Account, Result}`` (§10.11, §10.15): asked members, each once, with a
    ``Result`` of 0 (failed), 1 (added), 2 (already a member) or 3 (invited, waiting)."""
    found: dict[str, int] = {}
    for n, entry in enumerate(listed(answer.get("MemberList"), "MemberList")):
        at = f"MemberList[{n}]"
        entry = obj(entry, at)
        member = asked_id(entry.get("Member_Account"), f"{at}.Member_Account", asked, found,
                          what="an account", each="member")
        result = integer(entry.get("Result"), f"{at}.Result")
        if result not in facts.MEMBER_RESULTS:
            raise AnswerError(f"{at}.Result", f"is {result}, not one of 0, 1, 2, 3")
        found[member] = result
    return found


# -- create_group / import_group, get_joined_group_list -------------------------------------------

def created_group_id(answer: Mapping[str, Any], asked: str | None) -> str:
    """``GroupId`` of create_group/import_group: the id asked for, or a well-formed new one."""
    made = group_id(answer.get("GroupId"), "GroupId")
    if asked is not None and made != asked:
        raise AnswerError("GroupId", f"is {_shown(made)}, not the GroupId asked for ({_shown(asked)})")
    return made


def joined_page(answer: Mapping[str, Any]) -> tuple[int, tuple[str, ...]]:
    """``TotalCount`` and ``GroupIdList[].GroupId`` of get_joined_group_list (§10.18)."""
    total = _optional_uint(answer, "TotalCount", "the answer")
    ids = []
    for n, entry in enumerate(listed(answer.get("GroupIdList"), "GroupIdList")):
        entry = obj(entry, f"GroupIdList[{n}]")
        ids.append(group_id(entry.get("GroupId"), f"GroupIdList[{n}].GroupId"))
    return total, tuple(ids)


def _shown(value: Any) -> str:
    return quoted(clipped(value, 60)) if isinstance(value, str) else type_name(value)
