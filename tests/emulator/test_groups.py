"""Group APIs that make, read and change groups (docs/tencent-api.md §10.6-§10.10, §10.14), in
process, with the emulator's stances where the docs are silent (§10.22)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chatsync.facts import groups as facts
from tests.emulator.groups_support import accounts, add, create, info, listed, roles
from tests.support import Api, call


@pytest.fixture
def app(api: Api) -> Api:
    """An emulator with accounts alice, bob, carol and the bot @RBT#helper."""
    accounts(api, "alice", "bob", "carol", bots=("@RBT#helper",))
    return api


# -- create_group ---------------------------------------------------------------------------------

def test_create_group_stores_owner_members_and_base_info(app: Api) -> None:
    answer = create(app, "team", name="Team", Owner_Account="alice", Introduction="intro",
                    Notification="notice", FaceUrl="https://f/t.png", ApplyJoinOption="FreeAccess",
                    members=[{"Member_Account": "bob", "Role": "Admin"}, "@RBT#helper"])
    assert answer["GroupId"] == "team"
    group = info(app, "team")
    assert {k: group[k] for k in ("Type", "Name", "Introduction", "Notification", "FaceUrl",
                                  "Owner_Account", "MemberNum", "MaxMemberNum", "ApplyJoinOption",
                                  "ShutUpAllMember", "InfoSeq", "NextMsgSeq")} == {
        "Type": "Public", "Name": "Team", "Introduction": "intro", "Notification": "notice",
        "FaceUrl": "https://f/t.png", "Owner_Account": "alice", "MemberNum": 3,
        "MaxMemberNum": facts.DEFAULT_MEMBER_CAP, "ApplyJoinOption": "FreeAccess",
        "ShutUpAllMember": "Off", "InfoSeq": 1, "NextMsgSeq": 1}
    assert group["Appid"] == 1400000000 and group["CreateTime"] > 0
    assert roles(app, "team") == {"alice": "Owner", "bob": "Admin", "@RBT#helper": "Member"}
    member = group["MemberList"][1]
    assert set(member) == set(facts.MEMBER_INFO_FIELDS)


@pytest.mark.parametrize("group_type", list(facts.GROUP_TYPES))
def test_without_a_group_id_the_service_makes_one_by_type(app: Api, group_type: str) -> None:
    made = {create(app, None, type=group_type)["GroupId"] for _ in range(3)}
    assert len(made) == 3
    char = facts.GROUP_TYPES[group_type].id_char
    assert all(g.startswith(f"@TGS#{char}") and facts.group_id_problem(g) is None for g in made)
    assert all(info(app, g)["Type"] == group_type for g in made)


@pytest.mark.parametrize("name", ["Work", "Meeting", "BChatRoom", "public", "", 1])
def test_only_the_rest_type_names_create(app: Api, name: Any) -> None:
    create(app, type=name, code=10004)
    assert listed(app) == []


@pytest.mark.parametrize(("fields", "code"), [
    ({"Name": None}, 10004), ({"Name": ""}, 10004), ({"Name": "x" * 31}, 10004),
    ({"Name": "群" * 11}, 10004),  # 33 bytes
    ({"Introduction": "x" * 241}, 10004), ({"Notification": "x" * 301}, 10004),
    ({"FaceUrl": "x" * 101}, 10004), ({"Name": 5}, 10004), ({"Owner_Account": 5}, 10004),
    ({"MaxMemberCount": "20"}, 10004), ({"MaxMemberCount": 0}, 10004),
    ({"MaxMemberCount": facts.DEFAULT_MEMBER_CAP + 1}, 10004), ({"ApplyJoinOption": "Free"}, 10004),
    ({"InviteJoinOption": "Anyone"}, 10004), ({"AppDefinedData": [{"Key": "Tier", "Value": "1"}]}, 10004),
    ({"MemberList": {"Member_Account": "bob"}}, 10004), ({"MemberList": ["bob"]}, 10004),
    ({"MemberList": [{"Member_Account": 7}]}, 10004),
])
def test_create_group_refuses_bad_fields_with_10004(app: Api, fields: dict[str, Any], code: int) -> None:
    body = {"Type": "Public", "Name": "Team", "GroupId": "team", **fields}
    call(app, "create_group", body, code=code)
    assert listed(app) == []


