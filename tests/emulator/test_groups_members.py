"""Group member APIs (docs/tencent-api.md §10.11-§10.13, §10.15-§10.18, §10.20) in process: batch
limits, per-member results, notices, roles and owners, and what deleting an account does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chatsync.emulator import group_state
from chatsync.facts import groups as facts
from tests.emulator.groups_support import accounts, add, create, info, roles
from tests.support import Api, api_for, call, make_emulator

USERS = [f"user{i:03d}" for i in range(120)]


@pytest.fixture
def app(api: Api) -> Api:
    """Accounts alice, bob, carol, user000..user119, the bot @RBT#helper; group "team" (Public,
    owner alice)."""
    accounts(api, "alice", "bob", "carol", bots=("@RBT#helper",))
    for start in range(0, len(USERS), 100):
        accounts(api, *USERS[start:start + 100])
    create(api, "team", Owner_Account="alice")
    return api


def seq(api: Api, group_id: str = "team") -> int:
    """The group's NextMsgSeq: each notice to the group takes one."""
    value: int = info(api, group_id)["NextMsgSeq"]
    return value


def joined(api: Api, user_id: str, **body: Any) -> list[str]:
    answer = call(api, "get_joined_group_list", {"Member_Account": user_id, **body})
    return [g["GroupId"] for g in answer["GroupIdList"]]


# -- add_group_member -----------------------------------------------------------------------------

def test_add_answers_each_member(app: Api) -> None:
    answer = add(app, "team", "bob", "@RBT#helper")
    assert answer["MemberList"] == [{"Member_Account": "bob", "Result": 1},
                                    {"Member_Account": "@RBT#helper", "Result": 1}]
    again = add(app, "team", "bob", "carol", "alice")
    assert [m["Result"] for m in again["MemberList"]] == [2, 1, 2]
    assert roles(app, "team") == {"alice": "Owner", "bob": "Member", "@RBT#helper": "Member",
                                  "carol": "Member"}


def test_add_takes_at_most_20_per_call(app: Api) -> None:
    add(app, "team", *USERS[:facts.ADD_BATCH + 1], code=10005)
    assert info(app, "team")["MemberNum"] == 1
    add(app, "team", *USERS[:facts.ADD_BATCH])
    assert info(app, "team")["MemberNum"] == 21


def test_add_with_an_unknown_account_adds_nobody(app: Api) -> None:
    add(app, "team", "bob", "nobody", code=10019)
    call(app, "delete_robot", {"Robot_Account": "@RBT#helper"})
    add(app, "team", "@RBT#helper", code=10019)
    assert roles(app, "team") == {"alice": "Owner"}


@pytest.mark.parametrize("body", [
    {"MemberList": []}, {"MemberList": None}, {"MemberList": "bob"},
    {"MemberList": [{"Member_Account": "bob"}, {"Member_Account": "bob"}]},
    {"MemberList": [{"Member_Account": "bob"}], "Silence": 2},
    {"MemberList": [{"Member_Account": "bob"}], "Silence": True},
])
def test_add_refuses_malformed_bodies(app: Api, body: dict[str, Any]) -> None:
    call(app, "add_group_member", {"GroupId": "team", **body}, code=10004)
    assert info(app, "team")["MemberNum"] == 1


def test_add_to_a_full_group_is_10014_for_the_whole_call(app: Api) -> None:
    create(app, "small", Owner_Account="alice", MaxMemberCount=3)
    add(app, "small", "bob", "carol", "@RBT#helper", code=10014)
    assert roles(app, "small") == {"alice": "Owner"}
    add(app, "small", "bob", "carol")
    add(app, "small", "bob", "carol")  # already members: nothing to fit
    add(app, "small", "@RBT#helper", code=10014)


def test_avchatroom_takes_no_added_or_imported_members(app: Api) -> None:
    create(app, "live", type="AVChatRoom", Owner_Account="alice")
    add(app, "live", "bob", code=10007)
    call(app, "import_group_member", {"GroupId": "live", "MemberList": [{"Member_Account": "bob"}]},
         code=10007)
    call(app, "delete_group_member", {"GroupId": "live", "MemberToDel_Account": ["bob"]}, code=10004)
    call(app, "get_group_member_info", {"GroupId": "live"}, code=10007)
    call(app, "change_group_owner", {"GroupId": "live", "NewOwner_Account": "bob"}, code=10007)


