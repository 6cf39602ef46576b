"""Groups: the facts of the group API as plain data (docs/tencent-api.md §10).

The group types with their limits and capabilities (§10.1), the GroupId rules (§10.2), the field
limits and enums (§10.3), the per-call batch sizes and rates (§10.19) and the group error codes
with what a user should do (§10.5). The config validator, the client and the emulator all read
these tables, so they cannot disagree. No I/O, and no import from the rest of chatsync.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# -- types (§10.1) ---------------------------------------------------------------------------------

#: The roles of a member (``Role`` in member info).
OWNER, ADMIN, MEMBER = "Owner", "Admin", "Member"
ROLES = (OWNER, ADMIN, MEMBER)

#: The largest member cap any edition can buy for Private, Public and ChatRoom groups.
MEMBER_CAP_CEILING = 6000
#: The member cap of each edition for those types (paid add-ons raise Pro to 2000, flagship to 6000).
EDITION_MEMBER_CAPS = {"trial": 20, "pro": 200, "flagship": 2000}
#: The member cap the emulator assumes when none is configured (stance §10.21: the edition cap).
DEFAULT_MEMBER_CAP = 2000


@dataclass(frozen=True)
class GroupType:
    """One group type: its names, what it allows, and its limits.

    ``member_ceiling`` is the most members the type can hold in any edition (None: unlimited,
    AVChatRoom); ``edition_capped`` says whether the app's edition cap (``EDITION_MEMBER_CAPS``)
    applies below it. ``id_char`` follows ``@TGS#`` in a generated GroupId (an observation of the
    docs' examples, not a rule).
    """

    api_name: str  # the name in REST requests and answers
    user_name: str  # the name the client SDKs, the console and users know
    roles: tuple[str, ...]
    members_stored: bool  # False: only the owner is kept (AVChatRoom)
    members_at_create: bool  # create_group may carry MemberList
    member_writes: bool  # add/import/delete members, change_group_owner, import_group
    admins_allowed: bool
    bots_may_join: bool
    join_by_application: bool  # ApplyJoinOption means something
    application_needs_approval: bool
    members_may_invite: bool
    needs_activation: bool  # invisible to members until its owner sends a first message
    member_change_notices: bool  # joins and leaves send a tips message to the group
    history_stored: bool
    member_ceiling: int | None
    edition_capped: bool
    custom_id_prefix: str | None = None  # a custom GroupId must start with it (Community)
    needs_higher_edition: bool = False  # must be enabled in the console first (Community)
    id_char: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the type goes by (the REST name first)."""
        return tuple(dict.fromkeys((self.api_name, self.user_name)))


PRIVATE = GroupType(
    "Private", "Work", (OWNER, MEMBER), members_stored=True, members_at_create=True,
    member_writes=True, admins_allowed=False, bots_may_join=True, join_by_application=False,
    application_needs_approval=False, members_may_invite=True, needs_activation=True,
    member_change_notices=True, history_stored=True, member_ceiling=MEMBER_CAP_CEILING,
    edition_capped=True, id_char="1")
PUBLIC = GroupType(
    "Public", "Public", ROLES, members_stored=True, members_at_create=True, member_writes=True,
    admins_allowed=True, bots_may_join=True, join_by_application=True,
    application_needs_approval=True, members_may_invite=False, needs_activation=False,
    member_change_notices=True, history_stored=True, member_ceiling=MEMBER_CAP_CEILING,
    edition_capped=True, id_char="2")
CHATROOM = GroupType(
    "ChatRoom", "Meeting", ROLES, members_stored=True, members_at_create=True, member_writes=True,
    admins_allowed=True, bots_may_join=True, join_by_application=True,
    application_needs_approval=False, members_may_invite=False, needs_activation=False,
    member_change_notices=False, history_stored=True, member_ceiling=MEMBER_CAP_CEILING,
    edition_capped=True, id_char="3")
AVCHATROOM = GroupType(
    "AVChatRoom", "AVChatRoom", (OWNER,), members_stored=False, members_at_create=False,
    member_writes=False, admins_allowed=False, bots_may_join=False, join_by_application=True,
    application_needs_approval=False, members_may_invite=False, needs_activation=False,
    member_change_notices=True, history_stored=False, member_ceiling=None, edition_capped=False,
    id_char="a")
COMMUNITY = GroupType(
    "Community", "Community", ROLES, members_stored=True, members_at_create=True,
    member_writes=True, admins_allowed=True, bots_may_join=True, join_by_application=True,
    application_needs_approval=False, members_may_invite=True, needs_activation=False,
    member_change_notices=True, history_stored=True, member_ceiling=100_000,
    edition_capped=False, custom_id_prefix="@TGS#_", needs_higher_edition=True, id_char="_")

