"""``apply --plan FILE``: applies exactly the reviewed plan, and refuses a stale, edited, unreadable
or foreign one (or one made for another endpoint) without changing anything."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chatsync.tencent.api import ChatApi
from tests.apply.conftest import assert_clean_error, profile, summary, write_config
from tests.support import App

SEED_ACCOUNTS = {"alice": {"nick": "Al"}, "bob": {"nick": "Bob"}, "mallory": {"nick": "M"}}
CONFIG: dict[str, Any] = dict(
    bots={"@RBT#new": {"nick": "New"}},
    accounts={"alice": {"nick": "Alice"}, "bob": None, "carol": {"nick": "Carol", "self_signature": "hi"},
              "mallory": {"state": "absent"}},
)


@pytest.fixture
def app(serve: Callable[..., App]) -> App:
    app = serve()
    app.seed({"@RBT#old": {"nick": "Old"}}, SEED_ACCOUNTS)
    return app


@pytest.fixture
def saved(app: App, tmp_path: Path) -> str:
    """A plan of CONFIG saved with ``plan --out``: 2 to create, 1 to update, 1 to delete."""
    config = write_config(tmp_path, **CONFIG)
    path = str(tmp_path / "plan.json")
    result = app.cli("plan", config, "--out", path)
    assert result.exit_code == 0, result.stderr
    assert "Plan: 2 to create, 1 to update, 1 to delete." in result.stdout
    app.forget_calls()
    return path


def edit(path: str, change: Callable[[dict[str, Any]], object]) -> None:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    change(data)
    Path(path).write_text(json.dumps(data), encoding="utf-8")


def change_at(data: dict[str, Any], address: str) -> Any:
    return next(c for c in data["changes"] if c["address"] == address)


def test_apply_plan_applies_exactly_the_saved_plan(app: App, saved: str, tmp_path: Path) -> None:
    # the config moves on after the review: apply --plan must not read it
    write_config(tmp_path, accounts={**CONFIG["accounts"], "dave": {"nick": "D"}, "alice": {"nick": "X"}})
    result = app.cli("apply", "--plan", saved)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert summary(result) == "Apply complete: 2 created, 1 updated, 1 deleted, 0 failed."
    # carol's import and alice's nick (an update by import, read back), carol's self_signature
    assert app.writes() == {"create_robot": 1, "multiaccount_import": 2, "portrait_set": 1,
                            "account_delete": 1}
    live = app.read(["alice", "bob", "carol", "mallory", "dave"])
    assert sorted(live.bots) == ["@RBT#new", "@RBT#old"]
    assert live.accounts == {"alice", "bob", "carol"}
    assert live.profile("alice")["nick"] == "Alice"
    assert live.profile("carol") == profile("Carol", "", "hi")


def test_apply_plan_needs_no_endpoint_variable(app: App, saved: str) -> None:
    result = app.cli("apply", "--plan", saved, env=app.env(CHATSYNC_ENDPOINT=None))
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert app.read(["carol"]).accounts == {"carol"}


def test_apply_plan_json_report(app: App, saved: str) -> None:
    result = app.cli("apply", "--plan", saved, "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert sorted(c["address"] for c in report["changes"]) == [
        "account.alice", "account.carol", "account.mallory", "bot.@RBT#new"]
    assert {c["status"] for c in report["changes"]} == {"ok"}


def assert_nothing_applied(app: App, before: str) -> None:
    assert app.writes() == {}
    assert app.snapshot() == before


def test_a_stale_plan_is_refused_and_says_what_changed(app: App, saved: str) -> None:
    app.api.portrait_set("alice", {"nick": "Alicia"})
    app.api.create_robot("@RBT#sneaky", {})
    app.forget_calls()
    before = app.snapshot()
    result = app.cli("apply", "--plan", saved)
    message = assert_clean_error(result, "stale", "nothing was applied")
    assert "account.alice: nick was 'Al' when planned, is 'Alicia' now" in result.stderr
    assert "bot list: '@RBT#sneaky' appeared" in result.stderr
    assert "Apply complete" not in result.stdout
    assert "Make a new plan" in message
    assert_nothing_applied(app, before)


@pytest.mark.parametrize("meanwhile, expected", [
    (lambda api: api.multiaccount_import({"carol": {}}), "account.carol: exists now"),
    (lambda api: api.portrait_set("alice", {"nick": "Third"}),
     "account.alice: nick was 'Al' when planned, is 'Third' now"),
    (lambda api: (api.multiaccount_import({"carol": {"nick": "Carol"}}),
                  api.portrait_set("carol", {"self_signature": "theirs"})),
     "account.carol: exists now (the plan expected no object); "
     "self_signature is 'theirs', the plan sets 'hi'"),
    (lambda api: api.delete_robot("@RBT#old"), "bot list: '@RBT#old' disappeared"),
    (lambda api: api.create_robot("@RBT#new", {}), "bot.@RBT#new: exists now"),
])
def test_stale_when_an_object_the_plan_touches_changed(app: App, saved: str,
                                                       meanwhile: Callable[[ChatApi], object],
                                                       expected: str) -> None:
    meanwhile(app.api)
    app.forget_calls()
    before = app.snapshot()
    result = app.cli("apply", "--plan", saved)
    assert_clean_error(result, "stale")
    assert expected in result.stderr
    assert_nothing_applied(app, before)


def test_a_change_elsewhere_does_not_make_the_plan_stale(app: App, saved: str) -> None:
    app.api.portrait_set("bob", {"nick": "Robert"})  # declared, but untouched by the plan
    app.api.portrait_set("alice", {"self_signature": "unmanaged"})  # neither changed nor sent by the plan
    app.forget_calls()
    result = app.cli("apply", "--plan", saved)
    assert result.exit_code == 0, result.stderr


def test_the_face_url_an_import_update_resends_is_part_of_the_stale_check(app: App, saved: str) -> None:
    # alice's nick goes by multiaccount_import, which also sends her face_url as the plan read it:
    # a face_url changed since then would be overwritten, so the plan is stale instead
    app.api.portrait_set("alice", {"face_url": "new.png"})
    app.forget_calls()
    before = app.snapshot()
    result = app.cli("apply", "--plan", saved)
    assert_clean_error(result, "stale")
    assert "account.alice: face_url was '' when planned, is 'new.png' now" in result.stderr
    assert_nothing_applied(app, before)


@pytest.mark.parametrize("tamper", [
    pytest.param(lambda d: change_at(d, "account.alice")["after"].update(nick="Hacked"), id="update-after"),
    pytest.param(lambda d: change_at(d, "bot.@RBT#new")["after"].update(nick="Hacked"), id="create-after"),
    pytest.param(lambda d: change_at(d, "account.alice").update(action="delete", after=None),
                 id="update-becomes-delete"),
    pytest.param(lambda d: change_at(d, "account.alice")["before"].update(nick="Other"), id="before"),
    pytest.param(lambda d: d["changes"].append({
        "address": "account.bob", "kind": "account", "user_id": "bob", "action": "delete",
        "before": {}, "after": None}), id="added-delete"),
    pytest.param(lambda d: d["changes"].pop(), id="removed-change"),
    pytest.param(lambda d: d["observed"]["bots"].append("@RBT#x"), id="observed-bots"),
])
def test_an_edited_plan_is_refused(app: App, saved: str, tamper: Callable[[dict[str, Any]], object]) -> None:
    edit(saved, tamper)
    before = app.snapshot()
    result = app.cli("apply", "--plan", saved)
    assert_clean_error(result, "edited", "make a new plan")
    assert_nothing_applied(app, before)


@pytest.mark.parametrize("content, needle", [
    ("{not json", "is not JSON"),
    ("", "is not JSON"),
    ('{"hello": "world"}', "is not a chatsync plan"),
    ("[1, 2, 3]", "is not a chatsync plan"),
    ("null", "is not a chatsync plan"),
    ('"a string"', "is not a chatsync plan"),
    ('{"format_version": "1", "changes": "nope"}', "is not a chatsync plan"),
])
def test_unusable_plan_files_are_refused_clearly(app: App, tmp_path: Path, content: str, needle: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    before = app.snapshot()
    result = app.cli("apply", "--plan", str(path))
    assert_clean_error(result, needle, "chatsync plan --out")
    assert_nothing_applied(app, before)


def test_a_plan_of_another_format_version_is_refused(app: App, saved: str) -> None:
    edit(saved, lambda d: d.update(format_version="3"))
    result = app.cli("apply", "--plan", saved)
    assert_clean_error(result, "format_version", "'3'")
    assert app.writes() == {}


def test_a_binary_plan_file_is_refused(app: App, tmp_path: Path) -> None:
    path = tmp_path / "binary.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert_clean_error(app.cli("apply", "--plan", str(path)), "is not JSON")


def test_a_missing_plan_file_is_refused(app: App, tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere.json")
    assert_clean_error(app.cli("apply", "--plan", missing), "cannot read the plan file", missing)
    assert_clean_error(app.cli("apply", "--plan", str(tmp_path)), "is a directory")
    assert app.writes() == {}


def test_plan_with_paths_is_refused(app: App, saved: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, **CONFIG)
    before = app.snapshot()
    result = app.cli("apply", config, "--plan", saved)
    assert_clean_error(result, "--plan takes no PATH")
    assert_nothing_applied(app, before)


def test_a_plan_for_another_endpoint_is_refused(app: App, saved: str, serve: Callable[..., App]) -> None:
    other = serve()
    before, other_before = app.snapshot(), other.snapshot()
    result = app.cli("apply", "--plan", saved, env=app.env(CHATSYNC_ENDPOINT=other.url))
    assert_clean_error(result, "CHATSYNC_ENDPOINT", app.url, other.url)
    assert_nothing_applied(app, before)
    assert other.writes() == {} and other.snapshot() == other_before


def test_a_saved_unsafe_plan_needs_force(app: App, tmp_path: Path) -> None:
    config = write_config(tmp_path, accounts={"alice": {"state": "absent"}, "bob": {"state": "absent"}},
                          max_deletes=1)
    path = str(tmp_path / "unsafe.json")
    made = app.cli("plan", config, "--out", path)
    assert made.exit_code == 1  # plan says it is unsafe, but saves it for review
    assert json.loads(Path(path).read_text(encoding="utf-8"))["safe"] is False
    app.forget_calls()
    assert_clean_error(app.cli("apply", "--plan", path), "unsafe", "--force")
    assert app.writes() == {}
    forced = app.cli("apply", "--plan", path, "--force")
    assert forced.exit_code == 0, forced.stderr
    assert app.read(["alice", "bob"]).accounts == set()


def test_a_saved_plan_applied_twice_is_already_done_the_second_time(app: App, saved: str) -> None:
    assert app.cli("apply", "--plan", saved).exit_code == 0
    app.forget_calls()
    before = app.snapshot()
    result = app.cli("apply", "--plan", saved)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert summary(result) == "Apply complete: 0 created, 0 updated, 0 deleted, 0 failed (4 already done)."
    assert_nothing_applied(app, before)
    assert set(app.emulator.calls) <= {"get_all_robots", "account_check", "portrait_get"}  # reads only
