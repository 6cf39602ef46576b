"""Many environments from one repository: shared app settings whose guardrails only tighten, and
overrides of objects other files declare (docs/environments.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatsync.config import ConfigError, load
from chatsync.domain.model import DesiredState
from chatsync.errors import Location

SHARED_BOTS = """\
version: 1
bots:
  "@RBT#support":
    nick: Support
    face_url: https://example.com/support.png
accounts:
  alice:
    nick: Alice
  retired:
    state: absent
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def env(tmp_path: Path, app: str, *more: tuple[str, str], bots: str = SHARED_BOTS) -> DesiredState:
    paths = [write(tmp_path, "bots/bots.yaml", bots), write(tmp_path, "envs/dev/app.yaml", app)]
    paths += [write(tmp_path, name, text) for name, text in more]
    return load(paths)


def problems(tmp_path: Path, app: str, *more: tuple[str, str], bots: str = SHARED_BOTS) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        env(tmp_path, app, *more, bots=bots)
    return [str(p).replace(str(tmp_path) + "/", "") for p in caught.value.problems]


APP = "version: 1\napp:\n  sdkappid: 1400000001\n"


# -- overrides -----------------------------------------------------------------------------------


def test_an_override_replaces_the_fields_it_names_and_keeps_the_others(tmp_path: Path) -> None:
    state = env(tmp_path, APP + 'overrides:\n  bots:\n    "@RBT#support":\n      nick: Support (dev)\n')
    bot = state.bots["@RBT#support"]
    assert dict(bot.fields) == {"nick": "Support (dev)", "face_url": "https://example.com/support.png"}
    assert bot.location == Location(str(tmp_path / "bots/bots.yaml"), 3, 3)  # still its declaration
    override = state.origins.overrides["bot.@RBT#support"]
    assert override.location == Location(str(tmp_path / "envs/dev/app.yaml"), 6, 5)
    assert dict(override.fields) == {"nick": Location(str(tmp_path / "envs/dev/app.yaml"), 7, 13)}


def test_without_the_override_the_declaration_holds(tmp_path: Path) -> None:
    state = env(tmp_path, APP)
    assert state.bots["@RBT#support"].fields["nick"] == "Support"
    assert not state.origins.overrides


def test_an_override_replaces_state_both_ways(tmp_path: Path) -> None:
    state = env(tmp_path, APP + "overrides:\n  accounts:\n    alice:\n      state: absent\n"
                "    retired:\n      state: present\n      nick: Back\n")
    assert state.accounts["alice"].state == "absent" and dict(state.accounts["alice"].fields) == {}
    assert state.accounts["retired"].present and dict(state.accounts["retired"].fields) == {"nick": "Back"}


def test_custom_keys_are_replaced_one_by_one(tmp_path: Path) -> None:
    bots = SHARED_BOTS.replace("    nick: Alice\n",
                               "    nick: Alice\n    custom: {Dept: Sales, Tier: Gold}\n")
    state = env(tmp_path, APP + "  custom_fields: [Dept, Tier]\noverrides:\n  accounts:\n    alice:\n"
                "      custom: {Tier: Test}\n", bots=bots)
    assert dict(state.accounts["alice"].fields) == {"nick": "Alice", "custom.Dept": "Sales",
                                                    "custom.Tier": "Test"}


def test_an_override_of_an_id_no_file_declares_is_a_located_error(tmp_path: Path) -> None:
    found = problems(tmp_path, APP + 'overrides:\n  bots:\n    "@RBT#suport":\n      nick: X\n')
    assert found == ['envs/dev/app.yaml:6:5: overrides: bot "@RBT#suport" is not declared in any file '
                     'given; an override changes an object another file declares: did you mean '
                     '"@RBT#support"? declare it there, or pass the directory that declares it']


def test_two_overrides_of_one_id_name_both_places(tmp_path: Path) -> None:
    found = problems(tmp_path, APP + "overrides:\n  accounts:\n    alice:\n      nick: A\n",
                     ("envs/dev/more.yaml",
                      "version: 1\noverrides:\n  accounts:\n    alice:\n      nick: B\n"))
    assert found == ['envs/dev/more.yaml:4:5: overrides: account "alice" is already overridden at '
                     'envs/dev/app.yaml:6:5; override each id once']