#: The five types REST create/import accept, by their REST name.
GROUP_TYPES: dict[str, GroupType] = {t.api_name: t for t in (PRIVATE, PUBLIC, CHATROOM, AVCHATROOM,
                                                                COMMUNITY)}
#: Every name a user may write for a type (REST and SDK names) -> the type.
TYPE_BY_NAME: dict[str, GroupType] = {name: t for t in GROUP_TYPES.values() for name in t.names}
#: A type that survives only in old pages and in the listing filter (not creatable).
LEGACY_LIST_TYPES = ("BChatRoom",)
#: ``GroupType`` values ``get_appid_group_list`` accepts as a filter.
LIST_FILTER_TYPES = (*GROUP_TYPES, *LEGACY_LIST_TYPES)


def member_cap(group_type: GroupType, edition_cap: int = DEFAULT_MEMBER_CAP) -> int | None:
    """The most members a group of ``group_type`` may hold in an app whose edition allows
    ``edition_cap`` (None: unlimited)."""
    if group_type.member_ceiling is None:
        return None
    if group_type.edition_capped:
        return min(edition_cap, group_type.member_ceiling)
    return group_type.member_ceiling


# -- group counts (§10.1) -----------------------------------------------------------------------

#: Trial edition: groups that may exist at once (destroyed ones do not count); more gets 10058.
TRIAL_MAX_GROUPS = 100
#: AVChatRooms that may exist at once: trial 10, Pro 50 (more gets 10036); flagship unlimited.
AVCHATROOM_CAPS = {"trial": 10, "pro": 50}
#: Community groups per app (flagship only).
COMMUNITY_MAX_GROUPS = 100_000
#: Paid apps: net new groups per day across all types.
DAILY_NEW_GROUPS = 10_000


# -- GroupIds (§10.2) ---------------------------------------------------------------------------

GROUP_ID_MAX_BYTES = 48
#: Generated ids start with it; custom ids may not (except Community's, which must use ``@TGS#_``).
GENERATED_PREFIX = "@TGS#"
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]+")


def group_id_problem(group_id: str) -> str | None:
    """Why ``group_id`` cannot be any GroupId (empty, over 48 bytes, not printable ASCII), or None.
    On an API that names an existing group, such an id is 10015; a well-formed unknown one 10010."""
    if not group_id:
        return "is empty; a GroupId needs 1 to 48 characters"
    if not _PRINTABLE_ASCII.fullmatch(group_id):
        return "holds a character that is not printable ASCII (only 0x20-0x7E are allowed)"
    if len(group_id) > GROUP_ID_MAX_BYTES:
        return f"is {len(group_id)} bytes long; a GroupId may have at most {GROUP_ID_MAX_BYTES}"
    return None


def custom_group_id_problem(group_id: str, group_type: GroupType) -> str | None:
    """Why ``group_id`` cannot be chosen for a new group of ``group_type``, or None: the rules of
    :func:`group_id_problem`, and the prefix (``@TGS#`` is the service's, except that a Community
    id must start with ``@TGS#_``)."""
    problem = group_id_problem(group_id)
    if problem:
        return problem
    prefix = group_type.custom_id_prefix
    if prefix is not None:
        if not group_id.startswith(prefix):
            return f"must start with {prefix} for a {group_type.api_name} group"
        return None
    if group_id.startswith(GENERATED_PREFIX):
        return f"starts with {GENERATED_PREFIX}, which only ids the service generates may"
    return None


# -- fields (§10.3) -----------------------------------------------------------------------------

@dataclass(frozen=True)
class TextField:
    """A writable string of the group's base info: its config name, its API key and byte limit."""

    name: str
    key: str
    max_bytes: int
    required_at_create: bool = False


NAME = TextField("name", "Name", 30, required_at_create=True)
INTRODUCTION = TextField("introduction", "Introduction", 240)
NOTIFICATION = TextField("notification", "Notification", 300)
FACE_URL = TextField("face_url", "FaceUrl", 100)
#: The base-info strings chatsync manages, in the order the docs list them.
TEXT_FIELDS = (NAME, INTRODUCTION, NOTIFICATION, FACE_URL)

#: The member cap field: ``MaxMemberCount`` in create/import requests, ``MaxMemberNum`` elsewhere.
MAX_MEMBERS_CREATE_KEY = "MaxMemberCount"
MAX_MEMBERS_KEY = "MaxMemberNum"

