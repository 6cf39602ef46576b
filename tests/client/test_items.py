"""Batch operations: chunks of 100, one result per id, only failed items sent again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from chatsync.emulator import Emulator
from chatsync.emulator.transport import EmulatorTransport
from chatsync.tencent.api import ChatApi, chunks
from chatsync.tencent.client import Client
from tests.client.conftest import Recorder, body_of, envelope, mock
from tests.support import make_emulator


@pytest.fixture
def traced(make_client: Callable[..., Client]) -> Callable[..., tuple[Emulator, ChatApi, Recorder]]:
    """An emulator, a ChatApi on it, and the recorder of the wire."""

    def start(**config: Any) -> tuple[Emulator, ChatApi, Recorder]:
        emulator = make_emulator(**config)
        recorder = Recorder(EmulatorTransport(emulator))
        return emulator, ChatApi(make_client(transport=recorder)), recorder

    return start


def test_chunks_cut_into_runs_of_at_most_100() -> None:
    ids = [f"u{i}" for i in range(250)]
    assert [len(c) for c in chunks(ids)] == [100, 100, 50]
    assert [x for c in chunks(ids) for x in c] == ids
    assert [len(c) for c in chunks(ids[:100])] == [100]
    assert chunks([]) == []
    assert [list(c) for c in chunks([1, 2, 3], 2)] == [[1, 2], [3]]


def test_account_check_of_250_ids_makes_exactly_3_calls_of_at_most_100(
    traced: Callable[..., tuple[Emulator, ChatApi, Recorder]],
) -> None:
    emulator, api, recorder = traced()
    ids = [f"u{i}" for i in range(250)]
    results = api.account_check(ids + ids[:10])  # repeats are asked once
    assert emulator.calls["account_check"] == 3
    sizes = sorted(len(body_of(r)["CheckItem"]) for r in recorder.requests)
    assert sizes == [50, 100, 100]
    asked = [item["UserID"] for r in recorder.requests for item in body_of(r)["CheckItem"]]
    assert sorted(asked) == sorted(ids)
    assert set(results) == set(ids)


def test_account_check_tells_imported_from_not_imported(
    traced: Callable[..., tuple[Emulator, ChatApi, Recorder]],
) -> None:
    _, api, _ = traced()
    api.multiaccount_import({"alice": {}, "bob": {"nick": "Bob"}})
    results = api.account_check(["alice", "carol", "bob", "Alice"])
    assert {uid: r.data["AccountStatus"] for uid, r in results.items()} == {
        "alice": "Imported", "bob": "Imported", "carol": "NotImported", "Alice": "NotImported"}
    assert all(r.ok and r.code == 0 and r.attempts == 1 for r in results.values())


def test_import_over_the_account_limit_fails_exactly_the_excess_ids(
    traced: Callable[..., tuple[Emulator, ChatApi, Recorder]],
) -> None:
    emulator, api, _ = traced(max_accounts=4)  # the admin and three accounts
    results = api.multiaccount_import({uid: {"nick": uid.upper()} for uid in ["a", "b", "c", "d", "e"]})
    assert {uid: r.code for uid, r in results.items()} == {"a": 0, "b": 0, "c": 0, "d": 70398, "e": 70398}
    assert "100 accounts" in results["d"].hint
    assert not results["d"].ok and results["a"].ok
    assert set(emulator.store.accounts) == {"administrator", "a", "b", "c"}


def test_import_of_ids_under_deletion_lock_fails_exactly_those_ids(
    traced: Callable[..., tuple[Emulator, ChatApi, Recorder]],
) -> None:
    emulator, api, _ = traced(deletion_lock=True)
    ids = [f"u{i}" for i in range(6)]
    api.multiaccount_import({uid: {} for uid in ids})
    assert {r.code for r in api.account_delete(["u1", "u4"]).values()} == {0}
    results = api.multiaccount_import({uid: {"nick": "again"} for uid in ids})
    assert {uid for uid, r in results.items() if r.code == 70399} == {"u1", "u4"}
    assert all(results[uid].ok for uid in ids if uid not in ("u1", "u4"))
    assert "u1" not in emulator.store.accounts and "u0" in emulator.store.accounts


def test_a_batch_where_every_item_fails_gives_each_its_code(
    traced: Callable[..., tuple[Emulator, ChatApi, Recorder]],
) -> None:
    emulator, api, _ = traced(max_accounts=1)  # only the admin fits
    results = api.multiaccount_import({"x": {}, "y": {}})
    assert {uid: r.code for uid, r in results.items()} == {"x": 70398, "y": 70398}
    assert emulator.calls["multiaccount_import"] == 1


def test_account_delete_gives_70107_only_for_unknown_ids(
    traced: Callable[..., tuple[Emulator, ChatApi, Recorder]],
) -> None:
    emulator, api, _ = traced()
    api.multiaccount_import({"alice": {}, "bob": {}, "carol": {}})
    results = api.account_delete(["alice", "ghost", "bob", "nobody"])
    assert {uid: r.code for uid, r in results.items()} == {
        "alice": 0, "ghost": 70107, "bob": 0, "nobody": 70107}
    assert "does not exist" in results["ghost"].hint
    assert set(emulator.store.accounts) == {"administrator", "carol"}


def test_portrait_get_fails_only_the_id_that_is_not_imported(
    traced: Callable[..., tuple[Emulator, ChatApi, Recorder]],
) -> None:
    _, api, _ = traced()
    api.multiaccount_import({"alice": {"nick": "Alice", "face_url": "https://x/a.png"}, "bob": {}})
    api.portrait_set("bob", {"self_signature": "hello"})
    results = api.portrait_get(["alice", "stranger", "bob"], ["nick", "face_url", "self_signature"])
    assert results["stranger"].code == 40003 and results["stranger"].data == {}
    assert dict(results["alice"].data) == {
        "nick": "Alice", "face_url": "https://x/a.png", "self_signature": ""}
    assert dict(results["bob"].data) == {"nick": "", "face_url": "", "self_signature": "hello"}
    assert results["alice"].ok and results["bob"].ok
    only_nick = api.portrait_get(["alice"], ["nick"])
    assert dict(only_nick["alice"].data) == {"nick": "Alice"}


def test_import_carries_nick_and_face_url_in_the_batch(
    traced: Callable[..., tuple[Emulator, ChatApi, Recorder]],
) -> None:
    _, api, recorder = traced()
    api.multiaccount_import({"alice": {"nick": "Alice", "face_url": "https://x/a.png",
                                       "self_signature": "not carried by the import"}})
    (request,) = recorder.requests
    assert body_of(request) == {"AccountList": [{"UserID": "alice", "Nick": "Alice",
                                                 "FaceUrl": "https://x/a.png"}]}


# -- per-item retries, seen on the wire -------------------------------------------------------------

def test_a_transient_item_failure_is_sent_again_alone(make_client: Callable[..., Client]) -> None:
    asked = []

    def answer(request: httpx.Request) -> dict[str, Any]:
        ids = [item["UserID"] for item in body_of(request)["CheckItem"]]
        asked.append(ids)
        first = len(asked) == 1
        return envelope(ResultItem=[
            {"UserID": uid, "ResultCode": 70169 if (first and uid == "b") else 0, "ResultInfo": "",
             "AccountStatus": "Imported"} for uid in ids])

    results = ChatApi(make_client(transport=mock(answer))).account_check(["a", "b", "c"])
    assert asked == [["a", "b", "c"], ["b"]]
    assert {uid: r.code for uid, r in results.items()} == {"a": 0, "b": 0, "c": 0}
    assert results["b"].attempts == 2 and results["a"].attempts == 1


def test_a_permanent_item_failure_is_not_sent_again(make_client: Callable[..., Client]) -> None:
    asked = []

    def answer(request: httpx.Request) -> dict[str, Any]:
        ids = [item["UserID"] for item in body_of(request)["DeleteItem"]]
        asked.append(ids)
        return envelope(ResultItem=[{"UserID": uid, "ResultCode": 70107 if uid == "b" else 0,
                                     "ResultInfo": ""} for uid in ids])

    results = ChatApi(make_client(transport=mock(answer))).account_delete(["a", "b"])
    assert asked == [["a", "b"]]
    assert results["b"].code == 70107 and results["b"].attempts == 1


def test_an_import_item_in_failaccounts_is_sent_again_alone_with_its_fields(
    make_client: Callable[..., Client],
) -> None:
    sent = []

    def answer(request: httpx.Request) -> dict[str, Any]:
        body = body_of(request)
        sent.append(body.get("AccountList", body))
        return envelope(FailAccounts=["b"] if len(sent) == 1 else [])

    accounts = {"a": {"nick": "A"}, "b": {"nick": "B", "face_url": "https://x/b"}, "c": {}}
    results = ChatApi(make_client(transport=mock(answer))).multiaccount_import(accounts)
    assert sent[1:] == [{"UserID": "b", "Nick": "B", "FaceUrl": "https://x/b"}]  # one account_import
    assert all(r.ok for r in results.values())
    assert results["b"].attempts == 2


def test_an_item_missing_from_the_answer_is_asked_again(make_client: Callable[..., Client]) -> None:
    asked = []

    def answer(request: httpx.Request) -> dict[str, Any]:
        ids = [item["UserID"] for item in body_of(request)["CheckItem"]]
        asked.append(ids)
        shown = ids if len(asked) > 1 else ids[:-1]
        return envelope(ResultItem=[{"UserID": uid, "ResultCode": 0, "AccountStatus": "NotImported"}
                                    for uid in shown])

    results = ChatApi(make_client(transport=mock(answer))).account_check(["a", "b", "c"])
    assert asked == [["a", "b", "c"], ["c"]]
    assert results["c"].ok and results["c"].data["AccountStatus"] == "NotImported"


def test_a_chunk_that_fails_after_retries_fails_each_of_its_items(make_client: Callable[..., Client]) -> None:
    def answer(request: httpx.Request) -> dict[str, Any]:
        ids = [item["UserID"] for item in body_of(request)["CheckItem"]]
        if "u150" in ids:
            return envelope(70500)
        return envelope(ResultItem=[{"UserID": uid, "ResultCode": 0, "AccountStatus": "Imported"}
                                    for uid in ids])

    client = make_client(transport=mock(answer))
    results = ChatApi(client).account_check([f"u{i}" for i in range(200)])
    failed = {uid for uid, r in results.items() if not r.ok}
    assert failed == {f"u{i}" for i in range(100, 200)}
    assert {results[uid].code for uid in failed} == {70500}
    assert results["u150"].attempts == client.retry.max_attempts
    assert results["u0"].ok
