"""The emulator answers a full round trip, in process and over loopback HTTP."""

from __future__ import annotations

from collections.abc import Callable

from chatsync.emulator import Emulator
from tests.support import Api


def test_round_trip_in_process(api: Api) -> None:
    assert api("account_import", {"UserID": "alice", "Nick": "Alice"})["ErrorCode"] == 0
    answer = api("portrait_get", {"To_Account": ["alice"], "TagList": ["Tag_Profile_IM_Nick"]})
    assert answer["UserProfileItem"][0]["ProfileItem"] == [{"Tag": "Tag_Profile_IM_Nick", "Value": "Alice"}]


def test_round_trip_over_loopback(served: Callable[..., tuple[Emulator, Api]]) -> None:
    emulator, api = served()
    assert api("create_robot", {"UserID": "@RBT#helper", "Nick": "Helper"})["ActionStatus"] == "OK"
    assert api("get_all_robots", {})["Robot_Account"] == ["@RBT#helper"]
    assert emulator.store.accounts["@RBT#helper"]["Tag_Profile_IM_Nick"] == "Helper"