def test_field_limits_count_utf8_bytes(app: Api) -> None:
    create(app, "a", name="群" * 10, Introduction="x" * 240, Notification="é" * 150, FaceUrl="u" * 100)
    assert info(app, "a")["Name"] == "群" * 10


@pytest.mark.parametrize(("group_id", "group_type", "ok"), [
    ("x" * 48, "Public", True), ("x" * 49, "Public", False), ("a b~!", "Public", True),
    ("tab\there", "Public", False), ("é", "Public", False), ("@TGS#mine", "Public", False),
    ("@TGS#_c", "Community", True), ("mine", "Community", False), ("@TGS#c", "Community", False),
    ("@TGS#_c", "Private", False),
])
def test_custom_group_id_rules(app: Api, group_id: str, group_type: str, ok: bool) -> None:
    create(app, group_id, type=group_type, code=0 if ok else 10004)
    assert listed(app) == ([group_id] if ok else [])


def test_group_ids_are_case_sensitive(app: Api) -> None:
    create(app, "Team")
    create(app, "team")
    assert listed(app) == ["Team", "team"]


def test_unknown_owner_or_member_is_10019_and_nothing_is_created(app: Api) -> None:
    create(app, Owner_Account="nobody", code=10019)
    create(app, Owner_Account="alice", members=["bob", "nobody"], code=10019)
    call(app, "delete_robot", {"Robot_Account": "@RBT#helper"})
    create(app, members=["@RBT#helper"], code=10019)
    assert listed(app) == []


def test_a_bot_may_be_a_member_but_not_owner_or_admin(app: Api) -> None:
    create(app, "a", Owner_Account="@RBT#helper", code=10004)
    create(app, "a", members=[{"Member_Account": "@RBT#helper", "Role": "Admin"}], code=10004)
    create(app, "a", members=["@RBT#helper"])
    assert roles(app, "a") == {"@RBT#helper": "Member"}


def test_null_fields_are_absent_and_an_empty_owner_is_no_owner(app: Api) -> None:
    """py-tcim sends Owner_Account "" and MaxMemberCount 500; others send nulls (§10.23)."""
    call(app, "create_group", {"Type": "Public", "Name": "T", "GroupId": "t", "Owner_Account": "",
                               "MaxMemberCount": 500, "MemberList": None, "Introduction": None})
    group = info(app, "t")
    assert (group["Owner_Account"], group["MemberNum"], group["MaxMemberNum"]) == ("", 0, 500)


def test_member_list_holds_at_most_100(app: Api) -> None:
    many = [f"user{i}" for i in range(101)]
    accounts(app, *many[:100])
    accounts(app, many[100])
    create(app, "big", MaxMemberCount=200, members=many, code=10005)
    create(app, "big", MaxMemberCount=200, members=many[:100])
    assert info(app, "big")["MemberNum"] == 100


def test_members_over_the_cap_at_creation_are_10038(app: Api) -> None:
    create(app, "small", Owner_Account="alice", MaxMemberCount=2, members=["bob", "carol"], code=10038)
    create(app, "small", Owner_Account="alice", MaxMemberCount=2, members=["bob"])
    assert info(app, "small")["MemberNum"] == 2


def test_max_member_num_in_create_is_ignored(app: Api) -> None:
    create(app, "t", MaxMemberNum=5)
    assert info(app, "t")["MaxMemberNum"] == facts.DEFAULT_MEMBER_CAP


def test_the_member_cap_follows_the_edition(api_with: Callable[..., Api]) -> None:
    api = api_with(group_member_cap=20)  # trial edition
    create(api, "t", MaxMemberCount=21, code=10004)
    create(api, "t")
    assert info(api, "t")["MaxMemberNum"] == 20
    create(api, "@TGS#_c", type="Community", MaxMemberCount=100_000)  # not capped by the edition
    create(api, "@TGS#_d", type="Community", MaxMemberCount=100_001, code=10004)


def test_avchatroom_takes_no_members_and_has_no_member_cap(app: Api) -> None:
    create(app, "live", type="AVChatRoom", members=["bob"], code=10007)
    create(app, "live", type="AVChatRoom", Owner_Account="alice", MaxMemberCount=10)
    group = info(app, "live")
    assert (group["MaxMemberNum"], group["MemberNum"]) == (0, 1)