def test_an_add_notifies_the_group_unless_silent(app: Api) -> None:
    assert seq(app) == 1
    add(app, "team", "bob")
    assert seq(app) == 2
    add(app, "team", "carol", Silence=1)
    assert seq(app) == 2
    add(app, "team", "bob")  # nobody new: no notice
    assert seq(app) == 2


def test_chatroom_and_unactivated_private_groups_get_no_join_notice(app: Api) -> None:
    create(app, "room", type="ChatRoom")
    add(app, "room", "bob")
    assert seq(app, "room") == 1
    create(app, "work", type="Private", Owner_Account="alice")
    add(app, "work", "bob")
    assert seq(app, "work") == 1


# -- delete_group_member --------------------------------------------------------------------------

def test_delete_removes_members_and_ignores_non_members(app: Api) -> None:
    add(app, "team", "bob", "carol", Silence=1)
    call(app, "delete_group_member", {"GroupId": "team", "MemberToDel_Account": ["bob", "nobody", "user000"]})
    assert roles(app, "team") == {"alice": "Owner", "carol": "Member"}
    assert seq(app) == 2  # a removal notice
    call(app, "delete_group_member", {"GroupId": "team", "MemberToDel_Account": ["carol"], "Silence": 1,
                                      "Reason": "tidy"})
    assert seq(app) == 2


def test_delete_takes_at_most_100(app: Api) -> None:
    create(app, "big", Owner_Account="alice", MaxMemberCount=200, members=USERS[:100])
    call(app, "delete_group_member", {"GroupId": "big", "MemberToDel_Account": USERS[:101]}, code=10005)
    call(app, "delete_group_member", {"GroupId": "big", "MemberToDel_Account": USERS[:100]})
    assert roles(app, "big") == {"alice": "Owner"}


@pytest.mark.parametrize("accounts_to_delete", [[], None, "bob", [1], ["bob", "bob"], ["alice"]])
def test_delete_refusals(app: Api, accounts_to_delete: Any) -> None:
    """The owner cannot be deleted (stance: 10004); a repeat or a non-string is 10004."""
    add(app, "team", "bob")
    call(app, "delete_group_member", {"GroupId": "team", "MemberToDel_Account": accounts_to_delete},
         code=10004)
    assert roles(app, "team") == {"alice": "Owner", "bob": "Member"}


# -- get_group_member_info ------------------------------------------------------------------------

def test_member_info_reads_every_member_or_a_page(app: Api) -> None:
    create(app, "big", Owner_Account="alice", MaxMemberCount=200, members=USERS[:100])
    everyone = call(app, "get_group_member_info", {"GroupId": "big"})
    assert everyone["MemberNum"] == 101 and len(everyone["MemberList"]) == 101
    assert everyone["MemberList"][0] == {**everyone["MemberList"][0], "Member_Account": "alice",
                                         "Role": "Owner"}
    pages = []
    for offset in range(0, 101, 40):
        page = call(app, "get_group_member_info", {"GroupId": "big", "Limit": 40, "Offset": offset})
        assert page["MemberNum"] == 101 and "Next" not in page
        pages += [m["Member_Account"] for m in page["MemberList"]]
    assert pages == ["alice", *USERS[:100]]


def test_member_info_filters_by_role_and_field(app: Api) -> None:
    add(app, "team", "bob", "carol")
    call(app, "modify_group_member_info", {"GroupId": "team", "Member_Account": "bob", "Role": "Admin"})
    answer = call(app, "get_group_member_info", {"GroupId": "team", "MemberRoleFilter": ["Admin", "Owner"],
                                                 "MemberInfoFilter": ["Role"]})
    assert answer["MemberList"] == [{"Member_Account": "alice", "Role": "Owner"},
                                    {"Member_Account": "bob", "Role": "Admin"}]
    assert answer["MemberNum"] == 3


@pytest.mark.parametrize("body", [
    {"Limit": 201}, {"Limit": 0}, {"Offset": -1}, {"Limit": "5"}, {"MemberRoleFilter": ["Boss"]},
    {"MemberInfoFilter": "Role"},
])
def test_member_info_refusals(app: Api, body: dict[str, Any]) -> None:
    call(app, "get_group_member_info", {"GroupId": "team", **body}, code=10004)


