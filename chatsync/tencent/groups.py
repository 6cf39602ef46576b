"""The group operations chatsync needs, on top of :class:`~chatsync.tencent.client.Client`
(docs/tencent-api.md §10).

Reads: every GroupId of the app (``get_appid_group_list``, one page after another: the endpoint
allows 1 call a second, which the client's pacer keeps), groups' info and members 50 groups a call
concurrently (``get_group_info``; a chunk whose answer would pass 1 MB is read again without members,
and each group's members page by page), and one group's members (``get_group_member_info``).

Writes: ``create_group`` with up to 100 initial members where the type takes them (a create that
meets its own GroupId, 10021/10025, after a lost answer or an interrupted run, is recognised by
reading the group back: :class:`CreateResult`), base info, destroy, members added or imported 20 a
call and deleted 100 a call (silent by default: ``Silence: 1``), the owner, and a member's role.

Batch operations answer each member with an :class:`~chatsync.tencent.api.ItemResult` and each group
with a :class:`GroupResult`: a failure of a whole call becomes the result of each of its items,
unless it stops the run, which is raised (with ``partial`` holding what was answered before). Every
answer is read strictly (:mod:`chatsync.tencent.group_answers`).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chatsync.errors import CallFailed, ProtocolError, Stopped
from chatsync.facts import error_codes as errors
from chatsync.facts import groups as facts
from chatsync.tencent import group_answers as read
from chatsync.tencent.answers import AnswerError
from chatsync.tencent.api import ItemResult, chunks
from chatsync.tencent.client import Client, Reply
from chatsync.tencent.group_answers import GroupInfo, Members

#: Base fields a group read asks for (``GroupBaseInfoFilter``): what chatsync compares and shows.
BASE_FIELDS = ("Type", "Name", "Introduction", "Notification", "FaceUrl", "Owner_Account",
               "MaxMemberNum", "ApplyJoinOption", "MemberNum", "InviteJoinOption", "ShutUpAllMember",
               "CreateTime", "InfoSeq", "NextMsgSeq")
#: Member fields a group read asks for (``Member_Account`` always comes).
MEMBER_FIELDS = ("Role",)
#: Codes that say a create met a group that already has its GroupId.
ID_TAKEN = (10021, 10025)
TOO_LARGE = 10018
#: Most pages a listing may take before the answer is judged endless (a hostile server).
MAX_PAGES = 100_000
#: What a batch answer says about each member: member -> (code, info, data).
_Said = dict[str, tuple[int | None, str, dict[str, Any]]]


@dataclass(frozen=True)
class GroupResult:
    """The outcome for one GroupId of a batch read: ``code`` 0 with ``group``, or the group's own
    ErrorCode (10010: no such group; 10015: a malformed id) or its chunk's."""

    group_id: str
    code: int | None
    info: str = ""
    attempts: int = 1
    group: GroupInfo | None = None

    @property
    def ok(self) -> bool:
        """True when the group was read."""
        return self.code == 0

    @property
    def missing(self) -> bool:
        """True when the service says the group does not exist (or was destroyed)."""
        return self.code == 10010

    @property
    def hint(self) -> str:
        """What to do about a failure ('' when the code has no hint)."""
        return errors.lookup(self.code).hint if self.code else ""


@dataclass(frozen=True)
class NewGroup:
    """A group to create. ``type`` is a REST name or the name users know (Work, Meeting);
    ``apply_join`` plain words (anyone, approval, nobody) or the API's value; ``members`` maps each
    initial member (not the owner) to its role, ``Member`` or ``Admin``; ``owner`` ``""`` for none."""

    group_id: str
    type: str
    name: str
    owner: str = ""
    introduction: str | None = None
    notification: str | None = None
    face_url: str | None = None
    max_members: int | None = None
    apply_join: str | None = None
    members: Mapping[str, str] = field(default_factory=dict)

    @property
    def group_type(self) -> facts.GroupType:
        """The type's facts (ValueError for an unknown type)."""
        found = facts.TYPE_BY_NAME.get(self.type)
        if found is None:
            raise ValueError(f"unknown group type {self.type!r}; one of {', '.join(facts.TYPE_BY_NAME)}")
        return found

    def initial_members(self) -> list[str]:
        """The members ``create_group`` carries: up to 100 (the owner aside), none for a type that
        takes no members at creation (AVChatRoom); the rest are added after."""
        if not self.group_type.members_at_create:
            return []
        return [m for m in self.members if m != self.owner][:facts.CREATE_MEMBERS_MAX]