def test_private_groups_have_no_admins_and_report_disable_apply(app: Api) -> None:
    create(app, "w", type="Private", members=[{"Member_Account": "bob", "Role": "Admin"}], code=10007)
    create(app, "w", type="Private", ApplyJoinOption="FreeAccess", members=["bob"])
    assert info(app, "w")["ApplyJoinOption"] == "DisableApply"


def test_member_role_at_creation_is_admin_or_nothing(app: Api) -> None:
    create(app, members=[{"Member_Account": "bob", "Role": "Member"}], code=10004)
    create(app, members=[{"Member_Account": "bob", "Role": "Owner"}], code=10004)


def test_a_member_named_twice_is_10004(app: Api) -> None:
    create(app, members=["bob", "bob"], code=10004)


def test_the_owner_in_member_list_stays_owner(app: Api) -> None:
    create(app, Owner_Account="alice", members=["alice", "bob"])
    assert roles(app, "team") == {"alice": "Owner", "bob": "Member"}


def test_a_taken_id_is_10025_for_the_same_owner_and_10021_for_another(app: Api) -> None:
    create(app, "team", Owner_Account="alice")
    create(app, "team", Owner_Account="alice", name="Other", code=10025)
    create(app, "team", Owner_Account="bob", code=10021)
    create(app, "team", code=10021)
    create(app, "free")
    create(app, "free", code=10025)  # both ownerless: the same owner
    assert info(app, "team")["Name"] == "Team"


def test_a_destroyed_id_can_be_created_again(app: Api) -> None:
    create(app, "team", Owner_Account="alice", members=["bob"])
    call(app, "destroy_group", {"GroupId": "team"})
    create(app, "team", type="ChatRoom", Owner_Account="carol")
    assert roles(app, "team") == {"carol": "Owner"}
    assert info(app, "team")["Type"] == "ChatRoom"


def test_trial_group_count_is_10058_and_destroyed_groups_do_not_count(api_with: Callable[..., Api]) -> None:
    api = api_with(max_groups=2)
    create(api, "a")
    create(api, "b")
    create(api, "c", code=10058)
    call(api, "destroy_group", {"GroupId": "a"})
    create(api, "c")


def test_avchatroom_count_is_10036(api_with: Callable[..., Api]) -> None:
    api = api_with(max_av_chatrooms=1)
    create(api, "a", type="AVChatRoom")
    create(api, "b", type="AVChatRoom", code=10036)
    create(api, "b", type="Public")


def test_per_account_group_limit_is_10037_and_bots_have_none(api_with: Callable[..., Api]) -> None:
    api = api_with(max_joined_groups=1)
    accounts(api, "alice", "bob", bots=("@RBT#b",))
    create(api, "a", Owner_Account="alice", members=["@RBT#b"])
    create(api, "b", Owner_Account="alice", code=10037)
    create(api, "b", members=["bob", "@RBT#b"])
    add(api, "b", "alice", code=10037)


def test_app_defined_data_needs_configured_keys(api_with: Callable[..., Api]) -> None:
    api = api_with(group_data_keys=("Tier",))
    create(api, "t", AppDefinedData=[{"Key": "Other", "Value": "x"}], code=10004)
    create(api, "t", AppDefinedData=[{"Key": "Tier", "Value": "x" * 513}], code=10004)
    create(api, "t", AppDefinedData=[{"Key": "Tier", "Value": "gold"}])
    assert info(api, "t")["AppDefinedData"] == [{"Key": "Tier", "Value": "gold"}]
    call(api, "modify_group_base_info", {"GroupId": "t", "AppDefinedData": [{"Key": "Tier", "Value": ""}]})
    assert "AppDefinedData" not in info(api, "t")


# -- import_group ---------------------------------------------------------------------------------

def test_import_group_keeps_its_create_time_and_is_active(app: Api) -> None:
    answer = call(app, "import_group", {"Type": "Private", "Name": "Old", "GroupId": "old",
                                        "Owner_Account": "alice", "CreateTime": 1_500_000_000})
    assert answer["GroupId"] == "old"
    group = info(app, "old")
    assert (group["CreateTime"], group["Owner_Account"], group["MemberNum"]) == (1_500_000_000, "alice", 1)
    joined = call(app, "get_joined_group_list", {"Member_Account": "alice"})
    assert [g["GroupId"] for g in joined["GroupIdList"]] == ["old"]  # active, unlike a created one


