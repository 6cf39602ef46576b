"""Each error of the group service a user can meet, end to end against the emulator: the apply's
report names the group that failed, the code and what the service said, and the next line says what
to do (docs/troubleshooting.md). The emulator answers each as the service does (docs/tencent-api.md
§10.5, §10.22): an unknown member 10019, a group full 10014 (add) or over the edition's cap 10038
(create), what a type cannot hold 10007, a GroupId another writer took 10021 / 10025, and the
edition's caps 10058, 10036 and 10037."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from chatsync.emulator import group_state
from chatsync.emulator.gateway import Outcome
from chatsync.facts import groups as group_facts
from chatsync.tencent.groups import GroupApi, NewGroup
from tests.apply.test_groups import groups_of, write
from tests.support import App

PEOPLE = ("alice", "bob", "carol", "dave", "erin")
ACCOUNTS = dict.fromkeys(PEOPLE)


def seed_group(spec: NewGroup) -> Callable[[App], None]:
    """Seeding: the people's accounts, then the group ``spec`` made elsewhere (not by chatsync)."""

    def seed(app: App) -> None:
        GroupApi(app.client).create_group(spec)

    return seed


def taken_meanwhile(owner: str, name: str) -> Callable[[App], None]:
    """Another writer makes a Public group ``g`` between the plan and the apply's ``create_group``."""

    def seed(app: App) -> None:
        handle = app.emulator.handle

        def racing(method: str, target: str, body: bytes) -> Outcome:
            if "/create_group?" in target and "g" not in app.emulator.store.groups:
                with app.emulator.store.lock:
                    group = group_state.new_group(group_facts.PUBLIC, name, 1_700_000_000, 99, 2000)
                    group["Owner_Account"] = owner
                    group["Members"] = {owner: {"Role": "Owner", "JoinTime": 1_700_000_000}}
                    app.emulator.store.add_group("g", group)
            return handle(method, target, body)

        app.emulator.handle = racing  # type: ignore[method-assign]

    return seed


@dataclass
class Case:
    """A config that meets one error: the groups it declares, the emulator's settings, the seeding,
    and the report's line for the group and the hint under it."""

    groups: dict[str, Any]
    line: str
    hint: str
    emulator: dict[str, Any] = field(default_factory=dict)
    seed: Callable[[App], None] | None = None
    race: bool = False  # the group is made by another writer during the apply


CASES = {
    "10019 unknown member": Case(
        {"g": {"type": "Public", "name": "G", "owner": "alice", "members": ["ghost"]}},
        '  + group "g"  failed 10019: account ghost does not exist; import it (or create the bot) first',
        "create the accounts and bots named as owner or members first"),
    "10014 group full": Case(
        {"g": {"members": ["bob", "carol", "dave"]}},
        '  ~ group "g"  failed 10014: group g: the group has 1 of at most 3 members; 3 more do not fit',
        "raise the group's max_members (within the edition's cap) or add fewer members",
        seed=seed_group(NewGroup("g", "Public", "G", owner="alice", max_members=3))),
    "10038 over the edition's cap": Case(
        {"g": {"type": "Public", "name": "G", "owner": "alice", "members": ["bob", "carol", "dave", "erin"]}},
        '  + group "g"  failed 10038: 5 members are more than the group\'s cap of 4',
        "declare fewer members, or upgrade the app's edition (it caps the members of a group)",
        emulator={"group_member_cap": 4}),
    "10007 members of an AVChatRoom": Case(
        {"g": {"members": ["bob"]}},
        '  ~ group "g"  failed 10007: group g: AVChatRoom groups take no members',
        "the group's type does not allow it (an AVChatRoom keeps no members, a Work group has no admins): "
        "declare the group's type so plan checks it, and take out what it cannot hold",
        seed=seed_group(NewGroup("g", "AVChatRoom", "G", owner="alice"))),
    "10007 admins of a Work group": Case(
        {"g": {"admins": ["bob"]}},
        '  ~ group "g"  failed 10007: Private groups have no admins',
        "declare the group's type so plan checks it",
        seed=seed_group(NewGroup("g", "Private", "G", owner="alice", members={"bob": "Member"}))),
    "10021 id taken by another": Case(
        {"g": {"type": "Public", "name": "G", "owner": "alice"}},
        '  + group "g"  failed 10021: group g already exists and is not the one declared (it is a Public '
        "group named 'Elsewhere', owner mallory)",
        "choose another GroupId, or declare the group as it is",
        seed=taken_meanwhile("mallory", "Elsewhere"), race=True),
    "10025 id taken by the same owner": Case(
        {"g": {"type": "Public", "name": "G", "owner": "alice"}},
        '  + group "g"  failed 10025: group g already exists and is not the one declared (it is a Public '
        "group named 'Other', owner alice)",
        "choose another GroupId, or declare the group as it is",
        seed=taken_meanwhile("alice", "Other"), race=True),
    "10058 trial group count": Case(
        {"g": {"type": "Public", "name": "G", "owner": "alice"}},
        '  + group "g"  failed 10058: the app already has 1 group, the most its edition allows',
        "destroy unused groups or upgrade the app's edition",
        emulator={"max_groups": 1}, seed=seed_group(NewGroup("other", "Public", "O", owner="bob"))),
    "10036 AVChatRoom count": Case(
        {"g": {"type": "AVChatRoom", "name": "G", "owner": "alice"}},
        '  + group "g"  failed 10036: the app already has 1 AVChatRoom, the most its edition allows',
        "destroy unused AVChatRooms or upgrade the app's edition",
        emulator={"max_av_chatrooms": 1}, seed=seed_group(NewGroup("other", "AVChatRoom", "O", owner="bob"))),
    "10037 a user's group count": Case(
        {"g": {"type": "Public", "name": "G", "owner": "alice"}},
        '  + group "g"  failed 10037: alice is already in 1 group, the most the edition allows',
        "remove that user from other groups, or upgrade the app's edition",
        emulator={"max_joined_groups": 1}, seed=seed_group(NewGroup("other", "Public", "O", owner="alice"))),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_group_error_names_the_group_and_what_to_do(serve: Callable[..., App], tmp_path: Path,
                                                      case: Case) -> None:
    app = serve(**case.emulator)
    app.seed(accounts={user_id: None for user_id in (*PEOPLE, "mallory")})
    if case.seed is not None:
        case.seed(app)
    config = write(tmp_path, {"accounts": ACCOUNTS, "groups": case.groups}, protected=["ghost", "mallory"])
    before = groups_of(app).get("g")
    result = app.cli("apply", "--auto-approve", config)
    assert result.exit_code == 1, (result.stdout, result.stderr)
    lines = result.stdout.splitlines()
    failed = [n for n, line in enumerate(lines) if line.startswith('  ~ group "g"  ')
              or line.startswith('  + group "g"  ')]
    assert len(failed) == 1, result.stdout
    assert lines[failed[0]] == case.line
    assert case.hint in lines[failed[0] + 1], lines[failed[0] + 1]
    assert "Traceback" not in result.stdout + result.stderr
    if not case.race:
        assert groups_of(app).get("g") == before  # refused whole: nothing made or changed
