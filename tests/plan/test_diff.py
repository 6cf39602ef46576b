"""diff(): what changes, what is deleted, what is kept, in what order, and whether the plan is safe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chatsync.config import load
from chatsync.domain.kinds import BY_NAME
from chatsync.domain.plan import Plan
from chatsync.engine.plan import diff
from chatsync.render.text import render as render_text
from tests.plan.conftest import ENDPOINT, desired, live


def changes_of(plan: Plan) -> list[tuple[str, str, Any, Any]]:
    return [(c.action, c.address, c.before, c.after) for c in plan.changes]


# -- create / update / no change -------------------------------------------------------------------

def test_create_has_no_before_and_all_managed_fields_after() -> None:
    plan = diff(desired(bots={"@RBT#s": {"nick": "S", "face_url": "f", "self_signature": "hi"}},
                        accounts={"alice": {"nick": "A"}, "bob": None}), live(), endpoint=ENDPOINT)
    assert changes_of(plan) == [
        ("create", "bot.@RBT#s", None, {"nick": "S", "face_url": "f", "self_signature": "hi"}),
        ("create", "account.alice", None, {"nick": "A"}),
        ("create", "account.bob", None, {}),
    ]
    assert plan.summary == {"create": 3, "update": 0, "delete": 0}


def test_update_lists_only_the_changed_fields() -> None:
    want = desired(accounts={"alice": {"nick": "Alice", "face_url": "same", "self_signature": "new"}})
    have = live(accounts={"alice": {"nick": "Al", "face_url": "same", "self_signature": "old"}})
    assert changes_of(diff(want, have, endpoint=ENDPOINT)) == [
        ("update", "account.alice", {"nick": "Al", "self_signature": "old"},
         {"nick": "Alice", "self_signature": "new"})]


def test_a_field_left_out_is_never_compared() -> None:
    want = desired(bots={"@RBT#s": {"nick": "S"}}, accounts={"alice": {"nick": "A"}, "bob": None})
    # The live objects differ on fields the config leaves out (as if they had been read anyway).
    have = live(bots={"@RBT#s": {"nick": "S", "face_url": "x"}},
                accounts={"alice": {"nick": "A", "self_signature": "x"}, "bob": {"nick": "anything"}})
    plan = diff(want, have, endpoint=ENDPOINT)
    assert plan.changes == [] and plan.empty


def test_an_empty_value_is_managed_and_differs_from_a_set_one() -> None:
    want = desired(accounts={"alice": {"nick": ""}})
    assert changes_of(diff(want, live(accounts={"alice": {"nick": "x"}}), endpoint=ENDPOINT)) == [
        ("update", "account.alice", {"nick": "x"}, {"nick": ""})]
    assert diff(want, live(accounts={"alice": {"nick": ""}}), endpoint=ENDPOINT).empty


def test_no_change_is_not_listed() -> None:
    want = desired(bots={"@RBT#s": {"nick": "S"}}, accounts={"alice": {"nick": "A"}, "bob": None})
    have = live(bots={"@RBT#s": {"nick": "S"}}, accounts={"alice": {"nick": "A"}, "bob": {}})
    plan = diff(want, have, endpoint=ENDPOINT)
    assert plan.changes == [] and plan.kept == [] and plan.warnings == [] and plan.errors == []
    assert plan.summary_line() == "Plan: 0 to create, 0 to update, 0 to delete."


def test_ids_are_compared_byte_for_byte() -> None:
    plan = diff(desired(accounts={"Alice": {"nick": "A"}}), live(accounts={"alice": {"nick": "A"}}),
                endpoint=ENDPOINT)
    assert changes_of(plan) == [("create", "account.Alice", None, {"nick": "A"})]


def test_unicode_ids_and_values() -> None:
    want = desired(bots={"@RBT#助手": {"nick": "客服 🤖"}},
                   accounts={"élodie": {"nick": "Élodie"}, "名前": {"nick": "名"}, "ß": {"state": "absent"}})
    have = live(bots={"@RBT#助手": {"nick": "客服"}}, accounts={"élodie": {"nick": "Élodie"}, "ß": {}})
    assert changes_of(diff(want, have, endpoint=ENDPOINT)) == [
        ("delete", "account.ß", {}, None),
        ("update", "bot.@RBT#助手", {"nick": "客服"}, {"nick": "客服 🤖"}),
        ("create", "account.名前", None, {"nick": "名"}),
    ]


def test_a_config_loaded_from_yaml(tmp_path: Path) -> None:
    (tmp_path / "chatsync.yaml").write_text(
        'version: 1\n'
        'app:\n  sdkappid: 1400000000\n'
        'bots:\n  "@RBT#support":\n    nick: Support\n'
        'accounts:\n'
        '  alice:\n    nick: ""\n'
        '  bob:\n'
        '  mallory:\n    state: absent\n'
        '  trent:\n    state: absent\n',
        encoding="utf-8")
    want = load([tmp_path / "chatsync.yaml"])
    have = live(accounts={"alice": {"nick": "Al"}, "bob": {}, "mallory": {}})
    plan = diff(want, have, endpoint=ENDPOINT)
    assert changes_of(plan) == [
        ("delete", "account.mallory", {}, None),
        ("update", "account.alice", {"nick": "Al"}, {"nick": ""}),
        ("create", "bot.@RBT#support", None, {"nick": "Support"}),
    ]


# -- deletes -----------------------------------------------------------------------------------------

def test_absent_is_deleted_only_when_it_exists() -> None:
    want = desired(bots={"@RBT#old": {"state": "absent"}, "@RBT#gone": {"state": "absent"}},
                   accounts={"mallory": {"state": "absent"}, "nobody": {"state": "absent"}})
    have = live(bots={"@RBT#old": {}}, accounts={"mallory": {}})
    plan = diff(want, have, endpoint=ENDPOINT)
    assert changes_of(plan) == [("delete", "account.mallory", {}, None), ("delete", "bot.@RBT#old", {}, None)]
    assert all(c.reason == "state: absent" for c in plan.changes)


def test_absent_and_not_live_is_nothing() -> None:
    plan = diff(desired(bots={"@RBT#x": {"state": "absent"}}, accounts={"m": {"state": "absent"}}),
                live(), endpoint=ENDPOINT)
    assert plan.empty and plan.kept == [] and plan.warnings == []


def test_prune_bots_deletes_live_bots_that_are_not_declared() -> None:
    want = desired(bots={"@RBT#keep": {"nick": "K"}}, prune_bots=True)
    have = live(bots={"@RBT#keep": {"nick": "K"}}, extra_bots=("@RBT#stray", "@RBT#other"))
    plan = diff(want, have, endpoint=ENDPOINT)
    assert [(c.action, c.address) for c in plan.changes] == [
        ("delete", "bot.@RBT#stray"), ("delete", "bot.@RBT#other")]
    assert all("prune_bots" in c.reason for c in plan.changes)
    assert all("prune_bots" in c.data["reason"] for c in plan.changes)
    assert plan.warnings == []  # bot deletes are not permanent


def test_without_prune_bots_undeclared_bots_are_left_alone_and_listed_as_kept() -> None:
    want = desired(bots={"@RBT#keep": {"nick": "K"}})
    have = live(bots={"@RBT#keep": {"nick": "K"}}, extra_bots=("@RBT#stray",))
    plan = diff(want, have, endpoint=ENDPOINT)
    assert plan.empty
    assert [(k.kind, k.user_id, k.reason) for k in plan.kept] == [
        ("bot", "@RBT#stray", "no file declares it; app.prune_bots is off, so it stays as it is")]
    assert render_text(plan).count('# bot "@RBT#stray" kept: no file declares it') == 1
    assert plan.observed("bot") == ["@RBT#keep", "@RBT#stray"]


def test_prune_bots_never_touches_accounts() -> None:
    want = desired(prune_bots=True)
    plan = diff(want, live(accounts={"alice": {}}), endpoint=ENDPOINT)
    assert plan.empty


def test_protected_ids_and_the_admin_are_kept_with_a_reason() -> None:
    want = desired(bots={"@RBT#guard": {"state": "absent"}},
                   accounts={"administrator": {"state": "absent"}, "ops": {"state": "absent"},
                             "mallory": {"state": "absent"}},
                   protected=("ops", "@RBT#guard", "@RBT#pet"), prune_bots=True)
    have = live(bots={"@RBT#guard": {}}, accounts={"administrator": {}, "ops": {}, "mallory": {}},
                extra_bots=("@RBT#pet",))
    plan = diff(want, have, endpoint=ENDPOINT)
    assert [(c.action, c.address) for c in plan.changes] == [("delete", "account.mallory")]
    kept = {k.address: k.reason for k in plan.kept}
    assert set(kept) == {"bot.@RBT#guard", "account.administrator", "account.ops", "bot.@RBT#pet"}
    assert "admin" in kept["account.administrator"]
    assert all("protected" in kept[a] for a in ("account.ops", "bot.@RBT#guard", "bot.@RBT#pet"))
    assert all(k.reason for k in plan.kept)
    assert [k["address"] for k in plan.data["kept"]] == [k.address for k in plan.kept]


def test_a_custom_admin_is_never_deleted_even_when_not_protected() -> None:
    want = desired(accounts={"ops-admin": {"state": "absent"}, "administrator": {"state": "absent"}},
                   admin="ops-admin")
    plan = diff(want, live(accounts={"ops-admin": {}, "administrator": {}}), endpoint=ENDPOINT)
    assert [c.address for c in plan.changes] == ["account.administrator"]  # no longer the admin
    assert [k.address for k in plan.kept] == ["account.ops-admin"]


def test_deletes_come_first_accounts_before_bots_then_updates_then_creates() -> None:
    """The order a reviewer reads (and a cut comment keeps): the risky changes first; in a group,
    the order of the config (bots, then accounts), and pruned bots after declared deletes."""
    want = desired(
        bots={"@RBT#old": {"state": "absent"}, "@RBT#new": {"nick": "N"}, "@RBT#upd": {"nick": "U"}},
        accounts={"m1": {"state": "absent"}, "alice": {"nick": "A"}, "m2": {"state": "absent"},
                  "bob": {"nick": "B"}},
        prune_bots=True,
    )
    have = live(bots={"@RBT#old": {}, "@RBT#upd": {"nick": "u"}},
                accounts={"m1": {}, "m2": {}, "bob": {"nick": "b"}}, extra_bots=("@RBT#stray",))
    plan = diff(want, have, endpoint=ENDPOINT)
    assert [(c.action, c.address) for c in plan.changes] == [
        ("delete", "account.m1"),
        ("delete", "account.m2"),
        ("delete", "bot.@RBT#old"),
        ("delete", "bot.@RBT#stray"),
        ("update", "bot.@RBT#upd"),
        ("update", "account.bob"),
        ("create", "bot.@RBT#new"),
        ("create", "account.alice"),
    ]


def test_the_plan_carries_the_app_and_endpoint() -> None:
    plan = diff(desired(sdkappid=1400012345), live(), endpoint="https://adminapisgp.im.qcloud.com")
    assert plan.data["app"]["sdkappid"] == 1400012345
    assert plan.data["app"]["endpoint"] == "https://adminapisgp.im.qcloud.com"


# -- safety ------------------------------------------------------------------------------------------

def _absent_accounts(count: int) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    return {f"gone{i}": {"state": "absent"} for i in range(count)}, {f"gone{i}": {} for i in range(count)}


def test_more_deletes_than_max_deletes_is_unsafe_and_says_how_to_proceed() -> None:
    declared, existing = _absent_accounts(4)
    plan = diff(desired(accounts=declared, max_deletes=3), live(accounts=existing), endpoint=ENDPOINT)
    assert not plan.safe and plan.data["safe"] is False
    assert len(plan.unsafe_reasons) == 1
    reason = plan.unsafe_reasons[0]
    assert "max_deletes" in reason and "--force" in reason and "4" in reason and "3" in reason
    assert plan.errors == []


def test_exactly_max_deletes_is_safe() -> None:
    declared, existing = _absent_accounts(3)
    plan = diff(desired(accounts=declared, max_deletes=3), live(accounts=existing), endpoint=ENDPOINT)
    assert plan.safe and plan.unsafe_reasons == [] and plan.summary["delete"] == 3


def test_default_max_deletes_is_10() -> None:
    declared, existing = _absent_accounts(10)
    assert diff(desired(accounts=declared), live(accounts=existing), endpoint=ENDPOINT).safe
    declared, existing = _absent_accounts(11)
    assert not diff(desired(accounts=declared), live(accounts=existing), endpoint=ENDPOINT).safe


def test_pruned_bots_count_towards_max_deletes() -> None:
    have = live(extra_bots=tuple(f"@RBT#b{i}" for i in range(3)))
    plan = diff(desired(prune_bots=True, max_deletes=2), have, endpoint=ENDPOINT)
    assert plan.summary["delete"] == 3 and not plan.safe


def test_kept_ids_do_not_count_as_deletes() -> None:
    declared, existing = _absent_accounts(3)
    plan = diff(desired(accounts=declared, protected=("gone0", "gone1"), max_deletes=1),
                live(accounts=existing), endpoint=ENDPOINT)
    assert plan.summary["delete"] == 1 and plan.safe


def _bots(prefix: str, count: int) -> dict[str, dict[str, str]]:
    return {f"@RBT#{prefix}{i}": {} for i in range(count)}


@pytest.mark.parametrize(
    ("live_bots", "new_bots", "absent_live", "prune_extra", "after"),
    [
        (20, 0, 0, 0, 20),   # full, no change: fine
        (19, 1, 0, 0, 20),   # up to the limit: fine
        (20, 1, 0, 0, 21),   # one too many
        (15, 10, 0, 0, 25),
        (20, 1, 1, 0, 20),   # one deleted, one created
        (18, 3, 0, 2, 19),   # prune makes room
        (0, 21, 0, 0, 21),
    ],
)
def test_more_than_20_active_bots_after_the_plan_is_an_error(live_bots: int, new_bots: int, absent_live: int,
                                                             prune_extra: int, after: int) -> None:
    declared = {**_bots("live", live_bots - absent_live - prune_extra), **_bots("new", new_bots),
                **{f"@RBT#live{live_bots - absent_live - prune_extra + i}": {"state": "absent"}
                   for i in range(absent_live)}}
    have = live(bots=_bots("live", live_bots))
    plan = diff(desired(bots=declared, prune_bots=bool(prune_extra), max_deletes=50), have, endpoint=ENDPOINT)
    if after > 20:
        assert len(plan.errors) == 1
        assert f"{after} active bots" in plan.errors[0] and "20" in plan.errors[0]
    else:
        assert plan.errors == []
    assert plan.data["errors"] == plan.errors


def test_undeclared_live_bots_count_when_not_pruned_and_the_error_names_every_bot_counted() -> None:
    have = live(bots=_bots("live", 2), extra_bots=tuple(f"@RBT#old{i}" for i in range(16)))
    plan = diff(desired(bots={**_bots("live", 2), **_bots("new", 3)}), have, endpoint=ENDPOINT)
    old = ", ".join(f'"@RBT#old{i}"' for i in range(16))
    assert plan.errors == [
        "the app would have 21 active bots after this plan; it may have at most 20. Counted: 3 to create "
        '("@RBT#new0", "@RBT#new1", "@RBT#new2"); 2 live and declared ("@RBT#live0", "@RBT#live1"); 16 live '
        f"that no file declares ({old}). Declare some bots state: absent, or set app.prune_bots: true"]


def test_account_deletes_warn_of_the_3_month_lock() -> None:
    plan = diff(desired(accounts={"m": {"state": "absent"}}), live(accounts={"m": {}}), endpoint=ENDPOINT)
    assert plan.warnings == [BY_NAME["account"].delete_warning]
    assert "3 months" in plan.warnings[0]
    assert plan.data["warnings"] == plan.warnings


def test_bot_only_deletes_do_not_warn() -> None:
    plan = diff(desired(bots={"@RBT#x": {"state": "absent"}}, prune_bots=True),
                live(bots={"@RBT#x": {}}, extra_bots=("@RBT#y",)), endpoint=ENDPOINT)
    assert plan.summary["delete"] == 2 and plan.warnings == []


def test_a_kept_account_does_not_warn() -> None:
    plan = diff(desired(accounts={"administrator": {"state": "absent"}}),
                live(accounts={"administrator": {}}), endpoint=ENDPOINT)
    assert plan.empty and plan.warnings == [] and len(plan.kept) == 1