@dataclass(frozen=True)
class CreateResult:
    """A group made (``created``), or found made already (``recovered``: the GroupId answered
    10021/10025 and the group there has the asked type, name and owner; ``existing`` is it, with
    its members). ``members_sent`` went in ``create_group``; ``members_left`` still need adding."""

    group_id: str
    created: bool
    recovered: bool
    attempts: int
    members_sent: tuple[str, ...]
    members_left: tuple[str, ...]
    existing: GroupInfo | None = None


def matches(spec: NewGroup, group: GroupInfo) -> bool:
    """Whether ``group`` is the one ``spec`` would create: the same type, name and owner."""
    return (group.type == spec.group_type.api_name and group.name == spec.name
            and group.owner == spec.owner)


def apply_join_value(word: str) -> str:
    """The API's ``ApplyJoinOption`` for plain words (anyone, approval, nobody) or an API value."""
    if word in facts.APPLY_JOIN.values():
        return word
    if word in facts.APPLY_JOIN:
        return facts.APPLY_JOIN[word]
    raise ValueError(f"apply_join {word!r} is not one of {', '.join(facts.APPLY_JOIN)}")


#: Base-info changes by config name -> (API key, conversion).
MODIFIABLE: dict[str, tuple[str, Callable[[Any], Any]]] = {
    **{text.name: (text.key, str) for text in facts.TEXT_FIELDS},
    "max_members": (facts.MAX_MEMBERS_KEY, int),
    "apply_join": ("ApplyJoinOption", apply_join_value),
    "invite_join": ("InviteJoinOption", lambda word: facts.INVITE_JOIN.get(word, word)),
    "shut_up_all": ("ShutUpAllMember", lambda on: "On" if on is True else "Off" if on is False else on),
}