@pytest.mark.parametrize(("fields", "code"), [
    ({"Type": "AVChatRoom"}, 10007), ({"CreateTime": 2**31 * 2}, 10004), ({"CreateTime": 0}, 10004),
    ({"CreateTime": "1"}, 10004), ({"Owner_Account": "nobody"}, 10019), ({"Type": "Work"}, 10004),
    ({"GroupId": "@TGS#x"}, 10004), ({"Name": ""}, 10004),
])
def test_import_group_refusals(app: Api, fields: dict[str, Any], code: int) -> None:
    call(app, "import_group", {"Type": "Public", "Name": "Old", "GroupId": "old", **fields}, code=code)
    assert listed(app) == []


def test_import_group_with_a_taken_id_is_10021_even_for_the_same_owner(app: Api) -> None:
    create(app, "team", Owner_Account="alice")
    call(app, "import_group", {"Type": "Public", "Name": "T", "GroupId": "team",
                               "Owner_Account": "alice"}, code=10021)


def test_import_group_ignores_a_member_list(app: Api) -> None:
    call(app, "import_group", {"Type": "Public", "Name": "T", "GroupId": "t",
                               "MemberList": [{"Member_Account": "bob"}]})
    assert info(app, "t")["MemberNum"] == 0


# -- get_group_info -------------------------------------------------------------------------------

def test_get_group_info_answers_each_group_with_its_own_code(app: Api) -> None:
    create(app, "a")
    answer = call(app, "get_group_info", {"GroupIdList": ["a", "missing", "x" * 49, "a"]})
    assert [(g["GroupId"], g["ErrorCode"]) for g in answer["GroupInfo"]] == [
        ("a", 0), ("missing", 10010), ("x" * 49, 10015), ("a", 0)]
    assert all(isinstance(g["ErrorInfo"], str) for g in answer["GroupInfo"])


@pytest.mark.parametrize("ids", [[], None, "a", [1], [None], [f"g{i}" for i in range(51)]])
def test_get_group_info_takes_1_to_50_string_ids(app: Api, ids: Any) -> None:
    call(app, "get_group_info", {"GroupIdList": ids}, code=10004)


def test_get_group_info_answers_50(app: Api) -> None:
    for i in range(50):
        create(app, f"g{i}")
    answer = call(app, "get_group_info", {"GroupIdList": [f"g{i}" for i in range(50)]})
    assert [g["ErrorCode"] for g in answer["GroupInfo"]] == [0] * 50


def test_get_group_info_filters(app: Api) -> None:
    create(app, "a", Owner_Account="alice", members=["bob"])
    only_base = info(app, "a", ResponseFilter={"GroupBaseInfoFilter": ["Name", "MemberNum"]})
    assert set(only_base) == {"GroupId", "Name", "MemberNum", "ErrorCode", "ErrorInfo"}
    with_members = info(app, "a", ResponseFilter={"GroupBaseInfoFilter": ["Owner_Account"],
                                                  "MemberInfoFilter": ["Role"]})
    assert with_members["MemberList"] == [{"Member_Account": "alice", "Role": "Owner"},
                                          {"Member_Account": "bob", "Role": "Member"}]
    accounts_only = info(app, "a", ResponseFilter={"MemberInfoFilter": ["Account"]})
    assert accounts_only["MemberList"] == [{"Member_Account": "alice"}, {"Member_Account": "bob"}]
    assert {"Name", "Type", "Owner_Account"} <= set(accounts_only)  # no base filter: all base fields
    call(app, "get_group_info", {"GroupIdList": ["a"], "ResponseFilter": []}, code=10004)
    call(app, "get_group_info", {"GroupIdList": ["a"], "ResponseFilter": {"MemberInfoFilter": "Role"}},
         code=10004)


# -- get_appid_group_list -------------------------------------------------------------------------

def test_listing_pages_with_a_64_bit_cursor_in_creation_order(app: Api) -> None:
    for name in ("c", "a", "b", "e", "d"):
        create(app, name)
    first = call(app, "get_appid_group_list", {"Limit": 2})
    assert first["TotalCount"] == 5 and [g["GroupId"] for g in first["GroupIdList"]] == ["c", "a"]
    assert first["Next"] > 2**32
    second = call(app, "get_appid_group_list", {"Limit": 2, "Next": first["Next"]})
    assert [g["GroupId"] for g in second["GroupIdList"]] == ["b", "e"] and second["TotalCount"] == 5
    third = call(app, "get_appid_group_list", {"Limit": 2, "Next": second["Next"]})
    assert [g["GroupId"] for g in third["GroupIdList"]] == ["d"] and third["Next"] == 0
    assert listed(app, Limit=1) == ["c", "a", "b", "e", "d"]
    exact = call(app, "get_appid_group_list", {"Limit": 5})
    assert len(exact["GroupIdList"]) == 5 and exact["Next"] == 0


