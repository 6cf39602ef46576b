"""``apply`` makes the live app match the config exactly, with the calls docs/contract.md §4 names, and a
second apply (or a plan) afterwards finds nothing to do."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.apply.conftest import all_fields, profile, summary, write_config
from tests.support import WRITE_ENDPOINTS, App

NO_CHANGES = "No changes. The app matches the configuration.\n"

SEED_BOTS = {
    "@RBT#keep": {"nick": "Old Keep", "face_url": "https://img.example/keep.png", "self_signature": "old"},
    "@RBT#same": {"nick": "Same", "face_url": "https://img.example/same.png"},
    "@RBT#stray": {"nick": "Stray"},  # not declared: pruned
    "@RBT#prot": {"nick": "Protected"},  # not declared, but protected
    "@RBT#gone": {"nick": "Gone"},  # declared state: absent
}
SEED_ACCOUNTS = {
    "alice": {"nick": "Al", "face_url": "https://img.example/alice.png", "self_signature": "old sig"},
    "bob": {"nick": "Bob", "face_url": "https://img.example/bob.png"},  # declared with no fields
    "carol": {"nick": "Carol", "self_signature": "unmanaged"},  # declared nick, already right
    "mallory": {"nick": "M"},  # state: absent
    "keepme": {"nick": "K"},  # protected (a config may not declare it absent)
    "outsider": {"nick": "O"},  # not declared at all
}
NEW = {f"user{n:03d}": {"nick": f"User {n}", "face_url": f"https://img.example/{n}.png",
                        "self_signature": f"Hello from {n}"} for n in range(150)}
CONFIG: dict[str, Any] = dict(
    bots={
        "@RBT#keep": {"nick": "Keep", "self_signature": "new sig"},  # face_url unmanaged
        "@RBT#same": {"nick": "Same"},
        "@RBT#new": {"nick": "New", "face_url": "https://img.example/new.png", "self_signature": "Hi"},
        "@RBT#gone": {"state": "absent"},
    },
    accounts={
        "alice": {"nick": "Alice", "self_signature": ""},  # "" manages it as empty
        "bob": None,
        "carol": {"nick": "Carol"},
        "mallory": {"state": "absent"},
        **NEW,
    },
    prune_bots=True,
    protected=["@RBT#prot", "keepme"],
)
ALL_IDS = [*SEED_ACCOUNTS, "administrator", *NEW]


@pytest.fixture
def seeded(serve: Callable[..., App], tmp_path: Path) -> tuple[App, str]:
    app = serve()
    app.seed(SEED_BOTS, SEED_ACCOUNTS)
    return app, write_config(tmp_path, **CONFIG)


def test_apply_converges_exactly_and_touches_only_managed_fields(seeded: tuple[App, str]) -> None:
    app, config = seeded
    result = app.cli("apply", config, "--auto-approve")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert summary(result) == "Apply complete: 151 created, 2 updated, 3 deleted, 0 failed."
    assert "Plan: 151 to create, 2 to update, 3 to delete." in result.stdout
    assert 'bot "@RBT#prot" kept: listed in app.protected' in result.stdout

    live = app.read(ALL_IDS)
    assert sorted(live.bots) == ["@RBT#keep", "@RBT#new", "@RBT#prot", "@RBT#same"]
    # managed fields equal the config; unmanaged ones are as seeded
    assert live.profile("@RBT#keep") == profile("Keep", "https://img.example/keep.png", "new sig")
    assert live.profile("@RBT#same") == all_fields(SEED_BOTS["@RBT#same"])
    assert live.profile("@RBT#new") == profile("New", "https://img.example/new.png", "Hi")
    assert live.profile("@RBT#prot") == all_fields(SEED_BOTS["@RBT#prot"])
    assert live.profile("alice") == profile("Alice", "https://img.example/alice.png", "")
    for untouched in ("bob", "carol", "keepme", "outsider"):
        assert live.profile(untouched) == all_fields(SEED_ACCOUNTS[untouched]), untouched
    assert "administrator" in live.accounts
    assert "mallory" not in live.accounts
    for user_id, fields in NEW.items():
        assert live.profile(user_id) == all_fields(fields), user_id
    assert live.accounts == set(ALL_IDS) - {"mallory"}


def test_apply_makes_exactly_the_documented_calls(seeded: tuple[App, str]) -> None:
    app, config = seeded
    assert app.cli("apply", config, "--auto-approve").exit_code == 0
    assert app.writes() == {"create_robot": 1, "multiaccount_import": 2, "portrait_set": 150 + 2,
                            "account_delete": 1, "delete_robot": 2}

    imports = app.sent("multiaccount_import")
    assert sorted(len(body["AccountList"]) for body in imports) == [50, 100]
    imported = {item["UserID"]: item for body in imports for item in body["AccountList"]}
    assert set(imported) == set(NEW)
    for user_id, item in imported.items():  # Nick and FaceUrl ride on the import
        assert item == {"UserID": user_id, "Nick": NEW[user_id]["nick"], "FaceUrl": NEW[user_id]["face_url"]}

    sets = {body["From_Account"]: body["ProfileItem"] for body in app.sent("portrait_set")}
    assert len(sets) == 152  # one call per object
    for user_id in NEW:  # only what the import cannot carry
        signature = NEW[user_id]["self_signature"]
        assert sets[user_id] == [{"Tag": "Tag_Profile_IM_SelfSignature", "Value": signature}]
    assert {i["Tag"]: i["Value"] for i in sets["alice"]} == {
        "Tag_Profile_IM_Nick": "Alice", "Tag_Profile_IM_SelfSignature": ""}
    assert {i["Tag"]: i["Value"] for i in sets["@RBT#keep"]} == {
        "Tag_Profile_IM_Nick": "Keep", "Tag_Profile_IM_SelfSignature": "new sig"}

    [created] = app.sent("create_robot")
    assert created == {"UserID": "@RBT#new", "Nick": "New", "FaceUrl": "https://img.example/new.png",
                       "SelfSignature": "Hi"}
    assert sorted(body["Robot_Account"] for body in app.sent("delete_robot")) == ["@RBT#gone", "@RBT#stray"]
    [deleted] = app.sent("account_delete")
    assert deleted == {"DeleteItem": [{"UserID": "mallory"}]}
    # never the admin, never a protected id, in any write
    written = json.dumps([body for name, body in app.requests if name in WRITE_ENDPOINTS])
    for kept in ("administrator", "keepme", "@RBT#prot", "outsider", "bob", "carol"):
        assert f'"{kept}"' not in written, kept


def test_a_second_apply_writes_nothing_and_a_plan_is_empty(seeded: tuple[App, str]) -> None:
    app, config = seeded
    assert app.cli("apply", config, "--auto-approve").exit_code == 0
    app.forget_calls()

    again = app.cli("apply", config, "--auto-approve")
    assert again.exit_code == 0, again.stderr
    assert again.stdout.endswith("\n" + NO_CHANGES)  # after the kept ids, shown for the record
    assert "Apply complete" not in again.stdout
    assert app.writes() == {}

    as_json = app.cli("apply", config, "--auto-approve", "--format", "json")
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout)["changes"] == []
    assert app.writes() == {}

    plan = app.cli("plan", config, "--detailed-exitcode")
    assert plan.exit_code == 0, (plan.stdout, plan.stderr)
    assert plan.stdout.endswith("\n" + NO_CHANGES)
    assert app.writes() == {}


@pytest.mark.parametrize("count", [1, 100, 101, 250])
def test_new_accounts_take_ceil_n_over_100_imports_and_n_signature_sets(serve: Callable[..., App],
                                                                        tmp_path: Path, count: int) -> None:
    app = serve()
    new = {f"n{i}": {"nick": f"N{i}", "face_url": f"f{i}", "self_signature": f"s{i}"} for i in range(count)}
    plain = {f"p{i}": {"nick": f"P{i}"} for i in range(3)}  # nothing the import cannot carry
    config = write_config(tmp_path, accounts={**new, **plain})
    result = app.cli("apply", config, "--auto-approve")
    assert result.exit_code == 0, result.stderr
    assert app.writes() == {"multiaccount_import": math.ceil((count + 3) / 100), "portrait_set": count}
    assert all(len(body["AccountList"]) <= 100 for body in app.sent("multiaccount_import"))
    assert sorted(b["From_Account"] for b in app.sent("portrait_set")) == sorted(new)
    live = app.read([*new, *plain])
    assert live.accounts == {*new, *plain}
    assert all(live.profile(i) == all_fields(f) for i, f in new.items())
    assert all(live.profile(i) == all_fields(f) for i, f in plain.items())


def test_json_report_of_a_successful_apply(seeded: tuple[App, str]) -> None:
    app, config = seeded
    result = app.cli("apply", config, "--auto-approve", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)  # stdout is the report alone
    assert report["summary"] == {"created": 151, "updated": 2, "deleted": 3, "failed": 0, "skipped": 0,
                                 "partial": 0, "already_done": 0}
    assert report["interrupted"] is False and report["stopped_by"] is None
    assert len(report["changes"]) == 156
    for change in report["changes"]:
        assert change["status"] == "ok", change
        assert change["error_code"] is None and change["error_info"] == ""
        assert change["attempts"] >= 1
    by_address = {c["address"]: c for c in report["changes"]}
    assert by_address["account.alice"]["action"] == "update"
    assert by_address["account.alice"]["after"] == {"nick": "Alice", "self_signature": ""}
    assert by_address["account.user000"]["attempts"] == 2  # the import, then the signature
    assert by_address["bot.@RBT#stray"]["action"] == "delete"


def test_plan_after_apply_is_empty_on_a_slow_app(serve: Callable[..., App], tmp_path: Path) -> None:
    """A final plan must work whatever the app's speed: here every answer takes over a second, so
    the live read outlasts the progress display's first second."""
    app = serve()
    config = write_config(tmp_path, bots={"@RBT#slow": {"nick": "Slow"}})
    assert app.cli("apply", config, "--auto-approve").exit_code == 0
    app.emulator.config.latency_ms = 1100
    plan = app.cli("plan", config, "--detailed-exitcode")
    assert plan.exception is None or isinstance(plan.exception, SystemExit), repr(plan.exception)
    assert plan.exit_code == 0, (plan.stdout, plan.stderr)
    assert plan.stdout == f"Plan for app 1400000000 at {app.url}\n\n" + NO_CHANGES
