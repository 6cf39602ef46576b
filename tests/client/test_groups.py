"""GroupApi against the emulator over loopback HTTP, through the client's own HTTP engine: listing by
cursor, reads 50 groups a call, members paged, creates that recognise their own group, member
batches of 20 and 100, and what each answer says per group and per member."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chatsync.emulator import Emulator, group_state
from chatsync.emulator.server import RunningEmulator
from chatsync.errors import CallFailed
from chatsync.facts import groups as facts
from chatsync.tencent.api import ChatApi
from chatsync.tencent.client import Client
from chatsync.tencent.credentials import SigCache
from chatsync.tencent.group_answers import GroupInfo
from chatsync.tencent.groups import GroupApi, NewGroup, matches
from chatsync.tencent.target import Target
from tests.client.conftest import FAST, UNPACED
from tests.support import ADMIN, SDKAPPID, SECRET, make_emulator, record_requests

Served = Callable[..., tuple[Emulator, GroupApi]]


@pytest.fixture
def served() -> Iterator[Served]:
    """Factory: an emulator on loopback HTTP (config as given), and a GroupApi whose client talks
    to it through chatsync's own HTTP engine (no injected transport). ``rates`` override the
    client's (unpaced by default)."""
    running: list[tuple[RunningEmulator, Client]] = []

    def start(rates: dict[str, float] | None = None, **config: Any) -> tuple[Emulator, GroupApi]:
        emulator = make_emulator(**config)
        server = RunningEmulator(emulator).__enter__()
        client = Client(Target((server.url,), "CHATSYNC_ENDPOINT"), SigCache(SDKAPPID, ADMIN, SECRET),
                        retry=FAST, rates={**UNPACED, **(rates or {})}, environ={}, parallelism=4)
        running.append((server, client))
        return emulator, GroupApi(client)

    yield start
    for server, client in running:
        client.close()
        server.stop()


def people(api: GroupApi, *user_ids: str, bots: tuple[str, ...] = ()) -> None:
    chat = ChatApi(api.client)
    assert all(r.ok for r in chat.multiaccount_import({u: {} for u in user_ids}).values())
    for bot in bots:
        chat.create_robot(bot, {})


def new(group_id: str, **fields: Any) -> NewGroup:
    fields.setdefault("type", "Public")
    fields.setdefault("name", group_id.title())
    return NewGroup(group_id=group_id, **fields)


USERS = [f"user{i:03d}" for i in range(160)]


# -- listing --------------------------------------------------------------------------------------

def test_list_group_ids_follows_the_cursor(served: Served) -> None:
    emulator, api = served()
    for i in range(25):
        api.create_group(new(f"g{i:02d}", type="Private" if i % 5 == 0 else "Public"))
    assert api.list_group_ids(limit=10) == [f"g{i:02d}" for i in range(25)]
    assert emulator.calls["get_appid_group_list"] == 3
    assert api.list_group_ids("Work") == [f"g{i:02d}" for i in range(0, 25, 5)]  # the user's name
    assert api.list_group_ids("Private", limit=2) == [f"g{i:02d}" for i in range(0, 25, 5)]


def test_an_empty_app_lists_no_group(served: Served) -> None:
    _, api = served()
    assert api.list_group_ids() == []


def test_listing_pages_at_the_documented_one_a_second(served: Served) -> None:
    """The emulator refuses a second listing call within a second (60007); the client's pacer at
    the documented rate never sends one."""
    emulator, api = served(rates={"get_appid_group_list": 1}, rate_limit_scale=1.0)
    for i in range(3):
        api.create_group(new(f"g{i}"))
    assert api.list_group_ids(limit=2) == ["g0", "g1", "g2"]
    assert emulator.calls["get_appid_group_list"] == 2
    assert api.client.pacers["get_appid_group_list"].refusals == 0


# -- reads ----------------------------------------------------------------------------------------

def test_get_group_info_reads_50_a_call_with_members_and_roles(served: Served) -> None:
    emulator, api = served()
    people(api, "alice", "bob", bots=("@RBT#helper",))
    ids = [f"g{i:03d}" for i in range(120)]
    for group_id in ids:
        api.create_group(new(group_id, owner="alice", members={"bob": "Admin", "@RBT#helper": "Member"}))
    results = api.get_group_info([*ids, "missing", "x" * 49, "g000"])
    assert emulator.calls["get_group_info"] == 3  # 122 distinct ids: 50, 50, 22
    assert list(results) == [*ids, "missing", "x" * 49]
    group = results["g007"].group
    assert group is not None and results["g007"].ok
    assert (group.type, group.name, group.owner, group.member_count, group.max_members) == (
        "Public", "G007", "alice", 3, facts.DEFAULT_MEMBER_CAP)
    assert list((group.members or {}).items()) == [
        ("alice", "Owner"), ("bob", "Admin"), ("@RBT#helper", "Member")]
    assert results["missing"].missing and results["missing"].group is None
    assert results["x" * 49].code == 10015


