"""GroupApi against answers that do not fit (a server that is not Tencent's, or a broken one): each
is refused as a protocol error naming the field, never used; and the codes a client must retry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from chatsync.errors import ProtocolError
from chatsync.tencent.client import Client
from chatsync.tencent.groups import GroupApi, NewGroup
from tests.client.conftest import body_of, envelope, mock

Answer = Callable[[str, dict[str, Any]], dict[str, Any]]


def api_answering(make_client: Callable[..., Client], answer: Answer) -> tuple[GroupApi, list[str]]:
    """A GroupApi whose every call is answered by ``answer(endpoint, body)``; the endpoints called."""
    called: list[str] = []

    def respond(request: httpx.Request) -> dict[str, Any]:
        name = request.url.path.rsplit("/", 1)[-1]
        called.append(name)
        return answer(name, body_of(request))

    return GroupApi(make_client(transport=mock(respond))), called


def group_item(group_id: str, **fields: Any) -> dict[str, Any]:
    item = {"GroupId": group_id, "ErrorCode": 0, "ErrorInfo": "", "Type": "Public", "Name": "G",
            "Owner_Account": "alice", "MemberNum": 1, "MaxMemberNum": 200,
            "MemberList": [{"Member_Account": "alice", "Role": "Owner"}]}
    item.update(fields)
    return item


@pytest.mark.parametrize(("page", "field"), [
    ({"GroupIdList": [{"GroupId": 5}]}, "GroupIdList[0].GroupId"),
    ({"GroupIdList": [{"GroupId": "a\nb"}]}, "GroupIdList[0].GroupId"),
    ({"GroupIdList": [{"GroupId": "x" * 49}]}, "GroupIdList[0].GroupId"),
    ({"GroupIdList": ["a"]}, "GroupIdList[0]"),
    ({"GroupIdList": {}}, "GroupIdList"),
    ({"GroupIdList": [], "Next": -1}, "Next"),
    ({"GroupIdList": [], "Next": 2**64}, "Next"),
    ({"GroupIdList": [], "Next": 4454685361.0}, "Next"),
    ({"GroupIdList": [], "Next": "4454685361"}, "Next"),
    ({"GroupIdList": [], "TotalCount": -3}, "TotalCount"),
    ({"GroupIdList": [], "TotalCount": True}, "TotalCount"),
])
def test_listing_answers_that_do_not_fit(make_client: Callable[..., Client], page: dict[str, Any],
                                         field: str) -> None:
    api, _ = api_answering(make_client, lambda name, body: envelope(**page))
    with pytest.raises(ProtocolError) as caught:
        api.list_group_ids()
    assert caught.value.field == field and caught.value.stops_run


def test_a_cursor_above_32_bits_is_followed(make_client: Callable[..., Client]) -> None:
    pages = {0: (["a", "b"], 4454685361), 4454685361: (["c"], 2**63 + 5), 2**63 + 5: (["d"], 0)}

    def answer(name: str, body: dict[str, Any]) -> dict[str, Any]:
        ids, cursor = pages[body["Next"]]
        return envelope(TotalCount=4, GroupIdList=[{"GroupId": i} for i in ids], Next=cursor)

    api, called = api_answering(make_client, answer)
    assert api.list_group_ids() == ["a", "b", "c", "d"] and len(called) == 3


@pytest.mark.parametrize("cursor", [7, 0])
def test_a_listing_that_would_never_end_is_refused(make_client: Callable[..., Client], cursor: int) -> None:
    """The same cursor again, or a page with no group that is not the last: stop, never loop."""
    api, called = api_answering(make_client, lambda name, body: envelope(
        GroupIdList=[] if cursor == 0 else [{"GroupId": "a"}], Next=7 if cursor else 9))
    with pytest.raises(ProtocolError, match="never end"):
        api.list_group_ids()
    assert len(called) <= 2


@pytest.mark.parametrize(("item", "field"), [
    (group_item("other"), "GroupInfo[0].GroupId"),
    (group_item("g", Type=1), "GroupInfo[0].Type"),
    (group_item("g", Name=None, Owner_Account=["a"]), "GroupInfo[0].Owner_Account"),
    (group_item("g", MaxMemberNum=-1), "GroupInfo[0].MaxMemberNum"),
    (group_item("g", MaxMemberNum="200"), "GroupInfo[0].MaxMemberNum"),
    (group_item("g", ErrorCode="0"), "GroupInfo[0].ErrorCode"),
    (group_item("g", MemberList=[{"Member_Account": "alice", "Role": "Boss"}]),
     "GroupInfo[0].MemberList[0].Role"),
    (group_item("g", MemberList=[{"Member_Account": "x" * 33, "Role": "Member"}]),
     "GroupInfo[0].MemberList[0].Member_Account"),
    (group_item("g", MemberList=[{"Member_Account": "alice", "Role": "Owner"},
                                 {"Member_Account": "alice", "Role": "Owner"}]),
     "GroupInfo[0].MemberList[1].Member_Account"),
    (group_item("g", MemberList=[{"Member_Account": "bob", "Role": "Owner"}]), "GroupInfo[0].MemberList"),
])
def test_group_info_answers_that_do_not_fit(make_client: Callable[..., Client], item: dict[str, Any],
                                            field: str) -> None:
    api, _ = api_answering(make_client, lambda name, body: envelope(GroupInfo=[item]))
    with pytest.raises(ProtocolError) as caught:
        api.get_group_info(["g"])
    assert caught.value.field == field, caught.value


def test_group_info_missing_from_the_answer_is_said_per_group(make_client: Callable[..., Client]) -> None:
    api, _ = api_answering(make_client, lambda name, body: envelope(GroupInfo=[group_item("a")]))
    results = api.get_group_info(["a", "b"])
    assert results["a"].ok and results["b"].code is None and "missing" in results["b"].info


def test_a_group_listing_fewer_members_than_it_counts_is_read_page_by_page(
        make_client: Callable[..., Client]) -> None:
    def answer(name: str, body: dict[str, Any]) -> dict[str, Any]:
        if name == "get_group_info":
            return envelope(GroupInfo=[group_item("g", MemberNum=3)])
        return envelope(MemberNum=3, MemberList=[
            {"Member_Account": "alice", "Role": "Owner"}, {"Member_Account": "bob", "Role": "Member"},
            {"Member_Account": "carol", "Role": "Admin"}])

    api, called = api_answering(make_client, answer)
    group = api.get_group_info(["g"])["g"].group
    assert group is not None and list(group.members or {}) == ["alice", "bob", "carol"]
    assert called == ["get_group_info", "get_group_member_info"]


@pytest.mark.parametrize(("members", "field"), [
    ([{"Member_Account": "stranger", "Result": 1}], "MemberList[0].Member_Account"),
    ([{"Member_Account": "bob", "Result": 7}], "MemberList[0].Result"),
    ([{"Member_Account": "bob", "Result": "1"}], "MemberList[0].Result"),
    ([{"Member_Account": "bob", "Result": 1}, {"Member_Account": "bob", "Result": 2}],
     "MemberList[1].Member_Account"),
])
def test_member_results_that_do_not_fit(make_client: Callable[..., Client], members: list[Any],
                                        field: str) -> None:
    api, _ = api_answering(make_client, lambda name, body: envelope(MemberList=members))
    with pytest.raises(ProtocolError) as caught:
        api.add_members("g", ["bob"])
    assert caught.value.field == field


def test_member_results_say_each_outcome(make_client: Callable[..., Client]) -> None:
    def answer(name: str, body: dict[str, Any]) -> dict[str, Any]:
        return envelope(MemberList=[{"Member_Account": m["Member_Account"], "Result": r}
                                    for m, r in zip(body["MemberList"], [0, 1, 2, 3], strict=False)])

    api, _ = api_answering(make_client, answer)
    results = api.add_members("g", ["a", "b", "c", "d", "e"])
    assert [results[m].code for m in "abcde"] == [None, 0, 0, 0, None]
    assert [results[m].data.get("result") for m in "abcd"] == [
        "failed", "added", "already a member", "invited; waiting for the invitee's confirmation"]
    assert "missing" in results["e"].info


def test_a_create_answering_another_group_id_is_refused(make_client: Callable[..., Client]) -> None:
    api, _ = api_answering(make_client, lambda name, body: envelope(GroupId="@TGS#2ABC"))
    with pytest.raises(ProtocolError) as caught:
        api.create_group(NewGroup("mine", "Public", "Mine"))
    assert caught.value.field == "GroupId"


def test_10006_and_10002_are_retried(make_client: Callable[..., Client]) -> None:
    codes = [10006, 10002]

    def answer(name: str, body: dict[str, Any]) -> dict[str, Any]:
        return envelope(codes.pop(0)) if codes else envelope(TotalCount=0, GroupIdList=[], Next=0)

    api, called = api_answering(make_client, answer)
    assert api.list_group_ids() == [] and len(called) == 3


def test_a_community_member_cursor_that_repeats_is_refused(make_client: Callable[..., Client]) -> None:
    api, called = api_answering(make_client, lambda name, body: envelope(
        MemberNum=5, MemberList=[{"Member_Account": "a", "Role": "Member"}], Next="same"))
    with pytest.raises(ProtocolError, match="repeats"):
        api.read_members("@TGS#_c", community=True)
    assert len(called) == 2
