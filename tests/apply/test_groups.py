"""Groups end to end over loopback: a config with a group of each type, owners, admins and members
that are accounts and bots plans, applies, and plans "No changes" twice; member, base-info, owner
and role changes, ``state: absent`` and ``prune_groups`` each plan and apply exactly; removals count
as deletes for ``max_deletes`` and respect ``protected``; adds are silent unless ``notify: true``."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result

from chatsync.emulator import group_state
from chatsync.facts import groups as group_facts
from chatsync.tencent.groups import GroupApi
from tests.apply.conftest import FAST_RATES, summary
from tests.support import SDKAPPID, App, fresh_client

Serve = Callable[..., App]
#: An app where BASE was applied, and the folder of its config.
Made = tuple[App, Path]

NO_CHANGES = "No changes. The app matches the configuration."
GROUP_WRITES = ("create_group", "add_group_member", "import_group_member", "delete_group_member",
                "modify_group_base_info", "modify_group_member_info", "change_group_owner",
                "destroy_group")

BASE: dict[str, Any] = {
    "accounts": {"alice": {"nick": "Alice"}, "bob": None, "carol": None, "dave": None},
    "bots": {"@RBT#support": {"nick": "Support"}},
    "groups": {
        "team": {"type": "Work", "name": "Team", "owner": "alice", "members": ["bob", "@RBT#support"]},
        "lobby": {"type": "Public", "name": "Lobby", "introduction": "Hello", "owner": "alice",
                  "admins": ["bob"], "members": ["carol", "@RBT#support"], "apply_join": "anyone",
                  "max_members": 100},
        "meet": {"type": "Meeting", "name": "Meet", "owner": "bob", "members": ["alice"]},
        "live": {"type": "AVChatRoom", "name": "Live", "owner": "alice"},
        "@TGS#_comm": {"type": "Community", "name": "Comm", "owner": "alice", "admins": ["carol"],
                       "members": ["dave"]},
    },
}


def write(tmp_path: Path, document: dict[str, Any], **app: Any) -> str:
    full = {"version": 1, "app": {"sdkappid": SDKAPPID, "rate_limits": dict(FAST_RATES), **app}, **document}
    path = tmp_path / "chatsync.yaml"
    path.write_text(yaml.safe_dump(full, sort_keys=False), encoding="utf-8")
    return str(path)


def groups_of(app: App) -> dict[str, dict[str, Any]]:
    """Every live group, read back with a fresh client: type, name, introduction, owner, members."""
    with fresh_client(app.url) as client:
        api = GroupApi(client)
        ids = api.list_group_ids()
        found = api.get_group_info(ids) if ids else {}
    return {gid: {"type": r.group.type, "name": r.group.name, "introduction": r.group.introduction,
                  "owner": r.group.owner, "members": dict(r.group.members or {})}
            for gid, r in found.items() if r.group is not None}


def plan(app: App, config: str, *args: str) -> Result:
    result = app.cli("plan", config, *args)
    assert result.exit_code in (0, 2), (result.stdout, result.stderr)
    return result


def apply(app: App, config: str, *args: str) -> Result:
    app.forget_calls()
    result = app.cli("apply", "--auto-approve", config, *args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


@pytest.fixture
def made(serve: Serve, tmp_path: Path) -> Made:
    """An app where BASE was applied."""
    app = serve()
    config = write(tmp_path, BASE)
    apply(app, config)
    return app, tmp_path


def test_every_type_plans_applies_then_plans_no_changes_twice(serve: Serve, tmp_path: Path) -> None:
    app = serve()
    config = write(tmp_path, BASE)
    first = plan(app, config)
    for gid in BASE["groups"]:
        assert f'+ group "{gid}"' in first.stdout
    assert "5 create_group" in first.stdout
    result = apply(app, config)
    assert summary(result) == "Apply complete: 10 created, 0 updated, 0 deleted, 0 failed."
    live = groups_of(app)
    assert set(live) == set(BASE["groups"])
    assert live["lobby"]["members"] == {"alice": "Owner", "bob": "Admin", "carol": "Member",
                                        "@RBT#support": "Member"}
    assert live["team"]["type"] == "Private" and live["meet"]["type"] == "ChatRoom"
    assert live["@TGS#_comm"]["members"] == {"alice": "Owner", "carol": "Admin", "dave": "Member"}
    for _ in range(2):
        app.forget_calls()
        again = plan(app, config)
        assert NO_CHANGES in again.stdout, again.stdout
        assert not any(app.emulator.calls.get(name) for name in GROUP_WRITES)


CHANGED = copy.deepcopy(BASE)
CHANGED["groups"]["team"]["members"] = ["bob", "carol"]  # + carol, - the bot
CHANGED["groups"]["lobby"].update(introduction="Welcome", admins=["carol"], members=["bob", "@RBT#support"])
CHANGED["groups"]["meet"]["owner"] = "carol"  # a new owner, not a member yet; bob leaves


def test_member_base_owner_and_role_changes_apply_exactly(made: Made) -> None:
    app, tmp_path = made
    config = write(tmp_path, CHANGED)
    shown = plan(app, config).stdout
    assert 'members: + carol, - "@RBT#support"' in shown
    assert 'introduction: "Hello" -> "Welcome"' in shown
    assert "admins:       + carol, - bob" in shown
    assert 'owner:  "bob" -> "carol"' in shown
    assert "joins:  carol (silently)" in shown
    assert "leaves: bob (removed: counted as deletes)" in shown
    result = apply(app, config)
    assert summary(result) == "Apply complete: 0 created, 3 updated, 0 deleted, 0 failed."
    live = groups_of(app)
    assert live["team"]["members"] == {"alice": "Owner", "bob": "Member", "carol": "Member"}
    assert live["lobby"]["introduction"] == "Welcome"
    assert live["lobby"]["members"] == {"alice": "Owner", "carol": "Admin", "bob": "Member",
                                        "@RBT#support": "Member"}
    assert live["meet"]["owner"] == "carol"
    assert live["meet"]["members"] == {"carol": "Owner", "alice": "Member"}
    assert all(body["Silence"] == 1 for body in app.sent("add_group_member"))
    assert app.emulator.calls["change_group_owner"] == 1
    assert app.emulator.calls["modify_group_member_info"] == 2
    assert NO_CHANGES in plan(app, config).stdout


def test_notify_true_adds_with_notices(made: Made) -> None:
    app, tmp_path = made
    document = copy.deepcopy(BASE)
    document["groups"]["team"].update(members=["bob", "@RBT#support", "dave"], notify=True)
    config = write(tmp_path, document)
    assert "joins:   dave (the group is notified)" in plan(app, config).stdout
    apply(app, config)
    assert [body["Silence"] for body in app.sent("add_group_member")] == [0]
    assert "dave" in groups_of(app)["team"]["members"]


def test_state_absent_destroys_and_prune_groups_destroys_the_undeclared(made: Made) -> None:
    app, tmp_path = made
    document = copy.deepcopy(BASE)
    document["groups"]["live"] = {"state": "absent"}
    del document["groups"]["meet"]
    config = write(tmp_path, document)
    shown = plan(app, config).stdout
    assert '- group "live"' in shown and "state: absent; destroyed" in shown
    assert '- group "meet"' not in shown  # not declared, but prune_groups is off
    apply(app, config)
    assert set(groups_of(app)) == {"team", "lobby", "meet", "@TGS#_comm"}
    pruning = write(tmp_path, document, prune_groups=True)
    shown = plan(app, pruning).stdout
    assert '- group "meet"' in shown and "not declared (prune_groups)" in shown
    result = apply(app, pruning)
    assert summary(result) == "Apply complete: 0 created, 0 updated, 1 deleted, 0 failed."
    assert set(groups_of(app)) == {"team", "lobby", "@TGS#_comm"}
    assert NO_CHANGES in plan(app, pruning).stdout


def test_member_removals_count_for_max_deletes_and_protected(made: Made) -> None:
    app, tmp_path = made
    document = copy.deepcopy(BASE)
    document["groups"]["lobby"]["members"] = []  # removes carol and the bot
    config = write(tmp_path, document, max_deletes=1)
    result = app.cli("plan", config)
    assert "Unsafe: the plan deletes 0 objects and removes 2 members, more than app.max_deletes (1)" \
        in result.stdout
    refused = app.cli("apply", "--auto-approve", config)
    assert refused.exit_code != 0
    assert "carol" in groups_of(app)["lobby"]["members"]
    protected = write(tmp_path, document, protected=["carol"])
    shown = app.cli("plan", protected).stdout
    assert "the plan removes 'carol' from group.lobby, which is protected" in shown


def test_plan_json_carries_group_changes(made: Made) -> None:
    app, tmp_path = made
    config = write(tmp_path, CHANGED)
    data = json.loads(plan(app, config, "--format", "json").stdout)
    by_address = {c["address"]: c for c in data["changes"]}
    team = by_address["group.team"]
    assert team["before"]["members"] == ["@RBT#support", "bob"]  # lists of ids are arrays
    assert team["after"]["members"] == ["bob", "carol"]
    assert team["added"] == {"members": ["carol"]} and team["removed"] == {"members": ["@RBT#support"]}
    assert (team["joins"], team["leaves"], team["notified"]) == (["carol"], ["@RBT#support"], False)
    lobby = by_address["group.lobby"]
    assert lobby["added"] == {"admins": ["carol"], "members": ["bob"]}
    assert lobby["removed"] == {"admins": ["bob"], "members": ["carol"]}
    assert (lobby["joins"], lobby["leaves"]) == ([], [])  # roles change; nobody comes or goes
    meet = by_address["group.meet"]
    assert meet["joins"] == ["carol"] and meet["leaves"] == ["bob"]
    assert data["observed"]["objects"]["group.team"]["members"] == ["@RBT#support", "bob"]
    assert data["estimate"]["calls"]["change_group_owner"] == 1
    markdown = plan(app, config, "--format", "markdown").stdout
    assert "group <code>meet</code>" in markdown and "leaves: bob" in markdown


def test_a_create_in_json_adds_every_id(serve: Serve, tmp_path: Path) -> None:
    app = serve()
    data = json.loads(plan(app, write(tmp_path, BASE), "--format", "json").stdout)
    lobby = next(c for c in data["changes"] if c["address"] == "group.lobby")
    assert lobby["before"] is None
    assert lobby["after"]["admins"] == ["bob"] and lobby["after"]["members"] == ["@RBT#support", "carol"]
    assert lobby["added"] == {"admins": ["bob"], "members": ["@RBT#support", "carol"]}
    assert lobby["removed"] == {"admins": [], "members": []}
    assert lobby["joins"] == ["@RBT#support", "bob", "carol"]
    assert (lobby["leaves"], lobby["notified"]) == ([], False)
    account = next(c for c in data["changes"] if c["kind"] == "account")
    assert "added" not in account and "joins" not in account  # only a kind with lists of ids has them


#: A change that adds a member to team, and one that adds none (lobby: a new introduction).
MORE = copy.deepcopy(BASE)
MORE["groups"]["team"]["members"] = ["bob", "@RBT#support", "dave"]
MORE["groups"]["lobby"]["introduction"] = "Welcome"


def test_notify_flag_announces_every_add_and_the_plan_says_so(made: Made) -> None:
    app, tmp_path = made
    config = write(tmp_path, MORE)
    assert "joins:   dave (silently)" in plan(app, config).stdout
    shown = plan(app, config, "--notify").stdout
    assert "joins:   dave (the group is notified)" in shown
    data = json.loads(plan(app, config, "--notify", "--format", "json").stdout)
    by_address = {c["address"]: c for c in data["changes"]}
    assert by_address["group.team"]["notified"] is True and by_address["group.team"]["after"]["notify"] == 1
    assert by_address["group.lobby"]["notified"] is False  # it adds nobody
    apply(app, config, "--notify")
    assert [body["Silence"] for body in app.sent("add_group_member")] == [0]
    assert "dave" in groups_of(app)["team"]["members"]
    assert NO_CHANGES in plan(app, config).stdout  # a setting, not a field: never a change alone


def test_a_saved_plan_carries_notify_and_apply_plan_does_what_was_reviewed(made: Made) -> None:
    app, tmp_path = made
    config = write(tmp_path, MORE)
    loud, quiet = tmp_path / "loud.json", tmp_path / "quiet.json"
    assert app.cli("plan", config, "--notify", "--out", str(loud)).exit_code == 0
    assert app.cli("plan", config, "--out", str(quiet)).exit_code == 0
    shown = app.cli("show", str(loud))
    assert "joins:   dave (the group is notified)" in shown.stdout, shown.stdout
    refused = app.cli("apply", "--plan", str(quiet), "--notify")
    assert refused.exit_code == 1 and "--notify goes with a config, not --plan" in refused.stderr
    app.forget_calls()
    result = app.cli("apply", "--plan", str(loud))
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert [body["Silence"] for body in app.sent("add_group_member")] == [0]


def test_saved_plan_applies(made: Made) -> None:
    app, tmp_path = made
    config = write(tmp_path, CHANGED)
    saved = tmp_path / "plan.json"
    assert app.cli("plan", config, "--out", str(saved)).exit_code in (0, 2)
    result = app.cli("apply", "--plan", str(saved))
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert groups_of(app)["meet"]["owner"] == "carol"
    assert NO_CHANGES in plan(app, config).stdout


def test_export_writes_every_group_and_plans_no_changes(made: Made) -> None:
    app, tmp_path = made
    with app.emulator.store.lock:  # a group made elsewhere (an SDK), with an id the service generated
        group = group_state.new_group(group_facts.PUBLIC, "Elsewhere", 1_700_000_000, 99, 2000)
        group["Owner_Account"] = "alice"
        group["Members"] = {"alice": {"Role": "Owner", "JoinTime": 1_700_000_000}}
        app.emulator.store.add_group("@TGS#2elsewhere", group)
    config = write(tmp_path, BASE)
    out = tmp_path / "export.yaml"
    result = app.cli("export", config, "--out", str(out))
    assert result.exit_code == 0, (result.stdout, result.stderr)
    exported = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert set(exported["groups"]) == {*BASE["groups"], "@TGS#2elsewhere"}
    assert exported["groups"]["lobby"]["admins"] == ["bob"]
    assert sorted(exported["groups"]["lobby"]["members"]) == ["@RBT#support", "carol"]
    assert "members" not in exported["groups"]["live"]
    again = app.cli("plan", str(out))
    assert again.exit_code == 0, (again.stdout, again.stderr)
    assert NO_CHANGES in again.stdout


def test_a_group_error_names_the_group_and_what_to_do(serve: Serve, tmp_path: Path) -> None:
    app = serve()
    document = {"accounts": {"alice": None},
                "groups": {"team": {"type": "Public", "name": "Team", "owner": "alice",
                                    "members": ["ghost"]}}}
    config = write(tmp_path, document, protected=["ghost"])  # protected: known, but not in the app
    result = app.cli("apply", "--auto-approve", config)
    assert result.exit_code == 1
    assert '+ group "team"  failed 10019: account ghost does not exist' in result.stdout, result.stdout
    assert "create the accounts and bots named as owner or members first" in result.stdout
    assert "team" not in groups_of(app)


def test_a_generated_id_cannot_be_created(serve: Serve, tmp_path: Path) -> None:
    app = serve()
    document = {"accounts": {"alice": None},
                "groups": {"@TGS#1abc": {"type": "Public", "name": "X", "owner": "alice"}}}
    result = app.cli("plan", write(tmp_path, document))
    assert result.exit_code == 1
    assert ("Error: group.@TGS#1abc does not exist, and its id starts with @TGS#, which only ids the "
            "service generates may: a new group needs another GroupId") in result.stdout


def test_an_environment_overrides_a_group(serve: Serve, tmp_path: Path) -> None:
    dev, prod = serve(), serve()
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "groups.yaml").write_text(yaml.safe_dump({"version": 1, **BASE}, sort_keys=False),
                                        encoding="utf-8")
    app = {"sdkappid": SDKAPPID, "rate_limits": dict(FAST_RATES)}
    overrides = {"groups": {"lobby": {"name": "Lobby (dev)", "members": ["carol"]},
                            "live": {"state": "absent"}}}
    for env, more in (("dev", {"overrides": overrides}), ("prod", {})):
        (tmp_path / env).mkdir()
        (tmp_path / env / "app.yaml").write_text(yaml.safe_dump({"version": 1, "app": app, **more}),
                                                 encoding="utf-8")
    shown = plan(dev, str(shared), str(tmp_path / "dev")).stdout
    assert "Lobby (dev)" in shown, shown
    assert '- group "live"' not in shown  # absent: nothing to destroy
    for target, env in ((dev, "dev"), (prod, "prod")):
        apply(target, str(shared), str(tmp_path / env))
        assert NO_CHANGES in plan(target, str(shared), str(tmp_path / env)).stdout
    in_dev, in_prod = groups_of(dev), groups_of(prod)
    assert in_dev["lobby"]["name"] == "Lobby (dev)" and in_prod["lobby"]["name"] == "Lobby"
    assert in_dev["lobby"]["members"] == {"alice": "Owner", "bob": "Admin", "carol": "Member"}
    assert "@RBT#support" in in_prod["lobby"]["members"]
    assert "live" not in in_dev and "live" in in_prod