def test_get_group_info_without_members(served: Served) -> None:
    _, api = served()
    api.create_group(new("g"))
    group = api.get_group_info(["g"], members=False)["g"].group
    assert group is not None and group.members is None


def seed_big(emulator: Emulator, group_id: str, group_type: facts.GroupType, count: int) -> list[str]:
    """A group of ``count`` members with long name cards: over 1 MB with its members."""
    members = [f"member-{i:05d}" for i in range(count)]
    with emulator.store.lock:
        emulator.store.group_seq += 1
        group = group_state.new_group(group_type, "Big", 1_700_000_000, emulator.store.group_seq, 6000)
        emulator.store.add_group(group_id, group)
        for member in members:
            emulator.store.accounts[member] = {}
            emulator.store.add_member(group_id, member, {"Role": "Member", "JoinTime": 1_700_000_000,
                                                         "NameCard": "n" * 50})
    return members


def test_a_group_too_large_to_read_whole_is_read_page_by_page(served: Served) -> None:
    """25,000 members are over 1 MB even with only their roles: the chunk answers 10018, is read
    again without members, and each group's members are read 200 a page (the Community's by its
    cursor)."""
    emulator, api = served()
    members = seed_big(emulator, "@TGS#_big", facts.COMMUNITY, 25_000)
    api.create_group(new("small"))
    results = api.get_group_info(["@TGS#_big", "small"])
    group = results["@TGS#_big"].group
    assert group is not None and list(group.members or {}) == members
    assert group.member_count == 25_000 and results["small"].ok
    assert emulator.calls["get_group_info"] == 2  # with members: 10018; then without
    assert emulator.calls["get_group_member_info"] == 125 + 1  # and the small group of the chunk
    assert results["@TGS#_big"].attempts == 2


def test_read_members_pages_by_offset(served: Served) -> None:
    emulator, api = served(group_member_cap=6000)
    members = seed_big(emulator, "big", facts.PUBLIC, 450)
    assert list(api.read_members("big")) == members
    assert emulator.calls["get_group_member_info"] == 3


def test_joined_groups(served: Served) -> None:
    _, api = served()
    people(api, "alice")
    api.create_group(new("work", type="Work", owner="alice"))  # unactivated: still listed here
    api.create_group(new("live", type="AVChatRoom", owner="alice"))
    api.create_group(new("other"))
    assert api.joined_groups("alice") == ["work", "live"]


# -- create_group ---------------------------------------------------------------------------------

def test_create_group_carries_its_first_100_members(served: Served) -> None:
    emulator, api = served()
    people(api, "alice", *USERS[:100])
    people(api, *USERS[100:150])
    spec = new("big", owner="alice", max_members=500, members={u: "Member" for u in ["alice", *USERS[:150]]})
    result = api.create_group(spec)
    assert (result.created, result.recovered, result.attempts) == (True, False, 1)
    assert result.members_sent == tuple(USERS[:100]) and result.members_left == tuple(USERS[100:150])
    added = api.add_members("big", result.members_left)
    assert all(r.ok and r.data["result"] == "added" for r in added.values())
    assert emulator.calls["add_group_member"] == 3  # 50 members, 20 a call
    group = api.get_group_info(["big"])["big"].group
    assert group is not None and group.member_count == 151


def test_create_group_sends_the_declared_fields(served: Served) -> None:
    emulator, api = served()
    requests: list[tuple[str, Any]] = []
    record_requests(emulator, requests, threading.Lock())
    people(api, "alice", "bob")
    api.create_group(new("t", type="Meeting", owner="alice", introduction="i", notification="n",
                         face_url="f", max_members=50, apply_join="anyone", members={"bob": "Admin"}))
    body = next(b for name, b in requests if name == "create_group")
    assert body == {"Type": "ChatRoom", "Name": "T", "GroupId": "t", "Owner_Account": "alice",
                    "Introduction": "i", "Notification": "n", "FaceUrl": "f", "MaxMemberCount": 50,
                    "ApplyJoinOption": "FreeAccess",
                    "MemberList": [{"Member_Account": "bob", "Role": "Admin"}]}
    group = api.get_group_info(["t"])["t"].group
    assert group is not None and group.apply_join == "FreeAccess" and group.type == "ChatRoom"


