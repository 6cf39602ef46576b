"""Groups in the emulator's state file: durable like accounts, seedable, and checked strictly at start."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chatsync.emulator import Emulator
from chatsync.emulator import store as store_module
from chatsync.emulator.store import Store
from chatsync.errors import StateFileError
from chatsync.facts import groups as facts
from tests.emulator.groups_support import accounts, add, create, info, listed, roles
from tests.support import Api, api_for, call, make_emulator


def state(**override: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "format": "chatsync-emulator-state", "version": 1, "sdkappid": 1400000000,
        "accounts": {"administrator": {}, "alice": {}, "bob": {}, "@RBT#b": {}},
        "bots": {"@RBT#b": True}, "deleted": [], "kicked": {},
        "groups": {"team": {"Type": "Public", "Name": "Team", "Owner_Account": "alice",
                            "Members": {"bob": {}, "@RBT#b": {}}}},
    }
    data.update(override)
    return data


def group(**fields: Any) -> dict[str, Any]:
    """``state()``'s group "team" with ``fields`` changed."""
    team: dict[str, Any] = state()["groups"]["team"]
    return {"groups": {"team": {**team, **fields}}}


def start(path: Path, data: dict[str, Any] | None = None) -> tuple[Emulator, Api]:
    if data is not None:
        path.write_text(json.dumps(data))
    emulator = make_emulator(state_path=path)
    return emulator, api_for(emulator)


def test_groups_survive_a_restart(served: Callable[..., tuple[Emulator, Api]], tmp_path: Path) -> None:
    path = tmp_path / "app.json"
    _, api = served(state_path=path)
    accounts(api, "alice", "bob", bots=("@RBT#b",))
    create(api, "team", Owner_Account="alice", members=[{"Member_Account": "bob", "Role": "Admin"}])
    create(api, None, type="Private", Owner_Account="alice")
    add(api, "team", "@RBT#b")
    call(api, "modify_group_base_info", {"GroupId": "team", "Introduction": "hello"})
    before = [info(api, g) for g in listed(api)]
    cursor = call(api, "get_appid_group_list", {"Limit": 1})["Next"]
    _, again = start(path)
    assert [info(again, g) for g in listed(again)] == before
    assert call(again, "get_appid_group_list", {"Limit": 1, "Next": cursor})["GroupIdList"] == [
        {"GroupId": before[1]["GroupId"]}]
    work = before[1]["GroupId"]
    assert call(again, "get_joined_group_list", {"Member_Account": "alice"})["TotalCount"] == 1
    assert call(again, "get_joined_group_list", {"Member_Account": "alice", "WithNoActiveGroups": 1})[
        "TotalCount"] == 2  # the Work group is still unactivated
    create(again, None, type="Private")
    assert len(set(listed(again))) == 3 and work in listed(again)


def test_a_state_written_before_groups_loads_with_none(tmp_path: Path) -> None:
    data = state()
    del data["groups"]
    emulator, api = start(tmp_path / "app.json", data)
    assert listed(api) == [] and emulator.store.group_seq == 0
    create(api, "new")
    assert json.loads((tmp_path / "app.json").read_text())["groups"]["new"]["Seq"] == 1


def test_a_seeded_group_needs_only_type_name_and_members(tmp_path: Path) -> None:
    emulator, api = start(tmp_path / "app.json", state())
    group = info(api, "team")
    assert roles(api, "team") == {"bob": "Member", "@RBT#b": "Member", "alice": "Owner"}
    assert (group["Introduction"], group["MaxMemberNum"], group["ApplyJoinOption"], group["NextMsgSeq"]) == (
        "", facts.DEFAULT_MEMBER_CAP, "NeedPermission", 1)
    assert call(api, "get_joined_group_list", {"Member_Account": "bob"})["TotalCount"] == 1  # active
    add(api, "team", "administrator")
    assert emulator.store.joined["administrator"] == {"team"}


