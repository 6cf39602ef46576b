"""The group APIs over loopback HTTP: their rates (1/s listing, 200/s the rest, §10.19), their
injected faults, and a whole group's life as a client sees it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import httpx
import pytest

from chatsync.emulator import Emulator
from chatsync.emulator.faults import TRANSIENT_CODES
from chatsync.facts import groups as facts
from chatsync.facts.endpoints import ENDPOINTS
from tests.emulator.groups_support import accounts, add, create, info, listed, roles
from tests.support import Api, api_for, call, make_emulator


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_group_s_life_over_loopback(served: Callable[..., tuple[Emulator, Api]]) -> None:
    emulator, api = served()
    accounts(api, "alice", "bob", "carol", bots=("@RBT#helper",))
    create(api, "team", type="Public", Owner_Account="alice", members=["bob"])
    add(api, "team", "@RBT#helper", "carol", Silence=1)
    call(api, "modify_group_member_info", {"GroupId": "team", "Member_Account": "bob", "Role": "Admin"})
    call(api, "change_group_owner", {"GroupId": "team", "NewOwner_Account": "carol"})
    call(api, "delete_group_member", {"GroupId": "team", "MemberToDel_Account": ["alice"], "Silence": 1})
    call(api, "modify_group_base_info", {"GroupId": "team", "Name": "Team 2"})
    assert roles(api, "team") == {"bob": "Admin", "@RBT#helper": "Member", "carol": "Owner"}
    assert info(api, "team")["Name"] == "Team 2" and listed(api) == ["team"]
    call(api, "destroy_group", {"GroupId": "team"})
    assert listed(api) == []
    assert emulator.calls["create_group"] == 1 and emulator.calls["destroy_group"] == 1


def test_listing_over_http_takes_a_get_without_a_body(served: Callable[..., tuple[Emulator, Api]]) -> None:
    _, api = served()
    create(api, "a")
    response = api.request("get_appid_group_list", raw=b"", method="GET")
    assert response.status_code == 200 and response.json()["GroupIdList"] == [{"GroupId": "a"}]


def test_the_group_rates_are_the_documented_ones() -> None:
    assert {name: ENDPOINTS[name].rate_per_second for name in facts.GROUP_APIS} == {
        **{name: 200 for name in facts.GROUP_APIS}, "get_appid_group_list": 1}
    assert all(ENDPOINTS[name].path == f"/v4/group_open_http_svc/{name}" for name in facts.GROUP_APIS)


def test_the_listing_allows_one_call_a_second() -> None:
    clock = FakeClock()
    api = api_for(make_emulator(rate_limit_scale=1.0, monotonic=clock))
    codes = [api("get_appid_group_list", {})["ErrorCode"] for _ in range(3)]
    assert codes == [0, 60007, 60007]
    clock.now += 0.99
    assert api("get_appid_group_list", {})["ErrorCode"] == 60007
    clock.now += 0.02
    assert api("get_appid_group_list", {})["ErrorCode"] == 0
    assert api("get_group_info", {"GroupIdList": ["a"]})["ErrorCode"] == 0  # a window of its own


@pytest.mark.parametrize("name", ["create_group", "get_group_info", "add_group_member"])
def test_other_group_apis_allow_200_a_second(name: str) -> None:
    clock = FakeClock()
    api = api_for(make_emulator(rate_limit_scale=1.0, monotonic=clock))
    codes = [api(name, {"GroupIdList": ["x"], "GroupId": "x", "Type": "Public"})["ErrorCode"]
             for _ in range(205)]
    assert 60007 not in codes[:200] and codes[200:] == [60007] * 5
    clock.now += 1.0
    assert api(name, {})["ErrorCode"] != 60007


def test_rate_limit_scale_applies_to_the_listing() -> None:
    clock = FakeClock()
    api = api_for(make_emulator(rate_limit_scale=5.0, monotonic=clock))
    codes = [api("get_appid_group_list", {})["ErrorCode"] for _ in range(6)]
    assert codes == [0] * 5 + [60007]


def group_outcomes(seed: int, calls: int = 600) -> list[str]:
    emulator = make_emulator(fault_rate=0.3, seed=seed)
    with emulator.store.lock:
        emulator.store.accounts["alice"] = {}
    api = api_for(emulator)
    seen = []
    for i in range(calls):
        try:
            response = api.request("create_group", {"Type": "Public", "Name": "G", "GroupId": f"g{i}"})
        except httpx.RemoteProtocolError:
            seen.append("drop")
            continue
        seen.append(str(response.json()["ErrorCode"]) if response.status_code == 200 else "502")
    return seen


def test_group_apis_fail_the_way_the_group_service_does() -> None:
    seen = group_outcomes(seed=5)
    assert group_outcomes(seed=5) == seen
    failed = {o for o in seen if o not in ("0",)}
    assert failed == {"drop", "502", *map(str, TRANSIENT_CODES["group"])}
    assert set(TRANSIENT_CODES["group"]) == {10002, 10006, 60008}


def test_a_fault_after_commit_leaves_the_group_created_and_a_retry_meets_10025() -> None:
    """The case a client must handle: the answer is lost, the group exists (§10.22)."""
    for seed in range(50):
        emulator = make_emulator(fault_rate=1.0, seed=seed)
        api = api_for(emulator)
        with contextlib.suppress(httpx.RemoteProtocolError):
            api.request("create_group", {"Type": "Public", "Name": "G", "GroupId": "g"})
        if "g" in emulator.store.groups:
            emulator.faults.rate = 0.0
            call(api, "create_group", {"Type": "Public", "Name": "G", "GroupId": "g"}, code=10025)
            return
    raise AssertionError("no after-commit fault in 50 seeds")