#: ``ApplyJoinOption``: plain words (config) -> the API's values. ``approval`` is the default.
APPLY_JOIN = {"anyone": "FreeAccess", "approval": "NeedPermission", "nobody": "DisableApply"}
#: The API's ``ApplyJoinOption`` -> its plain words (for reading a group back into config terms).
APPLY_JOIN_NAMES = {value: word for word, value in APPLY_JOIN.items()}
APPLY_JOIN_DEFAULT = "NeedPermission"
#: What a Private group reports, whatever was sent (stance §10.1).
PRIVATE_APPLY_JOIN = "DisableApply"
#: ``InviteJoinOption`` (not for AVChatRoom): plain words -> the API's values.
INVITE_JOIN = {"anyone": "FreeAccess", "approval": "NeedPermission", "nobody": "DisableInvite"}
#: ``ShutUpAllMember`` (modify only).
SHUT_UP_ALL = ("On", "Off")
#: ``MsgFlag`` of a member.
MSG_FLAGS = ("AcceptAndNotify", "AcceptNotNotify", "Discard")
NAME_CARD_MAX_BYTES = 50

#: ``AppDefinedData`` of a group: keys configured in the console first (never deletable).
GROUP_DEFINED_KEYS_MAX = 10
GROUP_DEFINED_VALUE_MAX_BYTES = 512
#: ``AppMemberDefinedData`` of a member (not for AVChatRoom).
MEMBER_DEFINED_KEYS_MAX = 5
MEMBER_DEFINED_VALUE_MAX_BYTES = 64
DEFINED_KEY_MAX_BYTES = 16
DEFINED_KEY = re.compile(r"[A-Za-z0-9_]{1,16}")

#: Base-info names (``GroupBaseInfoFilter``) and member-info names (``MemberInfoFilter``).
BASE_INFO_FIELDS = ("GroupId", "Type", "Name", "Introduction", "Notification", "FaceUrl",
                    "Owner_Account", "CreateTime", "InfoSeq", "LastInfoTime", "LastMsgTime",
                    "NextMsgSeq", "MemberNum", "MaxMemberNum", "ApplyJoinOption",
                    "ShutUpAllMember", "InviteJoinOption")
MEMBER_INFO_FIELDS = ("Member_Account", "Role", "JoinTime", "MsgSeq", "MsgFlag", "LastSendMsgTime",
                      "ShutUpUntil", "NameCard")

#: ``add_group_member`` / ``import_group_member`` ``MemberList[].Result``.
RESULT_FAILED, RESULT_ADDED, RESULT_ALREADY_MEMBER, RESULT_WAITING = 0, 1, 2, 3
MEMBER_RESULTS = {
    RESULT_FAILED: "failed",
    RESULT_ADDED: "added",
    RESULT_ALREADY_MEMBER: "already a member",
    RESULT_WAITING: "invited; waiting for the invitee's confirmation",
}


# -- batches and rates (§10.19) -----------------------------------------------------------------

@dataclass(frozen=True)
class GroupApi:
    """One group API: its default calls per second and what one call may carry (None: 1 item)."""

    name: str
    rate_per_second: int
    per_call: int | None = None
    writes: bool = True


#: The group service's path segment: ``v4/group_open_http_svc/<api>``.
SERVICE = "group_open_http_svc"
DEFAULT_RATE = 200
LIST_RATE = 1
LIST_LIMIT_MAX = 10_000  # get_appid_group_list Limit (also its default)
CREATE_MEMBERS_MAX = 100  # create_group MemberList
INFO_BATCH = 50  # get_group_info GroupIdList
ADD_BATCH = 20  # add_group_member MemberList (current CN page; 300 in older texts)
IMPORT_BATCH = 20  # import_group_member MemberList (current CN page; 100/300/500 in older texts)
DELETE_BATCH = 100  # delete_group_member MemberToDel_Account
MEMBER_PAGE_MAX = 200  # get_group_member_info Limit (the 2025 text; 6000 in the field tables)
JOINED_LIMIT_MAX = 5000  # get_joined_group_list Limit
#: Bytes past which an answer is refused with 10018 (page it).
ANSWER_MAX_BYTES = 1024 * 1024
#: The listing cursor ``Next`` is an unsigned 64-bit integer (a 32-bit parse loses groups).
CURSOR_MAX = 2**64 - 1

