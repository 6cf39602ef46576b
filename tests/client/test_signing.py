"""Requests on the wire (§1.1) and the admin UserSig: signed right, cached, renewed, refreshed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from chatsync.emulator.transport import EmulatorTransport
from chatsync.errors import CallFailed
from chatsync.facts.endpoints import ENDPOINTS
from chatsync.tencent import usersig
from chatsync.tencent.api import ChatApi
from chatsync.tencent.client import Client
from chatsync.tencent.credentials import SigCache
from chatsync.tencent.retry import RetryPolicy
from tests.client.conftest import FakeTime, Recorder, body_of, envelope, kept, mock, query_of
from tests.support import ADMIN, SDKAPPID, SECRET, api_for, call, make_emulator


@pytest.fixture
def wire(make_client: Callable[..., Client]) -> tuple[Client, list[httpx.Request]]:
    """A client whose requests are all answered OK and kept."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> dict[str, Any]:
        seen.append(request)
        return envelope()

    return make_client(transport=mock(answer)), seen


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_each_endpoint_is_a_signed_json_post_to_its_path(wire: tuple[Client, list[httpx.Request]],
                                                         name: str) -> None:
    client, seen = wire
    client.call(name, {"UserID": "alice"})
    (request,) = seen
    endpoint = ENDPOINTS[name]
    assert request.method == "POST"
    assert request.url.path == f"/v4/{endpoint.service}/{endpoint.command}"
    assert request.url.scheme == "http" and request.url.host == "127.0.0.1"
    query = query_of(request)
    assert set(query) == {"sdkappid", "identifier", "usersig", "random", "contenttype"}
    assert query["sdkappid"] == str(SDKAPPID)
    assert query["identifier"] == ADMIN
    assert query["contenttype"] == "json"
    assert request.headers["Content-Type"].startswith("application/json")
    assert body_of(request) == {"UserID": "alice"}
    now = time.time()
    assert usersig.verify(query["usersig"], sdkappid=SDKAPPID, identifier=ADMIN, secret_key=SECRET,
                          now=now) == usersig.OK
    verdict = usersig.check(query["usersig"], sdkappid=SDKAPPID, identifier=ADMIN, secret_key=SECRET)
    assert verdict.issued <= now < verdict.expires_at  # a fresh sig, not a stale one
    # a sig for another admin or another key is not what went out
    assert usersig.verify(query["usersig"], sdkappid=SDKAPPID, identifier=ADMIN, secret_key="other",
                          now=now) == usersig.WRONG_KEY


def test_get_all_robots_sends_an_empty_json_object(wire: tuple[Client, list[httpx.Request]]) -> None:
    client, seen = wire
    assert ChatApi(client).get_all_robots() == []
    client.call("get_all_robots")  # no body given: still {}
    assert [r.read() for r in seen] == [b"{}", b"{}"]


def test_random_is_a_fresh_uint32_on_every_call(wire: tuple[Client, list[httpx.Request]]) -> None:
    client, seen = wire
    for _ in range(50):
        client.call("account_check", {"CheckItem": [{"UserID": "a"}]})
    randoms = [query_of(r)["random"] for r in seen]
    assert all(value.isdigit() for value in randoms)
    assert all(0 <= int(value) <= 2**32 - 1 for value in randoms)
    assert len(set(randoms)) > 45  # 50 draws from 2**32 values: a repeat is a one-in-millions event


def test_non_ascii_values_travel_as_utf8_json(wire: tuple[Client, list[httpx.Request]]) -> None:
    client, seen = wire
    client.call("portrait_set", {"From_Account": "bob", "ProfileItem": [
        {"Tag": "Tag_Profile_IM_Nick", "Value": "小明 🚀"}]})
    assert body_of(seen[0])["ProfileItem"][0]["Value"] == "小明 🚀"


def test_an_identifier_needing_quoting_is_quoted(make_client: Callable[..., Client]) -> None:
    seen: list[httpx.Request] = []
    client = make_client(transport=kept(seen, envelope()),
                         sigs=SigCache(SDKAPPID, "ad min&x=1", SECRET))
    client.call("get_all_robots")
    assert query_of(seen[0])["identifier"] == "ad min&x=1"


def test_the_emulator_accepts_what_the_client_sends(make_client: Callable[..., Client]) -> None:
    emulator = make_emulator()
    recorder = Recorder(EmulatorTransport(emulator))
    client = make_client(transport=recorder)
    api = ChatApi(client)
    api.create_robot("@RBT#helper", {"nick": "Helper", "face_url": "https://x/h.png",
                                     "self_signature": "hi"})
    assert api.get_all_robots() == ["@RBT#helper"]
    assert set(recorder.codes()) == {0}


# -- SigCache -----------------------------------------------------------------------------------

def test_one_sig_serves_many_calls_while_fresh(make_client: Callable[..., Client]) -> None:
    emulator = make_emulator()
    recorder = Recorder(EmulatorTransport(emulator))
    client = make_client(transport=recorder)
    for _ in range(30):
        client.call("get_all_robots")
    assert client.sigs.renewals == 1
    assert len({query_of(r)["usersig"] for r in recorder.requests}) == 1


