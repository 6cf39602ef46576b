"""Reading the live app while the config loads (chatsync/engine/prefetch.py): the loader tells a listener
of the app section and of each checked entry as soon as it is read, the reads start then, and the
plan is exactly the one a load followed by a plan makes, whatever the order of files and sections."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chatsync import api as core
from chatsync.config import ConfigError, load
from chatsync.domain.model import AppConfig, Principal
from chatsync.errors import ChatsyncError
from chatsync.render import json_plan
from tests.cli_plan.conftest import accounts_yaml, app_yaml, write_config
from tests.support import SECRET, App

ENV = {"CHATSYNC_SECRET_KEY": SECRET}


class Heard:
    """A listener that records what it hears, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def app(self, app: AppConfig) -> None:
        self.events.append(("app", app.sdkappid))

    def declared(self, principal: Principal) -> None:
        self.events.append((principal.kind, principal.user_id))


def seeded(serve: Callable[..., App]) -> App:
    app = serve()
    app.seed(bots={"@RBT#one": {"nick": "One"}},
             accounts={"alice": {"nick": "Alice"}, "bob": {"nick": "Bob", "face_url": "https://x/b.png"}})
    return app


def plans_agree(paths: list[str]) -> None:
    """The plan made while loading equals the plan made after loading (the JSON, seal aside)."""
    with core.load_connected(paths, environ=ENV) as done:
        assert done.reader is not None, "the reads did not start while loading"
        early = core.plan_with(done.api, done.desired, seal=False, reader=done.reader)
    late = core.plan(load(paths), environ=ENV)
    late.signature = early.signature = ""
    assert json_plan.render(early) == json_plan.render(late)


def test_the_listener_hears_the_app_then_each_entry_as_read(tmp_path: Path) -> None:
    path = write_config(tmp_path, app_yaml(endpoint="http://127.0.0.1:9") + 'bots:\n  "@RBT#one":\n'
                        "    nick: One\n" + accounts_yaml({"alice": {"nick": "A"}, "bob": None}))
    heard = Heard()
    desired = load([path], listener=heard)
    assert heard.events[0][0] == "app"
    assert heard.events[1:] == [("bot", "@RBT#one"), ("account", "alice"), ("account", "bob")]
    assert desired.accounts["alice"].fields == {"nick": "A"}
    assert str(desired.accounts["alice"].location).startswith(f"{path}:")


def test_entries_with_a_problem_are_not_told_and_keep_their_messages(tmp_path: Path) -> None:
    path = write_config(tmp_path, app_yaml(endpoint="http://127.0.0.1:9")
                        + "accounts:\n  alice:\n    nik: A\n  bob:\n    nick: B\n")
    heard = Heard()
    with pytest.raises(ConfigError) as raised:
        load([path], listener=heard)
    assert ("account", "alice") not in heard.events
    assert ("account", "bob") in heard.events
    assert "nick" in str(raised.value) and f"{path}:" in str(raised.value)


def test_a_duplicate_id_is_still_found_and_located(tmp_path: Path) -> None:
    head = app_yaml(endpoint="http://127.0.0.1:9")
    first = write_config(tmp_path, head + "accounts:\n  alice:\n    nick: A\n", "a.yaml")
    write_config(tmp_path, "version: 1\naccounts:\n  alice:\n    nick: B\n", "b.yaml")
    with pytest.raises(ConfigError) as raised:
        load([str(tmp_path)])
    assert "already declared at" in str(raised.value)
    assert f"{first}:" in str(raised.value)


def test_the_plan_made_while_loading_is_the_plan_made_after(serve: Callable[..., App],
                                                            tmp_path: Path) -> None:
    app = seeded(serve)
    path = write_config(tmp_path, app_yaml(endpoint=app.url, prune_bots="true") + accounts_yaml(
        {"alice": {"nick": "Alice 2"}, "bob": {"nick": "Bob"}, "carol": {"nick": "Carol"}}))
    plans_agree([path])
    assert app.writes() == {}


def test_accounts_read_before_the_app_section_are_read_too(serve: Callable[..., App], tmp_path: Path) -> None:
    """accounts.yaml sorts before app.yaml: its entries wait for the app section, then are read."""
    app = seeded(serve)
    accounts = accounts_yaml({"alice": {"nick": "Alice 2"}, "zed": {"nick": "Zed"}, "yan": None})
    write_config(tmp_path, "version: 1\n" + accounts, "accounts.yaml")
    write_config(tmp_path, app_yaml(endpoint=app.url), "app.yaml")
    plans_agree([str(tmp_path)])


def test_custom_keys_before_the_app_section_are_read_after_loading(serve: Callable[..., App],
                                                                     tmp_path: Path) -> None:
    """An entry with custom keys cannot be checked before app.custom_fields is known: it is told
    with the finished config, and the plan still covers it."""
    app = serve(custom_fields=("Team",))
    app.seed(accounts={"alice": {"nick": "Alice"}})
    body = "version: 1\naccounts:\n  alice:\n    nick: Alice\n    custom:\n      Team: blue\n"
    write_config(tmp_path, body, "accounts.yaml")
    write_config(tmp_path, app_yaml(endpoint=app.url, custom_fields="[Team]"), "app.yaml")
    plans_agree([str(tmp_path)])
    with core.load_connected([str(tmp_path)], environ=ENV) as done:
        planned = core.plan_with(done.api, done.desired, seal=False, reader=done.reader)
    assert [(c.action, c.user_id, c.after) for c in planned.changes] == [
        ("update", "alice", {"custom.Team": "blue"})]


