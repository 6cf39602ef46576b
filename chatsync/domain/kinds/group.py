"""Groups, by GroupId: their base info, owner, admins and members (docs/tencent-api.md §10).

A group's fields are not profile fields: ``type``, ``name``, ``introduction``, ``notification``,
``face_url``, ``max_members``, ``apply_join`` (``anyone``, ``approval``, ``nobody``), ``owner``,
``admins`` and ``members``. The two lists are held as one text each, the ids sorted and joined by
a newline (:func:`joined`), so a group compares, fingerprints and saves like any other object; a
plan shows them as the ids added and removed. ``notify`` is a setting, not a field of the live
group: it is never read nor compared, and a change that adds members carries it.

Members are managed by role: ``admins`` lists the admins, ``members`` the plain members; a list
left out is unmanaged (the owner and the listed ones aside, its role is left as it is). When any of
``owner``, ``admins`` and ``members`` changes, a change carries each of the three the group declares
(:attr:`Kind.together`), so an apply knows the whole membership the group must end with.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from chatsync.domain.kinds.base import Kind, list_ids
from chatsync.facts import groups as facts
from chatsync.facts.fields import UINT32_MAX
from chatsync.text.safe import quote

#: The fields of a group, in the order plans show them: name -> ``text`` or ``uint32``.
FIELDS: dict[str, str] = {
    "type": "text", "name": "text", "introduction": "text", "notification": "text",
    "face_url": "text", "max_members": "uint32", "apply_join": "text", "owner": "text",
    "admins": "text", "members": "text", "notify": "uint32",
}
#: Fields ``modify_group_base_info`` changes.
BASE = ("name", "introduction", "notification", "face_url", "max_members", "apply_join")
#: Fields that say who is in the group, and as what.
MEMBERSHIP = ("owner", "admins", "members")
#: Declared, never read: whether adds notify the group (``Silence: 0``).
SETTINGS = ("notify",)


def joined(ids: Iterable[str]) -> str:
    """A list of ids as a group field holds it: sorted, unique, joined by newlines."""
    return "\n".join(sorted(set(ids)))


def ids(value: Any) -> list[str]:
    """The ids a list field holds (:func:`joined` undone)."""
    return list_ids(value)


def canonical_type(name: str) -> str:
    """The REST name of a type written as users know it (Work -> Private); unknown names unchanged."""
    found = facts.TYPE_BY_NAME.get(name)
    return found.api_name if found is not None else name


def roles(fields: Mapping[str, Any]) -> dict[str, str]:
    """Who ``fields`` (a live group, read whole) holds, and as what: UserID -> role."""
    found = {user_id: facts.MEMBER for user_id in ids(fields.get("members"))}
    found.update({user_id: facts.ADMIN for user_id in ids(fields.get("admins"))})
    owner = fields.get("owner")
    if isinstance(owner, str) and owner:
        found[owner] = facts.OWNER
    return found


def target(seen: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, str]:
    """The membership a group ends with: ``seen`` (the live group) with ``after`` (the change's
    new values) made. A managed list (in ``after``) is exact; an unmanaged one keeps its live ids,
    except those the change gives another role."""
    live = roles(seen)
    owner = after.get("owner", seen.get("owner", ""))
    admins = set(ids(after["admins"])) if "admins" in after else {
        u for u, r in live.items() if r == facts.ADMIN}
    if "members" in after:
        plain = set(ids(after["members"]))
    else:  # unmanaged: who is in the group stays, as a plain member unless listed otherwise
        plain = set(live) if "admins" in after or "owner" in after else {
            u for u, r in live.items() if r == facts.MEMBER}
        if "admins" not in after:
            plain -= admins
    found = {user_id: facts.MEMBER for user_id in plain}
    found.update({user_id: facts.ADMIN for user_id in admins})
    if isinstance(owner, str) and owner:
        found[owner] = facts.OWNER
    return found


def removed(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The members an update takes out of the group (a delete for the safety rules)."""
    if not before or not after or not any(name in after for name in MEMBERSHIP):
        return ()
    was = set(roles(before))
    now = set(target(before, after))
    return tuple(sorted(was - now))


