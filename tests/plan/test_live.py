"""read_live / plan() against an in-process emulator: exactly the reads docs/contract.md §4 allows,
no writes."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from chatsync.domain.live import LiveState, Wanted, wanted_for
from chatsync.domain.model import PROFILE_FIELDS, Kind, Principal
from chatsync.emulator import Emulator
from chatsync.emulator.transport import EmulatorTransport
from chatsync.engine.plan import plan
from chatsync.engine.read import LiveReader, read_live
from chatsync.errors import CallFailed, ChatsyncError, LiveReadError
from chatsync.tencent.api import ChatApi
from tests.client.conftest import Recorder, body_of, envelope, mock
from tests.plan.conftest import ENDPOINT, desired, seed, writes
from tests.support import SECRET, make_emulator

READS = ("get_all_robots", "account_check", "portrait_get")


def found(state: LiveState, kind: Kind, user_id: str) -> Principal:
    """The object ``state`` read, which must be there."""
    principal = state.get(kind, user_id)
    assert principal is not None, f"{kind}.{user_id} was not read"
    return principal


def counts(emulator: Emulator) -> dict[str, int]:
    return {name: n for name, n in emulator.calls.items() if n}


def test_wanted_for_lists_every_declared_object_with_its_managed_fields() -> None:
    want = desired(bots={"@RBT#a": {"nick": "A", "self_signature": "s"}, "@RBT#x": {"state": "absent"}},
                   accounts={"alice": {"face_url": "f"}, "bob": None, "m": {"state": "absent"}})
    made = wanted_for(want)
    assert [w.declared for w in made] == list(want.principals())  # each names what it reads for
    assert [w._replace(declared=None) for w in made] == [
        Wanted("bot", "@RBT#a", ("nick", "self_signature")),
        Wanted("bot", "@RBT#x", ()),
        Wanted("account", "alice", ("face_url", "nick")),  # nick too: an import update sends both
        Wanted("account", "bob", ()),
        Wanted("account", "m", ()),
    ]


def test_250_new_accounts_read_with_1_bot_list_and_3_checks(make_api: Callable[..., ChatApi]) -> None:
    emulator = make_emulator()
    recorder = Recorder(EmulatorTransport(emulator))
    want = desired(accounts={f"user{i}": {"nick": f"N{i}"} for i in range(250)})
    result = plan(make_api(transport=recorder), want, ENDPOINT)
    assert counts(emulator) == {"get_all_robots": 1, "account_check": 3}
    sizes = sorted(len(body_of(r)["CheckItem"]) for r in recorder.requests
                   if r.url.path.endswith("/account_check"))
    assert sizes == [50, 100, 100]
    assert result.summary == {"create": 250, "update": 0, "delete": 0}
    assert result.estimate.calls == {"multiaccount_import": 3, "portrait_get": 3}  # and the read-back


def test_250_existing_accounts_with_fields_read_with_3_checks_and_3_profile_reads(
    make_api: Callable[..., ChatApi],
) -> None:
    emulator = make_emulator()
    seed(emulator, accounts={f"user{i}": {"nick": f"N{i}", "face_url": "old"} for i in range(250)})
    want = desired(accounts={f"user{i}": {"nick": f"N{i}", "face_url": "new" if i % 2 else "old"}
                             for i in range(250)})
    result = plan(make_api(emulator), want, ENDPOINT)
    assert counts(emulator) == {"get_all_robots": 1, "account_check": 3, "portrait_get": 3}
    assert result.summary == {"create": 0, "update": 125, "delete": 0}
    assert all(c.before == {"face_url": "old"} and c.after == {"face_url": "new"} for c in result.changes)


def test_profiles_of_bots_and_accounts_share_batches_of_100(make_api: Callable[..., ChatApi]) -> None:
    emulator = make_emulator()
    bots = {f"@RBT#b{i}": {"nick": f"B{i}"} for i in range(20)}
    accounts = {f"user{i}": {"nick": f"N{i}"} for i in range(150)}
    seed(emulator, bots=bots, accounts=accounts)
    recorder = Recorder(EmulatorTransport(emulator))
    result = plan(make_api(transport=recorder), desired(bots=bots, accounts=accounts), ENDPOINT)
    assert result.empty
    assert counts(emulator) == {"get_all_robots": 1, "account_check": 2, "portrait_get": math.ceil(170 / 100)}
    asked = [body_of(r) for r in recorder.requests if r.url.path.endswith("/portrait_get")]
    ids = [uid for body in asked for uid in body["To_Account"]]
    assert sorted(ids) == sorted([*bots, *accounts])  # each read once
    assert all(len(body["To_Account"]) <= 100 for body in asked)
    # only the managed tag, and for accounts face_url too (an update of nick by import resends it)
    assert all(body["TagList"] == [PROFILE_FIELDS["nick"], PROFILE_FIELDS["face_url"]] for body in asked)
    checked = [item["UserID"] for r in recorder.requests if r.url.path.endswith("/account_check")
               for item in body_of(r)["CheckItem"]]
    assert sorted(checked) == sorted(accounts)  # bots are known from get_all_robots, not checked


def test_objects_without_managed_fields_are_never_profile_read(make_api: Callable[..., ChatApi]) -> None:
    emulator = make_emulator()
    seed(emulator, bots={"@RBT#plain": {"nick": "P"}, "@RBT#gone": {}},
         accounts={**{f"plain{i}": {"nick": "x"} for i in range(120)}, "managed": {"nick": "M"},
                   "mallory": {"nick": "bad"}})
    want = desired(bots={"@RBT#plain": None, "@RBT#gone": {"state": "absent"}},
                   accounts={**{f"plain{i}": None for i in range(120)}, "managed": {"face_url": "f"},
                             "mallory": {"state": "absent"}, "newbie": {"nick": "new"}})
    recorder = Recorder(EmulatorTransport(emulator))
    result = plan(make_api(transport=recorder), want, ENDPOINT)
    assert counts(emulator) == {"get_all_robots": 1, "account_check": 2, "portrait_get": 1}
    [read] = [body_of(r) for r in recorder.requests if r.url.path.endswith("/portrait_get")]
    assert read["To_Account"] == ["managed"]
    assert read["TagList"] == [PROFILE_FIELDS["nick"], PROFILE_FIELDS["face_url"]]
    assert [(c.action, c.address) for c in result.changes] == [
        ("delete", "account.mallory"), ("delete", "bot.@RBT#gone"),
        ("update", "account.managed"), ("create", "account.newbie")]


def test_nothing_declared_reads_only_the_bot_list(make_api: Callable[..., ChatApi]) -> None:
    emulator = make_emulator()
    seed(emulator, bots={"@RBT#a": {}}, accounts={"alice": {}})
    result = plan(make_api(emulator), desired(), ENDPOINT)
    assert result.empty and result.observed("bot") == ["@RBT#a"]
    assert counts(emulator) == {"get_all_robots": 1}


def test_undeclared_accounts_are_not_read(make_api: Callable[..., ChatApi]) -> None:
    emulator = make_emulator()
    seed(emulator, accounts={f"other{i}": {"nick": "o"} for i in range(50)} | {"alice": {"nick": "A"}})
    recorder = Recorder(EmulatorTransport(emulator))
    result = plan(make_api(transport=recorder), desired(accounts={"alice": {"nick": "B"}}), ENDPOINT)
    sent = [(r.url.path.rsplit("/", 1)[-1], body_of(r)) for r in recorder.requests]
    assert sent == [  # the bot list, then alice alone: checked, and her profile read (face_url
        ("get_all_robots", {}),  # too: an import update of her nick would send both)
        ("account_check", {"CheckItem": [{"UserID": "alice"}]}),
        ("portrait_get", {"To_Account": ["alice"],
                          "TagList": [PROFILE_FIELDS["nick"], PROFILE_FIELDS["face_url"]]}),
    ]
    assert not any("other" in json.dumps(body) for _, body in sent)
    assert [(c.action, c.address) for c in result.changes] == [("update", "account.alice")]


def test_plan_never_writes(make_api: Callable[..., ChatApi]) -> None:
    emulator = make_emulator()
    seed(emulator, bots={"@RBT#old": {"nick": "o"}, "@RBT#upd": {"nick": "u"}},
         accounts={"alice": {"nick": "Al"}, "mallory": {}})
    with emulator.store.lock:
        before = json.dumps(emulator.store.snapshot(), sort_keys=True)
        version = emulator.store.version
    want = desired(bots={"@RBT#new": {"nick": "N"}, "@RBT#upd": {"nick": "U"}},
                   accounts={"alice": {"nick": "Alice", "self_signature": "s"},
                             "mallory": {"state": "absent"},
                             **{f"n{i}": {"nick": "n"} for i in range(120)}},
                   prune_bots=True)
    result = plan(make_api(emulator), want, ENDPOINT)
    assert result.summary == {"create": 121, "update": 2, "delete": 2}
    assert writes(emulator) == {}
    assert set(counts(emulator)) <= set(READS)
    assert emulator.store.version == version
    assert json.dumps(emulator.store.snapshot(), sort_keys=True) == before
    # the same plan again from a fresh client: the app is unchanged
    assert plan(make_api(emulator), want, ENDPOINT).data == result.data


def test_values_read_equal_to_the_declared_ones_are_the_declared_objects(
    make_api: Callable[..., ChatApi],
) -> None:
    """A large plan reads most values unchanged: it keeps one string for the two, not two."""
    emulator = make_emulator()
    seed(emulator, accounts={"alice": {"nick": "Alice"}, "bob": {"nick": "Bob"}})
    want = desired(accounts={"alice": {"nick": "Al" + "ice"}, "bob": {"nick": "Robert"}})
    reader = LiveReader(make_api(emulator))
    for principal in want.principals():
        reader.declare(principal)
    state = reader.finish()
    alice, bob = found(state, "account", "alice"), found(state, "account", "bob")
    assert alice.fields["nick"] is want.accounts["alice"].fields["nick"]
    assert bob.fields["nick"] == "Bob"
    assert alice.fields["face_url"] == ""  # read too (an import update sends both); none declared


def test_live_state_holds_exactly_the_fields_read(make_api: Callable[..., ChatApi]) -> None:
    emulator = make_emulator()
    seed(emulator, bots={"@RBT#a": {"nick": "A", "face_url": "fa", "self_signature": "sa"}, "@RBT#b": {}},
         accounts={"alice": {"nick": "Al", "face_url": "f"}, "bob": {}})
    want = desired(bots={"@RBT#a": {"self_signature": "x"}},
                   accounts={"alice": {"nick": "Al", "self_signature": "s"}, "bob": None, "carol": None})
    state = read_live(make_api(emulator), wanted_for(want))
    assert isinstance(state, LiveState)
    assert state.listed["bot"] == ["@RBT#a", "@RBT#b"]
    assert dict(found(state, "bot", "@RBT#a").fields) == {"self_signature": "sa"}
    # a tag never set reads as ""
    # face_url too: an account managing nick has both read (an import update sends both)
    assert dict(found(state, "account", "alice").fields) == {"nick": "Al", "self_signature": "",
                                                             "face_url": "f"}
    assert dict(found(state, "account", "bob").fields) == {}
    assert state.get("account", "carol") is None
    assert dict(found(state, "bot", "@RBT#b").fields) == {}  # listed, not declared: exists, nothing read
    assert writes(emulator) == {}


def test_a_plan_against_the_emulator_matches_the_pure_diff(make_api: Callable[..., ChatApi]) -> None:
    emulator = make_emulator()
    seed(emulator, bots={"@RBT#助手": {"nick": "客服"}}, accounts={"élodie": {"nick": "E"}, "m": {}})
    want = desired(bots={"@RBT#助手": {"nick": "客服 🤖"}},
                   accounts={"élodie": {"nick": "Élodie"}, "m": {"state": "absent"}, "名前": {"nick": "名"}})
    result = plan(make_api(emulator), want, ENDPOINT)
    assert [(c.action, c.address, c.before, c.after) for c in result.changes] == [
        ("delete", "account.m", {}, None),
        ("update", "bot.@RBT#助手", {"nick": "客服"}, {"nick": "客服 🤖"}),
        ("update", "account.élodie", {"nick": "E"}, {"nick": "Élodie"}),
        ("create", "account.名前", None, {"nick": "名"}),
    ]


# -- faults --------------------------------------------------------------------------------------------

def _big_app(emulator: Emulator) -> None:
    seed(emulator, bots={f"@RBT#b{i}": {"nick": f"B{i}"} for i in range(15)},
         accounts={f"user{i}": {"nick": f"N{i}", "face_url": "f"} for i in range(180)})


BIG_WANT: dict[str, Any] = dict(
    bots={**{f"@RBT#b{i}": {"nick": f"B{i}" if i % 3 else "changed"} for i in range(10)},
          "@RBT#new": {"nick": "N"}},
    accounts={**{f"user{i}": {"nick": f"N{i}" if i % 4 else "changed", "face_url": "f"} for i in range(200)},
              **{f"plain{i}": None for i in range(30)}, "user5": {"state": "absent"}},
    prune_bots=True,
    max_deletes=5,
)


@pytest.mark.parametrize("seed_value", [1, 2, 3])
def test_a_read_under_30_percent_faults_gives_the_same_plan(make_api: Callable[..., ChatApi],
                                                            seed_value: int) -> None:
    calm = make_emulator()
    _big_app(calm)
    expected = plan(make_api(calm), desired(**BIG_WANT), ENDPOINT).data
    faulty = make_emulator(fault_rate=0.3, seed=seed_value)
    _big_app(faulty)
    got = plan(make_api(faulty), desired(**BIG_WANT), ENDPOINT).data
    assert got == expected  # fingerprint included
    assert writes(faulty) == {}
    assert sum(faulty.calls[name] for name in READS) > sum(calm.calls[name] for name in READS)


@pytest.mark.parametrize("parallelism", [1, 2])
def test_a_read_with_little_parallelism_gives_the_same_plan_and_calls(make_api: Callable[..., ChatApi],
                                                                      parallelism: int) -> None:
    calm = make_emulator()
    _big_app(calm)
    expected = plan(make_api(calm), desired(**BIG_WANT), ENDPOINT).data
    narrow = make_emulator()
    _big_app(narrow)
    assert plan(make_api(narrow, parallelism=parallelism), desired(**BIG_WANT), ENDPOINT).data == expected
    # 230 accounts declared; profiles of 10 bots + 179 existing accounts with fields (user5 is absent)
    assert counts(narrow) == counts(calm) == {"get_all_robots": 1, "account_check": 3, "portrait_get": 2}


# -- failures ----------------------------------------------------------------------------------------

def _mock_app(
    check: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    portrait: Callable[[list[dict[str, Any]]], dict[str, Any]] | None = None,
) -> httpx.MockTransport:
    """A MockTransport app: one bot, accounts a/b/c imported; per-endpoint overrides."""

    def handler(request: httpx.Request) -> dict[str, Any]:
        name = request.url.path.rsplit("/", 1)[-1]
        body = body_of(request)
        if name == "get_all_robots":
            return envelope(Robot_Account=["@RBT#a"])
        if name == "account_check":
            items = [{"UserID": i["UserID"], "ResultCode": 0, "ResultInfo": "", "AccountStatus": "Imported"}
                     for i in body["CheckItem"]]
            return envelope(ResultItem=[check(item) if check else item for item in items])
        if name == "portrait_get":
            items = [{"To_Account": uid, "ResultCode": 0, "ResultInfo": "",
                      "ProfileItem": [{"Tag": tag, "Value": "v"} for tag in body["TagList"]]}
                     for uid in body["To_Account"]]
            return portrait(items) if portrait else envelope(UserProfileItem=items)
        raise AssertionError(f"plan must not call {name}")

    return mock(handler)


def test_a_permanent_item_failure_in_account_check_is_a_live_read_error(
    make_api: Callable[..., ChatApi],
) -> None:
    def check(item: dict[str, Any]) -> dict[str, Any]:
        if item["UserID"] == "bob":
            return {**item, "ResultCode": 70402, "ResultInfo": "Err_invalid", "AccountStatus": None}
        return item

    want = desired(accounts={"alice": {"nick": "v"}, "bob": {"nick": "v"}, "carol": None})
    with pytest.raises(LiveReadError) as caught:
        plan(make_api(transport=_mock_app(check=check)), want, ENDPOINT)
    text = str(caught.value)
    assert isinstance(caught.value, ChatsyncError)
    assert "'bob'" in text and "70402" in text
    assert "alice" not in text and "carol" not in text
    assert 1 <= len(text.splitlines()) <= 2
    assert all(line.strip() for line in text.splitlines())


def test_several_item_failures_name_the_first_and_count_the_rest(make_api: Callable[..., ChatApi]) -> None:
    def check(item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "ResultCode": 70402} if item["UserID"].startswith("bad") else item

    want = desired(accounts={"bad1": None, "good": None, "bad2": None, "bad3": None})
    with pytest.raises(LiveReadError) as caught:
        read_live(make_api(transport=_mock_app(check=check)), wanted_for(want))
    text = str(caught.value)
    assert "70402" in text and "2 more" in text and len(text.splitlines()) <= 2


def test_a_live_read_error_without_result_info_reads_cleanly(make_api: Callable[..., ChatApi]) -> None:
    # The service may leave ResultInfo empty; the message must not show an empty field (", ;").
    def check(item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "ResultCode": 70402, "ResultInfo": ""} if item["UserID"] == "bob" else item

    with pytest.raises(LiveReadError) as caught:
        read_live(make_api(transport=_mock_app(check=check)), wanted_for(desired(accounts={"bob": None})))
    first = str(caught.value).splitlines()[0]
    assert "'bob'" in first and "70402" in first
    assert ", ;" not in first and not first.rstrip().endswith(",")


def test_a_permanent_item_failure_in_portrait_get_is_a_live_read_error(
    make_api: Callable[..., ChatApi],
) -> None:
    def portrait(items: list[dict[str, Any]]) -> dict[str, Any]:
        items = [{**i, "ResultCode": 40003, "ResultInfo": "Err_Profile_Invalid_Account", "ProfileItem": []}
                 if i["To_Account"] == "carol" else i for i in items]
        return envelope(UserProfileItem=items, Fail_Account=["carol"])

    want = desired(bots={"@RBT#a": {"nick": "v"}}, accounts={"alice": {"nick": "v"}, "carol": {"nick": "v"}})
    with pytest.raises(LiveReadError) as caught:
        plan(make_api(transport=_mock_app(portrait=portrait)), want, ENDPOINT)
    text = str(caught.value)
    assert "'carol'" in text and "40003" in text and len(text.splitlines()) <= 2


def test_a_transient_item_failure_is_retried_and_the_plan_made(make_api: Callable[..., ChatApi]) -> None:
    seen = {"n": 0}

    def check(item: dict[str, Any]) -> dict[str, Any]:
        if item["UserID"] == "bob" and seen["n"] == 0:
            seen["n"] += 1
            return {**item, "ResultCode": 70169, "AccountStatus": None}
        return item

    want = desired(accounts={"alice": {"nick": "v"}, "bob": {"nick": "w"}})
    result = plan(make_api(transport=_mock_app(check=check)), want, ENDPOINT)
    assert [(c.address, c.before, c.after) for c in result.changes] == [("account.bob", {"nick": "v"},
                                                                         {"nick": "w"})]


def test_a_wrong_key_stops_the_read_with_a_chatsync_error(make_api: Callable[..., ChatApi]) -> None:
    emulator = make_emulator()
    seed(emulator, accounts={"alice": {"nick": "A"}})
    api = make_api(emulator, key="some-other-secret-key-entirely-0000")
    want = desired(accounts={f"user{i}": {"nick": "n"} for i in range(250)})
    with pytest.raises(ChatsyncError) as caught:
        plan(api, want, ENDPOINT)
    failure = caught.value
    assert isinstance(failure, CallFailed) and failure.stops_run and failure.code == 70009
    text = str(failure)
    assert "70009" in text
    assert len(text.splitlines()) <= 2
    for secret in (SECRET, "some-other-secret-key-entirely-0000", *api.client.secrets()):
        assert secret not in text
    assert writes(emulator) == {}


def test_a_run_stopping_failure_of_the_bot_list_propagates(make_api: Callable[..., ChatApi]) -> None:
    def handler(request: httpx.Request) -> dict[str, Any]:
        name = request.url.path.rsplit("/", 1)[-1]
        if name == "get_all_robots":
            return envelope(70020)  # SDKAppID not found: wrong data centre, every call would fail
        return envelope(ResultItem=[])

    with pytest.raises(ChatsyncError) as caught:
        plan(make_api(transport=mock(handler)), desired(accounts={"a": None}), ENDPOINT)
    assert "70020" in str(caught.value)
