"""Item 1: every answer is read strictly; one that does not fit is one line naming the API and the
field, exit 1, no traceback, and no plan or write is built on it (fake servers on loopback)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result

from tests.hostile.conftest import HonestApp, one_error, overriding
from tests.hostile.fakes import Behaviour, FakeServer, ok

BOTS = {"@RBT#one": {"nick": "One"}}
ACCOUNTS = {"alice": {"nick": "Alice"}, "bob": None}


def check_items(**item: Any) -> Any:
    def answer(body: Any) -> Any:
        first = body["CheckItem"][0]["UserID"]
        return ok(ResultItem=[{"UserID": first, "ResultCode": 0, "AccountStatus": "Imported", **item}])
    return answer


HOSTILE_READS = [
    ("get_all_robots", ok(Robot_Account="@RBT#one"), "Robot_Account"),
    ("get_all_robots", ok(Robot_Account=["@RBT#one", "alice"]), "Robot_Account[1]"),
    ("get_all_robots", ok(Robot_Account=[["@RBT#x"]]), "Robot_Account[0]"),
    ("get_all_robots", {"ActionStatus": "OK", "ErrorCode": False, "ErrorInfo": ""}, "ErrorCode"),
    ("get_all_robots", {"ActionStatus": "OK", "ErrorCode": "0", "ErrorInfo": ""}, "ErrorCode"),
    ("get_all_robots", {"ActionStatus": "FAIL", "ErrorCode": 0, "ErrorInfo": ""}, "ActionStatus"),
    ("get_all_robots", ok(ErrorInfo=["x"]), "ErrorInfo"),
    ("account_check", check_items(UserID=["alice"]), "ResultItem[0].UserID"),
    ("account_check", check_items(UserID="mallory"), "ResultItem[0].UserID"),
    ("account_check", check_items(AccountStatus="Maybe"), "ResultItem[0].AccountStatus"),
    ("account_check", check_items(ResultCode=True), "ResultItem[0].ResultCode"),
    ("account_check", ok(ResultItem={"UserID": "alice"}), "ResultItem"),
    ("account_check", ok(ResultItem=[7]), "ResultItem[0]"),
    ("portrait_get", lambda body: ok(UserProfileItem=[{"To_Account": body["To_Account"][0], "ResultCode": 0,
                                                       "ProfileItem": [{"Tag": ["x"], "Value": "v"}]}]),
     "ProfileItem[0].Tag"),
    ("portrait_get", lambda body: ok(UserProfileItem=[{"To_Account": body["To_Account"][0], "ResultCode": 0,
                                                       "ProfileItem": [{"Tag": "Tag_Profile_IM_Nick",
                                                                        "Value": 5}]}]),
     "ProfileItem[0].Value"),
    ("portrait_get", ok(Fail_Account=[1]), "Fail_Account[0]"),
]


@pytest.mark.parametrize(("endpoint", "answer", "field"), HOSTILE_READS,
                         ids=[f"{e}-{f}" for e, _, f in HOSTILE_READS])
def test_a_plan_on_a_misshapen_answer_is_one_named_error(fake: Callable[[Behaviour], FakeServer],
                                                         cli: Callable[..., Result], endpoint: str,
                                                         answer: Any, field: str) -> None:
    app = HonestApp(BOTS, {"alice": {"nick": "Old"}})
    server = fake(overriding(app, **{endpoint: answer}))
    result = cli(server.url, "plan", bots=BOTS, accounts=ACCOUNTS, prune_bots=True)
    line = one_error(result)
    assert endpoint in line and field in line, line
    assert "protocol error" in line
    assert result.stdout == ""  # no plan was shown


def test_a_bot_list_given_as_a_string_is_never_read_letter_by_letter(fake: Callable[[Behaviour], FakeServer],
                                                                     cli: Callable[..., Result]) -> None:
    server = fake(overriding(HonestApp(), get_all_robots=ok(Robot_Account="@RBT#bad")))
    result = cli(server.url, "plan", "--format", "json", bots={}, prune_bots=True)
    assert "Robot_Account" in one_error(result)
    assert result.stdout == ""


def test_apply_stops_at_a_protocol_error_and_reports_what_was_done(fake: Callable[[Behaviour], FakeServer],
                                                                   cli: Callable[..., Result]) -> None:
    app = HonestApp()
    server = fake(overriding(app, multiaccount_import=ok(FailAccounts="alice")))
    result = cli(server.url, "apply", "--auto-approve", "--format", "json",
                 bots={"@RBT#new": {"nick": "N"}}, accounts={"alice": {"nick": "A", "self_signature": "s"}})
    assert result.exit_code == 1, result.stderr
    import json
    report = json.loads(result.stdout)
    states = {c["address"]: c["status"] for c in report["changes"]}
    assert states["bot.@RBT#new"] == "ok"  # created before the protocol error: reported as done
    assert states["account.alice"] == "failed"
    assert "FailAccounts" in report["stopped_by"]
    assert "portrait_set" not in server.endpoints()  # nothing written after the protocol error


def test_a_duplicate_result_item_is_a_protocol_error(fake: Callable[[Behaviour], FakeServer],
                                                     cli: Callable[..., Result]) -> None:
    def twice(body: Any) -> Any:
        item = {"UserID": "alice", "ResultCode": 0, "AccountStatus": "Imported"}
        return ok(ResultItem=[item, item])

    server = fake(overriding(HonestApp(), account_check=twice))
    assert "ResultItem[1].UserID" in one_error(cli(server.url, "plan", accounts={"alice": None}))