def test_an_avchatroom_takes_no_initial_members(served: Served) -> None:
    _, api = served()
    people(api, "alice")
    spec = new("live", type="AVChatRoom", members={"alice": "Member"})
    assert spec.initial_members() == []
    result = api.create_group(spec)
    assert result.members_sent == () and result.members_left == ("alice",)


def lose_first_answer(emulator: Emulator, endpoint: str) -> None:
    """The first ``endpoint`` request is applied, then its connection dropped (a lost answer)."""
    handle = emulator.handle
    lost: list[bool] = []

    def losing(method: str, target: str, body: bytes) -> Any:
        outcome = handle(method, target, body)
        if f"/{endpoint}?" in target and not lost:
            lost.append(True)
            return type(outcome)(0, b"", drop=True, endpoint=endpoint)
        return outcome

    emulator.handle = losing  # type: ignore[method-assign]


def test_a_create_whose_answer_was_lost_recognises_its_own_group(served: Served) -> None:
    emulator, api = served()
    people(api, "alice", "bob", bots=("@RBT#helper",))
    lose_first_answer(emulator, "create_group")
    result = api.create_group(new("team", owner="alice", members={"bob": "Member", "@RBT#helper": "Member"}))
    assert (result.created, result.recovered) == (False, True)
    assert result.attempts >= 2 and emulator.calls["create_group"] == 2
    assert result.members_sent == ("bob", "@RBT#helper") and result.members_left == ()
    assert result.existing is not None and result.existing.owner == "alice"
    assert api.list_group_ids() == ["team"]


def test_an_ownerless_create_whose_answer_was_lost_is_recognised_too(served: Served) -> None:
    emulator, api = served()
    lose_first_answer(emulator, "create_group")
    result = api.create_group(new("free"))
    assert result.recovered and result.existing is not None and result.existing.owner == ""


def test_a_group_left_by_an_interrupted_run_is_recognised_with_what_it_lacks(served: Served) -> None:
    _, api = served()
    people(api, "alice", "bob", "carol")
    api.create_group(new("team", owner="alice", members={"bob": "Member"}))
    result = api.create_group(new("team", owner="alice", members={"bob": "Member", "carol": "Admin"}))
    assert result.recovered and result.attempts == 2  # the create, then the read back
    assert result.members_sent == ("bob",) and result.members_left == ("carol",)


@pytest.mark.parametrize("other", [
    {"owner": "bob"}, {"type": "Private", "owner": "alice"}, {"name": "Other", "owner": "alice"},
])
def test_a_group_id_taken_by_another_group_fails_saying_what_is_there(served: Served,
                                                                     other: dict[str, Any]) -> None:
    _, api = served()
    people(api, "alice", "bob")
    api.create_group(new("team", **other))
    with pytest.raises(CallFailed) as caught:
        api.create_group(new("team", owner="alice"))
    failure = caught.value
    assert failure.code in (10021, 10025) and not failure.stops_run
    assert "already exists and is not the one declared" in str(failure)
    assert "choose another GroupId" in failure.hint


def test_matches_compares_type_name_and_owner() -> None:
    spec = new("t", type="Work", owner="alice")
    base = dict(group_id="t", type="Private", name="T", introduction="", notification="",
                face_url="", owner="alice", max_members=20, apply_join="DisableApply",
                member_count=1, members=None)
    assert matches(spec, GroupInfo(**base))  # type: ignore[arg-type]
    assert not matches(spec, GroupInfo(**{**base, "type": "Public"}))  # type: ignore[arg-type]
    assert not matches(spec, GroupInfo(**{**base, "owner": ""}))  # type: ignore[arg-type]


def test_create_refusals_come_back_as_call_failures(served: Served) -> None:
    _, api = served()
    with pytest.raises(CallFailed) as caught:
        api.create_group(new("team", owner="nobody"))
    assert caught.value.code == 10019 and "create the accounts" in caught.value.hint
    with pytest.raises(ValueError, match="unknown group type"):
        api.create_group(new("team", type="Lobby"))
    with pytest.raises(ValueError, match="apply_join"):
        api.create_group(new("team", apply_join="sometimes"))


# -- changes --------------------------------------------------------------------------------------