class GroupApi:
    """Typed group operations on one app; thread-safe like the :class:`Client` under it."""

    def __init__(self, client: Client) -> None:
        self.client = client

    # -- reads ---------------------------------------------------------------------------------

    def list_group_ids(self, group_type: str | None = None, *,
                       limit: int = facts.LIST_LIMIT_MAX) -> list[str]:
        """Every GroupId of the app (of one type, if given), in the listing's order, following the
        64-bit cursor until it is 0. The endpoint's rate (1/s) paces the pages."""
        body: dict[str, Any] = {"Limit": limit}
        if group_type is not None:
            known = facts.TYPE_BY_NAME.get(group_type)
            body["GroupType"] = known.api_name if known is not None else group_type
        found: dict[str, None] = {}
        cursor = 0
        seen_cursors: set[int] = set()
        for _ in range(MAX_PAGES):
            reply = self.client.call("get_appid_group_list", {**body, "Next": cursor})
            page = self._read("get_appid_group_list", reply, read.group_page)
            found.update(dict.fromkeys(page.group_ids))
            if page.next == 0:
                return list(found)
            if page.next in seen_cursors or not page.group_ids:
                raise ProtocolError("get_appid_group_list", "Next",
                                    f"is {page.next} again, or came with no group (the listing "
                                    "would never end)", reply.attempts)
            seen_cursors.add(page.next)
            cursor = page.next
        raise ProtocolError("get_appid_group_list", "Next", f"did not reach 0 in {MAX_PAGES} pages")

    def get_group_info(self, group_ids: Iterable[str], *, members: bool = True) -> dict[str, GroupResult]:
        """Each group's base info (and members), 50 groups a call, the calls concurrent. A chunk
        whose answer would pass 1 MB (10018) is read again without members, then each group's
        members page by page; so is a group that lists fewer members than it counts."""
        asked = list(dict.fromkeys(group_ids))
        results: dict[str, GroupResult] = {}
        lock = threading.Lock()

        def run(chunk: Sequence[str]) -> None:
            said = self._info_chunk(chunk, members)
            with lock:
                results.update(said)

        try:
            self.client.map(run, chunks(asked, facts.INFO_BATCH))
        except (Stopped, CallFailed) as stop:
            stop.partial = dict(results)
            raise
        return {group_id: results[group_id] for group_id in asked if group_id in results}

    def _info_chunk(self, chunk: Sequence[str], with_members: bool) -> dict[str, GroupResult]:
        body: dict[str, Any] = {"GroupIdList": list(chunk), "ResponseFilter": {
            "GroupBaseInfoFilter": list(BASE_FIELDS)}}
        if with_members:
            body["ResponseFilter"]["MemberInfoFilter"] = list(MEMBER_FIELDS)
        try:
            reply = self.client.call("get_group_info", body)
        except CallFailed as failure:
            if failure.stops_run:
                raise
            if failure.code == TOO_LARGE and with_members:
                return self._members_apart(chunk, failure.attempts)
            return {g: GroupResult(g, failure.code, failure.info, failure.attempts) for g in chunk}
        try:
            said = read.group_infos(reply.answer, frozenset(chunk), with_members=with_members)
        except AnswerError as exc:
            raise ProtocolError.from_answer("get_group_info", exc, reply.attempts) from None
        results = {}
        for group_id in chunk:
            code, info, group = said.get(group_id, (None, "missing from the answer", None))
            if group is not None and with_members and _members_short(group):
                group = self._with_all_members(group)
            results[group_id] = GroupResult(group_id, code, info, reply.attempts, group)
        return results

    def _members_apart(self, chunk: Sequence[str], attempts: int) -> dict[str, GroupResult]:
        """A chunk too large with its members: base info first, then each group's members."""
        results = self._info_chunk(chunk, with_members=False)
        for group_id, result in results.items():
            if result.group is not None:
                group = self._with_all_members(result.group)
                results[group_id] = GroupResult(group_id, 0, "", result.attempts + attempts, group)
        return results

    def _with_all_members(self, group: GroupInfo) -> GroupInfo:
        if group.group_type is not None and not group.group_type.members_stored:
            return group
        listed = self.read_members(group.group_id, community=group.type == facts.COMMUNITY.api_name)
        return _replace_members(group, listed)

    def read_members(self, group_id: str, *, community: bool = False) -> Members:
        """Every member of a group (UserID -> role), 200 a page (``Offset``; a Community pages
        with the string cursor ``Next``)."""
        found: Members = {}
        offset, cursor = 0, ""
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            body: dict[str, Any] = {"GroupId": group_id, "Limit": facts.MEMBER_PAGE_MAX,
                                    "MemberInfoFilter": list(MEMBER_FIELDS)}
            if community:
                body["Next"] = cursor
            else:
                body["Offset"] = offset
            reply = self.client.call("get_group_member_info", body)
            page = self._read("get_group_member_info", reply, read.member_page)
            for member, role in page.members.items():
                found.setdefault(member, role)
            if community:
                if not page.next:
                    return found
                if page.next in seen:
                    raise ProtocolError("get_group_member_info", "Next", "repeats an earlier cursor",
                                        reply.attempts)
                seen.add(page.next)
                cursor = page.next
                continue
            offset += len(page.members)
            if len(page.members) < facts.MEMBER_PAGE_MAX or offset >= page.total:
                return found
        raise ProtocolError("get_group_member_info", "MemberList", f"did not end in {MAX_PAGES} pages")

    def joined_groups(self, user_id: str) -> list[str]:
        """Every group ``user_id`` is in, AVChatRooms and unactivated Work groups included."""
        found: dict[str, None] = {}
        offset = 0
        for _ in range(MAX_PAGES):
            reply = self.client.call("get_joined_group_list", {
                "Member_Account": user_id, "WithHugeGroups": 1, "WithNoActiveGroups": 1,
                "Limit": facts.JOINED_LIMIT_MAX, "Offset": offset})
            total, ids = self._read("get_joined_group_list", reply, read.joined_page)
            found.update(dict.fromkeys(ids))
            offset += len(ids)
            if not ids or offset >= total:
                return list(found)
        raise ProtocolError("get_joined_group_list", "GroupIdList", f"did not end in {MAX_PAGES} pages")

    # -- writes --------------------------------------------------------------------------------

    def create_group(self, spec: NewGroup) -> CreateResult:
        """Create ``spec`` with its first members (:meth:`NewGroup.initial_members`).

        A GroupId that is taken (10021/10025) is read back: when the group there is the one asked
        for (:func:`matches`: a retry after a lost answer, or a run cut short), the result says
        ``recovered`` and carries it; otherwise the failure is raised, saying what is there."""
        group_type = spec.group_type
        sent = spec.initial_members()
        body: dict[str, Any] = {"Type": group_type.api_name, "Name": spec.name, "GroupId": spec.group_id}
        if spec.owner:
            body["Owner_Account"] = spec.owner
        for text in facts.TEXT_FIELDS[1:]:
            value = getattr(spec, text.name)
            if value is not None:
                body[text.key] = value
        if spec.max_members is not None:
            body[facts.MAX_MEMBERS_CREATE_KEY] = spec.max_members
        if spec.apply_join is not None:
            body["ApplyJoinOption"] = apply_join_value(spec.apply_join)
        if sent:
            body["MemberList"] = [_member_item(m, spec.members[m]) for m in sent]
        carried = set(sent)
        left = tuple(m for m in spec.members if m != spec.owner and m not in carried)
        try:
            reply = self.client.call("create_group", body)
        except CallFailed as failure:
            if failure.code not in ID_TAKEN or failure.stops_run:
                raise
            return self._recognise(spec, failure, tuple(sent), left)
        made = self._read("create_group", reply, lambda a: read.created_group_id(a, spec.group_id))
        return CreateResult(made, True, False, reply.attempts, tuple(sent), left)

    def _recognise(self, spec: NewGroup, failure: CallFailed, sent: tuple[str, ...],
                   left: tuple[str, ...]) -> CreateResult:
        result = self.get_group_info([spec.group_id])[spec.group_id]
        group = result.group
        if group is not None and matches(spec, group):
            present = group.members or {}
            missing = tuple(m for m in (*sent, *left) if m not in present)
            return CreateResult(spec.group_id, False, True, failure.attempts + result.attempts,
                                tuple(m for m in sent if m in present), missing, group)
        if group is not None:
            failure.info = (f"group {spec.group_id} already exists and is not the one declared (it is a "
                            f"{group.type} group named {group.name!r}, owner {group.owner or 'none'})")
            failure.hint = "choose another GroupId, or declare the group as it is"
            failure.args = (failure._text(),)
        raise failure

    def modify_group_base_info(self, group_id: str, changes: Mapping[str, Any]) -> Reply:
        """Change base fields by config name (name, introduction, notification, face_url,
        max_members, apply_join, invite_join, shut_up_all), in one call; ValueError for none or an
        unknown name."""
        if not changes:
            raise ValueError("modify_group_base_info needs at least one change")
        body: dict[str, Any] = {"GroupId": group_id}
        for name, value in changes.items():
            if name not in MODIFIABLE:
                raise ValueError(f"{name} is not a group base field ({', '.join(MODIFIABLE)})")
            key, convert = MODIFIABLE[name]
            body[key] = convert(value)
        return self.client.call("modify_group_base_info", body)

    def destroy_group(self, group_id: str) -> Reply:
        """Destroy a group. Irreversible."""
        return self.client.call("destroy_group", {"GroupId": group_id})

    def change_group_owner(self, group_id: str, new_owner: str) -> Reply:
        """Make ``new_owner`` (already a member) the owner; the old owner becomes a Member."""
        return self.client.call("change_group_owner", {"GroupId": group_id, "NewOwner_Account": new_owner})

    def set_member_role(self, group_id: str, user_id: str, role: str) -> Reply:
        """Make a member an ``Admin`` or a plain ``Member`` again."""
        if role not in (facts.ADMIN, facts.MEMBER):
            raise ValueError(f"a role set by modify_group_member_info is Admin or Member, not {role!r}")
        return self.modify_group_member_info(group_id, user_id, {"Role": role})

    def modify_group_member_info(self, group_id: str, user_id: str, fields: Mapping[str, Any]) -> Reply:
        """Change a member's fields by their API names (Role, MsgFlag, NameCard, ShutUpTime)."""
        return self.client.call("modify_group_member_info",
                                {"GroupId": group_id, "Member_Account": user_id, **fields})

    def add_members(self, group_id: str, user_ids: Iterable[str], *,
                    silence: bool = True) -> dict[str, ItemResult]:
        """Add members 20 a call; ``data["result"]`` says ``added``, ``already a member`` or
        ``invited; ...``. Silent unless ``silence=False`` (then every member is notified)."""

        def body(ids: Sequence[str]) -> dict[str, Any]:
            return {"GroupId": group_id, "Silence": 1 if silence else 0,
                    "MemberList": [{"Member_Account": m} for m in ids]}

        return self._member_batches("add_group_member", user_ids, facts.ADD_BATCH, body, _results)

    def import_members(self, group_id: str, members: Mapping[str, str]) -> dict[str, ItemResult]:
        """Import members (member -> ``Member`` or ``Admin``) 20 a call: no notice, no callback."""

        def body(ids: Sequence[str]) -> dict[str, Any]:
            return {"GroupId": group_id, "MemberList": [_member_item(m, members[m]) for m in ids]}

        return self._member_batches("import_group_member", members, facts.IMPORT_BATCH, body, _results)

    def delete_members(self, group_id: str, user_ids: Iterable[str], *, silence: bool = True,
                       reason: str | None = None) -> dict[str, ItemResult]:
        """Remove members 100 a call (one that is not a member is fine). With ``silence`` only
        the removed member is told; without, every member."""

        def body(ids: Sequence[str]) -> dict[str, Any]:
            sent: dict[str, Any] = {"GroupId": group_id, "MemberToDel_Account": list(ids),
                                    "Silence": 1 if silence else 0}
            if reason is not None:
                sent["Reason"] = reason
            return sent

        def removed(answer: Mapping[str, Any], ids: Sequence[str]) -> _Said:
            return {m: (0, "", {}) for m in ids}

        return self._member_batches("delete_group_member", user_ids, facts.DELETE_BATCH, body, removed)

    # -- internals -----------------------------------------------------------------------------

    def _member_batches(
        self, endpoint: str, user_ids: Iterable[str], size: int,
        body_for: Callable[[Sequence[str]], dict[str, Any]],
        reader: Callable[[Mapping[str, Any], Sequence[str]], _Said],
    ) -> dict[str, ItemResult]:
        asked = list(dict.fromkeys(user_ids))
        results: dict[str, ItemResult] = {}
        lock = threading.Lock()

        def run(ids: Sequence[str]) -> None:
            try:
                reply = self.client.call(endpoint, body_for(ids))
            except CallFailed as failure:
                if failure.stops_run:
                    raise
                with lock:
                    results.update({m: ItemResult(m, failure.code, failure.info, failure.attempts)
                                    for m in ids})
                return
            try:
                said = reader(reply.answer, ids)
            except AnswerError as exc:
                raise ProtocolError.from_answer(endpoint, exc, reply.attempts) from None
            with lock:
                for member in ids:
                    code, info, data = said.get(member, (None, "missing from the answer", {}))
                    results[member] = ItemResult(member, code, info, reply.attempts, data)

        try:
            self.client.map(run, chunks(asked, size))
        except (Stopped, CallFailed) as stop:
            stop.partial = dict(results)
            raise
        return {member: results[member] for member in asked if member in results}

    def _read(self, endpoint: str, reply: Reply, reader: Callable[[dict[str, Any]], Any]) -> Any:
        try:
            return reader(reply.answer)
        except AnswerError as exc:
            raise ProtocolError.from_answer(endpoint, exc, reply.attempts) from None


