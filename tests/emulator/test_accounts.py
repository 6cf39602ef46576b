"""Account APIs (docs/tencent-api.md §5) and the emulator's stance where the docs are silent (§8)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from chatsync.emulator import Emulator
from chatsync.emulator.transport import EmulatorTransport
from chatsync.tencent import usersig
from tests.support import ADMIN, SDKAPPID, SECRET, Api, call, make_emulator

NICK = "Tag_Profile_IM_Nick"
IMAGE = "Tag_Profile_IM_Image"
NOT_EXIST = "Err_TLS_PT_Open_Login_Account_Not_Exist"




def check(api: Api, *user_ids: str) -> list[str]:
    """AccountStatus of each id, in order."""
    items = call(api, "account_check", {"CheckItem": [{"UserID": u} for u in user_ids]})["ResultItem"]
    assert [item["UserID"] for item in items] == list(user_ids)
    assert all(item["ResultCode"] == 0 for item in items), items
    return [item["AccountStatus"] for item in items]


def profile(api: Api, user_id: str) -> dict[str, Any]:
    answer = call(api, "portrait_get", {"To_Account": [user_id], "TagList": [NICK, IMAGE]})
    item = answer["UserProfileItem"][0]
    assert item["ResultCode"] == 0, item
    return {entry["Tag"]: entry["Value"] for entry in item["ProfileItem"]}




def admin_sig(issued: int, expire: int = 86400) -> str:
    """An admin UserSig with an explicit TLS.time."""
    return usersig.encode({
        "TLS.ver": "2.0", "TLS.identifier": ADMIN, "TLS.sdkappid": SDKAPPID,
        "TLS.expire": expire, "TLS.time": issued,
        "TLS.sig": usersig.signature(SECRET, ADMIN, SDKAPPID, issued, expire),
    })


# -- account_import -------------------------------------------------------------------------------

def test_account_import_stores_nick_and_face_url(api: Api) -> None:
    answer = call(api, "account_import", {"UserID": "alice", "Nick": "Alice", "FaceUrl": "https://f/a.png"})
    assert set(answer) >= {"ActionStatus", "ErrorCode", "ErrorInfo"}
    assert check(api, "alice") == ["Imported"]
    assert profile(api, "alice") == {NICK: "Alice", IMAGE: "https://f/a.png"}


def test_account_import_accepts_the_older_identifier_key(api: Api) -> None:
    call(api, "account_import", {"Identifier": "bob", "Nick": "Bob"})
    assert check(api, "bob") == ["Imported"]
    assert profile(api, "bob") == {NICK: "Bob"}


def test_account_import_null_user_id_falls_back_to_identifier(api: Api) -> None:
    call(api, "account_import", {"UserID": None, "Identifier": "bob"})
    call(api, "account_import", {"UserID": "carl", "Identifier": "other"})  # UserID wins
    assert check(api, "bob", "carl", "other") == ["Imported", "Imported", "NotImported"]


def test_account_import_without_fields_has_an_empty_profile(api: Api) -> None:
    call(api, "account_import", {"UserID": "carol", "Nick": None, "FaceUrl": None})
    assert profile(api, "carol") == {}


def test_repeat_account_import_is_ok_and_does_not_overwrite(api: Api) -> None:
    call(api, "account_import", {"UserID": "alice", "Nick": "Alice"})
    call(api, "account_import", {"UserID": "alice", "Nick": "Changed", "FaceUrl": "https://f/new.png"})
    assert profile(api, "alice") == {NICK: "Alice"}


@pytest.mark.parametrize("body", [{}, {"UserID": None}, {"Nick": "x"}])
def test_account_import_without_user_id_is_70402(api: Api, body: dict[str, Any]) -> None:
    call(api, "account_import", body, code=70402)


@pytest.mark.parametrize("user_id", ["@RBT#bot", "@TLS#NOT_FOUND", "@TIM#SYSTEM", "@TGS#1ABC"])
def test_account_import_refuses_reserved_prefixes(api: Api, user_id: str) -> None:
    call(api, "account_import", {"UserID": user_id}, code=70402)
    assert check(api, user_id) == ["NotImported"]


@pytest.mark.parametrize("user_id", [
    "a" * 32,
    "名" * 10 + "ab",      # 30 + 2 bytes
    "@rbt#lowercase",      # the reserved prefixes are case-sensitive
    "with space",
    "x",
])
def test_account_import_accepts_ids_up_to_32_bytes(api: Api, user_id: str) -> None:
    assert len(user_id.encode()) <= 32
    call(api, "account_import", {"UserID": user_id})
    assert check(api, user_id) == ["Imported"]


@pytest.mark.parametrize("user_id", [
    "a" * 33,
    "名" * 11,             # 11 characters, 33 bytes
    "名" * 10 + "abc",
    "",
    "a\x00b",
    "a\nb",
    "tab\there",
    "del\x7f",
])
def test_account_import_rejects_bad_ids_with_70402(api: Api, user_id: str) -> None:
    call(api, "account_import", {"UserID": user_id}, code=70402)


@pytest.mark.parametrize("user_id", [123, 1.5, True, ["alice"], {"id": "alice"}])
def test_account_import_non_string_id_is_60015(
    api: Api, user_id: bool | dict[str, Any] | float | int | list[str],
) -> None:
    call(api, "account_import", {"UserID": user_id}, code=60015)
    call(api, "account_import", {"Identifier": user_id}, code=60015)


@pytest.mark.parametrize("field,tag", [("Nick", NICK), ("FaceUrl", IMAGE)])
def test_account_import_value_limit_is_500_bytes(api: Api, field: str, tag: str) -> None:
    for too_long in ["a" * 501, "é" * 250 + "a", "中" * 167]:
        assert len(too_long.encode()) == 501
        call(api, "account_import", {"UserID": "dave", field: too_long}, code=40601)
    assert check(api, "dave") == ["NotImported"]
    call(api, "account_import", {"UserID": "dave", field: "é" * 250})
    assert profile(api, "dave") == {tag: "é" * 250}


def test_user_ids_are_case_sensitive(api: Api) -> None:
    call(api, "account_import", {"UserID": "Alice", "Nick": "upper"})
    call(api, "account_import", {"UserID": "alice", "Nick": "lower"})
    assert check(api, "Alice", "alice", "ALICE") == ["Imported", "Imported", "NotImported"]
    assert profile(api, "Alice") == {NICK: "upper"}
    assert profile(api, "alice") == {NICK: "lower"}


# -- multiaccount_import --------------------------------------------------------------------------

def test_multiaccount_import_accounts_shape(api: Api) -> None:
    answer = call(api, "multiaccount_import", {"Accounts": ["a1", "a2"]})
    assert answer["FailAccounts"] == []
    assert check(api, "a1", "a2") == ["Imported", "Imported"]
    assert profile(api, "a1") == {}


def test_multiaccount_import_account_list_shape(api: Api) -> None:
    answer = call(api, "multiaccount_import", {"AccountList": [
        {"UserID": "b1", "Nick": "B1", "FaceUrl": "https://f/b1"},
        {"UserID": "b2"},
        {"UserID": "b3", "Nick": None, "FaceUrl": "https://f/b3"},
    ]})
    assert answer["FailAccounts"] == []
    assert check(api, "b1", "b2", "b3") == ["Imported"] * 3
    assert profile(api, "b1") == {NICK: "B1", IMAGE: "https://f/b1"}
    assert profile(api, "b2") == {}
    assert profile(api, "b3") == {IMAGE: "https://f/b3"}


def test_account_list_updates_existing_profiles(api: Api) -> None:
    call(api, "account_import", {"UserID": "alice", "Nick": "Alice", "FaceUrl": "https://f/old"})
    call(api, "multiaccount_import", {"AccountList": [{"UserID": "alice", "Nick": "Alicia"}]})
    assert profile(api, "alice") == {NICK: "Alicia", IMAGE: "https://f/old"}
    call(api, "multiaccount_import", {"AccountList": [{"UserID": "alice", "Nick": None, "FaceUrl": "https://f/new"}]})
    assert profile(api, "alice") == {NICK: "Alicia", IMAGE: "https://f/new"}


def test_accounts_shape_does_not_touch_existing_profiles(api: Api) -> None:
    call(api, "account_import", {"UserID": "alice", "Nick": "Alice", "FaceUrl": "https://f/a"})
    answer = call(api, "multiaccount_import", {"Accounts": ["alice", "new1"]})
    assert answer["FailAccounts"] == []
    assert profile(api, "alice") == {NICK: "Alice", IMAGE: "https://f/a"}


def test_multiaccount_import_reports_failed_items_with_the_envelope_ok(api: Api) -> None:
    bad_long = "y" * 33
    answer = call(api, "multiaccount_import", {"Accounts": ["ok1", "@TLS#x", bad_long, "", "ok2"]})
    assert answer["FailAccounts"] == ["@TLS#x", bad_long, ""]
    assert check(api, "ok1", "ok2", "@TLS#x") == ["Imported", "Imported", "NotImported"]


def test_account_list_item_value_failures(api: Api) -> None:
    answer = call(api, "multiaccount_import", {"AccountList": [
        {"UserID": "good", "Nick": "fine"},
        {"UserID": "long", "Nick": "n" * 501},
        {"UserID": "typed", "FaceUrl": 42},
    ]})
    assert answer["FailAccounts"] == ["long", "typed"]
    assert check(api, "good", "long", "typed") == ["Imported", "NotImported", "NotImported"]


def test_multiaccount_import_all_failed_is_fail_with_the_first_code_and_the_list(
    api_with: Callable[..., Api],
) -> None:
    api = api_with(max_accounts=1)  # the admin already fills it
    answer = call(api, "multiaccount_import", {"Accounts": ["@TLS#x", "b", "c"]}, code=70402)
    assert answer["FailAccounts"] == ["@TLS#x", "b", "c"]
    answer = call(api, "multiaccount_import", {"Accounts": ["b", "@TLS#x"]}, code=70398)
    assert answer["FailAccounts"] == ["b", "@TLS#x"]
    answer = call(api, "multiaccount_import", {"AccountList": [{"UserID": "@RBT#b"}]}, code=70402)
    assert answer["FailAccounts"] == ["@RBT#b"]
    assert check(api, "b", "c") == ["NotImported", "NotImported"]


@pytest.mark.parametrize("shape", ["Accounts", "AccountList"])
def test_multiaccount_import_batch_size(api: Api, shape: str) -> None:
    def items(n: int) -> list[Any]:
        ids = [f"u{i:03d}" for i in range(n)]
        return ids if shape == "Accounts" else [{"UserID": u} for u in ids]

    call(api, "multiaccount_import", {shape: items(101)}, code=70206)
    assert check(api, "u000") == ["NotImported"]
    call(api, "multiaccount_import", {shape: []}, code=70402)
    assert call(api, "multiaccount_import", {shape: items(100)})["FailAccounts"] == []
    assert check(api, "u000", "u099") == ["Imported", "Imported"]


@pytest.mark.parametrize("body", [
    {"Accounts": ["a"], "AccountList": [{"UserID": "b"}]},
    {},
    {"UserID": "a"},
    {"Accounts": "a"},
    {"AccountList": [{"Nick": "no id"}]},
    {"AccountList": ["a"]},
])
def test_multiaccount_import_malformed_bodies_are_70402(api: Api, body: dict[str, Any]) -> None:
    call(api, "multiaccount_import", body, code=70402)
    assert check(api, "a", "b") == ["NotImported", "NotImported"]


@pytest.mark.parametrize("body", [
    {"Accounts": ["a"], "AccountList": None},
    {"Accounts": None, "AccountList": [{"UserID": "a"}]},
])
def test_multiaccount_import_null_shape_key_is_absent(api: Api, body: dict[str, Any]) -> None:
    assert call(api, "multiaccount_import", body)["FailAccounts"] == []
    assert check(api, "a") == ["Imported"]


def test_multiaccount_import_both_shapes_null_is_70402(api: Api) -> None:
    call(api, "multiaccount_import", {"Accounts": None, "AccountList": None}, code=70402)


def test_multiaccount_import_non_string_ids_are_60015(api: Api) -> None:
    call(api, "multiaccount_import", {"Accounts": ["a", 5]}, code=60015)
    call(api, "multiaccount_import", {"AccountList": [{"UserID": ["a"]}]}, code=60015)
    assert check(api, "a") == ["NotImported"]


# -- the account limit ----------------------------------------------------------------------------

def test_max_accounts_counts_the_admin_and_bots(api_with: Callable[..., Api]) -> None:
    """Bots are accounts (create_robot's error table lists 70398): they count in both directions."""
    api = api_with(max_accounts=4)
    call(api, "create_robot", {"UserID": "@RBT#one"})
    call(api, "account_import", {"UserID": "a"})
    call(api, "account_import", {"UserID": "b"})  # administrator + @RBT#one + a + b = 4
    answer = call(api, "account_import", {"UserID": "c"}, code=70398)
    assert answer["ErrorInfo"] == "account number exceeds limit"
    call(api, "create_robot", {"UserID": "@RBT#two"}, code=70398)
    call(api, "account_import", {"UserID": "a", "Nick": "again"})  # existing ids do not count again
    call(api, "create_robot", {"UserID": "@RBT#one"})  # a repeat neither
    assert check(api, "a", "b", "c", "@RBT#two") == ["Imported", "Imported", "NotImported", "NotImported"]
    assert call(api, "get_all_robots", {})["Robot_Account"] == ["@RBT#one"]


def test_an_invalid_bot_still_counts_and_reviving_it_is_not_refused(api_with: Callable[..., Api]) -> None:
    api = api_with(max_accounts=3)
    call(api, "create_robot", {"UserID": "@RBT#one"})
    call(api, "delete_robot", {"Robot_Account": "@RBT#one"})
    call(api, "account_import", {"UserID": "a"})  # administrator + @RBT#one (its id exists) + a
    call(api, "account_import", {"UserID": "b"}, code=70398)
    call(api, "create_robot", {"UserID": "@RBT#one"})  # revived: its id already counted
    call(api, "account_delete", {"DeleteItem": [{"UserID": "a"}]})  # deleted accounts stop counting
    call(api, "create_robot", {"UserID": "@RBT#two"})


def test_max_accounts_in_a_batch_fails_per_item(api_with: Callable[..., Api]) -> None:
    api = api_with(max_accounts=3)
    answer = call(api, "multiaccount_import", {"Accounts": ["a", "b", "c", "d"]})
    assert answer["FailAccounts"] == ["c", "d"]
    answer = call(api, "multiaccount_import", {"Accounts": ["c"]}, code=70398)
    assert answer["FailAccounts"] == ["c"]


def test_deleted_accounts_stop_counting(api_with: Callable[..., Api]) -> None:
    api = api_with(max_accounts=2)
    call(api, "account_import", {"UserID": "a"})
    call(api, "account_import", {"UserID": "b"}, code=70398)
    call(api, "account_delete", {"DeleteItem": [{"UserID": "a"}]})
    call(api, "account_import", {"UserID": "b"})
    assert check(api, "a", "b") == ["NotImported", "Imported"]


def test_deletion_lock_refuses_re_import_with_70399(api_with: Callable[..., Api]) -> None:
    api = api_with(deletion_lock=True)
    call(api, "account_import", {"UserID": "gone", "Nick": "G"})
    call(api, "account_delete", {"DeleteItem": [{"UserID": "gone"}]})
    call(api, "account_import", {"UserID": "gone"}, code=70399)
    answer = call(api, "multiaccount_import", {"Accounts": ["gone", "fresh"]})
    assert answer["FailAccounts"] == ["gone"]
    answer = call(api, "multiaccount_import", {"AccountList": [{"UserID": "gone"}]}, code=70399)
    assert answer["FailAccounts"] == ["gone"]
    assert check(api, "gone", "fresh") == ["NotImported", "Imported"]


def test_without_deletion_lock_re_import_works_with_a_fresh_profile(api: Api) -> None:
    call(api, "account_import", {"UserID": "gone", "Nick": "Old"})
    call(api, "account_delete", {"DeleteItem": [{"UserID": "gone"}]})
    call(api, "account_import", {"UserID": "gone"})
    assert check(api, "gone") == ["Imported"]
    assert profile(api, "gone") == {}


# -- account_check --------------------------------------------------------------------------------

def test_account_check_reports_each_id_in_order(api: Api) -> None:
    call(api, "account_import", {"UserID": "alice"})
    call(api, "create_robot", {"UserID": "@RBT#bot"})
    answer = call(api, "account_check", {"CheckItem": [
        {"UserID": "ghost"}, {"UserID": "alice"}, {"UserID": ADMIN}, {"UserID": "@RBT#bot"},
    ]})
    assert answer["ResultItem"] == [
        {"UserID": "ghost", "ResultCode": 0, "ResultInfo": "", "AccountStatus": "NotImported"},
        {"UserID": "alice", "ResultCode": 0, "ResultInfo": "", "AccountStatus": "Imported"},
        {"UserID": ADMIN, "ResultCode": 0, "ResultInfo": "", "AccountStatus": "Imported"},
        {"UserID": "@RBT#bot", "ResultCode": 0, "ResultInfo": "", "AccountStatus": "Imported"},
    ]


def test_account_check_batch_size(api: Api) -> None:
    call(api, "account_check", {"CheckItem": [{"UserID": f"u{i}"} for i in range(101)]}, code=70206)
    call(api, "account_check", {"CheckItem": []}, code=70402)
    call(api, "account_check", {}, code=70402)
    answer = call(api, "account_check", {"CheckItem": [{"UserID": f"u{i}"} for i in range(100)]})
    assert len(answer["ResultItem"]) == 100


def test_account_check_invalid_id_fails_its_item_only(api: Api) -> None:
    items = [{"UserID": "x" * 33}, {"UserID": "ok"}, {"UserID": ""}]
    answer = call(api, "account_check", {"CheckItem": items})
    first, second, third = answer["ResultItem"]
    assert (first["UserID"], first["ResultCode"]) == ("x" * 33, 70402)
    assert first["ResultInfo"] == "invalid parameters"
    assert (second["ResultCode"], second["AccountStatus"]) == (0, "NotImported")
    assert third["ResultCode"] == 70402


def test_account_check_non_string_id_is_60015(api: Api) -> None:
    call(api, "account_check", {"CheckItem": [{"UserID": 1}]}, code=60015)


# -- account_delete -------------------------------------------------------------------------------

def test_account_delete_reports_each_item(api: Api) -> None:
    call(api, "account_import", {"UserID": "alice", "Nick": "Alice"})
    call(api, "create_robot", {"UserID": "@RBT#bot"})
    answer = call(api, "account_delete", {"DeleteItem": [
        {"UserID": "alice"}, {"UserID": "ghost"}, {"UserID": ADMIN}, {"UserID": "@RBT#bot"},
    ]})
    assert answer["ResultItem"] == [
        {"UserID": "alice", "ResultCode": 0, "ResultInfo": ""},
        {"UserID": "ghost", "ResultCode": 70107, "ResultInfo": NOT_EXIST},
        {"UserID": ADMIN, "ResultCode": 70402, "ResultInfo": "invalid parameters"},
        {"UserID": "@RBT#bot", "ResultCode": 70402, "ResultInfo": "invalid parameters"},
    ]
    assert check(api, "alice", ADMIN, "@RBT#bot") == ["NotImported", "Imported", "Imported"]
    assert call(api, "get_all_robots", {})["Robot_Account"] == ["@RBT#bot"]


def test_account_delete_only_unknown_ids_keeps_the_envelope_ok(api: Api) -> None:
    answer = call(api, "account_delete", {"DeleteItem": [{"UserID": "ghost"}]})
    assert answer["ResultItem"] == [{"UserID": "ghost", "ResultCode": 70107, "ResultInfo": NOT_EXIST}]


def test_deleted_account_loses_its_profile(api: Api) -> None:
    call(api, "account_import", {"UserID": "alice", "Nick": "Alice"})
    call(api, "account_delete", {"DeleteItem": [{"UserID": "alice"}]})
    answer = call(api, "portrait_get", {"To_Account": ["alice"], "TagList": [NICK]})
    assert answer["UserProfileItem"][0]["ResultCode"] == 40003
    assert answer["Fail_Account"] == ["alice"]
    # Deleting again: it no longer exists.
    again = call(api, "account_delete", {"DeleteItem": [{"UserID": "alice"}]})
    assert again["ResultItem"][0]["ResultCode"] == 70107


def test_account_delete_batch_size(api: Api) -> None:
    call(api, "account_delete", {"DeleteItem": [{"UserID": f"u{i}"} for i in range(101)]}, code=70206)
    call(api, "account_delete", {"DeleteItem": []}, code=70402)


def test_account_delete_can_be_disallowed(api_with: Callable[..., Api]) -> None:
    api = api_with(allow_account_delete=False)
    call(api, "account_import", {"UserID": "alice"})
    answer = call(api, "account_delete", {"DeleteItem": [{"UserID": "alice"}]}, code=71000)
    assert answer["ErrorInfo"] == "the app does not allow account deletion"
    assert "ResultItem" not in answer
    assert check(api, "alice") == ["Imported"]


# -- kick -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["UserID", "Identifier"])
def test_kick_accepts_both_keys(api: Api, key: str) -> None:
    call(api, "account_import", {"UserID": "alice"})
    call(api, "kick", {key: "alice"})
    assert check(api, "alice") == ["Imported"]


def test_kick_null_user_id_falls_back_to_identifier(api: Api) -> None:
    call(api, "account_import", {"UserID": "alice"})
    call(api, "kick", {"UserID": None, "Identifier": "alice"})


def test_kick_unknown_or_bad_account(api: Api) -> None:
    answer = call(api, "kick", {"UserID": "ghost"}, code=70107)
    assert answer["ErrorInfo"] == NOT_EXIST
    call(api, "kick", {}, code=70402)
    call(api, "kick", {"UserID": ""}, code=70402)
    call(api, "kick", {"UserID": 5}, code=60015)


def test_kick_of_the_admin_invalidates_its_older_usersigs() -> None:
    t = [1_700_000_000.0]
    emulator = make_emulator(clock=lambda: t[0])
    with httpx.Client(transport=EmulatorTransport(emulator), base_url="http://emulator") as client:
        api = Api(client)
        old = admin_sig(issued=1_699_990_000)
        api.sig = old
        call(api, "account_import", {"UserID": "alice"})
        call(api, "kick", {"UserID": "alice"})  # kicking someone else leaves the admin's sig alone
        call(api, "account_check", {"CheckItem": [{"UserID": "alice"}]})

        t[0] = 1_700_000_100.0
        call(api, "kick", {"UserID": ADMIN})
        t[0] = 1_700_000_200.0
        answer = call(api, "account_check", {"CheckItem": [{"UserID": "alice"}]}, code=70052)
        assert answer["ErrorInfo"] == "UserSig invalidated, generate a new one"
        api.sig = admin_sig(issued=1_700_000_099)  # one second before the kick
        call(api, "account_check", {"CheckItem": [{"UserID": "alice"}]}, code=70052)

        for issued in (1_700_000_100, 1_700_000_150):  # at the kick's second, and after it
            api.sig = admin_sig(issued=issued)
            assert check(api, "alice") == ["Imported"]
        api.sig = old
        call(api, "account_check", {"CheckItem": [{"UserID": "alice"}]}, code=70052)


# -- over real HTTP -------------------------------------------------------------------------------

def test_account_lifecycle_over_loopback(served: Callable[..., tuple[Emulator, Api]]) -> None:
    emulator, api = served(max_accounts=3)
    answer = call(api, "multiaccount_import", {"AccountList": [
        {"UserID": "amélie", "Nick": "Amélie"}, {"UserID": "bob"}, {"UserID": "carl"},
    ]})
    assert answer["FailAccounts"] == ["carl"]
    assert check(api, "amélie", "bob", "carl") == ["Imported", "Imported", "NotImported"]
    answer = call(api, "account_delete", {"DeleteItem": [{"UserID": "bob"}, {"UserID": "zed"}]})
    assert [item["ResultCode"] for item in answer["ResultItem"]] == [0, 70107]
    call(api, "account_import", {"UserID": "carl"})
    assert set(emulator.store.accounts) == {ADMIN, "amélie", "carl"}
    assert emulator.store.accounts["amélie"] == {NICK: "Amélie"}