def test_listing_filters_by_type(app: Api) -> None:
    create(app, "p", type="Public")
    create(app, "w", type="Private")
    create(app, "m", type="ChatRoom")
    answer = call(app, "get_appid_group_list", {"GroupType": "Private"})
    assert (answer["TotalCount"], [g["GroupId"] for g in answer["GroupIdList"]]) == (1, ["w"])
    assert call(app, "get_appid_group_list", {"GroupType": "BChatRoom"})["TotalCount"] == 0
    assert listed(app, GroupType="") == ["p", "w", "m"]  # "" is absent (py-tcim)


@pytest.mark.parametrize("body", [
    {"Limit": 0}, {"Limit": 10_001}, {"Limit": "10"}, {"Next": -1}, {"Next": 5}, {"Next": 2**32},
    {"Next": 2**32 + 2}, {"Next": 2**64}, {"Next": "0"}, {"Next": True}, {"GroupType": "Work"},
    {"GroupType": 1},
])
def test_listing_refuses_bad_limits_cursors_and_types(app: Api, body: dict[str, Any]) -> None:
    create(app, "a")
    call(app, "get_appid_group_list", body, code=10004)


def test_listing_takes_a_get_with_no_body(app: Api) -> None:
    """py-timsdk sends get_appid_group_list as a GET without a body (§10.23)."""
    create(app, "a")
    response = app.request("get_appid_group_list", raw=b"", method="GET")
    assert response.json()["GroupIdList"] == [{"GroupId": "a"}]


def test_listing_leaves_out_destroyed_groups(app: Api) -> None:
    create(app, "a")
    create(app, "b")
    call(app, "destroy_group", {"GroupId": "a"})
    assert listed(app) == ["b"]
    assert call(app, "get_appid_group_list", {})["TotalCount"] == 1


# -- modify_group_base_info -----------------------------------------------------------------------

def test_modify_changes_the_fields_given_and_counts_a_change(app: Api) -> None:
    create(app, "a", Owner_Account="alice", members=["bob"])
    call(app, "modify_group_base_info", {
        "GroupId": "a", "Name": "New", "Introduction": "i", "Notification": "n", "FaceUrl": "f",
        "MaxMemberNum": 10, "ApplyJoinOption": "DisableApply", "ShutUpAllMember": "On",
        "InviteJoinOption": "FreeAccess"})
    group = info(app, "a")
    assert {k: group[k] for k in ("Name", "Introduction", "Notification", "FaceUrl", "MaxMemberNum",
                                  "ApplyJoinOption", "ShutUpAllMember", "InviteJoinOption",
                                  "InfoSeq", "NextMsgSeq")} == {
        "Name": "New", "Introduction": "i", "Notification": "n", "FaceUrl": "f", "MaxMemberNum": 10,
        "ApplyJoinOption": "DisableApply", "ShutUpAllMember": "On", "InviteJoinOption": "FreeAccess",
        "InfoSeq": 2, "NextMsgSeq": 2}
    call(app, "modify_group_base_info", {"GroupId": "a", "Name": "New"})  # no change: no notice
    assert (info(app, "a")["InfoSeq"], info(app, "a")["NextMsgSeq"]) == (2, 2)


@pytest.mark.parametrize(("fields", "code"), [
    ({}, 10004), ({"Name": ""}, 10004), ({"Name": "x" * 31}, 10004), ({"FaceUrl": "x" * 101}, 10004),
    ({"MaxMemberNum": 1}, 10004), ({"MaxMemberNum": facts.DEFAULT_MEMBER_CAP + 1}, 10004),
    ({"MaxMemberNum": "5"}, 10004), ({"ShutUpAllMember": "on"}, 10004),
    ({"ApplyJoinOption": "Anyone"}, 10004), ({"Name": None}, 10004), ({"Owner_Account": "bob"}, 10004),
    ({"Name": "x", "From_Account": "nobody"}, 10012), ({"Name": "x", "From_Account": "bob"}, 10007),
    ({"Name": "x", "From_Account": "carol"}, 10007),
])
def test_modify_refusals(app: Api, fields: dict[str, Any], code: int) -> None:
    create(app, "a", Owner_Account="alice", members=["bob"])
    call(app, "modify_group_base_info", {"GroupId": "a", **fields}, code=code)
    assert info(app, "a")["InfoSeq"] == 1