def test_modify_base_info_by_config_names(served: Served) -> None:
    _, api = served()
    api.create_group(new("t"))
    api.modify_group_base_info("t", {"name": "New", "introduction": "i", "notification": "n",
                                     "face_url": "f", "max_members": 30, "apply_join": "nobody",
                                     "invite_join": "anyone", "shut_up_all": True})
    group = api.get_group_info(["t"])["t"].group
    assert group is not None
    assert (group.name, group.introduction, group.notification, group.face_url, group.max_members,
            group.apply_join, group.invite_join, group.shut_up_all) == (
        "New", "i", "n", "f", 30, "DisableApply", "FreeAccess", "On")
    with pytest.raises(ValueError):
        api.modify_group_base_info("t", {})
    with pytest.raises(ValueError, match="not a group base field"):
        api.modify_group_base_info("t", {"owner": "bob"})


def test_add_members_in_20s_silently_by_default(served: Served) -> None:
    emulator, api = served()
    people(api, "alice", *USERS[:45])
    api.create_group(new("t", owner="alice"))
    results = api.add_members("t", [*USERS[:45], "alice"])
    assert emulator.calls["add_group_member"] == 3
    assert {r.data["result"] for m, r in results.items() if m != "alice"} == {"added"}
    assert results["alice"].ok and results["alice"].data["result"] == "already a member"
    group = api.get_group_info(["t"])["t"].group
    assert group is not None and group.member_count == 46 and group.next_msg_seq == 1  # no notice
    people(api, "late")
    api.add_members("t", ["late"], silence=False)
    group = api.get_group_info(["t"])["t"].group
    assert group is not None and group.next_msg_seq == 2


def test_a_failed_chunk_fails_only_its_own_members(served: Served) -> None:
    _, api = served()
    people(api, *USERS[:40])
    api.create_group(new("t"))
    results = api.add_members("t", [*USERS[:20], "nobody", *USERS[20:39]])
    assert all(results[u].ok for u in USERS[:20])
    assert {results[u].code for u in ["nobody", *USERS[20:39]]} == {10019}
    assert "create the accounts" in results["nobody"].hint


def test_import_members_with_roles(served: Served) -> None:
    emulator, api = served()
    people(api, *USERS[:25])
    api.create_group(new("t"))
    results = api.import_members("t", {u: ("Admin" if u == USERS[0] else "Member") for u in USERS[:25]})
    assert all(r.ok for r in results.values()) and emulator.calls["import_group_member"] == 2
    group = api.get_group_info(["t"])["t"].group
    assert group is not None and group.members is not None and group.members[USERS[0]] == "Admin"


def test_import_into_a_work_group_fails_an_admin_with_10007(served: Served) -> None:
    _, api = served()
    people(api, "bob")
    api.create_group(new("w", type="Work"))
    assert api.import_members("w", {"bob": "Admin"})["bob"].code == 10007


def test_delete_members_in_100s(served: Served) -> None:
    emulator, api = served()
    people(api, "alice", *USERS[:150])
    api.create_group(new("t", owner="alice", max_members=500, members={u: "Member" for u in USERS[:100]}))
    api.add_members("t", USERS[100:150])
    results = api.delete_members("t", [*USERS[:150], "stranger"], reason="tidy")
    assert all(r.ok for r in results.values()) and emulator.calls["delete_group_member"] == 2
    group = api.get_group_info(["t"])["t"].group
    assert group is not None and list(group.members or {}) == ["alice"]
    assert api.delete_members("t", ["alice"])["alice"].code == 10004  # the owner


def test_owner_and_roles(served: Served) -> None:
    _, api = served()
    people(api, "alice", "bob", "carol")
    api.create_group(new("t", owner="alice", members={"bob": "Member", "carol": "Member"}))
    api.change_group_owner("t", "bob")
    api.set_member_role("t", "carol", "Admin")
    group = api.get_group_info(["t"])["t"].group
    assert group is not None and group.owner == "bob"
    assert group.members == {"alice": "Member", "bob": "Owner",
                                                                "carol": "Admin"}
    with pytest.raises(ValueError):
        api.set_member_role("t", "carol", "Owner")
    with pytest.raises(CallFailed) as caught:
        api.change_group_owner("t", "nobody")
    assert caught.value.code == 10004


def test_destroy_group(served: Served) -> None:
    _, api = served()
    api.create_group(new("t"))
    api.destroy_group("t")
    assert api.get_group_info(["t"])["t"].missing and api.list_group_ids() == []
