"""The estimate: which calls apply will make (docs/contract.md §4), and how long they take at the
paced rates. Every object whose fields an apply sets is read back at the end, 100 a
``portrait_get``: the estimate counts those reads too."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from chatsync.config import load
from chatsync.domain import strategy
from chatsync.domain.plan import Change
from chatsync.engine.plan import apply_calls, diff, needs_portrait_after_import
from chatsync.facts.endpoints import ENDPOINTS
from chatsync.facts.fields import STANDARD
from chatsync.tencent.pacing import HEADROOM
from tests.plan.conftest import ENDPOINT, desired, live


def test_no_changes_no_calls() -> None:
    plan = diff(desired(), live(), endpoint=ENDPOINT)
    assert apply_calls([]) == {}
    assert plan.estimate.api_calls == 0 and plan.estimate.seconds == 0
    assert plan.data["estimate"] == {"api_calls": 0, "seconds": 0.0, "calls": {}}


def test_one_create_robot_per_new_bot_fields_included() -> None:
    changes = [Change("bot", f"@RBT#b{i}", "create", None, {"nick": "n", "self_signature": "s"})
               for i in range(3)]
    assert apply_calls(changes) == {"create_robot": 3, "portrait_get": 1}  # the read-back


@pytest.mark.parametrize("count", [1, 99, 100, 101, 250])
def test_new_accounts_are_imported_100_a_call(count: int) -> None:
    changes = [Change("account", f"u{i}", "create", None, {"nick": "n", "face_url": "f"})
               for i in range(count)]
    batches = math.ceil(count / 100)
    assert apply_calls(changes) == {"multiaccount_import": batches, "portrait_get": batches}


def test_new_accounts_with_self_signature_need_one_portrait_set_each() -> None:
    changes = [Change("account", "a", "create", None, {"nick": "A", "self_signature": "hi"}),
               Change("account", "b", "create", None, {"self_signature": ""}),
               Change("account", "c", "create", None, {"nick": "C", "face_url": "f"}),
               Change("account", "d", "create", None, {})]
    assert [needs_portrait_after_import(c) for c in changes] == [True, True, False, False]
    # d sets no field: nothing to read back
    assert apply_calls(changes) == {"multiaccount_import": 1, "portrait_set": 2, "portrait_get": 1}


def test_a_new_bot_with_only_the_fields_create_robot_carries_needs_no_portrait_set() -> None:
    change = Change("bot", "@RBT#b", "create", None, {"nick": "n", "face_url": "f", "self_signature": "s"})
    assert apply_calls([change]) == {"create_robot": 1, "portrait_get": 1}


def test_the_other_fields_of_a_new_object_follow_in_one_portrait_set() -> None:
    bot = Change("bot", "@RBT#b", "create", None,
                 {"nick": "n", "gender": "male", "level": 3, "custom.Dept": "x"})
    account = Change("account", "a", "create", None, {"face_url": "f", "allow_type": "deny_any"})
    assert strategy.carried(bot) == {"nick": "n"}
    assert strategy.later(bot) == {"gender": "male", "level": 3, "custom.Dept": "x"}
    assert strategy.carried(account) == {"face_url": "f"}
    assert strategy.later(account) == {"allow_type": "deny_any"}
    assert apply_calls([bot, account]) == {"create_robot": 1, "multiaccount_import": 1, "portrait_set": 2,
                                           "portrait_get": 1}


def test_the_carried_fields_come_from_the_field_table() -> None:
    assert strategy.CARRIED_BY["create_robot"] == {f.name for f in STANDARD if f.robot_key}
    assert strategy.CARRIED_BY["multiaccount_import"] == {"nick", "face_url"}


def test_one_portrait_set_per_update_whatever_the_number_of_fields() -> None:
    changes = [Change("account", "a", "update", {"nick": "x"}, {"nick": "y"}),
               Change("account", "b", "update", {"nick": "x", "face_url": "f", "self_signature": "s"},
                      {"nick": "y", "face_url": "g", "self_signature": "t"}),
               Change("bot", "@RBT#c", "update", {"nick": "x"}, {"nick": "y"})]
    assert apply_calls(changes) == {"portrait_set": 3, "portrait_get": 1}


@pytest.mark.parametrize(("bots", "accounts"), [(1, 0), (0, 1), (3, 100), (2, 101), (0, 250)])
def test_deletes(bots: int, accounts: int) -> None:
    changes = [Change("bot", f"@RBT#{i}", "delete", {}, None) for i in range(bots)]
    changes += [Change("account", f"u{i}", "delete", {}, None) for i in range(accounts)]
    expected = {"delete_robot": bots, "account_delete": math.ceil(accounts / 100)}
    assert apply_calls(changes) == {k: v for k, v in expected.items() if v}


def test_a_mixed_plan_estimate() -> None:
    want = desired(
        bots={"@RBT#new": {"nick": "N"}, "@RBT#upd": {"nick": "U"}, "@RBT#old": {"state": "absent"}},
        accounts={**{f"new{i}": {"nick": "n"} for i in range(150)},
                  "sig": {"self_signature": "s"}, "alice": {"nick": "A"},
                  **{f"gone{i}": {"state": "absent"} for i in range(5)}},
        max_deletes=100,
    )
    have = live(bots={"@RBT#upd": {"nick": "u"}, "@RBT#old": {}}, accounts={
        "alice": {"nick": "a"}, **{f"gone{i}": {} for i in range(5)}})
    plan = diff(want, have, endpoint=ENDPOINT)
    # 154 objects set (1 + 150 + sig + @RBT#upd + alice): 2 read-backs
    expected = {"create_robot": 1, "multiaccount_import": 2, "portrait_set": 3, "delete_robot": 1,
                "account_delete": 1, "portrait_get": 2}
    assert plan.estimate.calls == expected
    assert plan.estimate.api_calls == 10 == plan.data["estimate"]["api_calls"]
    assert plan.data["estimate"]["calls"] == expected
    assert plan.estimate.seconds > 0
    rate = {name: ENDPOINTS[name].rate_per_second * HEADROOM for name in expected}
    assert plan.estimate.seconds == pytest.approx(sum(n / rate[name] for name, n in expected.items()))


def test_seconds_follow_the_documented_rates() -> None:
    accounts = {f"u{i}": {"nick": "n"} for i in range(1000)}  # 10 imports at 100/s
    bots = {f"@RBT#b{i}": {"nick": "n"} for i in range(20)}  # 20 create_robot at 200/s
    plan = diff(desired(bots=bots, accounts=accounts), live(), endpoint=ENDPOINT)
    assert plan.estimate.calls == {"create_robot": 20, "multiaccount_import": 10, "portrait_get": 11}
    at_documented = 20 / 200 + 10 / 100 + 11 / ENDPOINTS["portrait_get"].rate_per_second
    assert at_documented <= plan.estimate.seconds <= at_documented / HEADROOM + 1e-9
    assert plan.data["estimate"]["seconds"] == round(plan.estimate.seconds, 2) > 0


def test_rate_overrides_change_the_estimate() -> None:
    bots = {f"@RBT#b{i}": {"nick": "n"} for i in range(20)}
    updates = {f"u{i}": {"nick": "new"} for i in range(300)}
    have = live(accounts={f"u{i}": {"nick": "old"} for i in range(300)})
    base = diff(desired(bots=bots, accounts=updates), have, endpoint=ENDPOINT).estimate
    faster = diff(desired(bots=bots, accounts=updates, rates={"portrait_set": 1000}), have,
                  endpoint=ENDPOINT).estimate
    slower = diff(desired(bots=bots, accounts=updates, rates={"create_robot": 10}), have,
                  endpoint=ENDPOINT).estimate
    assert base.calls == faster.calls == slower.calls == {"create_robot": 20, "portrait_set": 300,
                                                          "portrait_get": 4}
    assert faster.seconds < base.seconds < slower.seconds
    assert base.seconds - faster.seconds == pytest.approx(300 / (200 * HEADROOM) - 300 / (1000 * HEADROOM))
    assert slower.seconds - base.seconds == pytest.approx(20 / (10 * HEADROOM) - 20 / (200 * HEADROOM))


def test_rate_limits_from_the_yaml_config_lower_the_estimate(tmp_path: Path) -> None:
    head = "version: 1\napp:\n  sdkappid: 1400000000\n"
    body = "accounts:\n" + "".join(f"  u{i}:\n    nick: new\n" for i in range(100))
    (tmp_path / "base.yaml").write_text(head + body, encoding="utf-8")
    (tmp_path / "fast.yaml").write_text(head + "  rate_limits:\n    portrait_set: 800\n" + body,
                                        encoding="utf-8")
    have = live(accounts={f"u{i}": {"nick": "old"} for i in range(100)})
    base = diff(load([tmp_path / "base.yaml"]), have, endpoint=ENDPOINT).estimate
    fast = diff(load([tmp_path / "fast.yaml"]), have, endpoint=ENDPOINT).estimate
    assert base.calls == fast.calls == {"portrait_set": 100, "portrait_get": 1}
    read_back = 1 / (ENDPOINTS["portrait_get"].rate_per_second * HEADROOM)
    assert fast.seconds - read_back == pytest.approx((base.seconds - read_back) / 4)
    assert 0 < fast.seconds < base.seconds


def test_an_override_of_an_unused_endpoint_changes_nothing() -> None:
    want = {f"@RBT#b{i}": {"nick": "n"} for i in range(5)}
    base = diff(desired(bots=want), live(), endpoint=ENDPOINT).estimate
    other = diff(desired(bots=want, rates={"account_check": 1}), live(), endpoint=ENDPOINT).estimate
    assert other.seconds == base.seconds