def test_who_may_modify_depends_on_the_type(app: Api) -> None:
    create(app, "pub", Owner_Account="alice", members=[{"Member_Account": "bob", "Role": "Admin"}, "carol"])
    call(app, "modify_group_base_info", {"GroupId": "pub", "Name": "x", "From_Account": "bob"})
    create(app, "work", type="Private", Owner_Account="alice", members=["carol"])
    call(app, "modify_group_base_info", {"GroupId": "work", "Name": "x", "From_Account": "carol"})
    create(app, "room", type="ChatRoom", Owner_Account="alice",
           members=[{"Member_Account": "bob", "Role": "Admin"}])
    call(app, "modify_group_base_info", {"GroupId": "room", "Name": "x", "From_Account": "bob"}, code=10007)
    call(app, "modify_group_base_info", {"GroupId": "room", "Name": "x", "From_Account": "alice"})
    call(app, "modify_group_base_info", {"GroupId": "room", "Name": "y", "From_Account": "administrator"})


def test_private_apply_join_stays_disable_apply_and_avchatroom_ignores_max_members(app: Api) -> None:
    create(app, "w", type="Private")
    call(app, "modify_group_base_info", {"GroupId": "w", "ApplyJoinOption": "FreeAccess"})
    assert info(app, "w")["ApplyJoinOption"] == "DisableApply"
    create(app, "live", type="AVChatRoom")
    call(app, "modify_group_base_info", {"GroupId": "live", "MaxMemberNum": 10})
    assert info(app, "live")["MaxMemberNum"] == 0


# -- destroy_group and the group a request names --------------------------------------------------

def test_destroy_group_removes_it_everywhere(app: Api) -> None:
    create(app, "a", Owner_Account="alice", members=["bob"])
    call(app, "destroy_group", {"GroupId": "a"})
    assert call(app, "get_group_info", {"GroupIdList": ["a"]})["GroupInfo"][0]["ErrorCode"] == 10010
    assert call(app, "get_joined_group_list", {"Member_Account": "bob"})["GroupIdList"] == []
    call(app, "destroy_group", {"GroupId": "a"}, code=10010)


GROUP_APIS = ["modify_group_base_info", "destroy_group", "add_group_member", "delete_group_member",
              "get_group_member_info", "import_group_member", "change_group_owner",
              "modify_group_member_info"]


@pytest.mark.parametrize("name", GROUP_APIS)
@pytest.mark.parametrize(("group_id", "code"), [
    (None, 10004), (5, 10004), ("x" * 49, 10015), ("", 10015), ("a\nb", 10015), ("nope", 10010),
])
def test_the_group_a_request_names(app: Api, name: str, group_id: Any, code: int) -> None:
    """Missing or not a string: 10004; malformed: 10015; unknown: 10010 (stance §10.22)."""
    body: dict[str, Any] = {"Name": "x", "MemberList": [{"Member_Account": "bob"}],
                            "MemberToDel_Account": ["bob"], "NewOwner_Account": "bob",
                            "Member_Account": "bob", "Role": "Admin"}
    if group_id is not None:
        body["GroupId"] = group_id
    call(app, name, body, code=code)


@pytest.mark.parametrize("name", sorted(facts.GROUP_APIS))
def test_every_group_api_refuses_a_body_of_the_wrong_shape_without_an_internal_error(
        app: Api, name: str) -> None:
    create(app, "a", Owner_Account="alice", members=["bob"])
    bodies: list[dict[str, Any]] = [
        {"GroupId": ["a"]}, {"GroupId": "a", "MemberList": [[]]}, {"GroupIdList": [{}]},
        {"GroupId": "a", "Limit": 1.5}, {"GroupId": "a", "MemberList": [{"Member_Account": None}]},
        {"Type": {}, "Name": []}, {"Member_Account": ["a"]}, {"GroupId": "a", "Silence": "1"}]
    for body in bodies:
        answer = app(name, body)
        assert answer["ErrorCode"] in (0, 10004, 10005, 10007, 10010, 10015, 10019), (body, answer)