def test_a_community_pages_its_members_with_a_string_cursor(app: Api) -> None:
    create(app, "@TGS#_c", type="Community", Owner_Account="alice", members=USERS[:45])
    call(app, "get_group_member_info", {"GroupId": "@TGS#_c"}, code=10004)  # Next is required
    call(app, "get_group_member_info", {"GroupId": "@TGS#_c", "Next": "", "Offset": 5}, code=10004)
    call(app, "get_group_member_info", {"GroupId": "@TGS#_c", "Next": "bogus"}, code=10004)
    seen: list[str] = []
    cursor: Any = ""
    while True:
        page = call(app, "get_group_member_info", {"GroupId": "@TGS#_c", "Limit": 20, "Next": cursor})
        assert isinstance(page["Next"], str)
        seen += [m["Member_Account"] for m in page["MemberList"]]
        cursor = page["Next"]
        if cursor == "":
            break
    assert seen == ["alice", *USERS[:45]]
    for first in ("0", 0):  # the older reading of the first cursor (§10.21)
        page = call(app, "get_group_member_info", {"GroupId": "@TGS#_c", "Limit": 1, "Next": first})
        assert [m["Member_Account"] for m in page["MemberList"]] == ["alice"]


def test_an_answer_over_1_mb_is_10018_and_paging_reads_it() -> None:
    emulator = make_emulator(member_data_keys=("Note",))
    api = api_for(emulator)
    many = [f"member-{i:05d}" for i in range(4000)]
    with emulator.store.lock:  # seeded in the store: 4,000 calls would only slow the test
        group = group_state.new_group(facts.COMMUNITY, "Big", 1_700_000_000, 1, 2000)
        emulator.store.group_seq = 1
        emulator.store.add_group("@TGS#_big", group)
        for member in many:
            emulator.store.accounts[member] = {}
            emulator.store.add_member("@TGS#_big", member, {
                "Role": "Member", "JoinTime": 1_700_000_000, "NameCard": "n" * 50,
                "AppMemberDefinedData": {"Note": "v" * 64}})
    call(api, "get_group_member_info", {"GroupId": "@TGS#_big", "Next": ""}, code=10018)
    call(api, "get_group_info", {"GroupIdList": ["@TGS#_big"]}, code=10018)
    page = call(api, "get_group_member_info", {"GroupId": "@TGS#_big", "Next": "", "Limit": 200})
    assert len(page["MemberList"]) == 200 and page["MemberList"][0]["NameCard"] == "n" * 50
    assert page["MemberList"][0]["AppMemberDefinedData"] == [{"Key": "Note", "Value": "v" * 64}]
    filtered = info(api, "@TGS#_big", ResponseFilter={"MemberInfoFilter": ["Role"]})
    assert len(filtered["MemberList"]) == 4000


# -- import_group_member --------------------------------------------------------------------------

class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_import_members_is_silent_and_answers_each(api_with: Callable[..., Api]) -> None:
    clock = Clock()
    app = api_with(clock=clock)
    accounts(app, "alice", "bob", "carol", "dave", bots=("@RBT#helper",))
    create(app, "team", Owner_Account="alice")
    created = info(app, "team")["CreateTime"]
    clock.now += 100
    answer = call(app, "import_group_member", {"GroupId": "team", "MemberList": [
        {"Member_Account": "bob", "Role": "Admin", "JoinTime": created + 1, "UnreadMsgNum": 3},
        {"Member_Account": "carol", "JoinTime": created},  # not after the group's creation
        {"Member_Account": "dave", "JoinTime": created + 100},  # not before now
        {"Member_Account": "alice"},
        {"Member_Account": "@RBT#helper"}]})
    assert [m["Result"] for m in answer["MemberList"]] == [1, 0, 0, 2, 1]
    assert roles(app, "team") == {"alice": "Owner", "bob": "Admin", "@RBT#helper": "Member"}
    members = {m["Member_Account"]: m for m in info(app, "team")["MemberList"]}
    assert members["bob"]["JoinTime"] == created + 1
    assert members["@RBT#helper"]["JoinTime"] == created + 100  # no JoinTime: now
    assert seq(app) == 1


@pytest.mark.parametrize(("items", "code"), [
    ([{"Member_Account": u} for u in USERS[:21]], 10005),
    ([{"Member_Account": "nobody"}], 10019),
    ([{"Member_Account": "bob", "Role": "Member"}], 10004),
    ([{"Member_Account": "@RBT#helper", "Role": "Admin"}], 10004),
    ([{"Member_Account": "bob", "JoinTime": "1"}], 10004),
    ([{"Member_Account": "bob"}, {"Member_Account": "bob"}], 10004),
    ([], 10004),
])
def test_import_members_refusals(app: Api, items: list[dict[str, Any]], code: int) -> None:
    call(app, "import_group_member", {"GroupId": "team", "MemberList": items}, code=code)
    assert roles(app, "team") == {"alice": "Owner"}


