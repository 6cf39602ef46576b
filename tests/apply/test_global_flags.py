"""Global flags (``-v``, ``--debug``, ``--no-color``) work before or after the command."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.apply.conftest import write_config
from tests.support import App

ACCOUNTS = {"alice": {"nick": "Alice"}}


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_logs_each_call_on_stderr_before_or_after_the_command(
        serve: Callable[..., App], tmp_path: Path, where: str) -> None:
    app = serve()
    config = write_config(tmp_path, accounts=ACCOUNTS)
    args = ["-v", "plan", config] if where == "before" else ["plan", "-v", config]
    result = app.cli(*args)
    assert result.exit_code == 0, result.stderr
    assert "account_check" in result.stderr and "get_all_robots" in result.stderr
    assert "Plan: 1 to create, 0 to update, 0 to delete." in result.stdout
    assert "account_check" not in result.stdout  # the log never mixes with the plan


def test_verbose_before_and_after_logs_each_call_once(serve: Callable[..., App], tmp_path: Path) -> None:
    app = serve()
    result = app.cli("-v", "plan", write_config(tmp_path, accounts=ACCOUNTS), "-v")
    assert result.exit_code == 0, result.stderr
    assert sum("get_all_robots" in line for line in result.stderr.splitlines()) == 1


@pytest.mark.parametrize("command", [["plan"], ["apply", "--auto-approve"], ["validate"],
                                     ["export", "--skip-missing"]])
def test_debug_and_no_color_are_accepted_after_every_command(serve: Callable[..., App], tmp_path: Path,
                                                             command: list[str]) -> None:
    app = serve()
    config = write_config(tmp_path, accounts=ACCOUNTS)
    result = app.cli(*command, config, "--debug", "--no-color")
    assert result.exit_code == 0, (result.stdout, result.stderr)


def test_debug_after_the_command_shows_the_traceback(serve: Callable[..., App], tmp_path: Path) -> None:
    app = serve()
    quiet = app.cli("plan", str(tmp_path / "missing.yaml"))
    assert quiet.exit_code == 1 and "Traceback" not in quiet.stderr
    loud = app.cli("plan", str(tmp_path / "missing.yaml"), "--debug")
    assert loud.exit_code == 1
    assert loud.exception is not None and not isinstance(loud.exception, SystemExit)  # raised, not reported