def test_the_sig_is_renewed_once_it_comes_within_the_margin_of_expiry(fake_time: FakeTime) -> None:
    cache = SigCache(SDKAPPID, ADMIN, SECRET, lifetime=1000, margin=100, clock=fake_time)
    first = cache.current()
    fake_time.now += 899
    assert cache.current() == first
    assert cache.renewals == 1
    fake_time.now += 1  # 100 s of life left: renew
    second = cache.current()
    assert cache.renewals == 2
    assert second != first
    assert usersig.check(second, sdkappid=SDKAPPID, identifier=ADMIN, secret_key=SECRET).issued == int(
        fake_time.now)
    assert cache.current() == second
    assert cache.renewals == 2
    assert set(cache.secrets()) == {SECRET, first, second}


def test_a_margin_not_shorter_than_the_lifetime_is_refused() -> None:
    with pytest.raises(ValueError):
        SigCache(SDKAPPID, ADMIN, SECRET, lifetime=100, margin=100)


def test_renew_makes_one_new_sig_however_many_threads_ask(fake_time: FakeTime) -> None:
    cache = SigCache(SDKAPPID, ADMIN, SECRET, clock=fake_time)
    stale = cache.current()
    fake_time.now += 5
    barrier = threading.Barrier(16)
    got = []

    def ask() -> None:
        barrier.wait()
        got.append(cache.renew(stale))

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.renewals == 2
    assert len(set(got)) == 1 and got[0] != stale
    assert cache.renew("some-older-sig") == got[0]  # not the current one: nothing to renew
    assert cache.renewals == 2


def test_a_kicked_admin_sig_is_replaced_and_the_call_succeeds(make_client: Callable[..., Client],
                                                              fake_time: FakeTime) -> None:
    emulator = make_emulator(clock=fake_time)
    client = make_client(emulator, sigs=SigCache(SDKAPPID, ADMIN, SECRET, clock=fake_time))
    assert client.call("get_all_robots").attempts == 1
    fake_time.now += 10
    call(api_for(emulator), "kick", {"UserID": ADMIN})  # every admin sig issued before now dies
    before = emulator.calls["get_all_robots"]
    reply = client.call("get_all_robots")
    assert reply.attempts == 2
    assert emulator.calls["get_all_robots"] == before + 2
    assert client.sigs.renewals == 2
    assert client.call("get_all_robots").attempts == 1  # the new sig stays good


def test_an_expired_sig_is_replaced_and_the_call_succeeds(make_client: Callable[..., Client],
                                                          fake_time: FakeTime) -> None:
    emulator = make_emulator(clock=fake_time)
    stuck = lambda: 1_700_000_000.0  # noqa: E731  the cache's own clock does not see time pass
    client = make_client(emulator, sigs=SigCache(SDKAPPID, ADMIN, SECRET, clock=stuck))
    client.call("get_all_robots")
    fake_time.now += 2 * 86400  # server and signer are two days on: the cached sig expired
    reply = client.call("get_all_robots")
    assert reply.attempts == 2
    assert client.sigs.renewals == 2


def test_a_second_refresh_sig_failure_in_one_call_is_final(make_client: Callable[..., Client]) -> None:
    # docs/tencent-api.md §2: a refresh-sig code gets a new UserSig and ONE retry.
    seen: list[httpx.Request] = []
    client = make_client(transport=kept(seen, envelope(70052)),
                         retry=RetryPolicy(max_attempts=6, base_delay=0.001, max_delay=0.001))
    with pytest.raises(CallFailed) as caught:
        client.call("get_all_robots")
    assert caught.value.code == 70052
    assert caught.value.attempts == 2
    assert len(seen) == 2
    assert caught.value.stops_run
    assert client.sigs.renewals == 2


def test_a_sig_still_expired_after_renewal_fails_after_two_attempts(make_client: Callable[..., Client],
                                                                    fake_time: FakeTime) -> None:
    emulator = make_emulator(clock=lambda: fake_time.now + 2 * 86400)  # server clock two days ahead
    client = make_client(emulator, sigs=SigCache(SDKAPPID, ADMIN, SECRET, clock=fake_time),
                         retry=RetryPolicy(max_attempts=6, base_delay=0.001, max_delay=0.001))
    with pytest.raises(CallFailed) as caught:
        client.call("get_all_robots")
    assert caught.value.code == 70001
    assert caught.value.attempts == 2
    assert emulator.calls["get_all_robots"] == 2
    assert caught.value.stops_run


def test_the_client_sends_a_renewed_sig_once_the_old_one_nears_expiry(make_client: Callable[..., Client],
                                                                      fake_time: FakeTime) -> None:
    emulator = make_emulator(clock=fake_time)
    recorder = Recorder(EmulatorTransport(emulator))
    sigs = SigCache(SDKAPPID, ADMIN, SECRET, lifetime=7200, margin=600, clock=fake_time)
    client = make_client(transport=recorder, sigs=sigs)
    client.call("get_all_robots")
    fake_time.now += 6000  # 1200 s of life left: still good
    client.call("get_all_robots")
    fake_time.now += 700  # 500 s left, inside the margin: a new sig before the call
    client.call("get_all_robots")
    sent = [query_of(r)["usersig"] for r in recorder.requests]
    assert sent[0] == sent[1] != sent[2]
    assert recorder.codes() == [0, 0, 0]  # never a refused sig: renewal came first
    issued = [usersig.check(s, sdkappid=SDKAPPID, identifier=ADMIN, secret_key=SECRET).issued for s in sent]
    assert issued[2] == int(fake_time.now)