def added(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> tuple[str, ...]:
    """The members a change brings into the group (the owner aside, for a create)."""
    if before is None:
        owner = after.get("owner", "")
        return tuple(sorted(u for u in roles(after) if u != owner))
    if not any(name in after for name in MEMBERSHIP):
        return ()
    was = set(roles(before))
    return tuple(sorted(set(target(before, after)) - was))


def role_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, str]:
    """The roles an update sets by ``modify_group_member_info``: members who stay with another role,
    and admins added (an add makes a plain member). The owner's change is ``change_group_owner``'s,
    which leaves the old owner a plain member."""
    if not any(name in after for name in MEMBERSHIP):
        return {}
    was = roles(before)
    changes = {}
    for user_id, role in target(before, after).items():
        if role == facts.OWNER:
            continue
        old = was.get(user_id, facts.MEMBER)
        if old == facts.OWNER:
            old = facts.MEMBER
        if old != role:
            changes[user_id] = role
    return changes


def partly_made(after: Mapping[str, Any], now: Mapping[str, Any]) -> bool:
    """True when ``now`` (a live group, read whole) holds part of what creating ``after`` makes, and
    nothing else: every other field as planned, and each member one ``after`` names, in its role or,
    for an admin, still a plain member (its role is set once it is in); but not all of them yet. A
    create stopped after ``create_group`` leaves such a group; made again, it meets its own GroupId
    (10021/10025), recognises it and adds the rest."""
    if any(now.get(name) != value for name, value in after.items()
           if name not in ("admins", "members") and name not in SETTINGS):
        return False
    planned, live = roles(after), roles(now)
    if live == planned:
        return False  # made whole: done, not in part
    return all(planned.get(user_id) in (role, facts.ADMIN if role == facts.MEMBER else role)
               for user_id, role in live.items())


def calls(change: Any, seen: Mapping[str, Any] | None) -> dict[str, int]:
    """The calls an apply makes for one group change (docs/tencent-api.md §10.19)."""
    after = change.after or {}
    if change.action == "delete":
        return {"destroy_group": 1}
    if change.action == "create":
        group_type = facts.TYPE_BY_NAME.get(str(after.get("type", "")))
        owner = after.get("owner", "")
        members = [u for u in roles(after) if u != owner]
        at_create = facts.CREATE_MEMBERS_MAX if group_type is not None and group_type.members_at_create else 0
        left = members[at_create:]
        found = {"create_group": 1}
        if left:
            found["add_group_member"] = math.ceil(len(left) / facts.ADD_BATCH)
            admins_left = [u for u in left if u in set(ids(after.get("admins")))]
            if admins_left:
                found["modify_group_member_info"] = len(admins_left)
        return found
    before = dict(seen or {})
    before.update(change.before or {})
    found = {}
    if any(name in after for name in BASE):
        found["modify_group_base_info"] = 1
    new = added(before, after)
    if new:
        found["add_group_member"] = math.ceil(len(new) / facts.ADD_BATCH)
    if "owner" in after and after["owner"] != before.get("owner"):
        found["change_group_owner"] = 1
    roles_set = role_changes(before, after)
    if roles_set:
        found["modify_group_member_info"] = len(roles_set)
    gone = removed(before, after)
    if gone:
        found["delete_group_member"] = math.ceil(len(gone) / facts.DELETE_BATCH)
    return found


def id_problem(group_id: str) -> str | None:
    """Why ``group_id`` cannot be declared under ``groups:`` (the rules of any GroupId; the prefix
    rules, which depend on the type, are the config's), or None."""
    problem = facts.group_id_problem(group_id)
    if problem is None:
        return None
    fix = "choose a shorter id" if "bytes long" in problem else "use printable ASCII only"
    return f"group id {quote(group_id)} {problem}; {fix}"


def create_id_problem(group_id: str, fields: Mapping[str, Any]) -> str | None:
    """Why a group cannot be created with ``group_id`` (an id the service generates, or a Community
    id without its prefix), or None."""
    group_type = facts.TYPE_BY_NAME.get(str(fields.get("type", "")))
    if group_type is None:
        return None
    problem = facts.custom_group_id_problem(group_id, group_type)
    return f"its id {problem}: a new group needs another GroupId" if problem else None


def people(fields: Mapping[str, Any]) -> list[str]:
    """The owner, admins and members a group names (a body as exported, or a group's fields)."""
    owner = fields.get("owner")
    named = [owner] if isinstance(owner, str) and owner else []
    for name in ("admins", "members"):
        value = fields.get(name)
        named += [u for u in value if isinstance(u, str)] if isinstance(value, list) else ids(value)
    return named