def test_seeded_groups_list_by_seq_then_file_order(tmp_path: Path) -> None:
    groups = {"c": {"Type": "Public", "Name": "C"}, "a": {"Type": "Public", "Name": "A", "Seq": 7},
              "b": {"Type": "Public", "Name": "B"}}
    _, api = start(tmp_path / "app.json", state(groups=groups))
    assert listed(api) == ["a", "c", "b"]
    create(api, "d")
    assert listed(api, Limit=2) == ["a", "c", "b", "d"]


def test_many_seeded_groups_load_and_read(tmp_path: Path) -> None:
    users: dict[str, dict[str, Any]] = {f"u{i}": {} for i in range(20)}
    groups = {f"g{i:04d}": {"Type": "Public", "Name": f"G{i}", "Owner_Account": "u0",
                            "Members": {u: {} for u in users}} for i in range(1000)}
    emulator, api = start(tmp_path / "app.json", state(accounts={"administrator": {}, **users}, bots={},
                                                       groups=groups))
    assert call(api, "get_appid_group_list", {})["TotalCount"] == 1000
    answer = call(api, "get_group_info", {"GroupIdList": [f"g{i:04d}" for i in range(50)]})
    assert all(g["MemberNum"] == 20 for g in answer["GroupInfo"])
    assert len(emulator.store.joined["u7"]) == 1000


@pytest.mark.parametrize(("override", "message"), [
    ({"groups": []}, "'groups' is missing or not a dict"),
    ({"group_seq": -1}, "'group_seq' is not a non-negative integer"),
    ({"group_seq": "1"}, "'group_seq' is missing or not a int"),
    ({"groups": {"x" * 49: {"Type": "Public", "Name": "X"}}}, "is 49 bytes long"),
    ({"groups": {"t": 5}}, "the group 't' is not an object"),
    (group(Type="Work"), "has the Type 'Work'"),
    (group(Name=""), "has no Name"),
    (group(Name="x" * 31), "has a Name that is not a string of at most 30 bytes"),
    (group(Extra=1), "has an unknown key 'Extra'"),
    (group(CreateTime=-1), "CreateTime that is not an unsigned 32-bit integer"),
    (group(CreateTime=2**32 - 1), "was created in the future"),
    (group(MaxMemberNum=2), "has 3 members, over its MaxMemberNum 2"),
    (group(MaxMemberNum=6001), "has a MaxMemberNum outside 1..6000"),
    (group(ApplyJoinOption="Open"), "has the ApplyJoinOption 'Open'"),
    (group(Active="yes"), "has an Active that is not true/false"),
    (group(Members={"carol": {}}), "names the member 'carol', which is not an account"),
    (group(Members={"bob": {"Role": "Owner"}}), "with the Role Owner, but it is not the Owner_Account"),
    (group(Members={"alice": {"Role": "Member"}}), "is the Owner_Account but has not the Role Owner"),
    (group(Members={"@RBT#b": {"Role": "Admin"}}), "with the Role Admin, which a bot may not have"),
    (group(Type="Private", Members={"bob": {"Role": "Admin"}}), "which a Private group does not have"),
    (group(Type="AVChatRoom"), "whose members are not stored"),
    (group(Members={"bob": {"NameCard": "x" * 51}}), "NameCard"),
    (group(Members={"bob": {"Mood": 1}}), "with an unknown key 'Mood'"),
    (group(AppDefinedData={"bad key": "x"}), "has AppDefinedData that has the key 'bad key'"),
    (group(Seq=3), "'group_seq' is 1, below a group's Seq (3)"),
])
def test_a_bad_group_in_the_state_stops_the_start(tmp_path: Path, override: dict[str, Any],
                                                  message: str) -> None:
    data = state(**override)
    if "Seq" in json.dumps(override):
        data["group_seq"] = 1
    path = tmp_path / "app.json"
    path.write_text(json.dumps(data))
    content = path.read_bytes()
    with pytest.raises(StateFileError) as caught:
        Store(1400000000, ("administrator",), path)
    text = str(caught.value)
    assert message in text and str(path) in text and "\n" not in text, text
    assert path.read_bytes() == content