def test_imported_admins_need_a_type_with_admins(app: Api) -> None:
    create(app, "work", type="Private")
    call(app, "import_group_member", {"GroupId": "work", "MemberList": [
        {"Member_Account": "bob", "Role": "Admin"}]}, code=10007)
    call(app, "import_group_member", {"GroupId": "work", "MemberList": [{"Member_Account": "bob"}]})


def test_import_members_into_a_full_group_is_10014(app: Api) -> None:
    create(app, "small", MaxMemberCount=1)
    call(app, "import_group_member", {"GroupId": "small", "MemberList": [
        {"Member_Account": "bob"}, {"Member_Account": "carol"}]}, code=10014)


# -- change_group_owner ---------------------------------------------------------------------------

def test_change_owner_makes_the_old_owner_a_member(app: Api) -> None:
    add(app, "team", "bob")
    call(app, "change_group_owner", {"GroupId": "team", "NewOwner_Account": "bob"})
    assert roles(app, "team") == {"alice": "Member", "bob": "Owner"}
    assert info(app, "team")["Owner_Account"] == "bob"
    call(app, "change_group_owner", {"GroupId": "team", "NewOwner_Account": "bob"})  # already: OK
    assert roles(app, "team") == {"alice": "Member", "bob": "Owner"}


def test_an_ownerless_group_can_be_given_an_owner(app: Api) -> None:
    create(app, "free", members=["bob"])
    call(app, "change_group_owner", {"GroupId": "free", "NewOwner_Account": "bob"})
    assert roles(app, "free") == {"bob": "Owner"}


@pytest.mark.parametrize(("new_owner", "code"), [
    ("carol", 10004), ("nobody", 10004), ("@RBT#helper", 10004), (None, 10004), (5, 10004),
])
def test_change_owner_refusals(app: Api, new_owner: Any, code: int) -> None:
    """The new owner must already be a member (10004), and never a bot."""
    add(app, "team", "@RBT#helper")
    call(app, "change_group_owner", {"GroupId": "team", "NewOwner_Account": new_owner}, code=code)
    assert info(app, "team")["Owner_Account"] == "alice"


# -- modify_group_member_info ---------------------------------------------------------------------

def test_roles_are_set_and_removed(app: Api) -> None:
    add(app, "team", "bob", Silence=1)
    before = seq(app)
    call(app, "modify_group_member_info", {"GroupId": "team", "Member_Account": "bob", "Role": "Admin"})
    assert roles(app, "team")["bob"] == "Admin" and seq(app) == before + 1
    call(app, "modify_group_member_info", {"GroupId": "team", "Member_Account": "bob", "Role": "Member"})
    assert roles(app, "team")["bob"] == "Member"


def test_member_fields_and_muting(app: Api) -> None:
    add(app, "team", "bob")
    call(app, "modify_group_member_info", {"GroupId": "team", "Member_Account": "bob", "MsgFlag": "Discard",
                                           "NameCard": "Bob", "ShutUpTime": 60})
    member = {m["Member_Account"]: m for m in info(app, "team")["MemberList"]}["bob"]
    assert (member["MsgFlag"], member["NameCard"]) == ("Discard", "Bob")
    assert member["ShutUpUntil"] > info(app, "team")["CreateTime"]
    call(app, "modify_group_member_info", {"GroupId": "team", "Member_Account": "bob", "MuteTime": 0})
    member = {m["Member_Account"]: m for m in info(app, "team")["MemberList"]}["bob"]
    assert member["ShutUpUntil"] == 0


@pytest.mark.parametrize(("body", "code"), [
    ({"Member_Account": "bob"}, 10004),  # nothing to change
    ({"Member_Account": "carol", "Role": "Admin"}, 10004),  # not a member
    ({"Member_Account": "alice", "Role": "Member"}, 10004),  # the owner
    ({"Member_Account": "bob", "Role": "Owner"}, 10004),
    ({"Member_Account": "@RBT#helper", "Role": "Admin"}, 10004),
    ({"Member_Account": "bob", "NameCard": "x" * 51}, 10004),
    ({"Member_Account": "bob", "MsgFlag": "Loud"}, 10004),
    ({"Member_Account": "bob", "ShutUpTime": -1}, 10004),
    ({"Member_Account": None, "Role": "Admin"}, 10004),
])
def test_member_info_change_refusals(app: Api, body: dict[str, Any], code: int) -> None:
    add(app, "team", "bob", "@RBT#helper")
    call(app, "modify_group_member_info", {"GroupId": "team", **body}, code=code)
    assert roles(app, "team") == {"alice": "Owner", "bob": "Member", "@RBT#helper": "Member"}


