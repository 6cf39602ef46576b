"""Properties of the group APIs under any sequence of requests, well-formed or not: never an internal
error, and the store stays consistent (the membership index, owners, caps, a state that reloads)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatsync.emulator import group_state
from chatsync.emulator.store import Store
from chatsync.facts import groups as facts
from tests.support import api_for, make_emulator

ACCOUNTS = ["alice", "bob", "carol", "@RBT#b", "nobody"]
GROUP_IDS = ["g1", "g2", "@TGS#_c", "x" * 49, ""]
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2, 2**33), st.sampled_from(
    ["", "Admin", "Member", "Owner", "Public", "Private", "ChatRoom", "AVChatRoom", "Community", "On",
     "FreeAccess", "x" * 60]), st.sampled_from(ACCOUNTS), st.sampled_from(GROUP_IDS))
wild_members = st.lists(st.fixed_dictionaries({"Member_Account": st.sampled_from(ACCOUNTS)}, optional={
    "Role": st.sampled_from(["Admin", "Member", 1]), "JoinTime": st.integers(0, 2**32)}), max_size=4)
wild = st.fixed_dictionaries({}, optional={
    "GroupId": st.one_of(st.sampled_from(GROUP_IDS), scalars),
    "Type": st.sampled_from(["Public", "Private", "ChatRoom", "AVChatRoom", "Community", "Work"]),
    "Name": st.one_of(st.just("N"), scalars), "Owner_Account": st.sampled_from(ACCOUNTS),
    "MemberList": st.one_of(wild_members, scalars),
    "MemberToDel_Account": st.lists(st.sampled_from(ACCOUNTS)),
    "NewOwner_Account": st.sampled_from(ACCOUNTS), "Member_Account": st.sampled_from(ACCOUNTS),
    "Role": st.sampled_from(["Admin", "Member", "Owner"]), "Silence": st.sampled_from([0, 1, 2]),
    "MaxMemberCount": st.integers(0, 3), "MaxMemberNum": st.integers(0, 3),
    "GroupIdList": st.lists(st.sampled_from(GROUP_IDS), max_size=3), "Limit": st.integers(0, 3),
    "Next": st.one_of(st.integers(0, 2**32 + 3), st.just("")), "Offset": st.integers(0, 3),
    "NameCard": scalars, "ShutUpTime": st.integers(0, 5),
})
#: Bodies that mostly pass the checks, so that sequences really create, fill and change groups.
VALID = ["alice", "bob", "carol", "@RBT#b"]
gids = st.sampled_from(["g1", "g2", "@TGS#_c"])
member_list = st.lists(st.sampled_from(VALID), unique=True, min_size=1, max_size=4).map(
    lambda accounts: [{"Member_Account": a} for a in accounts])
creates = st.one_of(
    st.fixed_dictionaries({"GroupId": st.sampled_from(["g1", "g2"]),
                           "Type": st.sampled_from(["Public", "Private", "ChatRoom", "AVChatRoom"])}),
    st.fixed_dictionaries({"GroupId": st.just("@TGS#_c"), "Type": st.just("Community")}),
).flatmap(lambda head: st.fixed_dictionaries({**{k: st.just(v) for k, v in head.items()},
                                              "Name": st.just("N")}, optional={
    "Owner_Account": st.sampled_from(VALID[:3]), "MaxMemberCount": st.integers(2, 5),
    "MemberList": member_list}))


def op(name: str, required: dict[str, Any], optional: dict[str, Any] | None = None) -> Any:
    return st.tuples(st.just(name), st.fixed_dictionaries(required, optional=optional or {}))


apis = st.sampled_from([*sorted(facts.GROUP_APIS), "account_delete", "delete_robot"])
operations = st.one_of(
    op("create_group", {}).flatmap(lambda _: st.tuples(st.just("create_group"), creates)),
    op("add_group_member", {"GroupId": gids, "MemberList": member_list},
       {"Silence": st.sampled_from([0, 1])}),
    op("import_group_member", {"GroupId": gids, "MemberList": member_list.map(
        lambda items: [{**item, "Role": "Admin"} if i == 0 else item for i, item in enumerate(items)])}),
    op("delete_group_member", {"GroupId": gids, "MemberToDel_Account": st.lists(
        st.sampled_from(VALID), unique=True, min_size=1, max_size=3)}),
    op("change_group_owner", {"GroupId": gids, "NewOwner_Account": st.sampled_from(VALID)}),
    op("modify_group_member_info", {"GroupId": gids, "Member_Account": st.sampled_from(VALID)},
       {"Role": st.sampled_from(["Admin", "Member"]), "NameCard": st.just("c"),
        "ShutUpTime": st.integers(0, 9)}),
    op("modify_group_base_info", {"GroupId": gids},
       {"Name": st.just("M"), "MaxMemberNum": st.integers(2, 6)}),
    op("destroy_group", {"GroupId": gids}),
    op("get_group_info", {"GroupIdList": st.lists(gids, min_size=1, max_size=3)}),
    op("get_group_member_info", {"GroupId": gids, "Next": st.just("")}),
    op("get_joined_group_list", {"Member_Account": st.sampled_from(VALID)}, {"WithHugeGroups": st.just(1)}),
    op("get_appid_group_list", {}, {"Limit": st.integers(1, 2)}),
    op("account_delete", {"DeleteItem": st.sampled_from(VALID[:3]).map(lambda a: [{"UserID": a}])}),
    op("delete_robot", {"Robot_Account": st.just("@RBT#b")}),
    st.tuples(apis, wild),
)
#: A few creates first (so that the requests after them meet groups), then any requests.
requests = st.tuples(
    st.lists(st.tuples(st.just("create_group"), creates), min_size=1, max_size=3),
    st.lists(operations, max_size=30),
).map(lambda parts: parts[0] + parts[1])


def consistent(groups: dict[str, Any], joined: dict[str, set[str]], accounts: dict[str, Any]) -> None:
    assert joined == group_state.joined_index(groups)
    for group_id, group in groups.items():
        owners = [a for a, m in group["Members"].items() if m["Role"] == facts.OWNER]
        assert owners == ([group["Owner_Account"]] if group["Owner_Account"] else []), group_id
        assert all(a in accounts for a in group["Members"]), group_id
        assert not group["MaxMemberNum"] or len(group["Members"]) <= group["MaxMemberNum"], group_id


@SETTINGS
@given(requests)
def test_any_requests_keep_the_groups_consistent(tmp_path_factory: Any,
                                                 sequence: list[tuple[str, dict[str, Any]]]) -> None:
    path: Path = tmp_path_factory.mktemp("state") / "app.json"
    emulator = make_emulator(state_path=path, fsync=False)
    api = api_for(emulator)
    api("multiaccount_import", {"Accounts": ["alice", "bob", "carol"]})
    api("create_robot", {"UserID": "@RBT#b"})
    for name, body in sequence:
        answer = api(name, body)
        assert answer["ErrorCode"] != 70500, (name, body, answer)
        store = emulator.store
        consistent(store.groups, store.joined, store.accounts)
    emulator.close()
    reloaded = Store(1400000000, ("administrator",), path)
    assert json.dumps(reloaded.groups, sort_keys=True) == json.dumps(emulator.store.groups, sort_keys=True)
    assert reloaded.joined == emulator.store.joined and reloaded.group_seq == emulator.store.group_seq
