"""``chatsync export --groups-file FILE`` over loopback: only the groups the file lists (and those the
config declares) instead of every live group, with the accounts they name; ids that do not exist or
are no GroupId are left out and listed with why, an error unless ``--skip-missing``; it works with
``--sdkappid`` (no config), and the export plans to no changes. (Every live group, for a config
that manages groups: tests/apply/test_groups.py.)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import chatsync
from chatsync.engine.export import LeftOut
from tests.apply.test_groups import NO_CHANGES, apply, write
from tests.support import SDKAPPID, App

#: The live app: three groups, the accounts and the bot they name, and one account no group names.
LIVE: dict[str, Any] = {
    "accounts": {"alice": {"nick": "Alice"}, "bob": None, "carol": None, "dave": {"nick": "Dave"}},
    "bots": {"@RBT#support": {"nick": "Support"}},
    "groups": {
        "team": {"type": "Work", "name": "Team", "owner": "alice", "members": ["bob", "@RBT#support"]},
        "lobby": {"type": "Public", "name": "Lobby", "owner": "alice", "admins": ["bob"],
                  "members": ["carol"]},
        "meet": {"type": "Meeting", "name": "Meet", "owner": "dave", "members": ["alice"]},
    },
}
GROUPS_FILE = """\
# groups to adopt
lobby

  team
lobby
"""


@pytest.fixture
def app(serve: Callable[..., App], tmp_path: Path) -> App:
    app = serve()
    apply(app, write(tmp_path, LIVE))
    return app


def _file(tmp_path: Path, text: str, name: str = "groups.txt") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _plans_no_changes(app: App, *paths: str) -> None:
    result = app.cli("plan", *paths)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert NO_CHANGES in result.stdout


def test_only_the_listed_groups_are_exported_with_the_accounts_they_name(app: App, tmp_path: Path) -> None:
    config = write(tmp_path, {})  # a config that manages no group: it would export none
    out = tmp_path / "export.yaml"
    result = app.cli("export", config, "--groups-file", _file(tmp_path, GROUPS_FILE), "--out", str(out))
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert result.stderr == ""
    exported = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert list(exported["groups"]) == ["lobby", "team"]  # in the file's order, each once
    lobby = exported["groups"]["lobby"]
    assert lobby["admins"] == ["bob"] and lobby["members"] == ["carol"]
    assert list(exported["accounts"]) == ["alice", "bob", "carol"]  # those named; dave (meet's owner) is not
    assert list(exported["bots"]) == ["@RBT#support"]
    _plans_no_changes(app, str(out))


def test_a_declared_group_is_exported_beside_the_listed_ones(app: App, tmp_path: Path) -> None:
    config = write(tmp_path, {"groups": {"meet": {"type": "Meeting", "name": "Meet"}}})
    result = app.cli("export", config, "--groups-file", _file(tmp_path, "team\n"))
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert list(yaml.safe_load(result.stdout)["groups"]) == ["meet", "team"]


def test_ids_that_cannot_be_exported_are_listed_with_why(app: App, tmp_path: Path) -> None:
    config = write(tmp_path, {})
    groups = _file(tmp_path, "lobby\nghost\nbad id é\n")
    accounts = _file(tmp_path, "nobody\n", "ids.txt")
    result = app.cli("export", config, "--groups-file", groups, "--accounts-file", accounts)
    assert result.exit_code == 1
    listed = result.stderr.splitlines()
    assert listed[0] == "Left out of the export (1 named account, 2 named groups):"
    # each kind in turn; in a kind, the ids refused first, then those not found
    assert listed[1:4] == ['  account "nobody" does not exist in the app',
                           '  group "bad id é" is not a valid GroupId: it holds a character that is not '
                           'printable ASCII (only 0x20-0x7E are allowed)',
                           '  group "ghost" does not exist in the app']
    assert listed[-1].startswith("Error: 3 named object(s) could not be exported (listed above)")
    assert "Traceback" not in result.stderr
    assert list(yaml.safe_load(result.stdout)["groups"]) == ["lobby"]
    skipped = app.cli("export", config, "--groups-file", groups, "--accounts-file", accounts,
                      "--skip-missing")
    assert skipped.exit_code == 0 and skipped.stdout == result.stdout


def test_one_kind_left_out_says_its_name(app: App, tmp_path: Path) -> None:
    result = app.cli("export", write(tmp_path, {}), "--groups-file", _file(tmp_path, "ghost\n"))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "Left out of the export (1 named group):"
    assert "Error: 1 named group(s) could not be exported" in result.stderr


def test_with_no_config_the_listed_groups_are_exported(app: App, tmp_path: Path) -> None:
    out = tmp_path / "adopted.yaml"
    result = app.cli("export", "--sdkappid", str(SDKAPPID), "--groups-file", _file(tmp_path, "meet\n"),
                     "--out", str(out))
    assert result.exit_code == 0, (result.stdout, result.stderr)
    exported = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert list(exported["groups"]) == ["meet"]
    assert list(exported["accounts"]) == ["alice", "dave"]
    _plans_no_changes(app, str(out))


def test_out_naming_the_groups_file_is_refused(app: App, tmp_path: Path) -> None:
    groups = _file(tmp_path, "team\n")
    before = Path(groups).read_text(encoding="utf-8")
    app.forget_calls()
    result = app.cli("export", write(tmp_path, {}), "--groups-file", groups, "--out", groups)
    assert result.exit_code == 1 and "is one of the input files" in result.stderr
    assert Path(groups).read_text(encoding="utf-8") == before
    assert sum(app.emulator.calls.values()) == 0


def test_the_python_api_takes_group_ids(app: App, tmp_path: Path) -> None:
    desired = chatsync.load(write(tmp_path, {}))
    environ = {name: value for name, value in app.env().items() if value is not None}
    result = chatsync.export(desired, group_ids=["lobby", "ghost"], environ=environ)
    assert list(yaml.safe_load(result.text)["groups"]) == ["lobby"]
    assert result.left_out == [LeftOut("group", "ghost", "does not exist in the app")]