def test_a_missing_key_is_said_before_the_config_is_read(serve: Callable[..., App], tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The variable the app: section names is found by a scan of the files, so a missing key fails
    at once: neither a large config's load nor its problems come first."""
    app = serve()
    good = write_config(tmp_path, app_yaml(endpoint=app.url) + accounts_yaml({"alice": None}), "good.yaml")
    bad = write_config(tmp_path, app_yaml(endpoint=app.url, secret_key_env="PROD_KEY")
                       + "accounts:\n  alice:\n    nik: A\n", "bad.yaml")

    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the config was read before the key was checked")

    with monkeypatch.context() as patched:
        patched.setattr(core, "load_config", never)
        with pytest.raises(ChatsyncError, match="CHATSYNC_SECRET_KEY is not set"), \
                core.load_connected([good], environ={}):
            pass
        with pytest.raises(ChatsyncError, match="PROD_KEY is empty"), \
                core.load_connected([bad], environ={"PROD_KEY": " "}):
            pass
    assert sum(app.emulator.calls.values()) == 0  # no key: nothing was sent
    with pytest.raises(ConfigError), core.load_connected([bad], environ={"PROD_KEY": SECRET}):
        pass  # with the key, the config's problems (the early reads may have begun meanwhile)


def test_when_the_scan_cannot_tell_the_key_is_checked_after_loading(serve: Callable[..., App],
                                                                    tmp_path: Path) -> None:
    app = serve()
    merged = write_config(tmp_path, "version: 1\nx-app: &app\n  sdkappid: 1400000000\n"
                          f"  endpoint: {app.url}\napp:\n  <<: *app\n", "merged.yaml")
    with pytest.raises(ChatsyncError, match="CHATSYNC_SECRET_KEY is not set"), \
            core.load_connected([merged], environ={}):
        pass


def test_a_wrong_key_stops_the_reads_while_the_config_still_loads(serve: Callable[..., App],
                                                                  tmp_path: Path) -> None:
    """The first read refused for the key drops every read not yet sent: a config of 10,000
    accounts (100 checks) costs at most the calls already in flight, not one failure per check."""
    app = serve()
    path = write_config(tmp_path, app_yaml(endpoint=app.url) + accounts_yaml(
        {f"user{i:05d}": {"nick": f"N{i}"} for i in range(10_000)}))
    with pytest.raises(ChatsyncError, match=r"70001|UserSig|secret key"), \
            core.load_connected([path], environ={"CHATSYNC_SECRET_KEY": "not-the-key"}) as done:
        core.plan_with(done.api, done.desired, seal=False, reader=done.reader)
    assert 0 < sum(app.emulator.calls.values()) <= 2 * 24  # at most what was in flight (of 101)


def test_overrides_plan_as_a_load_then_a_plan_does(serve: Callable[..., App], tmp_path: Path) -> None:
    """An override changes an object read as declared while loading: when it only changes values
    the reads cover, the early reads serve (no object is read twice); when it manages a field they
    left out, the reads start again. Either way the plan is the one a load then a plan makes."""
    app = seeded(serve)
    shared = write_config(tmp_path, "version: 1\n" + accounts_yaml(
        {"alice": {"nick": "Alice"}, "bob": {"nick": "Bob"}}), "accounts.yaml")
    (tmp_path / "dev").mkdir()
    same = write_config(tmp_path / "dev", app_yaml(endpoint=app.url) + "overrides:\n  accounts:\n"
                        "    alice:\n      nick: Alice (dev)\n", "app.yaml")
    plans_agree([shared, same])
    with core.load_connected([shared, same], environ=ENV) as done:
        planned = core.plan_with(done.api, done.desired, seal=False, reader=done.reader)
    assert [(c.action, c.user_id, c.after) for c in planned.changes] == [
        ("update", "alice", {"nick": "Alice (dev)"})]
    checked = app.emulator.calls.get("account_check", 0)

    more = write_config(tmp_path / "dev", app_yaml(endpoint=app.url) + "overrides:\n  accounts:\n"
                        "    bob:\n      self_signature: Hi\n", "app.yaml")
    with core.load_connected([shared, more], environ=ENV) as done:
        assert done.reader is None  # bob's self_signature was not read as declared: read again
        early = core.plan_with(done.api, done.desired, seal=False, reader=done.reader)
    late = core.plan(load([shared, more]), environ=ENV)
    early.signature = late.signature = ""
    assert json_plan.render(early) == json_plan.render(late)
    assert [(c.action, c.user_id, c.after) for c in late.changes] == [
        ("update", "bob", {"self_signature": "Hi"})]
    assert checked > 0 and app.writes() == {}