def _member_item(user_id: str, role: str) -> dict[str, str]:
    if role not in (facts.ADMIN, facts.MEMBER):
        raise ValueError(f"an initial or imported member's role is Admin or Member, not {role!r}")
    return {"Member_Account": user_id, "Role": facts.ADMIN} if role == facts.ADMIN else {
        "Member_Account": user_id}


def _results(answer: Mapping[str, Any], ids: Sequence[str]) -> _Said:
    """Per-member ``Result`` of add/import: 1, 2 and 3 are successes (``data["result"]`` says
    which); 0 is a failure the answer gives no code for."""
    said: _Said = {}
    for member, result in read.member_results(answer, frozenset(ids)).items():
        text = facts.MEMBER_RESULTS[result]
        if result == facts.RESULT_FAILED:
            said[member] = (None, "the service answered Result 0 (not added)", {"result": text})
        else:
            said[member] = (0, "", {"result": text})
    return said


def _members_short(group: GroupInfo) -> bool:
    """True when a group lists fewer members than it counts (a server that cut the list)."""
    kind = group.group_type
    stored = kind is None or kind.members_stored
    return stored and group.members is not None and len(group.members) < group.member_count


def _replace_members(group: GroupInfo, members: Members) -> GroupInfo:
    return dataclasses.replace(group, members=members, member_count=max(group.member_count, len(members)))