def test_an_override_in_the_declaring_file_and_an_empty_one_are_errors(tmp_path: Path) -> None:
    found = problems(tmp_path, APP + "accounts:\n  carol:\n    nick: C\noverrides:\n  accounts:\n"
                     "    carol:\n      nick: D\n    alice: {}\n")
    assert found == [
        'envs/dev/app.yaml:9:5: overrides: account "carol" is declared in this file '
        '(envs/dev/app.yaml:5:3); change it there',
        'envs/dev/app.yaml:11:5: the override of account "alice" changes nothing; give the fields it '
        'replaces, or remove it',
    ]


def test_fields_for_an_absent_object_need_state_present(tmp_path: Path) -> None:
    found = problems(tmp_path, APP + "overrides:\n  accounts:\n    retired:\n      nick: R\n")
    assert found == ['envs/dev/app.yaml:6:5: overrides: account "retired" is state: absent '
                     '(bots/bots.yaml:9:3), so the fields given would be ignored; add state: present to the '
                     'override, or remove them']


def test_override_values_are_checked_as_declarations_are(tmp_path: Path) -> None:
    found = problems(tmp_path, APP + 'overrides:\n  bots:\n    "@RBT#support":\n      nik: X\n'
                     "      gender: fem\n  channels: {}\n")
    assert found == [
        "envs/dev/app.yaml:7:7: unknown field 'nik' in the override of bot \"@RBT#support\"; did you mean "
        "'nick'?",
        'envs/dev/app.yaml:8:15: the override of bot "@RBT#support" gender must be one of unknown, female, '
        "male, not fem; pick one",
        "envs/dev/app.yaml:9:3: unknown field 'channels' in overrides; allowed fields: bots, accounts, "
        "groups",
    ]


def test_an_override_may_not_make_a_protected_id_absent(tmp_path: Path) -> None:
    found = problems(tmp_path, APP + "  protected: [alice]\noverrides:\n  accounts:\n    alice:\n"
                     "      state: absent\n")
    assert found == ['envs/dev/app.yaml:8:14: account "alice" is state: absent but chatsync never deletes '
                     "it (it is listed in app.protected); remove one of the two"]


# -- overrides of groups ---------------------------------------------------------------------------

SHARED_GROUPS = SHARED_BOTS + """\
  bob: {}
  carol: {}
groups:
  team:
    type: Public
    name: Team
    owner: alice
    admins: [bob]
    members: [carol, "@RBT#support"]
  work:
    type: Work
    name: Work
    owner: alice
    members: [bob]
"""


def groups_env(tmp_path: Path, overrides: str) -> DesiredState:
    return env(tmp_path, APP + "overrides:\n  groups:\n" + overrides, bots=SHARED_GROUPS)


def group_problems(tmp_path: Path, overrides: str, bots: str = SHARED_GROUPS) -> list[str]:
    return problems(tmp_path, APP + "overrides:\n  groups:\n" + overrides, bots=bots)


def test_an_override_replaces_a_group_s_fields_and_keeps_the_others(tmp_path: Path) -> None:
    state = groups_env(tmp_path, "    team:\n      name: Team (dev)\n      members: [carol]\n")
    team = state.of("group")["team"]
    assert dict(team.fields) == {"type": "Public", "name": "Team (dev)", "owner": "alice", "admins": "bob",
                                 "members": "carol"}
    override = state.origins.overrides["group.team"]
    dev = str(tmp_path / "envs/dev/app.yaml")
    assert override.location == Location(dev, 6, 5)
    assert dict(override.fields) == {"name": Location(dev, 7, 13), "members": Location(dev, 8, 16)}
    assert dict(state.of("group")["work"].fields)["members"] == "bob"  # not overridden: as declared


