"""The membership a group change ends with, what it removes and adds, and what it costs
(chatsync.domain.kinds.group), in process."""

from __future__ import annotations

from chatsync.domain.kinds import group
from chatsync.domain.plan import Change

LIVE = {"owner": "alice", "admins": "bob", "members": "carol\ndave"}


def test_a_managed_member_list_is_exact() -> None:
    after = {"owner": "alice", "members": "carol\nerin"}
    assert group.target(LIVE, after) == {"alice": "Owner", "bob": "Admin", "carol": "Member",
                                         "erin": "Member"}
    assert group.removed(LIVE, after) == ("dave",)
    assert group.added(LIVE, after) == ("erin",)
    assert group.role_changes(LIVE, after) == {}


def test_an_admin_left_out_of_managed_admins_becomes_a_member_when_members_are_unmanaged() -> None:
    after = {"admins": "carol"}
    assert group.target(LIVE, after) == {"alice": "Owner", "bob": "Member", "carol": "Admin",
                                         "dave": "Member"}
    assert group.removed(LIVE, after) == ()
    assert group.role_changes(LIVE, after) == {"bob": "Member", "carol": "Admin"}


def test_a_new_owner_joins_and_the_old_one_leaves_a_managed_list() -> None:
    after = {"owner": "erin", "admins": "bob", "members": "carol\ndave"}
    assert group.added(LIVE, after) == ("erin",)
    assert group.removed(LIVE, after) == ("alice",)
    calls = group.calls(Change("group", "g", "update", LIVE, after), LIVE)
    assert calls == {"add_group_member": 1, "change_group_owner": 1, "delete_group_member": 1}


def test_a_create_costs_one_call_up_to_100_members_then_adds_20_a_call() -> None:
    members = group.joined(f"u{i:03d}" for i in range(130))
    create = Change("group", "g", "create", None, {"type": "Public", "name": "G", "owner": "o",
                                                   "members": members})
    assert group.calls(create, None) == {"create_group": 1, "add_group_member": 2}
    assert group.added(None, create.after or {}) == tuple(sorted(group.ids(members)))
    assert group.calls(Change("group", "g", "delete", {}, None), None) == {"destroy_group": 1}


PLANNED = {"type": "Public", "name": "G", "owner": "alice", "admins": "bob", "members": "carol\ndave"}
READ = {"type": "Public", "name": "G", "introduction": "", "owner": "alice", "max_members": 2000}


def test_a_group_holding_part_of_its_create_is_partly_made() -> None:
    assert group.partly_made(PLANNED, {**READ, "admins": "", "members": "carol"})
    assert group.partly_made(PLANNED, {**READ, "admins": "", "members": "bob\ncarol"})  # bob: no role yet


def test_a_group_made_whole_or_holding_anything_else_is_not() -> None:
    assert not group.partly_made(PLANNED, {**READ, "admins": "bob", "members": "carol\ndave"})  # done
    assert not group.partly_made(PLANNED, {**READ, "admins": "", "members": "erin"})  # not planned
    assert not group.partly_made(PLANNED, {**READ, "admins": "carol", "members": ""})  # another role
    assert not group.partly_made(PLANNED, {**READ, "name": "H", "admins": "", "members": "carol"})
    assert not group.partly_made(PLANNED, {**READ, "owner": "", "admins": "", "members": "carol"})
    assert group.partly_made({**PLANNED, "notify": 1}, {**READ, "admins": "", "members": ""})  # a setting
