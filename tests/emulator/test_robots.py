"""Chatbot APIs (docs/tencent-api.md §4) and the emulator's stance where the docs are silent (§8)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chatsync.emulator import Emulator
from tests.support import Api, call

NICK = "Tag_Profile_IM_Nick"
IMAGE = "Tag_Profile_IM_Image"
SIGNATURE = "Tag_Profile_IM_SelfSignature"
TAGS = [NICK, IMAGE, SIGNATURE]




def robots(api: Api) -> list[str]:
    listed: list[str] = call(api, "get_all_robots", {})["Robot_Account"]
    return listed


def profile(api: Api, user_id: str) -> dict[str, Any]:
    item = call(api, "portrait_get", {"To_Account": [user_id], "TagList": TAGS})["UserProfileItem"][0]
    assert item["ResultCode"] == 0, item
    return {entry["Tag"]: entry["Value"] for entry in item["ProfileItem"]}


def status(api: Api, user_id: str) -> str:
    item = call(api, "account_check", {"CheckItem": [{"UserID": user_id}]})["ResultItem"][0]
    found: str = item["AccountStatus"]
    return found




# -- create_robot ---------------------------------------------------------------------------------

def test_create_robot_stores_fields_as_profile_tags(api: Api) -> None:
    answer = call(api, "create_robot", {"UserID": "@RBT#helper", "Nick": "Helper",
                                        "FaceUrl": "https://img.example/h.png",
                                        "SelfSignature": "at your service"})
    assert set(answer) >= {"ActionStatus", "ErrorCode", "ErrorInfo"}
    assert profile(api, "@RBT#helper") == {
        NICK: "Helper", IMAGE: "https://img.example/h.png", SIGNATURE: "at your service",
    }
    assert robots(api) == ["@RBT#helper"]
    assert status(api, "@RBT#helper") == "Imported"


def test_create_robot_without_fields_has_an_empty_profile(api: Api) -> None:
    call(api, "create_robot", {"UserID": "@RBT#bare"})
    assert profile(api, "@RBT#bare") == {}
    assert robots(api) == ["@RBT#bare"]


def test_repeat_create_robot_is_ok_and_changes_nothing(api: Api) -> None:
    call(api, "create_robot", {"UserID": "@RBT#a", "Nick": "First", "FaceUrl": "u1"})
    call(api, "create_robot", {"UserID": "@RBT#a", "Nick": "Second", "FaceUrl": "u2", "SelfSignature": "s"})
    assert profile(api, "@RBT#a") == {NICK: "First", IMAGE: "u1"}
    assert robots(api) == ["@RBT#a"]


def test_create_robot_null_fields_are_absent(api: Api) -> None:
    call(api, "create_robot", {"UserID": "@RBT#n", "Nick": None, "FaceUrl": "face", "SelfSignature": None})
    assert profile(api, "@RBT#n") == {IMAGE: "face"}


def test_bot_id_of_exactly_32_bytes_is_accepted(api: Api) -> None:
    bot = "@RBT#" + "x" * 27
    assert len(bot.encode()) == 32
    call(api, "create_robot", {"UserID": bot})
    assert robots(api) == [bot]


@pytest.mark.parametrize("user_id", [
    "helper",                 # no prefix
    "@rbt#helper",            # the prefix is case-sensitive
    "RBT#helper",
    "@TLS#helper",
    "@RBT#" + "x" * 28,       # 33 bytes
    "@RBT#" + "機" * 10,      # 5 + 30 = 35 bytes (bytes, not characters)
    "",
    "@RBT#a\nb",              # control character
])
def test_create_robot_rejects_bad_ids_with_10004(api: Api, user_id: str) -> None:
    call(api, "create_robot", {"UserID": user_id}, code=10004)
    assert robots(api) == []


@pytest.mark.parametrize("body", [{}, {"UserID": None}, {"Nick": "x"}])
def test_create_robot_without_user_id_is_10004(api: Api, body: dict[str, Any]) -> None:
    call(api, "create_robot", body, code=10004)
    assert robots(api) == []


@pytest.mark.parametrize("user_id", [123, ["@RBT#a"], {"id": "@RBT#a"}, True])
def test_create_robot_non_string_user_id_is_60015(api: Api,
                                                  user_id: bool | dict[str, Any] | int | list[str]) -> None:
    call(api, "create_robot", {"UserID": user_id}, code=60015)
    assert robots(api) == []


@pytest.mark.parametrize("field", ["Nick", "FaceUrl", "SelfSignature"])
def test_create_robot_value_limit_is_500_bytes_40601_as_its_page_says(api: Api, field: str) -> None:
    call(api, "create_robot", {"UserID": "@RBT#long", field: "é" * 250 + "a"}, code=40601)  # 501 bytes
    call(api, "create_robot", {"UserID": "@RBT#long", field: "a" * 501}, code=40601)
    assert robots(api) == []
    call(api, "create_robot", {"UserID": "@RBT#long", field: "é" * 250})  # exactly 500 bytes
    tag = {"Nick": NICK, "FaceUrl": IMAGE, "SelfSignature": SIGNATURE}[field]
    assert profile(api, "@RBT#long") == {tag: "é" * 250}


def test_create_robot_non_string_field_is_10004(api: Api) -> None:
    call(api, "create_robot", {"UserID": "@RBT#a", "Nick": 5}, code=10004)
    assert robots(api) == []


def test_create_robot_body_not_an_object_is_60003(api: Api) -> None:
    call(api, "create_robot", ["@RBT#a"], code=60003)  # docs/tencent-api.md §1.1, §1.5
    assert robots(api) == []


# -- the bot limit --------------------------------------------------------------------------------

def test_twenty_bots_then_the_21st_gets_10008(api: Api) -> None:
    bots = [f"@RBT#bot{i:02d}" for i in range(20)]
    for bot in bots:
        call(api, "create_robot", {"UserID": bot})
    answer = call(api, "create_robot", {"UserID": "@RBT#bot20", "Nick": "one too many"}, code=10008)
    assert "limit" in answer["ErrorInfo"]
    assert robots(api) == bots
    assert status(api, "@RBT#bot20") == "NotImported"
    # A repeat of an existing bot is still OK at the limit: it creates nothing.
    call(api, "create_robot", {"UserID": "@RBT#bot00"})
    assert robots(api) == bots


def test_max_bots_is_configurable(api_with: Callable[..., Api]) -> None:
    api = api_with(max_bots=2)
    call(api, "create_robot", {"UserID": "@RBT#a"})
    call(api, "create_robot", {"UserID": "@RBT#b"})
    call(api, "create_robot", {"UserID": "@RBT#c"}, code=10008)
    assert robots(api) == ["@RBT#a", "@RBT#b"]


# -- delete_robot ---------------------------------------------------------------------------------

def test_delete_robot_leaves_the_list_but_the_id_stays_imported(api: Api) -> None:
    call(api, "create_robot", {"UserID": "@RBT#a", "Nick": "A"})
    call(api, "create_robot", {"UserID": "@RBT#b"})
    answer = call(api, "delete_robot", {"Robot_Account": "@RBT#a"})
    assert set(answer) >= {"ActionStatus", "ErrorCode", "ErrorInfo"}
    assert robots(api) == ["@RBT#b"]
    assert status(api, "@RBT#a") == "Imported"
    call(api, "delete_robot", {"Robot_Account": "@RBT#a"})  # deleting again is OK
    assert robots(api) == ["@RBT#b"]


def test_deleted_bot_stops_counting_toward_the_limit(api_with: Callable[..., Api]) -> None:
    api = api_with(max_bots=2)
    call(api, "create_robot", {"UserID": "@RBT#a"})
    call(api, "create_robot", {"UserID": "@RBT#b"})
    call(api, "delete_robot", {"Robot_Account": "@RBT#a"})
    call(api, "create_robot", {"UserID": "@RBT#c"})
    call(api, "create_robot", {"UserID": "@RBT#d"}, code=10008)
    assert robots(api) == ["@RBT#b", "@RBT#c"]


def test_delete_robot_refuses_ids_that_never_were_bots(api: Api) -> None:
    call(api, "account_import", {"UserID": "alice"})
    call(api, "delete_robot", {"Robot_Account": "@RBT#ghost"}, code=10004)
    call(api, "delete_robot", {"Robot_Account": "alice"}, code=10004)
    call(api, "delete_robot", {"Robot_Account": "administrator"}, code=10004)
    call(api, "delete_robot", {"Robot_Account": "nobody"}, code=10004)
    assert status(api, "alice") == "Imported"


def test_delete_robot_missing_or_non_string_account(api: Api) -> None:
    call(api, "delete_robot", {}, code=10004)
    call(api, "delete_robot", {"UserID": "@RBT#a"}, code=10004)  # the field is Robot_Account
    call(api, "delete_robot", {"Robot_Account": 7}, code=60015)


def test_create_robot_revives_a_deleted_bot_with_the_new_fields(api: Api) -> None:
    call(api, "create_robot", {"UserID": "@RBT#a", "Nick": "Old", "FaceUrl": "old-face"})
    call(api, "create_robot", {"UserID": "@RBT#b"})
    call(api, "delete_robot", {"Robot_Account": "@RBT#a"})
    call(api, "create_robot", {"UserID": "@RBT#a", "Nick": "New", "SelfSignature": "back"})
    assert sorted(robots(api)) == ["@RBT#a", "@RBT#b"]
    assert profile(api, "@RBT#a") == {NICK: "New", IMAGE: "old-face", SIGNATURE: "back"}


def test_reviving_a_bot_counts_toward_the_limit(api_with: Callable[..., Api]) -> None:
    api = api_with(max_bots=1)
    call(api, "create_robot", {"UserID": "@RBT#a"})
    call(api, "delete_robot", {"Robot_Account": "@RBT#a"})
    call(api, "create_robot", {"UserID": "@RBT#b"})
    call(api, "create_robot", {"UserID": "@RBT#a", "Nick": "again"}, code=10008)
    assert robots(api) == ["@RBT#b"]
    assert profile(api, "@RBT#a") == {}


# -- get_all_robots -------------------------------------------------------------------------------

def test_get_all_robots_accepts_object_array_and_empty_bodies(api: Api) -> None:
    call(api, "create_robot", {"UserID": "@RBT#a"})
    assert call(api, "get_all_robots", {})["Robot_Account"] == ["@RBT#a"]
    assert call(api, "get_all_robots", [])["Robot_Account"] == ["@RBT#a"]
    assert call(api, "get_all_robots", raw=b"")["Robot_Account"] == ["@RBT#a"]
    assert call(api, "get_all_robots", {"Unknown": 1})["Robot_Account"] == ["@RBT#a"]


def test_get_all_robots_with_no_bots_is_an_empty_list(api: Api) -> None:
    assert call(api, "get_all_robots", raw=b"")["Robot_Account"] == []


def test_get_all_robots_returns_creation_order(api: Api) -> None:
    for bot in ["@RBT#zeta", "@RBT#alpha", "@RBT#mid"]:
        call(api, "create_robot", {"UserID": bot})
    assert robots(api) == ["@RBT#zeta", "@RBT#alpha", "@RBT#mid"]


def test_get_all_robots_lists_ids_only_and_no_ordinary_accounts(api: Api) -> None:
    call(api, "account_import", {"UserID": "alice"})
    call(api, "create_robot", {"UserID": "@RBT#a", "Nick": "A"})
    answer = call(api, "get_all_robots", {})
    assert answer["Robot_Account"] == ["@RBT#a"]


# -- over real HTTP -------------------------------------------------------------------------------

def test_bot_lifecycle_over_loopback(served: Callable[..., tuple[Emulator, Api]]) -> None:
    emulator, api = served(max_bots=1)
    call(api, "create_robot", {"UserID": "@RBT#helper", "Nick": "Helper"})
    call(api, "create_robot", {"UserID": "@RBT#other"}, code=10008)
    assert call(api, "get_all_robots", raw=b"")["Robot_Account"] == ["@RBT#helper"]
    call(api, "delete_robot", {"Robot_Account": "@RBT#helper"})
    assert call(api, "get_all_robots", [])["Robot_Account"] == []
    assert emulator.store.bots == {"@RBT#helper": False}


# -- create_robot's whole error table (its seed page) ---------------------------------------------

def test_create_robot_answers_70398_when_bots_and_accounts_reach_max_accounts(
    api_with: Callable[..., Api],
) -> None:
    api = api_with(max_accounts=3)  # administrator + alice + one bot
    call(api, "account_import", {"UserID": "alice"})
    call(api, "create_robot", {"UserID": "@RBT#one"})
    answer = call(api, "create_robot", {"UserID": "@RBT#two"}, code=70398)
    assert answer["ErrorInfo"] == "account number exceeds limit"
    assert robots(api) == ["@RBT#one"] and status(api, "@RBT#two") == "NotImported"


def test_create_robot_checks_the_bot_limit_before_the_account_limit(api_with: Callable[..., Api]) -> None:
    api = api_with(max_bots=1, max_accounts=2)  # administrator + one bot: both limits reached
    call(api, "create_robot", {"UserID": "@RBT#one"})
    call(api, "create_robot", {"UserID": "@RBT#two"}, code=10008)


def test_create_robot_value_over_500_bytes_wins_over_the_limits(api_with: Callable[..., Api]) -> None:
    api = api_with(max_bots=0, max_accounts=1)
    call(api, "create_robot", {"UserID": "@RBT#one", "SelfSignature": "x" * 501}, code=40601)
    call(api, "create_robot", {"UserID": "@RBT#one"}, code=10008)