GROUP_APIS: dict[str, GroupApi] = {
    api.name: api
    for api in (
        GroupApi("get_appid_group_list", LIST_RATE, LIST_LIMIT_MAX, writes=False),
        GroupApi("create_group", DEFAULT_RATE, CREATE_MEMBERS_MAX),
        GroupApi("get_group_info", DEFAULT_RATE, INFO_BATCH, writes=False),
        GroupApi("modify_group_base_info", DEFAULT_RATE),
        GroupApi("destroy_group", DEFAULT_RATE),
        GroupApi("add_group_member", DEFAULT_RATE, ADD_BATCH),
        GroupApi("delete_group_member", DEFAULT_RATE, DELETE_BATCH),
        GroupApi("get_group_member_info", DEFAULT_RATE, MEMBER_PAGE_MAX, writes=False),
        GroupApi("import_group", DEFAULT_RATE),
        GroupApi("import_group_member", DEFAULT_RATE, IMPORT_BATCH),
        GroupApi("change_group_owner", DEFAULT_RATE),
        GroupApi("modify_group_member_info", DEFAULT_RATE),
        GroupApi("get_joined_group_list", DEFAULT_RATE, JOINED_LIMIT_MAX, writes=False),
    )
}


# -- error codes (§10.5) ------------------------------------------------------------------------

@dataclass(frozen=True)
class GroupError:
    """One code of the group service: retry it or not, what it means, and what to do."""

    code: int
    transient: bool
    meaning: str
    action: str


GROUP_ERRORS: dict[int, GroupError] = {
    e.code: e
    for e in (
        GroupError(10002, True, "internal server error", "retry later"),
        GroupError(10003, False, "invalid command word", "the API path is wrong; check the endpoint"),
        GroupError(10004, False, "invalid parameter",
                   "a field is missing, has the wrong type or a refused value; read ErrorInfo"),
        GroupError(10005, False, "too many accounts in the request",
                   "send at most 100 members in create_group, 20 per add or import, 100 per delete"),
        GroupError(10006, True, "operation frequency limit",
                   "calls came too fast (get_appid_group_list allows 1 a second) or the daily "
                   "group quota was reached; retry later"),
        GroupError(10007, False, "not permitted for this group type or operator",
                   "the group's type does not allow it (an AVChatRoom keeps no members, a Work group has no "
                   "admins): declare the group's type so plan checks it, and take out what it cannot hold"),
        GroupError(10008, False, "invalid request", "check the request's signature and fields"),
        GroupError(10010, False, "the group does not exist, or was destroyed",
                   "check the GroupId; a destroyed group cannot be restored"),
        GroupError(10011, False, "the request body could not be parsed", "send a JSON object"),
        GroupError(10012, False, "invalid operator UserID",
                   "From_Account must be an existing account"),
        GroupError(10013, False, "the user is already a member", "nothing to do"),
        GroupError(10014, False, "the group is full",
                   "raise the group's max_members (within the edition's cap) or add fewer members"),
        GroupError(10015, False, "invalid GroupId",
                   "a GroupId is 1 to 48 printable ASCII characters"),
        GroupError(10016, False, "refused by the app's callback (before create or before invite)",
                   "check the app's callback server"),
        GroupError(10018, False, "the answer would exceed 1 MB", "read the members page by page"),
        GroupError(10019, False, "an account named in the request does not exist",
                   "create the accounts and bots named as owner or members first"),
        GroupError(10021, False, "the GroupId is already used by another group",
                   "choose another GroupId"),
        GroupError(10025, False, "the GroupId is already used by a group of this owner",
                   "the group exists already: destroy it first or choose another GroupId"),
        GroupError(10026, False, "the command is disabled for this SDKAppID",
                   "contact Tencent support to enable it"),
        GroupError(10036, False, "too many AVChatRooms for the edition",
                   "destroy unused AVChatRooms or upgrade the app's edition"),
        GroupError(10037, False, "a member reached the limit of groups a user may create or join",
                   "remove that user from other groups, or upgrade the app's edition"),
        GroupError(10038, False, "more members than the edition allows in one group",
                   "declare fewer members, or upgrade the app's edition (it caps the members of a group)"),
        GroupError(10058, False, "the trial edition allows at most 100 groups",
                   "destroy unused groups or upgrade the app's edition"),
        GroupError(80001, False, "text moderation refused a name, introduction, notification or "
                   "name card", "change the text"),
    )
}

#: Codes a client retries with backoff (60007, the gateway's rate signal, is retried too).
TRANSIENT_CODES = frozenset(e.code for e in GROUP_ERRORS.values() if e.transient)