def exported(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A live group (its fields as read) as a config declares it (``chatsync export``): every field it
    holds, so a plan of the export shows no change."""
    body: dict[str, Any] = {name: fields.get(name, "") for name in
                            ("type", "name", "introduction", "notification", "face_url", "apply_join")}
    most = fields.get("max_members")
    if isinstance(most, int) and most > 0:  # 0: no cap (AVChatRoom)
        body["max_members"] = most
    if fields.get("owner"):
        body["owner"] = fields["owner"]
    group_type = facts.GROUP_TYPES.get(str(fields.get("type", "")))
    if group_type is not None and group_type.admins_allowed:
        body["admins"] = ids(fields.get("admins"))
    if group_type is not None and group_type.members_stored:
        body["members"] = ids(fields.get("members"))
    return body


def export_problem(group_id: str) -> str | None:
    """Why ``group_id`` cannot be exported (it is no GroupId), or None."""
    problem = facts.group_id_problem(group_id)
    return f"is not a valid GroupId: it {problem}" if problem else None


def _body_schema() -> dict[str, Any]:
    """The schema of one group's body (docs/configuration.md, "Groups")."""
    members = {"type": "array", "items": {"$ref": "#/$defs/user_id"}, "uniqueItems": True}
    texts = {text.name: {"description": f"The group's {text.key} (at most {text.max_bytes} bytes, UTF-8).",
                         "type": "string", "maxLength": text.max_bytes} for text in facts.TEXT_FIELDS}
    return {
        "description": "A group's managed fields. A field left out is unmanaged. Empty (null) means: "
                       "exists, nothing managed.",
        "type": ["object", "null"],
        "additionalProperties": False,
        "properties": {
            "type": {"description": "The group type, as users know it (Work, Public, Meeting, AVChatRoom, "
                                    "Community) or by its API name (Private, ChatRoom). Fixed once created.",
                     "enum": list(facts.TYPE_BY_NAME)},
            **texts,
            "max_members": {"description": "The most members the group may hold (within its type's and the "
                                           "edition's caps).",
                            "type": "integer", "minimum": 1, "maximum": UINT32_MAX},
            "apply_join": {"description": "Who may join by applying: anyone, approval (an admin approves) "
                                          "or nobody.",
                           "enum": list(facts.APPLY_JOIN)},
            "owner": {"description": "The owner: an account (never a bot).", "$ref": "#/$defs/user_id"},
            "admins": {"description": "The admins (accounts, not bots). Left out: unmanaged.", **members},
            "members": {"description": "The plain members: accounts and @RBT# bots. Left out: unmanaged; "
                                       "listed: exactly these (others are removed).", **members},
            "notify": {"description": "Members added are announced to the group (add_group_member "
                                      "without Silence). Default: false (silent adds).",
                       "type": "boolean", "default": False},
            "state": {"description": "present (default): must exist; absent: planned for destruction.",
                      "enum": ["present", "absent"], "default": "present"},
        },
    }


KIND = Kind(
    name="group",
    section="groups",
    description="Groups, by custom GroupId: base info, owner, admins and members (accounts and @RBT# "
                "bots). A field left out is unmanaged. A group left out is not touched unless "
                "app.prune_groups is true.",
    id_schema={"description": "A custom GroupId: 1 to 48 printable ASCII characters; not starting with "
                              "@TGS# (a Community group's must start with @TGS#_).",
               "type": "string", "minLength": 1, "maxLength": facts.GROUP_ID_MAX_BYTES,
               "pattern": "^[ -~]+$"},
    id_problem=id_problem,
    delete_note="destroyed: permanent, its messages are gone",
    delete_rank=0,  # the most permanent: read first
    create_call="create_group",
    delete_call="destroy_group",
    delete_warning="Destroying a group is permanent: its members and messages cannot be brought back.",
    stage=1,  # after the accounts and bots it names; destroyed and emptied before they are deleted
    listed=True,
    prune_setting="prune_groups",
    profile=False,
    body_schema=_body_schema(),
    fields=FIELDS,
    settings=SETTINGS,
    notify_setting="notify",
    together=MEMBERSHIP,
    lists=("admins", "members"),
    create_only=("type",),
    required_at_create=("type", "name"),
    create_id_problem=create_id_problem,
    counted_when_none=False,
    removed=removed,
    added=added,
    calls=calls,
    export_body=exported,
    names=people,
    export_problem=export_problem,
    partly_made=partly_made,
)
