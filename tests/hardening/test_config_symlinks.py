"""Issue 22, item 2: a symbolic link that leads outside the directories given on the command line
is refused, unless ``--follow-symlinks`` (``follow_symlinks=True`` from Python) allows it: a link
to a file, a directory given that is a link, a link found inside a directory given. One line names
the link, its target and the flag; the target is never read. validate, plan, apply and export."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

import chatsync
from chatsync.config import ConfigError
from tests.apply.conftest import write_config
from tests.support import App

CONFIG = "version: 1\napp: {sdkappid: 1400000000}\naccounts:\n  alice: {nick: Alice}\n"
MORE = "version: 1\naccounts:\n  bob: {nick: Bob}\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory beside the repository, holding a config file and a secret-looking file."""
    place = tmp_path / "outside"
    place.mkdir()
    (place / "more.yaml").write_text(MORE, encoding="utf-8")
    (place / "shadow").write_text("version: 1\nroot: $6$secret-hash\n", encoding="utf-8")
    return place


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    place = tmp_path / "repo"
    (place / "envs").mkdir(parents=True)
    (place / "envs" / "app.yaml").write_text(CONFIG, encoding="utf-8")
    return place


def refusal(link: Path | str, target: Path) -> str:
    return (f"{link}: is a symbolic link to {target}, outside the directories given; it is not read: "
            "pass --follow-symlinks to read it (Python: follow_symlinks=True)")


def test_a_link_in_a_directory_given_to_a_file_outside_is_refused(serve: Callable[..., App], repo: Path,
                                                                  outside: Path) -> None:
    link = repo / "envs" / "more.yaml"
    link.symlink_to(outside / "shadow")
    app = serve()
    for command in ("validate", "plan", "apply", "export"):
        args = [command, str(repo / "envs"), *(["--auto-approve"] if command == "apply" else [])]
        result = app.cli(*args)
        assert result.exit_code == 1, (command, result.stdout, result.stderr)
        lines = result.stderr.splitlines()
        assert refusal(link, outside / "shadow") in lines, (command, result.stderr)
        assert "secret-hash" not in result.stdout + result.stderr and "$6$" not in result.stderr
    assert app.writes() == {}


def test_follow_symlinks_reads_it(serve: Callable[..., App], repo: Path, outside: Path) -> None:
    (repo / "envs" / "more.yaml").symlink_to(outside / "more.yaml")
    app = serve()
    valid = app.cli("validate", str(repo / "envs"), "--follow-symlinks")
    assert valid.exit_code == 0, valid.stderr
    assert valid.stdout == "Valid: 1 app, 0 bots, 2 accounts (0 to delete) in 2 files.\n"
    config = write_config(repo, accounts={"alice": {"nick": "Alice"}}, name="fast.yaml")
    Path(config).rename(repo / "envs" / "app.yaml")  # the app at the emulator, fast
    planned = app.cli("plan", str(repo / "envs"), "--follow-symlinks")
    assert planned.exit_code == 0, planned.stderr
    assert "Plan: 2 to create, 0 to update, 0 to delete." in planned.stdout


@pytest.mark.parametrize("trailing", ["", "/"])
def test_a_directory_given_that_is_a_link_outside_is_refused(repo: Path, outside: Path,
                                                             trailing: str) -> None:
    link = repo / "linked"
    link.symlink_to(outside)
    with pytest.raises(ConfigError) as caught:
        chatsync.load([str(link) + trailing, str(repo / "envs")])
    shown = [str(p) for p in caught.value.problems]
    assert shown == [refusal(str(link) + trailing, outside)], shown


def test_a_file_given_that_is_a_link_outside_is_refused(repo: Path, outside: Path) -> None:
    link = repo / "envs" / "more.yaml"
    link.symlink_to(outside / "more.yaml")
    with pytest.raises(ConfigError) as caught:
        chatsync.load(str(repo / "envs" / "app.yaml"), str(link))
    assert [str(p) for p in caught.value.problems] == [refusal(link, outside / "more.yaml")]
    state = chatsync.load(str(repo / "envs" / "app.yaml"), str(link), follow_symlinks=True)
    assert sorted(state.accounts) == ["alice", "bob"]


def test_links_inside_the_directories_given_are_read(repo: Path, outside: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A link to a file in the same directory, or in another directory given, needs no flag; nor
    does the default chatsync.yaml when it links into the working directory."""
    shared = repo / "shared"
    shared.mkdir()
    (shared / "more.yaml").write_text(MORE, encoding="utf-8")
    (repo / "envs" / "more.yaml").symlink_to(os.path.join("..", "shared", "more.yaml"))
    with pytest.raises(ConfigError):
        chatsync.load(str(repo / "envs"))  # shared/ is not given
    state = chatsync.load(str(repo / "envs"), str(shared / "more.yaml"))
    assert sorted(state.accounts) == ["alice", "bob"]
    monkeypatch.chdir(repo)
    Path("chatsync.yaml").symlink_to(Path("envs") / "app.yaml")
    assert sorted(chatsync.load().accounts) == ["alice"]
    (repo / "dangling.yaml").symlink_to(outside / "gone.yaml")
    with pytest.raises(ConfigError) as caught:
        chatsync.load("dangling.yaml")
    assert str(caught.value).startswith(f"dangling.yaml: is a symbolic link to {outside / 'gone.yaml'}")
