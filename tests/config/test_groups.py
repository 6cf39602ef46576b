"""The ``groups:`` section: what it loads to, and each problem located and worded with its fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from chatsync.cli import main
from chatsync.config import load

HEAD = """\
version: 1
app:
  sdkappid: 1400000000
  protected: [zed]
accounts:
  alice: {}
  bob: {}
  gone: {state: absent}
bots:
  "@RBT#b": {}
groups:
"""  # groups start on line 12


def problems(tmp_path: Path, groups: str) -> list[str]:
    path = tmp_path / "c.yaml"
    path.write_text(HEAD + groups, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)], catch_exceptions=False)
    assert result.exit_code == 1, result.stdout
    return [line.replace(f"{path}:", "") for line in result.stderr.splitlines()[:-1]]


def test_a_group_loads_to_its_fields(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(HEAD + """\
  team:
    type: Work
    name: Team
    owner: alice
    members: [bob, "@RBT#b", alice]
    notify: true
  lobby:
    type: Meeting
    name: Lobby
    admins: [bob]
    members: [bob, zed]
    apply_join: nobody
    max_members: 50
""", encoding="utf-8")
    desired = load([str(path)])
    team, lobby = desired.of("group").values()
    assert dict(team.fields) == {"type": "Private", "name": "Team", "owner": "alice",
                                 "members": "@RBT#b\nbob", "notify": 1}
    assert dict(lobby.fields) == {"type": "ChatRoom", "name": "Lobby", "max_members": 50,
                                  "apply_join": "nobody", "admins": "bob", "members": "zed"}
    assert desired.summary() == "1 app, 1 bot, 3 accounts, 2 groups (1 to delete) in 1 file"


@pytest.mark.parametrize(("groups", "expected"), [
    ("  comm:\n    type: Community\n    name: C\n",
     '13:5: group "comm": the id must start with @TGS#_ for a Community group; choose another GroupId'),
    ('  g:\n    type: Public\n    name: G\n    owner: "@RBT#b"\n',
     '15:12: group "g": a bot cannot own a group ("@RBT#b"); make an account the owner and list the bot '
     "under members"),
    ('  g:\n    type: Public\n    name: G\n    admins: ["@RBT#b"]\n',
     '15:13: group "g": a bot cannot be an admin ("@RBT#b"); list it under members'),
    ("  g:\n    type: Work\n    name: G\n    admins: [bob]\n",
     '15:13: group "g": a Private (Work) group has no admins; remove admins, or choose Public, Meeting or '
     "Community"),
    ("  g:\n    type: AVChatRoom\n    name: G\n    members: [bob]\n",
     '15:14: group "g": an AVChatRoom group keeps no members (only its owner); remove members, or choose '
     "another type"),
    ("  g:\n    type: Work\n    name: G\n    apply_join: anyone\n",
     '15:17: group "g": a Private (Work) group takes no applications to join (the service keeps its '
     "apply_join nobody); remove apply_join, or write nobody"),
    ("  g:\n    type: Public\n    name: G\n    max_members: 1\n    members: [alice, bob]\n",
     '15:18: group "g" max_members is 1, but it declares 2 members; raise it or declare fewer'),
    ("  g:\n    type: Public\n    name: G\n    max_members: 7000\n",
     '15:18: group "g" max_members is 7000; a Public group may have at most 6000; lower it'),
    ("  g:\n    type: Public\n    name: G\n    members: [ghost]\n",
     '12:3: group "g" members: "ghost" is not a declared account; declare it under accounts: (or list it '
     "in app.protected if it exists already)"),
    ("  g:\n    type: Public\n    name: G\n    owner: gone\n",
     '12:3: group "g" owner: "gone" is declared state: absent at 8:3; keep it, or take it out of '
     "the group"),
    ('  g:\n    type: Public\n    name: "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9'
     '\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"\n',
     '14:11: group "g" name is 32 bytes long (UTF-8); it may have at most 30; shorten it'),
    (f"  {'x' * 49}:\n    type: Public\n    name: L\n",
     f'12:3: group id "{"x" * 40}"... (49 characters) is 49 bytes long; a GroupId may have at most 48; '
     "choose a shorter id"),
    ("  g:\n    type: Public\n    name: G\n    state: absent\n",
     '13:5: group "g" is state: absent, so its fields are ignored; remove type, name'),
])
def test_each_problem_is_located_with_its_fix(tmp_path: Path, groups: str, expected: str) -> None:
    found = problems(tmp_path, groups)
    assert found == [expected]


def test_a_protected_or_admin_member_needs_no_declaration(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(HEAD + "  g:\n    type: Public\n    name: G\n    owner: administrator\n"
                    "    members: [zed]\n", encoding="utf-8")
    assert load([str(path)]).of("group")["g"].fields["members"] == "zed"
