"""Profile APIs (docs/tencent-api.md §6) and the emulator's stance where the docs are silent (§8)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chatsync.emulator import Emulator
from tests.support import ADMIN, Api, call

NICK = "Tag_Profile_IM_Nick"
IMAGE = "Tag_Profile_IM_Image"
SIGNATURE = "Tag_Profile_IM_SelfSignature"
GENDER = "Tag_Profile_IM_Gender"
BIRTHDAY = "Tag_Profile_IM_BirthDay"
LOCATION = "Tag_Profile_IM_Location"
ALLOW = "Tag_Profile_IM_AllowType"
LANGUAGE = "Tag_Profile_IM_Language"
MSG_SETTINGS = "Tag_Profile_IM_MsgSettings"
FORBID = "Tag_Profile_IM_AdminForbidType"
LEVEL = "Tag_Profile_IM_Level"
ROLE = "Tag_Profile_IM_Role"
ALL_TAGS = [NICK, GENDER, BIRTHDAY, LOCATION, SIGNATURE, ALLOW, LANGUAGE, IMAGE, MSG_SETTINGS, FORBID,
            LEVEL, ROLE]




def get(api: Api, user_id: str, tags: list[str] = ALL_TAGS) -> list[dict[str, Any]]:
    item = call(api, "portrait_get", {"To_Account": [user_id], "TagList": tags})["UserProfileItem"][0]
    assert item["ResultCode"] == 0, item
    entries: list[dict[str, Any]] = item["ProfileItem"]
    return entries


def values(api: Api, user_id: str) -> dict[str, Any]:
    return {entry["Tag"]: entry["Value"] for entry in get(api, user_id)}


def set_items(api: Api, user_id: str, *items: tuple[str, Any], code: int = 0) -> dict[str, Any]:
    body = {"From_Account": user_id, "ProfileItem": [{"Tag": tag, "Value": value} for tag, value in items]}
    return call(api, "portrait_set", body, code=code)


@pytest.fixture
def alice(api: Api) -> str:
    call(api, "account_import", {"UserID": "alice", "Nick": "Alice", "FaceUrl": "https://f/alice.png"})
    return "alice"


# -- portrait_get ---------------------------------------------------------------------------------

def test_portrait_get_answer_shape(api: Api, alice: str) -> None:
    answer = call(api, "portrait_get", {"To_Account": [alice], "TagList": [NICK, IMAGE]})
    assert {"ActionStatus", "ErrorCode", "ErrorInfo", "ErrorDisplay"} <= set(answer)
    assert answer["UserProfileItem"] == [{
        "To_Account": "alice", "ResultCode": 0, "ResultInfo": "",
        "ProfileItem": [{"Tag": NICK, "Value": "Alice"}, {"Tag": IMAGE, "Value": "https://f/alice.png"}],
    }]
    assert "Fail_Account" not in answer


def test_portrait_get_follows_the_tag_list_order_and_omits_unset_tags(api: Api, alice: str) -> None:
    assert get(api, alice, [GENDER, IMAGE, LEVEL, NICK]) == [
        {"Tag": IMAGE, "Value": "https://f/alice.png"}, {"Tag": NICK, "Value": "Alice"},
    ]
    assert get(api, alice, [GENDER, LEVEL]) == []


def test_portrait_get_results_in_request_order(api: Api) -> None:
    ids = ["zed", "amy", "mo"]
    call(api, "multiaccount_import", {"AccountList": [{"UserID": u, "Nick": u.upper()} for u in ids]})
    answer = call(api, "portrait_get", {"To_Account": ["mo", "zed", "amy"], "TagList": [NICK]})
    assert [(i["To_Account"], i["ProfileItem"]) for i in answer["UserProfileItem"]] == [
        ("mo", [{"Tag": NICK, "Value": "MO"}]),
        ("zed", [{"Tag": NICK, "Value": "ZED"}]),
        ("amy", [{"Tag": NICK, "Value": "AMY"}]),
    ]


def test_portrait_get_not_imported_account_fails_its_item_only(api: Api, alice: str) -> None:
    answer = call(api, "portrait_get", {"To_Account": ["ghost", alice, "Alice"], "TagList": [NICK]})
    ghost, found, upper = answer["UserProfileItem"]
    assert (ghost["To_Account"], ghost["ResultCode"]) == ("ghost", 40003)
    assert ghost["ResultInfo"] == "Err_Profile_Invalid_Account"
    assert ghost["ProfileItem"] == []
    assert (found["To_Account"], found["ResultCode"]) == ("alice", 0)
    assert found["ProfileItem"] == [{"Tag": NICK, "Value": "Alice"}]
    assert (upper["To_Account"], upper["ResultCode"]) == ("Alice", 40003)  # ids are case-sensitive
    assert answer["Fail_Account"] == ["ghost", "Alice"]


def test_portrait_get_of_admin_and_bots(api: Api) -> None:
    call(api, "create_robot", {"UserID": "@RBT#bot", "Nick": "Bot"})
    answer = call(api, "portrait_get", {"To_Account": [ADMIN, "@RBT#bot"], "TagList": [NICK]})
    assert [i["ResultCode"] for i in answer["UserProfileItem"]] == [0, 0]
    assert answer["UserProfileItem"][1]["ProfileItem"] == [{"Tag": NICK, "Value": "Bot"}]


def test_portrait_get_at_most_100_accounts(api: Api) -> None:
    ids = [f"u{i:03d}" for i in range(101)]
    call(api, "multiaccount_import", {"Accounts": ids[:100]})
    answer = call(api, "portrait_get", {"To_Account": ids[:100], "TagList": [NICK]})
    assert [i["To_Account"] for i in answer["UserProfileItem"]] == ids[:100]
    assert all(i["ResultCode"] == 0 for i in answer["UserProfileItem"])
    answer = call(api, "portrait_get", {"To_Account": ids, "TagList": [NICK]}, code=40001)
    assert "UserProfileItem" not in answer


@pytest.mark.parametrize("body", [
    {"TagList": [NICK]},
    {"To_Account": [], "TagList": [NICK]},
    {"To_Account": None, "TagList": [NICK]},
])
def test_portrait_get_without_accounts_is_40002(api: Api, body: dict[str, Any]) -> None:
    answer = call(api, "portrait_get", body, code=40002)
    assert answer["ErrorInfo"] == "To_Account is missing"


@pytest.mark.parametrize("body", [
    {"To_Account": ["alice"]},
    {"To_Account": ["alice"], "TagList": []},
    {"To_Account": ["alice"], "TagList": NICK},
    {"To_Account": ["alice"], "TagList": [7]},
    {"To_Account": "alice", "TagList": [NICK]},
])
def test_portrait_get_malformed_is_40001(api: Api, alice: str, body: dict[str, Any]) -> None:
    answer = call(api, "portrait_get", body, code=40001)
    assert "UserProfileItem" not in answer


@pytest.mark.parametrize("tag", ["Tag_Profile_IM_Unknown", "Tag_Profile_Custom_Hobby", "nick", ""])
def test_portrait_get_unknown_tag_is_40009(api: Api, alice: str, tag: str) -> None:
    call(api, "portrait_get", {"To_Account": [alice], "TagList": [NICK, tag]}, code=40009)


# -- portrait_set ---------------------------------------------------------------------------------

def test_portrait_set_nick_image_signature(api: Api, alice: str) -> None:
    answer = set_items(api, alice, (NICK, "Alicia"), (IMAGE, "https://f/new.png"), (SIGNATURE, "hi there"))
    assert {"ActionStatus", "ErrorCode", "ErrorInfo", "ErrorDisplay"} <= set(answer)
    assert values(api, alice) == {NICK: "Alicia", IMAGE: "https://f/new.png", SIGNATURE: "hi there"}


STANDARD_VALUES = [
    (NICK, "名字 nick"),
    (GENDER, "Gender_Type_Unknown"),
    (GENDER, "Gender_Type_Female"),
    (GENDER, "Gender_Type_Male"),
    (BIRTHDAY, 20190419),
    (LOCATION, "0123456789abcdef"),   # exactly 16 bytes
    (LOCATION, "中国广东深"),          # 15 bytes
    (SIGNATURE, "status"),
    (ALLOW, "AllowType_Type_NeedConfirm"),
    (ALLOW, "AllowType_Type_AllowAny"),
    (ALLOW, "AllowType_Type_DenyAny"),
    (LANGUAGE, 0),
    (IMAGE, "https://f/x.png"),
    (MSG_SETTINGS, 1),
    (FORBID, "AdminForbid_Type_None"),
    (FORBID, "AdminForbid_Type_SendOut"),
    (LEVEL, 4294967295),
    (ROLE, 7),
]


@pytest.mark.parametrize("tag,value", STANDARD_VALUES)
def test_portrait_set_stores_every_standard_tag(api: Api, alice: str, tag: str, value: Any) -> None:
    set_items(api, alice, (tag, value))
    stored = [entry for entry in get(api, alice) if entry["Tag"] == tag]
    assert stored == [{"Tag": tag, "Value": value}]
    assert type(stored[0]["Value"]) is type(value)


def test_portrait_set_many_tags_in_one_call(api: Api, alice: str) -> None:
    set_items(api, alice, (GENDER, "Gender_Type_Male"), (BIRTHDAY, 19991231), (LOCATION, "CN"),
              (ALLOW, "AllowType_Type_DenyAny"), (LANGUAGE, 2), (LEVEL, 0), (ROLE, 3), (MSG_SETTINGS, 0),
              (FORBID, "AdminForbid_Type_None"))
    assert values(api, alice) == {
        NICK: "Alice", IMAGE: "https://f/alice.png", GENDER: "Gender_Type_Male", BIRTHDAY: 19991231,
        LOCATION: "CN", ALLOW: "AllowType_Type_DenyAny", LANGUAGE: 2, LEVEL: 0, ROLE: 3, MSG_SETTINGS: 0,
        FORBID: "AdminForbid_Type_None",
    }


@pytest.mark.parametrize("tag,value", [
    (NICK, 5),
    (NICK, ["x"]),
    (IMAGE, {"url": "x"}),
    (GENDER, 1),
    (BIRTHDAY, "20190419"),
    (LANGUAGE, 1.5),
    (LEVEL, True),
    (ROLE, [1]),
    (MSG_SETTINGS, "0"),
    (LOCATION, 12),
])
def test_portrait_set_wrong_type_is_40610(api: Api, alice: str, tag: str, value: Any) -> None:
    set_items(api, alice, (tag, value), code=40610)


@pytest.mark.parametrize("tag,value", [
    (GENDER, "Male"),
    (GENDER, "gender_type_male"),
    (GENDER, ""),
    (ALLOW, "AllowType_Type_Anything"),
    (FORBID, "AdminForbid_Type_All"),
    (BIRTHDAY, -1),
    (LEVEL, 4294967296),
    (LOCATION, "0123456789abcdefg"),   # 17 bytes
    (LOCATION, "中国广东深圳"),          # 6 characters, 18 bytes
])
def test_portrait_set_invalid_standard_value_is_40605(api: Api, alice: str, tag: str, value: Any) -> None:
    set_items(api, alice, (tag, value), code=40605)


@pytest.mark.parametrize("tag", [NICK, IMAGE, SIGNATURE])
def test_portrait_set_value_limit_is_500_bytes(api: Api, alice: str, tag: str) -> None:
    for too_long in ["a" * 501, "é" * 250 + "a"]:
        answer = set_items(api, alice, (tag, too_long), code=40601)
        assert answer["ErrorInfo"].endswith("500 bytes")
    set_items(api, alice, (tag, "é" * 250))
    assert values(api, alice)[tag] == "é" * 250


@pytest.mark.parametrize("tag", ["Tag_Profile_IM_Unknown", "Tag_Profile_Custom_Hobby", "Tag_SNS_IM_Remark"])
def test_portrait_set_unknown_or_custom_tag_is_40009(api: Api, alice: str, tag: str) -> None:
    set_items(api, alice, (tag, "x"), code=40009)


def test_portrait_set_account_not_imported_is_40003(api: Api) -> None:
    answer = set_items(api, "ghost", (NICK, "Ghost"), code=40003)
    assert answer["ErrorInfo"] == "Err_Profile_Invalid_Account"
    assert call(api, "account_check", {"CheckItem": [{"UserID": "ghost"}]})["ResultItem"][0][
        "AccountStatus"] == "NotImported"


@pytest.mark.parametrize("body,code", [
    ({"ProfileItem": [{"Tag": NICK, "Value": "x"}]}, 40001),
    ({"From_Account": "", "ProfileItem": [{"Tag": NICK, "Value": "x"}]}, 40001),
    ({"From_Account": "alice"}, 40001),
    ({"From_Account": "alice", "ProfileItem": []}, 40001),
    ({"From_Account": "alice", "ProfileItem": [NICK]}, 40001),
    ({"From_Account": "alice", "ProfileItem": [{"Tag": 3, "Value": "x"}]}, 40001),
    ({"From_Account": 42, "ProfileItem": [{"Tag": NICK, "Value": "x"}]}, 60015),
])
def test_portrait_set_malformed(api: Api, alice: str, body: dict[str, Any], code: int) -> None:
    call(api, "portrait_set", body, code=code)
    assert values(api, alice) == {NICK: "Alice", IMAGE: "https://f/alice.png"}


def test_portrait_set_null_value_is_skipped(api: Api, alice: str) -> None:
    set_items(api, alice, (NICK, None), (LEVEL, 3), (IMAGE, None))
    assert values(api, alice) == {NICK: "Alice", IMAGE: "https://f/alice.png", LEVEL: 3}
    set_items(api, alice, (NICK, None))  # only nulls: OK, nothing changes
    assert values(api, alice) == {NICK: "Alice", IMAGE: "https://f/alice.png", LEVEL: 3}


@pytest.mark.parametrize("bad,code", [
    ((GENDER, "Male"), 40605),
    ((LEVEL, "high"), 40610),
    ((SIGNATURE, "s" * 501), 40601),
    (("Tag_Profile_Custom_X", "x"), 40009),
])
def test_portrait_set_is_atomic(api: Api, alice: str, bad: tuple[str, str], code: int) -> None:
    set_items(api, alice, (NICK, "Changed"), (ROLE, 9), bad, (IMAGE, "https://f/changed"), code=code)
    assert values(api, alice) == {NICK: "Alice", IMAGE: "https://f/alice.png"}


def test_portrait_set_empty_string_is_stored(api: Api, alice: str) -> None:
    set_items(api, alice, (NICK, ""), (SIGNATURE, ""))
    assert get(api, alice, [NICK, SIGNATURE, IMAGE]) == [
        {"Tag": NICK, "Value": ""}, {"Tag": SIGNATURE, "Value": ""},
        {"Tag": IMAGE, "Value": "https://f/alice.png"},
    ]


def test_portrait_set_later_item_wins_for_a_repeated_tag(api: Api, alice: str) -> None:
    set_items(api, alice, (NICK, "first"), (NICK, "second"))
    assert values(api, alice)[NICK] == "second"


def test_portrait_set_on_a_bot_changes_its_fields(api: Api) -> None:
    call(api, "create_robot", {"UserID": "@RBT#bot", "Nick": "Old"})
    set_items(api, "@RBT#bot", (NICK, "New"), (SIGNATURE, "beep"))
    assert values(api, "@RBT#bot") == {NICK: "New", SIGNATURE: "beep"}


def test_portrait_set_does_not_touch_other_accounts(api: Api, alice: str) -> None:
    call(api, "account_import", {"UserID": "bob", "Nick": "Bob"})
    set_items(api, alice, (NICK, "Alicia"))
    assert values(api, "bob") == {NICK: "Bob"}


# -- over real HTTP -------------------------------------------------------------------------------

def test_profile_round_trip_over_loopback(served: Callable[..., tuple[Emulator, Api]]) -> None:
    emulator, api = served()
    call(api, "account_import", {"UserID": "ünïcode", "Nick": "Ü"})
    set_items(api, "ünïcode", (GENDER, "Gender_Type_Female"), (BIRTHDAY, 20000101), (NICK, "名字"))
    set_items(api, "ünïcode", (GENDER, "Female"), code=40605)
    body = {"To_Account": ["ünïcode", "nobody"], "TagList": [NICK, GENDER, BIRTHDAY]}
    answer = call(api, "portrait_get", body)
    assert answer["UserProfileItem"][0]["ProfileItem"] == [
        {"Tag": NICK, "Value": "名字"}, {"Tag": GENDER, "Value": "Gender_Type_Female"},
        {"Tag": BIRTHDAY, "Value": 20000101},
    ]
    assert answer["Fail_Account"] == ["nobody"]
    assert emulator.store.accounts["ünïcode"][GENDER] == "Gender_Type_Female"


# -- custom fields (--custom-field KEY) -----------------------------------------------------------

@pytest.fixture
def custom(api_with: Callable[..., Api]) -> Api:
    api = api_with(custom_fields=("Hobby", "Team"))
    call(api, "account_import", {"UserID": "alice"})
    return api


def test_configured_custom_fields_are_set_and_read(custom: Api) -> None:
    set_items(custom, "alice", ("Tag_Profile_Custom_Hobby", "chess"), ("Tag_Profile_Custom_Team", ""))
    got = get(custom, "alice", ["Tag_Profile_Custom_Team", NICK, "Tag_Profile_Custom_Hobby"])
    assert got == [{"Tag": "Tag_Profile_Custom_Team", "Value": ""},
                   {"Tag": "Tag_Profile_Custom_Hobby", "Value": "chess"}]


@pytest.mark.parametrize("tag", ["Tag_Profile_Custom_Other", "Tag_Profile_Custom_hobby",
                                 "Tag_Profile_Custom_", "Tag_Profile_Custom_HobbyX"])
def test_custom_fields_not_configured_are_40009_even_when_others_are(custom: Api, tag: str) -> None:
    set_items(custom, "alice", (tag, "x"), code=40009)
    call(custom, "portrait_get", {"To_Account": ["alice"], "TagList": [tag]}, code=40009)


@pytest.mark.parametrize(("value", "code"), [(5, 40610), (["x"], 40610), (True, 40610),
                                              ("a" * 501, 40601), ("é" * 250 + "a", 40601)])
def test_custom_field_values_are_strings_of_at_most_500_bytes(custom: Api, value: Any, code: int) -> None:
    set_items(custom, "alice", ("Tag_Profile_Custom_Hobby", value), code=code)
    set_items(custom, "alice", ("Tag_Profile_Custom_Hobby", "é" * 250))  # exactly 500 bytes


def test_custom_fields_persist_and_a_state_needs_them_configured(tmp_path: Path) -> None:
    from chatsync.errors import StateFileError
    from tests.support import api_for, make_emulator

    path = tmp_path / "app.json"
    api = api_for(make_emulator(state_path=path, custom_fields=("Hobby",)))
    call(api, "account_import", {"UserID": "alice"})
    set_items(api, "alice", ("Tag_Profile_Custom_Hobby", "go"))
    reborn = make_emulator(state_path=path, custom_fields=("Hobby",))
    assert reborn.store.accounts["alice"] == {"Tag_Profile_Custom_Hobby": "go"}
    with pytest.raises(StateFileError, match="start the emulator with --custom-field Hobby"):
        make_emulator(state_path=path)