def test_an_inactive_bot_cannot_be_a_seeded_member(tmp_path: Path) -> None:
    path = tmp_path / "app.json"
    path.write_text(json.dumps(state(bots={"@RBT#b": False})))
    with pytest.raises(StateFileError, match="names the bot '@RBT#b', which is not an active bot"):
        Store(1400000000, ("administrator",), path)


def test_two_seeded_groups_with_one_seq_are_refused(tmp_path: Path) -> None:
    groups = {"a": {"Type": "Public", "Name": "A", "Seq": 1}, "b": {"Type": "Public", "Name": "B", "Seq": 1}}
    path = tmp_path / "app.json"
    path.write_text(json.dumps(state(groups=groups)))
    with pytest.raises(StateFileError, match="the group 'b' has the Seq of another group"):
        Store(1400000000, ("administrator",), path)


def test_a_group_change_that_cannot_be_saved_is_rolled_back(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    emulator, api = start(tmp_path / "app.json", state())

    def full(path: Path, data: bytes, fsync: bool) -> None:
        raise OSError(28, "No space left on device")

    real = store_module._atomic_write
    monkeypatch.setattr(store_module, "_atomic_write", full)
    create(api, "new", Owner_Account="bob", code=70500)
    add(api, "team", "administrator", code=70500)
    call(api, "delete_group_member", {"GroupId": "team", "MemberToDel_Account": ["bob"]}, code=70500)
    monkeypatch.setattr(store_module, "_atomic_write", real)
    assert listed(api) == ["team"]
    assert roles(api, "team") == {"bob": "Member", "@RBT#b": "Member", "alice": "Owner"}
    assert emulator.store.joined.get("administrator") is None and emulator.store.joined["bob"] == {"team"}
    create(api, "new", Owner_Account="bob")
    assert "new" in make_emulator(state_path=tmp_path / "app.json").store.groups


def test_reads_of_groups_do_not_write(tmp_path: Path) -> None:
    path = tmp_path / "app.json"
    _, api = start(path, state())
    create(api, "other")
    written = path.stat().st_mtime_ns, path.read_bytes()
    listed(api)
    info(api, "team")
    call(api, "get_group_member_info", {"GroupId": "team"})
    call(api, "get_joined_group_list", {"Member_Account": "bob"})
    assert (path.stat().st_mtime_ns, path.read_bytes()) == written


def test_a_seed_file_is_read_and_never_written(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(state()))
    content = seed.read_bytes()
    emulator = make_emulator(seed_state=seed)
    api = api_for(emulator)
    add(api, "team", "administrator")
    create(api, "new")
    assert seed.read_bytes() == content
    assert listed(api) == ["team", "new"]
    assert listed(api_for(make_emulator(seed_state=seed))) == ["team"]  # a fresh start from the seed


def test_a_seed_starts_a_state_file_that_then_wins(tmp_path: Path) -> None:
    seed, path = tmp_path / "seed.json", tmp_path / "app.json"
    seed.write_text(json.dumps(state()))
    api = api_for(make_emulator(seed_state=seed, state_path=path))
    create(api, "new")
    assert set(json.loads(path.read_text())["groups"]) == {"team", "new"}
    seed.write_text(json.dumps(state(groups={})))
    assert listed(api_for(make_emulator(seed_state=seed, state_path=path))) == ["team", "new"]


def test_a_missing_or_bad_seed_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StateFileError, match=r"seed file .* does not exist"):
        make_emulator(seed_state=tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(state(**group(Type="Lobby"))))
    with pytest.raises(StateFileError, match="has the Type 'Lobby'"):
        make_emulator(seed_state=bad)