def test_an_id_an_override_gives_another_role_leaves_its_old_one(tmp_path: Path) -> None:
    team = groups_env(tmp_path, "    team:\n      admins: [carol]\n").of("group")["team"]
    assert (team.fields["admins"], team.fields["members"]) == ("carol", "@RBT#support")
    team = groups_env(tmp_path, "    team:\n      owner: bob\n").of("group")["team"]
    assert (team.fields["owner"], team.fields["admins"]) == ("bob", "")


def test_an_override_may_destroy_a_group_in_one_environment(tmp_path: Path) -> None:
    work = groups_env(tmp_path, "    work:\n      state: absent\n").of("group")["work"]
    assert not work.present and dict(work.fields) == {}


def test_a_member_an_override_names_must_be_declared_there(tmp_path: Path) -> None:
    found = group_problems(tmp_path, "    team:\n      members: [carol, ghost]\n")
    assert found == ['envs/dev/app.yaml:7:16: group "team" members: "ghost" is not a declared account; '
                     "declare it under accounts: (or list it in app.protected if it exists already)"]


def test_a_group_an_override_leaves_breaking_its_type_s_rules_is_a_located_error(tmp_path: Path) -> None:
    found = group_problems(tmp_path, "    work:\n      admins: [carol]\n"
                                     "    team:\n      type: AVChatRoom\n")
    assert found == [
        'envs/dev/app.yaml:7:15: group "work": a Private (Work) group has no admins; remove admins, or '
        "choose Public, Meeting or Community",
        'envs/dev/app.yaml:8:5: group "team": an AVChatRoom group keeps no members (only its owner); remove '
        "members, or choose another type",
    ]
    found = group_problems(tmp_path, "    team:\n      max_members: 2\n")
    assert found == ['envs/dev/app.yaml:7:20: group "team" max_members is 2, but it declares 4 members; '
                     "raise it or declare fewer"]


def test_a_problem_of_the_declaration_itself_is_said_once(tmp_path: Path) -> None:
    broken = SHARED_GROUPS.replace("    members: [bob]\n", "    admins: [carol]\n    members: [bob]\n")
    found = group_problems(tmp_path, "    work:\n      members: [carol]\n", bots=broken)  # rules re-checked
    assert found == ['bots/bots.yaml:24:13: group "work": a Private (Work) group has no admins; remove '
                     "admins, or choose Public, Meeting or Community"]


def test_group_override_values_are_checked_as_declarations_are(tmp_path: Path) -> None:
    found = group_problems(tmp_path, '    team:\n      admins: ["@RBT#support"]\n      nick: T\n'
                                     "      name: " + "名" * 11 + "\n")
    assert found == [
        'envs/dev/app.yaml:7:15: group "team": a bot cannot be an admin ("@RBT#support"); list it under '
        "members",
        "envs/dev/app.yaml:8:7: unknown field 'nick' in the override of group \"team\"; allowed fields: "
        "type, name, introduction, notification, face_url, max_members, apply_join, owner, admins, members, "
        "notify, state",
        'envs/dev/app.yaml:9:13: group "team" name is 33 bytes long (UTF-8); it may have at most 30; '
        "shorten it",
    ]


# -- shared app settings ---------------------------------------------------------------------------


SHARED = "version: 1\nshared:\n  protected: [ops]\n  max_deletes: 5\n  custom_fields: [Dept]\n"


def test_shared_settings_fill_in_and_guardrails_tighten(tmp_path: Path) -> None:
    state = env(tmp_path, APP + "  max_deletes: 3\n  protected: [qa]\n", ("shared.yaml", SHARED))
    assert state.app.protected == ("ops", "qa")
    assert state.app.max_deletes == 3
    assert state.app.custom_fields == ("Dept",)
    assert state.app.sdkappid == 1400000001
    shared = str(tmp_path / "shared.yaml")
    assert state.origins.settings["custom_fields"] == (Location(shared, 5, 18),)
    assert state.origins.settings["max_deletes"] == (Location(shared, 4, 16),
                                                     Location(str(tmp_path / "envs/dev/app.yaml"), 4, 16))