def test_work_groups_have_no_admins_and_no_muting(app: Api) -> None:
    create(app, "work", type="Private", Owner_Account="alice", members=["bob"])
    call(app, "modify_group_member_info", {"GroupId": "work", "Member_Account": "bob", "Role": "Admin"},
         code=10007)
    call(app, "modify_group_member_info", {"GroupId": "work", "Member_Account": "bob", "ShutUpTime": 5},
         code=10007)
    call(app, "modify_group_member_info", {"GroupId": "work", "Member_Account": "bob", "NameCard": "B"})


def test_avchatroom_keeps_no_member_profiles(app: Api) -> None:
    create(app, "live", type="AVChatRoom", Owner_Account="alice")
    call(app, "modify_group_member_info", {"GroupId": "live", "Member_Account": "bob", "NameCard": "B"},
         code=10007)
    call(app, "modify_group_member_info", {"GroupId": "live", "Member_Account": "alice", "NameCard": "A"})


# -- get_joined_group_list ------------------------------------------------------------------------

def test_joined_groups_leave_out_avchatrooms_and_unactivated_work_groups(app: Api) -> None:
    create(app, "live", type="AVChatRoom", Owner_Account="alice")
    create(app, "work", type="Private", Owner_Account="alice")
    create(app, "room", type="ChatRoom", Owner_Account="alice")
    assert joined(app, "alice") == ["team", "room"]
    assert joined(app, "alice", WithHugeGroups=1) == ["team", "live", "room"]
    assert joined(app, "alice", WithNoActiveGroups=1) == ["team", "work", "room"]
    answer = call(app, "get_joined_group_list", {"Member_Account": "alice", "Limit": 1, "Offset": 1,
                                                 "WithHugeGroups": 1, "WithNoActiveGroups": 1})
    assert answer["TotalCount"] == 4 and [g["GroupId"] for g in answer["GroupIdList"]] == ["live"]
    assert joined(app, "alice", GroupType="ChatRoom") == ["room"]
    assert joined(app, "bob") == []


def test_joined_groups_answer_the_filtered_fields(app: Api) -> None:
    answer = call(app, "get_joined_group_list", {"Member_Account": "alice", "ResponseFilter": {
        "GroupBaseInfoFilter": ["Type", "Name"], "SelfInfoFilter": ["Role", "MsgFlag"]}})
    assert answer["GroupIdList"] == [{"GroupId": "team", "Type": "Public", "Name": "Team",
                                      "SelfInfo": {"Role": "Owner", "MsgFlag": "AcceptAndNotify"}}]


@pytest.mark.parametrize("body", [
    {"Member_Account": "nobody"}, {}, {"Member_Account": "alice", "Limit": 5001},
    {"Member_Account": "alice", "GroupType": "Work"}, {"Member_Account": "alice", "WithHugeGroups": 2},
])
def test_joined_groups_refusals(app: Api, body: dict[str, Any]) -> None:
    call(app, "get_joined_group_list", body, code=10004)


# -- deleted accounts and bots leave their groups -------------------------------------------------

def test_a_deleted_account_or_bot_leaves_every_group(app: Api) -> None:
    add(app, "team", "bob", "@RBT#helper")
    create(app, "other", Owner_Account="bob", members=["@RBT#helper"])
    call(app, "account_delete", {"DeleteItem": [{"UserID": "bob"}]})
    call(app, "delete_robot", {"Robot_Account": "@RBT#helper"})
    assert roles(app, "team") == {"alice": "Owner"}
    assert info(app, "other")["Owner_Account"] == "" and roles(app, "other") == {}
    call(app, "create_robot", {"UserID": "@RBT#helper"})  # revived: in no group until added again
    assert joined(app, "@RBT#helper") == []
    add(app, "other", "@RBT#helper")


def test_a_fresh_emulator_has_no_groups() -> None:
    emulator = make_emulator()
    assert emulator.store.groups == {} and emulator.store.snapshot()["groups"] == {}
