"""The GitOps path end to end: ``plan --out`` on a pull request, ``show`` and ``apply --plan`` on
merge. Any plan that ``plan --out`` writes applies (an empty one included); the seal is checked
with the key the operator points to, never a variable the file names; ``show`` prints a saved plan
offline exactly as ``plan`` printed it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import Result

from chatsync.domain.plan import seal
from tests.apply.conftest import assert_clean_error, summary, write_config
from tests.support import App

ATTACKER_KEY = "known-to-whoever-edits-the-file-0123456789"


@pytest.fixture
def app(serve: Callable[..., App]) -> App:
    app = serve()
    app.seed({"@RBT#old": {"nick": "Old"}}, {"alice": {"nick": "Al"}, "mallory": {"nick": "M"}})
    return app


def saved_plan(app: App, tmp_path: Path, name: str = "plan.json", **config: Any) -> tuple[str, Result]:
    """``plan --out`` of ``config``: returns (path, the plan's stdout)."""
    path = str(tmp_path / name)
    made = app.cli("plan", write_config(tmp_path, **config), "--out", path)
    assert made.exit_code in (0, 1), made.stderr
    app.forget_calls()
    return path, made


def test_an_empty_saved_plan_applies_with_exit_0(app: App, tmp_path: Path) -> None:
    path, made = saved_plan(app, tmp_path, accounts={"alice": {"nick": "Al"}})
    assert made.exit_code == 0 and "No changes." in made.stdout
    result = app.cli("apply", "--plan", path)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert summary(result) == "Apply complete: 0 created, 0 updated, 0 deleted, 0 failed."
    assert app.writes() == {}


def test_a_saved_plan_survives_a_json_round_trip(app: App, tmp_path: Path) -> None:
    path, _ = saved_plan(app, tmp_path, accounts={"alice": {"nick": "Alice"}, "carol": {"nick": "C"}})
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    reordered = dict(reversed(list(data.items())))  # other key order, no indentation, ASCII escapes
    Path(path).write_text(json.dumps(reordered, ensure_ascii=True), encoding="utf-8")
    result = app.cli("apply", "--plan", path)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert app.read(["alice", "carol"]).accounts == {"alice", "carol"}


def test_a_plan_resealed_under_another_key_variable_is_refused_before_any_call(app: App,
                                                                               tmp_path: Path) -> None:
    path, _ = saved_plan(app, tmp_path, accounts={"alice": {"nick": "Alice"}})
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    data["changes"].append({"address": "account.mallory", "kind": "account", "user_id": "mallory",
                            "action": "delete", "before": {}, "after": None, "reason": "state: absent"})
    data["app"]["secret_key_env"] = "ATTACKER_KNOWS_THIS"  # a variable whose value the editor knows
    data["signature"] = seal(data, ATTACKER_KEY)
    Path(path).write_text(json.dumps(data), encoding="utf-8")
    before = app.snapshot()
    result = app.cli("apply", "--plan", path, env=app.env(ATTACKER_KNOWS_THIS=ATTACKER_KEY))
    assert_clean_error(result, path, "CHATSYNC_SECRET_KEY")
    assert sum(app.emulator.calls.values()) == 0  # refused before any API call, reads included
    assert app.snapshot() == before


def test_the_operator_names_the_key_variable(app: App, tmp_path: Path) -> None:
    path, _ = saved_plan(app, tmp_path, accounts={"carol": {"nick": "C"}})
    env = app.env(CHATSYNC_SECRET_KEY=None, PROD_CHAT_KEY=app.env()["CHATSYNC_SECRET_KEY"])
    assert_clean_error(app.cli("apply", "--plan", path, env=env), "CHATSYNC_SECRET_KEY", "is not set")
    result = app.cli("apply", "--plan", path, "--secret-key-env", "PROD_CHAT_KEY", env=env)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert app.read(["carol"]).accounts == {"carol"}


def test_secret_key_env_needs_plan(app: App, tmp_path: Path) -> None:
    config = write_config(tmp_path, accounts={"carol": {"nick": "C"}})
    assert_clean_error(app.cli("apply", config, "--secret-key-env", "X"), "--secret-key-env", "--plan")


@pytest.mark.parametrize("output_format", ["text", "markdown", "json"])
def test_show_prints_a_saved_plan_as_plan_did_offline(app: App, tmp_path: Path, output_format: str) -> None:
    config = write_config(tmp_path, bots={"@RBT#new": {"nick": "New"}},
                          accounts={"alice": {"nick": "Alice"}, "mallory": {"state": "absent"}})
    path = str(tmp_path / "plan.json")
    made = app.cli("plan", config, "--out", path, "--format", output_format)
    assert made.exit_code == 0, made.stderr
    app.forget_calls()
    offline = app.env(CHATSYNC_SECRET_KEY=None, CHATSYNC_ENDPOINT="http://127.0.0.1:9")  # no key, no API
    shown = app.cli("show", path, "--format", output_format, env=offline)
    assert shown.exit_code == 0, shown.stderr
    assert shown.stdout == made.stdout
    assert sum(app.emulator.calls.values()) == 0


def test_show_of_a_file_that_is_no_plan_is_one_clear_error(app: App, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}', encoding="utf-8")
    assert_clean_error(app.cli("show", str(bad)), "is not a chatsync plan")
    assert_clean_error(app.cli("show", str(tmp_path / "none.json")), "cannot read the plan file")


def unsafe_config(tmp_path: Path) -> str:
    return write_config(tmp_path, accounts={"alice": {"state": "absent"}, "mallory": {"state": "absent"}},
                        max_deletes=1)


@pytest.mark.parametrize("output_format", ["text", "markdown", "json"])
def test_an_unsafe_plan_is_printed_in_full_marked_at_the_top_and_exits_1(app: App, tmp_path: Path,
                                                                         output_format: str) -> None:
    path = str(tmp_path / "unsafe.json")
    result = app.cli("plan", unsafe_config(tmp_path), "--format", output_format, "--out", path)
    assert result.exit_code == 1
    assert "the plan is unsafe" in result.stderr and "--force" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    if output_format == "json":
        data = json.loads(result.stdout)
        assert list(data)[:3] == ["format_version", "safe", "unsafe_reasons"]
        assert data["safe"] is False and len(data["changes"]) == 2
    else:
        lines = result.stdout.splitlines()
        top = lines[:5]
        assert any(line.startswith(("Unsafe:", "> **Unsafe")) for line in top), top
        assert sum(1 for line in lines if "alice" in line or "mallory" in line) >= 2  # every change
    if output_format == "markdown":
        assert lines[0] == "<!-- chatsync-plan -->"
    assert json.loads(Path(path).read_text(encoding="utf-8"))["safe"] is False  # saved for review


def test_the_plan_names_its_target_and_so_does_the_prompt(app: App, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import chatsync.cli.apply as apply_command

    config = write_config(tmp_path, accounts={"carol": {"nick": "C"}})
    result = app.cli("plan", config)
    assert result.stdout.splitlines()[0] == f"Plan for app 1400000000 at {app.url}"
    asked: list[str] = []

    def prompt(text: str, **_: object) -> str:
        asked.append(text)
        return "no"

    monkeypatch.setattr(apply_command, "interactive", lambda: True)
    monkeypatch.setattr(click, "prompt", prompt)
    refused = app.cli("apply", config)
    assert refused.exit_code == 1
    assert refused.stderr.splitlines()[-1] == "Apply cancelled; nothing was changed."
    assert asked and f"app 1400000000 at {app.url}" in asked[0]
    assert app.writes() == {}


def test_a_password_in_the_endpoint_is_never_printed(app: App, tmp_path: Path) -> None:
    path, _ = saved_plan(app, tmp_path, accounts={"carol": {"nick": "C"}})
    other = "http://user:hunter2@127.0.0.1:9"
    result = app.cli("apply", "--plan", path, env=app.env(CHATSYNC_ENDPOINT=other))
    assert_clean_error(result, "CHATSYNC_ENDPOINT", "http://***@127.0.0.1:9")
    assert "hunter2" not in result.stdout + result.stderr
