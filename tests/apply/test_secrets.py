"""No secret and no UserSig in any output or file (docs/contract.md §3-§4). Every test of this directory is
checked by the ``secrets`` fixture; these add the outputs most likely to carry one: the per-call
log of ``-v``, a failing run's errors, and the saved plan and report files."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.apply.conftest import LEAKED_SIG, Secrets, write_config
from tests.support import SECRET, App


@pytest.fixture
def restore_chatsync_logger() -> Iterator[None]:
    """``-v`` attaches a handler to the "chatsync" logger; take it off again after the test."""
    logger = logging.getLogger("chatsync")
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


def test_the_verbose_call_log_of_apply_shows_no_usersig(serve: Callable[..., App], tmp_path: Path,
                                                        secrets: Secrets,
                                                        restore_chatsync_logger: None) -> None:
    app = serve()
    app.seed(accounts={"alice": {"nick": "Al"}, "mallory": {}})
    config = write_config(tmp_path, bots={"@RBT#b": {"nick": "B"}}, prune_bots=True,
                          accounts={"alice": {"nick": "Alice"}, "mallory": {"state": "absent"},
                                    "new": {"nick": "N", "self_signature": "S"}})
    result = app.cli("-v", "apply", config, "--auto-approve")
    assert result.exit_code == 0, result.stderr
    calls = [line for line in result.stderr.splitlines() if "attempt=" in line]
    assert len(calls) >= 7, result.stderr  # the reads and the writes, one line each
    assert all("usersig=***" in line for line in calls), calls[:3]
    assert not LEAKED_SIG.search(result.stderr)
    assert secrets.sigs and not any(sig in result.stderr for sig in secrets.sigs)


def test_files_and_reports_of_a_failing_run_show_no_secret(serve: Callable[..., App], tmp_path: Path,
                                                           secrets: Secrets,
                                                           restore_chatsync_logger: None) -> None:
    app = serve(max_accounts=2)
    accounts = {f"a{i}": {"nick": f"A{i}", "self_signature": "s"} for i in range(5)}
    config = write_config(tmp_path, accounts=accounts)
    plan_file = tmp_path / "plan.json"
    assert app.cli("plan", config, "--out", str(plan_file), "--format", "json").exit_code == 0
    result = app.cli("-v", "apply", "--plan", str(plan_file), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["summary"]["failed"] == 4
    (tmp_path / "report.json").write_text(result.stdout, encoding="utf-8")
    for text in (result.stdout, result.stderr, plan_file.read_text(encoding="utf-8")):
        assert SECRET not in text
        assert not LEAKED_SIG.search(text)
        assert not any(sig in text for sig in secrets.sigs)


def test_the_guard_itself_catches_a_leak(secrets: Secrets, tmp_path: Path) -> None:
    """The after-test check is only worth something if it would fail on a leak."""
    assert secrets.leaks(f"key={SECRET}") == ["the secret key"]
    assert secrets.leaks("GET /v4/x?sdkappid=1&usersig=eJyrVgrxCdYrSk1") == ["a usersig= query parameter"]
    assert secrets.leaks("GET /v4/x?sdkappid=1&usersig=***&random=1") == []
