"""Plan value objects: the JSON shape of docs/contract.md §3, summary, safety, and reading a saved
plan back."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from chatsync.domain.live import LiveState
from chatsync.domain.model import AppConfig, DesiredState, Principal
from chatsync.domain.plan import FORMAT_VERSION, Change, Estimate, Kept, Plan
from chatsync.engine.plan import diff, tampered
from chatsync.errors import ChatsyncError, PlanFileError
from tests.plan.conftest import ENDPOINT, desired, live


def sample_plan() -> Plan:
    """A plan with one of everything: create, update, two deletes, a kept id, a warning."""
    want = desired(
        bots={"@RBT#support": {"nick": "Support"}, "@RBT#old": {"state": "absent"}},
        accounts={"alice": {"nick": "Alice"}, "mallory": {"state": "absent"},
                  "administrator": {"state": "absent"}},
    )
    have = live(bots={"@RBT#old": {}}, accounts={"alice": {"nick": "Al"}, "mallory": {},
                                                 "administrator": {}})
    return diff(want, have, endpoint=ENDPOINT)


def test_change_data_is_the_documented_json_shape() -> None:
    create = Change("bot", "@RBT#support", "create", None, {"nick": "Support"})
    assert create.data == {"address": "bot.@RBT#support", "kind": "bot", "user_id": "@RBT#support",
                           "action": "create", "before": None, "after": {"nick": "Support"}}
    update = Change("account", "alice", "update", {"nick": "Al"}, {"nick": "Alice"})
    assert update.data == {"address": "account.alice", "kind": "account", "user_id": "alice",
                           "action": "update", "before": {"nick": "Al"}, "after": {"nick": "Alice"}}
    assert create.note == update.note == ""


def test_delete_change_carries_its_reason_and_note() -> None:
    bot = Change("bot", "@RBT#old", "delete", {}, None, "not declared (prune_bots)")
    assert bot.data["reason"] == "not declared (prune_bots)"
    assert bot.data["after"] is None
    assert bot.note == "not declared (prune_bots); invalidated"  # why, then what it means
    account = Change("account", "mallory", "delete", {}, None, "state: absent")
    assert account.note.startswith("state: absent; permanent") and "3 months" in account.note


def test_kept_and_estimate_data() -> None:
    kept = Kept("account", "administrator", "the admin")
    assert kept.data == {"address": "account.administrator", "kind": "account",
                         "user_id": "administrator", "reason": "the admin"}
    estimate = Estimate({"create_robot": 2, "portrait_set": 0, "account_check": 1}, 0.01234)
    assert estimate.api_calls == 3
    assert estimate.data == {"api_calls": 3, "seconds": 0.01,
                             "calls": {"create_robot": 2, "account_check": 1}}


def test_plan_data_has_every_documented_key_and_is_json() -> None:
    plan = sample_plan()
    data = plan.data
    for key in ("format_version", "app", "changes", "summary", "safe", "unsafe_reasons", "estimate",
                "fingerprint"):
        assert key in data, key
    assert data["format_version"] == FORMAT_VERSION == "2"
    assert data["app"]["sdkappid"] == 1400000000 and data["app"]["endpoint"] == ENDPOINT
    assert data["summary"] == {"create": 1, "update": 1, "delete": 2}
    assert data["safe"] is True and data["unsafe_reasons"] == []
    assert isinstance(data["estimate"]["api_calls"], int) and isinstance(data["estimate"]["seconds"], float)
    assert data["fingerprint"].startswith("sha256:") and len(data["fingerprint"]) == 7 + 64
    assert [c["action"] for c in data["changes"]] == ["delete", "delete", "update", "create"]
    assert {c["action"] for c in data["changes"]} <= {"create", "update", "delete"}
    assert json.loads(json.dumps(data)) == data


def test_summary_and_summary_line() -> None:
    plan = sample_plan()
    assert plan.summary == {"create": 1, "update": 1, "delete": 2}
    assert plan.summary_line() == "Plan: 1 to create, 1 to update, 2 to delete."
    empty = diff(desired(), live(), endpoint=ENDPOINT)
    assert empty.empty and empty.changes == []
    assert empty.summary_line() == "Plan: 0 to create, 0 to update, 0 to delete."


def test_safe_is_false_with_unsafe_reasons_or_errors() -> None:
    plan = Plan(1, ENDPOINT, [])
    assert plan.safe
    plan.errors.append("too many bots")
    assert not plan.safe and plan.data["safe"] is False  # an error is never safe to apply
    plan.errors.clear()
    plan.unsafe_reasons.append("too many deletes")
    assert not plan.safe and plan.data["safe"] is False


def test_from_data_round_trips_exactly() -> None:
    plan = sample_plan()
    data = plan.data
    again = Plan.from_data(json.loads(json.dumps(data)))
    assert again.data == data
    assert again.changes == plan.changes
    assert again.kept == plan.kept
    assert again.fingerprint == plan.fingerprint
    assert again.observed("bot") == plan.observed("bot")
    assert Plan.from_data(again.data).data == data


def test_from_data_round_trips_unicode() -> None:
    want = desired(bots={"@RBT#助手": {"nick": "客服 🤖"}}, accounts={"élodie": {"nick": "Élodie"}})
    plan = diff(want, live(accounts={"élodie": {"nick": "Elodie"}}), endpoint=ENDPOINT)
    text = json.dumps(plan.data, ensure_ascii=False)
    assert Plan.from_data(json.loads(text)).data == plan.data


def test_from_data_keeps_the_app_settings_apply_needs() -> None:
    want = desired(accounts={"alice": {"nick": "A"}}, admin="ops", secret_key_env="MY_KEY",
                   rates={"portrait_set": 400})
    plan = diff(want, live(), endpoint=ENDPOINT)
    again = Plan.from_data(json.loads(json.dumps(plan.data)))
    assert again.data == plan.data
    assert (again.sdkappid, again.endpoint) == (1400000000, ENDPOINT)


def test_from_data_of_an_unsafe_plan_stays_unsafe() -> None:
    plan = Plan(1, ENDPOINT, [], unsafe_reasons=["deletes too much"], errors=["21 bots"])
    again = Plan.from_data(plan.data)
    assert not again.safe and again.unsafe_reasons == ["deletes too much"] and again.errors == ["21 bots"]


def _broken(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = copy.deepcopy(sample_plan().data)
    edit(data)
    return data


def _set(path: Sequence[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return edit


def _drop(path: Sequence[Any]) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return edit


NOT_A_PLAN = {
    "a list": [1, 2],
    "a string": "plan",
    "null": None,
    "a number": 1,
    "empty object": {},
    "wrong format_version": _broken(_set(["format_version"], "3")),
    "format_version as int": _broken(_set(["format_version"], 1)),
    "no format_version": _broken(_drop(["format_version"])),
    "no changes": _broken(_drop(["changes"])),
    "no app": _broken(_drop(["app"])),
    "no sdkappid": _broken(_drop(["app", "sdkappid"])),
    "no endpoint": _broken(_drop(["app", "endpoint"])),
    "no fingerprint": _broken(_drop(["fingerprint"])),
    "no observed": _broken(_drop(["observed"])),
    "changes not a list": _broken(_set(["changes"], None)),
    "change not an object": _broken(_set(["changes", 0], "bot.x")),
    "change without kind": _broken(_drop(["changes", 0, "kind"])),
    "change without before": _broken(_drop(["changes", 0, "before"])),
    "unknown action": _broken(_set(["changes", 0, "action"], "replace")),
    "unknown kind": _broken(_set(["changes", 0, "kind"], "channel")),
    "user_id not a string": _broken(_set(["changes", 0, "user_id"], 7)),
    "after a list": _broken(_set(["changes", 0, "after"], ["nick"])),
    "field value a number": _broken(_set(["changes", 0, "after"], {"nick": 5})),
    "app not an object": _broken(_set(["app"], [1400000000])),
    "sdkappid not a number": _broken(_set(["app", "sdkappid"], "abc")),
    "endpoint not a string": _broken(_set(["app", "endpoint"], 8080)),
    "fingerprint not a string": _broken(_set(["fingerprint"], None)),
    "estimate seconds not a number": _broken(_set(["estimate", "seconds"], "soon")),
    "observed bots not a list of strings": _broken(_set(["observed", "bots"], [1])),
    "warning not a string": _broken(_set(["warnings"], [{"x": 1}])),
}


@pytest.mark.parametrize("data", NOT_A_PLAN.values(), ids=NOT_A_PLAN.keys())
def test_from_data_refuses_anything_else_with_a_plan_file_error(data: Any) -> None:
    with pytest.raises(PlanFileError) as caught:
        Plan.from_data(data, source="plan.json")
    text = str(caught.value)
    assert isinstance(caught.value, ChatsyncError)
    assert text.startswith("plan.json ") and "chatsync plan --out" in text
    assert len(text.splitlines()) <= 2
    assert caught.value.__cause__ is None  # no traceback chain shown to users


def test_wrong_format_version_is_named() -> None:
    with pytest.raises(PlanFileError, match="format_version '3'; this chatsync reads '1' and '2'"):
        Plan.from_data(_broken(_set(["format_version"], "3")))


# A list where one is expected must not be read as a list of its characters, and ids/kinds of kept
# entries must be checked like those of changes: otherwise a foreign or hand-edited file is accepted.
WRONG_TYPES_ACCEPTED = {
    "warnings a string": _broken(_set(["warnings"], "a warning")),
    "unsafe_reasons a string": _broken(_set(["unsafe_reasons"], "deletes 50")),
    "observed bots a string": _broken(_set(["observed", "bots"], "@RBT#old")),
    "kept kind unknown": _broken(_set(["kept", 0, "kind"], "channel")),
    "kept user_id a number": _broken(_set(["kept", 0, "user_id"], 7)),
    "sdkappid a boolean": _broken(_set(["app", "sdkappid"], True)),
    "sdkappid a string": _broken(_set(["app", "sdkappid"], "1400000000")),
    "estimate calls not numbers": _broken(_set(["estimate", "calls"], {"create_robot": "one"})),
}


@pytest.mark.parametrize("data", WRONG_TYPES_ACCEPTED.values(), ids=WRONG_TYPES_ACCEPTED.keys())
def test_from_data_refuses_wrong_types_that_python_would_coerce(data: Any) -> None:
    with pytest.raises(PlanFileError):
        Plan.from_data(data)


def test_a_signature_that_is_not_ascii_does_not_match_and_raises_nothing() -> None:
    from chatsync.domain.plan import seal_matches

    data = sample_plan().data
    assert not seal_matches({**data, "signature": "\x80"}, "key")
    assert not seal_matches({**data, "signature": "hmac-sha256:é"}, "key")


#: A plan file as chatsync wrote it before the kinds became a registry (format 1): the bot list it
#: saw is ``observed.bots``, and the fingerprint hashes it under that key. Files like it still read.
OLD_FILE: dict[str, Any] = {
    "format_version": "1", "safe": True, "unsafe_reasons": [], "errors": [],
    "summary": {"create": 1, "update": 0, "delete": 1},
    "app": {"sdkappid": 1400000000, "endpoint": ENDPOINT, "admin": "administrator",
            "secret_key_env": "CHATSYNC_SECRET_KEY", "rate_limits": {}, "protected": [], "max_deletes": 10},
    "changes": [
        {"address": "bot.@RBT#old", "kind": "bot", "user_id": "@RBT#old", "action": "delete",
         "before": {}, "after": None, "reason": "not declared (prune_bots)"},
        {"address": "account.alice", "kind": "account", "user_id": "alice", "action": "create",
         "before": None, "after": {"nick": "Alice"}}],
    "kept": [], "warnings": [],
    "estimate": {"api_calls": 2, "seconds": 0.5, "calls": {"delete_robot": 1, "multiaccount_import": 1}},
    "observed": {"bots": ["@RBT#old", "@RBT#keep"], "objects": {"bot.@RBT#old": {}, "account.alice": None}},
    "fingerprint": "sha256:" + hashlib.sha256(json.dumps(
        {"bots": ["@RBT#keep", "@RBT#old"], "objects": {"account.alice": None, "bot.@RBT#old": {}},
         "sdkappid": 1400000000}, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest(),
    "signature": "",
}


def test_a_plan_file_of_format_1_reads_and_writes_back_the_same_but_its_version() -> None:
    saved = Plan.from_data(copy.deepcopy(OLD_FILE))
    assert saved.observed("bot") == ["@RBT#old", "@RBT#keep"] and saved.live_count("bot") == 2
    assert not tampered(saved)  # its fingerprint is the one this chatsync computes
    assert saved.data == {**OLD_FILE, "format_version": "2"}  # the same form, key for key
    edited = copy.deepcopy(OLD_FILE)
    edited["observed"]["bots"].append("@RBT#new")
    assert tampered(Plan.from_data(edited))
    del edited["observed"]["bots"]
    with pytest.raises(PlanFileError, match="not a chatsync plan"):
        Plan.from_data(edited)


def group_plan(notify: bool = False) -> Plan:
    """A plan that creates one group and changes the members of another."""
    want = DesiredState(AppConfig(sdkappid=1400000000), objects={"group": {
        "new": Principal("group", "new", {"type": "Public", "name": "N", "members": "alice\nbob"}),
        "old": Principal("group", "old", {"admins": "carol", "members": "bob"})}})
    have = LiveState(listed={"bot": []})
    have.principals["group.old"] = Principal("group", "old", {"type": "Public", "admins": "",
                                                              "members": "bob\nmallory"})
    return diff(want, have, endpoint=ENDPOINT, notify=notify)


def test_group_lists_are_json_arrays_with_what_each_change_does_to_them() -> None:
    data = group_plan().data
    old, new = data["changes"]  # review order: the update first
    assert old["before"] == {"admins": [], "members": ["bob", "mallory"]}
    assert old["after"] == {"admins": ["carol"], "members": ["bob"]}
    assert (old["added"], old["removed"]) == ({"admins": ["carol"], "members": []},
                                              {"admins": [], "members": ["mallory"]})
    assert (old["joins"], old["leaves"], old["notified"]) == (["carol"], ["mallory"], False)
    assert new["after"]["members"] == ["alice", "bob"] and new["joins"] == ["alice", "bob"]
    assert data["observed"]["objects"]["group.old"]["members"] == ["bob", "mallory"]
    again = Plan.from_data(json.loads(json.dumps(data)))
    assert again.data == data and again.fingerprint == group_plan().fingerprint
    assert again.changes[0].after == {"admins": "carol", "members": "bob"}  # held as the config holds them
    assert {c["address"]: c["notified"] for c in group_plan(notify=True).data["changes"]} == {
        "group.old": True, "group.new": True}


def test_a_plan_of_format_1_is_still_read() -> None:
    data = group_plan().data
    first = copy.deepcopy(data)
    first["format_version"] = "1"
    for change in first["changes"]:
        for key in ("added", "removed", "joins", "leaves", "notified"):
            del change[key]
        for side in ("before", "after"):
            if change[side]:
                change[side] = {k: "\n".join(v) if isinstance(v, list) else v
                                for k, v in change[side].items()}
    first["observed"]["objects"]["group.old"]["members"] = "bob\nmallory"
    first["observed"]["objects"]["group.old"]["admins"] = ""
    again = Plan.from_data(first)
    assert again.data == data  # written back as format 2


GROUP_EDITS = {
    "joins edited": (["changes", 0, "joins"], ["carol", "eve"], "do not follow from its before and after"),
    "notified edited": (["changes", 1, "notified"], True, "do not follow from its before and after"),
    "moves left out": (["changes", 0, "added"], None, "do not follow from its before and after"),
    "a list as text": (["changes", 0, "after", "members"], "bob", "members is not a list of ids"),
    "an id holding a newline": (["changes", 0, "after", "members"], ["bob\neve"], "not a list of ids"),
    "an empty id": (["observed", "objects", "group.old", "members"], [""], "not a list of ids"),
}


@pytest.mark.parametrize(("path", "value", "message"), GROUP_EDITS.values(), ids=GROUP_EDITS.keys())
def test_a_group_change_that_does_not_agree_with_itself_is_refused(path: list[Any], value: Any,
                                                                    message: str) -> None:
    data = copy.deepcopy(group_plan().data)
    if value is None:
        _drop(path)(data)
    else:
        _set(path, value)(data)
    with pytest.raises(PlanFileError, match=message):
        Plan.from_data(data, source="plan.json")
