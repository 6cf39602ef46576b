"""Renaming accounts: an update of nick and/or face_url alone goes by ``multiaccount_import`` (100 a
call, both fields sent so nothing is cleared), is read back with ``portrait_get``, and falls back to
``portrait_set`` for every account whose values did not take. Each change keeps its own outcome."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from chatsync.emulator import stance
from chatsync.emulator.gateway import Outcome
from tests.apply.conftest import summary, write_config
from tests.support import App

SEED = {f"u{i:03d}": {"nick": f"Old {i}", "face_url": f"https://img/{i}.png"} for i in range(150)}


@pytest.fixture
def renamed(serve: Callable[..., App], tmp_path: Path) -> tuple[App, str]:
    app = serve()
    app.seed(accounts={**SEED, "sig": {"nick": "S"}})
    config = write_config(tmp_path, accounts={
        **{user_id: {"nick": f"New {i}"} for i, user_id in enumerate(SEED)},
        "sig": {"self_signature": "hello"},  # not nick or face_url: a portrait_set
    })
    return app, config


def test_renames_go_by_import_and_keep_the_face_url(renamed: tuple[App, str]) -> None:
    app, config = renamed
    planned = app.cli("plan", config)
    assert "Calls: 2 multiaccount_import, 2 portrait_get, 1 portrait_set." in planned.stdout
    app.forget_calls()
    result = app.cli("apply", config, "--auto-approve")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert summary(result) == "Apply complete: 0 created, 151 updated, 0 deleted, 0 failed."
    assert app.writes() == {"multiaccount_import": 2, "portrait_set": 1}
    sent = [item for body in app.sent("multiaccount_import") for item in body["AccountList"]]
    assert len(sent) == 150
    assert all(len(body["AccountList"]) <= 100 for body in app.sent("multiaccount_import"))
    assert {"UserID": "u007", "Nick": "New 7", "FaceUrl": "https://img/7.png"} in sent
    live = app.read([*SEED, "sig"])
    for i, user_id in enumerate(SEED):
        assert live.profile(user_id)["nick"] == f"New {i}"
        assert live.profile(user_id)["face_url"] == f"https://img/{i}.png"  # not cleared
    assert live.profile("sig")["self_signature"] == "hello"
    again = app.cli("plan", config)
    assert "No changes" in again.stdout


def test_values_that_did_not_take_fall_back_to_portrait_set(renamed: tuple[App, str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    app, config = renamed
    # an app whose multiaccount_import does not update existing accounts (the docs say it does)
    monkeypatch.setattr(stance, "MULTIACCOUNT_IMPORT_REPEAT_UPDATES_PROFILE", False)
    result = app.cli("apply", config, "--auto-approve", "--format", "json")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    report = json.loads(result.stdout)
    assert report["summary"]["updated"] == 151 and report["summary"]["failed"] == 0
    assert all(change["status"] == "ok" for change in report["changes"])
    assert app.writes() == {"multiaccount_import": 2, "portrait_set": 151}
    fallen_back = sorted(body["From_Account"] for body in app.sent("portrait_set"))
    assert fallen_back == sorted([*SEED, "sig"])
    live = app.read(list(SEED))
    assert all(live.profile(u)["nick"] == f"New {i}" for i, u in enumerate(SEED))


def test_a_saved_plan_renames_by_import_too(renamed: tuple[App, str], tmp_path: Path) -> None:
    app, config = renamed
    path = str(tmp_path / "plan.json")
    assert app.cli("plan", config, "--out", path).exit_code == 0
    saved = json.loads(Path(path).read_text(encoding="utf-8"))
    assert saved["estimate"]["calls"] == {"multiaccount_import": 2, "portrait_get": 2, "portrait_set": 1}
    app.forget_calls()
    result = app.cli("apply", "--plan", path)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert app.writes() == {"multiaccount_import": 2, "portrait_set": 1}


def test_accounts_the_import_refuses_get_their_portrait_set(serve: Callable[..., App],
                                                            tmp_path: Path) -> None:
    app = serve()
    app.seed(accounts={"alice": {"nick": "Al", "face_url": "a.png"}, "bob": {"nick": "Bo"}})
    config = write_config(tmp_path, accounts={"alice": {"nick": "Alice"}, "bob": {"nick": "Bob"}})
    handle = app.emulator.handle
    asked: list[str] = []

    def refusing(method: str, target: str, body: bytes) -> Outcome:
        # multiaccount_import names bob as failed without applying it; account_import (which
        # chatsync then uses to learn why) refuses him with a permanent code
        if "/multiaccount_import" in target:
            sent = json.loads(body)["AccountList"]
            kept = [item for item in sent if item["UserID"] != "bob"]
            answer = json.loads(handle(method, target, json.dumps({"AccountList": kept}).encode()).body)
            answer["FailAccounts"] = [*answer.get("FailAccounts", []), "bob"]
            return Outcome(200, json.dumps(answer).encode())
        if "/account_import" in target and json.loads(body).get("UserID") == "bob":
            asked.append("bob")
            return Outcome(200, json.dumps({"ActionStatus": "FAIL", "ErrorCode": 70402,
                                            "ErrorInfo": "refused"}).encode(), code=70402)
        return handle(method, target, body)

    app.emulator.handle = refusing  # type: ignore[method-assign]
    result = app.cli("apply", config, "--auto-approve", "--format", "json")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    report = json.loads(result.stdout)
    assert [(c["address"], c["status"]) for c in report["changes"]] == [
        ("account.alice", "ok"), ("account.bob", "ok")]
    assert asked == ["bob"]  # the reason was asked
    assert [body["From_Account"] for body in app.sent("portrait_set")] == ["bob"]
    live = app.read(["alice", "bob"])
    assert live.profile("alice")["nick"] == "Alice" and live.profile("alice")["face_url"] == "a.png"
    assert live.profile("bob")["nick"] == "Bob"
