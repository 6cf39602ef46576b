"""Issue 22, item 5: ``plan --out`` and ``export --out`` write through a symbolic link, as ``>`` in
a shell does: the link stays a link and its target gets the file (made, for a dangling link), by a
temporary file beside the target renamed onto it. Never a link silently replaced by a file."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.apply.conftest import assert_clean_error, write_config
from tests.support import App

ACCOUNTS = {"alice": {"nick": "Alice"}}


def write_out(app: App, tmp_path: Path, command: str, out: str) -> None:
    """``chatsync plan|export CONFIG --out OUT`` of ACCOUNTS (seeded first for export); it succeeds."""
    if command == "export":
        app.seed(accounts=ACCOUNTS)
    config = write_config(tmp_path, accounts=ACCOUNTS)
    result = app.cli(command, config, "--out", out)
    assert result.exit_code == 0, result.stderr


def check_written(command: str, text: str) -> None:
    if command == "plan":
        assert json.loads(text)["summary"]["create"] == 1
    else:
        assert yaml.safe_load(text)["accounts"]["alice"]["nick"] == "Alice"


@pytest.fixture
def app(serve: Callable[..., App]) -> App:
    return serve()


@pytest.mark.parametrize("command", ["plan", "export"])
def test_out_through_a_link_to_a_file_writes_the_file_and_keeps_the_link(app: App, tmp_path: Path,
                                                                         command: str) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "real.out"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o640)
    link = tmp_path / "link.out"
    link.symlink_to(target)
    write_out(app, tmp_path, command, str(link))
    assert link.is_symlink() and os.readlink(link) == str(target)
    check_written(command, target.read_text(encoding="utf-8"))
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the file replaced keeps its permissions
    assert sorted(p.name for p in elsewhere.iterdir()) == ["real.out"]  # no temporary file left
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize("command", ["plan", "export"])
def test_out_through_a_dangling_link_makes_its_target(app: App, tmp_path: Path, command: str) -> None:
    target = tmp_path / "made-here.out"
    link = tmp_path / "dangling.out"
    link.symlink_to(target.name)  # relative, as links usually are
    write_out(app, tmp_path, command, str(link))
    assert link.is_symlink() and os.readlink(link) == target.name
    check_written(command, target.read_text(encoding="utf-8"))


def test_a_link_into_a_missing_directory_is_refused_naming_link_and_target(app: App, tmp_path: Path) -> None:
    config = write_config(tmp_path, accounts=ACCOUNTS)
    target = tmp_path / "missing" / "plan.json"
    link = tmp_path / "plan.json"
    link.symlink_to(target)
    result = app.cli("plan", config, "--out", str(link))
    assert_clean_error(result, f"cannot write {link} (a link to {target})")
    assert link.is_symlink() and os.readlink(link) == str(target)
