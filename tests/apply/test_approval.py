"""Approval and safety: without --auto-approve and no terminal apply refuses; an unsafe plan (more
deletes than app.max_deletes) needs --force. A refused apply changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest

from tests.apply.conftest import assert_clean_error, summary, write_config
from tests.support import App

ACCOUNTS = {"alice": {"nick": "Al"}, "bob": {"nick": "Bob"}, "mallory": {"nick": "M"}, "eve": {"nick": "E"}}


@pytest.fixture
def app(serve: Callable[..., App]) -> App:
    app = serve()
    app.seed({"@RBT#old": {"nick": "Old"}}, ACCOUNTS)
    return app


def test_without_auto_approve_and_no_terminal_apply_refuses_and_changes_nothing(app: App,
                                                                                tmp_path: Path) -> None:
    config = write_config(tmp_path, accounts={"alice": {"nick": "Alice"}, "zed": {"nick": "Z"}})
    before = app.snapshot()
    result = app.cli("apply", config, input="yes\n")  # stdin is not a terminal: "yes" is not asked for
    message = assert_clean_error(result, "--auto-approve")
    assert "terminal" in message
    assert "Plan: 1 to create, 1 to update, 0 to delete." in result.stdout  # the plan was shown
    assert "Apply complete" not in result.stdout
    assert app.writes() == {}
    assert app.snapshot() == before



def test_without_auto_approve_json_output_refuses_too(app: App, tmp_path: Path) -> None:
    config = write_config(tmp_path, accounts={"alice": {"nick": "Alice"}})
    result = app.cli("apply", config, "--format", "json")
    assert_clean_error(result, "--auto-approve")
    assert result.stdout == ""  # the plan went to stderr; stdout holds no half JSON
    assert app.writes() == {}


def test_an_unsafe_plan_is_refused_without_force(app: App, tmp_path: Path) -> None:
    config = write_config(tmp_path, accounts={"alice": {"nick": "Alice"}, "mallory": {"state": "absent"},
                                              "eve": {"state": "absent"}}, max_deletes=1)
    before = app.snapshot()
    result = app.cli("apply", config, "--auto-approve")
    message = assert_clean_error(result, "unsafe", "--force")
    assert "max_deletes" in message
    assert app.writes() == {}
    assert app.snapshot() == before


def test_an_unsafe_plan_applies_with_force(app: App, tmp_path: Path) -> None:
    config = write_config(tmp_path, accounts={"alice": {"nick": "Alice"}, "mallory": {"state": "absent"},
                                              "eve": {"state": "absent"}}, max_deletes=1)
    result = app.cli("apply", config, "--auto-approve", "--force")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert summary(result) == "Apply complete: 0 created, 1 updated, 2 deleted, 0 failed."
    live = app.read(ACCOUNTS)
    assert live.accounts == {"alice", "bob"}
    assert live.profile("alice")["nick"] == "Alice"


def test_pruning_past_max_deletes_is_unsafe_too(app: App, tmp_path: Path) -> None:
    for n in range(3):
        app.api.create_robot(f"@RBT#extra{n}", {})
    app.forget_calls()
    config = write_config(tmp_path, bots={}, prune_bots=True, max_deletes=2)
    assert_clean_error(app.cli("apply", config, "--auto-approve"), "--force")
    assert app.writes() == {}
    forced = app.cli("apply", config, "--auto-approve", "--force", "--format", "json")
    assert forced.exit_code == 0, forced.stderr
    assert json.loads(forced.stdout)["summary"]["deleted"] == 4
    assert app.read().bots == []


@pytest.fixture
def terminal_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make CliRunner's stdin (only) look like a terminal, so apply asks for approval."""
    from click.testing import _NamedTextIOWrapper

    monkeypatch.setattr(_NamedTextIOWrapper, "isatty", lambda self: self.name == "<stdin>", raising=False)


def test_on_a_terminal_yes_applies(app: App, tmp_path: Path, terminal_stdin: None) -> None:
    config = write_config(tmp_path, accounts={"alice": {"nick": "Alice"}})
    result = app.cli("apply", config, input="yes\n")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "Only 'yes' is accepted" in result.stderr
    assert summary(result) == "Apply complete: 0 created, 1 updated, 0 deleted, 0 failed."
    assert app.read(["alice"]).profile("alice")["nick"] == "Alice"


@pytest.mark.parametrize("answer", ["no\n", "y\n", "YES please\n", "\n", ""])
def test_on_a_terminal_anything_but_yes_changes_nothing(app: App, tmp_path: Path, terminal_stdin: None,
                                                        answer: str) -> None:
    config = write_config(tmp_path, accounts={"alice": {"nick": "Alice"}})
    before = app.snapshot()
    result = app.cli("apply", config, input=answer)
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    assert "Apply complete" not in result.stdout
    # "" is Ctrl-D (end of input): the same clean cancel as any other answer
    assert result.stderr.splitlines()[-1] == "Apply cancelled; nothing was changed."
    assert app.writes() == {}
    assert app.snapshot() == before


def test_ctrl_c_at_the_prompt_cancels_cleanly(app: App, tmp_path: Path, terminal_stdin: None,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import click

    def interrupted(*_args: object, **_kwargs: object) -> NoReturn:
        raise click.Abort()  # what click.prompt raises for Ctrl-C (and Ctrl-D)

    monkeypatch.setattr("chatsync.cli.apply.click.prompt", interrupted)
    config = write_config(tmp_path, accounts={"alice": {"nick": "Alice"}})
    result = app.cli("apply", config)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "Apply cancelled; nothing was changed."
    assert "Aborted" not in result.stderr and "Traceback" not in result.stderr
    assert app.writes() == {}