def test_the_shared_limit_holds_when_the_environment_sets_none(tmp_path: Path) -> None:
    state = env(tmp_path, APP, ("shared.yaml", SHARED))
    assert state.app.max_deletes == 5 and state.app.protected == ("ops",)


def test_a_guardrail_loosened_by_an_environment_is_a_located_error(tmp_path: Path) -> None:
    found = problems(tmp_path, APP + "  max_deletes: 50\n  prune_bots: true\n",
                     ("shared.yaml", SHARED + "  prune_bots: false\n"))
    assert found == [
        "envs/dev/app.yaml:4:16: app.max_deletes 50 loosens the shared max_deletes 5 (shared.yaml:4:16); an "
        "environment can only tighten a guardrail: write 5 or less, or raise it in the shared settings",
        "envs/dev/app.yaml:5:15: app.prune_bots: true loosens the shared prune_bots: false "
        "(shared.yaml:6:15), which forbids pruning in every environment; remove one of the two",
    ]


def test_prune_bots_is_turned_on_only_by_the_environment(tmp_path: Path) -> None:
    state = env(tmp_path, APP + "  prune_bots: true\n", ("shared.yaml", SHARED))
    assert state.app.prune_bots is True
    found = problems(tmp_path, APP, ("shared.yaml", SHARED + "  prune_bots: true\n"))
    assert len(found) == 1 and found[0].startswith("shared.yaml:6:15: shared.prune_bots: true would delete")


def test_every_prune_setting_is_a_guardrail(tmp_path: Path) -> None:
    """prune_groups as prune_bots: a shared true is an error, a shared false forbids it (it was
    once dropped without a word: only prune_bots was known as a guardrail)."""
    forbidden = env(tmp_path / "a", APP, ("shared.yaml", SHARED + "  prune_groups: false\n"))
    assert forbidden.app.prune_groups is False
    found = problems(tmp_path / "b", APP, ("shared.yaml", SHARED + "  prune_groups: true\n"))
    assert found == ["shared.yaml:6:17: shared.prune_groups: true would delete, in every environment, the "
                     "live groups no file declares; turn it on in each environment's own app: (prune_groups: "
                     "true), or write false here to forbid it everywhere"]
    found = problems(tmp_path / "c", APP + "  prune_groups: true\n",
                     ("shared.yaml", SHARED + "  prune_groups: false\n"))
    assert found == ["envs/dev/app.yaml:4:17: app.prune_groups: true loosens the shared prune_groups: false "
                     "(shared.yaml:6:17), which forbids pruning in every environment; remove one of the two"]
    state = env(tmp_path / "d", APP + "  prune_groups: true\n", ("shared.yaml", SHARED))
    assert state.app.prune_groups is True


def test_other_settings_are_written_in_one_place(tmp_path: Path) -> None:
    found = problems(tmp_path, APP + "  admin: boss\n", ("shared.yaml", SHARED + "  admin: root\n"))
    assert found == ["envs/dev/app.yaml:4:10: app.admin is also set in the shared settings "
                     "(shared.yaml:6:10); set it in one place: in shared: for every environment, or in each "
                     "environment's app:"]


def test_identity_is_never_shared_and_shared_comes_once(tmp_path: Path) -> None:
    found = problems(tmp_path, APP, ("a.yaml", "version: 1\nshared:\n  sdkappid: 1\n"),
                     ("b.yaml", "version: 1\nshared:\n  max_deletes: 1\n"))
    assert found == [
        "a.yaml:3:3: sdkappid names one app, so it is not shared: write it in each environment's app: "
        "(shared: holds the settings every environment has)",
        "b.yaml:2:1: a second shared: section; the first is at a.yaml:2:1; keep the settings every "
        "environment shares in one file",
    ]


def test_custom_keys_listed_in_the_shared_settings_may_be_used(tmp_path: Path) -> None:
    bots = SHARED_BOTS.replace("    nick: Alice\n", "    nick: Alice\n    custom: {Dept: Sales}\n")
    state = env(tmp_path, APP, ("shared.yaml", SHARED), bots=bots)
    assert state.accounts["alice"].fields["custom.Dept"] == "Sales"
