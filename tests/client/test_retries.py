"""Retries: transient failures are retried (bounded), permanent ones are not, and every operation
converges under injected faults, in process and over loopback HTTP."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from chatsync.emulator import Emulator
from chatsync.emulator.server import RunningEmulator
from chatsync.emulator.transport import EmulatorTransport
from chatsync.errors import CallFailed
from chatsync.facts.endpoints import ENDPOINTS
from chatsync.tencent.api import ChatApi
from chatsync.tencent.client import Client
from chatsync.tencent.retry import RetryPolicy
from chatsync.tencent.target import Target
from tests.client.conftest import LOCAL, Recorder, envelope, kept, mock
from tests.support import make_emulator, refused_port

LOCAL_URL = LOCAL.url
THREE = ("nick", "face_url", "self_signature")


def converge(client: Client, emulator: Emulator, reader: Client) -> None:
    """Run a whole provisioning story through ``client`` against a faulty ``emulator``, then switch
    the faults off and check the emulator's state with ``reader``."""
    api = ChatApi(client)
    accounts = {f"user{i:03d}": {"nick": f"Nick {i}", "face_url": f"https://x/{i}.png"} for i in range(300)}
    imported = api.multiaccount_import(accounts)
    assert {r.code for r in imported.values()} == {0}, [r for r in imported.values() if not r.ok]
    assert set(imported) == set(accounts)
    bots = {f"@RBT#bot{i}": {"nick": f"Bot {i}", "self_signature": f"sig {i}"} for i in range(5)}
    for bot, fields in bots.items():
        api.create_robot(bot, fields)
    client.map(lambda i: api.portrait_set(f"user{i:03d}", {"self_signature": f"about {i}",
                                                             "nick": f"Renamed {i}"}), range(40))
    doomed = [f"user{i:03d}" for i in range(150, 300)]
    deleted = api.account_delete(doomed)
    assert set(deleted) == set(doomed)
    # an after-commit fault makes the retry of a deletion meet "does not exist" (70107): both mean gone
    assert {r.code for r in deleted.values()} <= {0, 70107}
    checked = api.account_check(accounts)
    assert {r.code for r in checked.values()} == {0}
    assert len(api.get_all_robots()) == 5
    assert api.account_check(["@RBT#bot0"])["@RBT#bot0"].data["AccountStatus"] == "Imported"

    emulator.faults.rate = 0.0
    truth = ChatApi(reader)
    assert sorted(truth.get_all_robots()) == sorted(bots)
    status = {uid: r.data["AccountStatus"] for uid, r in truth.account_check(accounts).items()}
    assert status == {uid: "Imported" if int(uid[4:]) < 150 else "NotImported" for uid in accounts}
    profiles = truth.portrait_get([f"user{i:03d}" for i in range(150)], THREE)
    for i in range(150):
        expected = {"nick": f"Nick {i}", "face_url": f"https://x/{i}.png", "self_signature": ""}
        if i < 40:
            expected.update(nick=f"Renamed {i}", self_signature=f"about {i}")
        assert profiles[f"user{i:03d}"].ok
        assert dict(profiles[f"user{i:03d}"].data) == expected
    bot_profiles = truth.portrait_get(sorted(bots), THREE)
    for bot, fields in bots.items():
        assert bot_profiles[bot].data["nick"] == fields["nick"]
        assert bot_profiles[bot].data["self_signature"] == fields["self_signature"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_operation_converges_under_faults_in_process(make_client: Callable[..., Client],
                                                           seed: int) -> None:
    emulator = make_emulator(fault_rate=0.3, seed=seed)
    recorder = Recorder(EmulatorTransport(emulator))
    client = make_client(transport=recorder, parallelism=8)
    reading = Recorder(EmulatorTransport(emulator))
    converge(client, emulator, make_client(transport=reading))
    faults = [code for code in recorder.codes() if code != 0]
    assert len(faults) > 20  # the faults really happened (drops, 502s, transient codes)
    assert {"drop", "HTTP 502"} <= set(faults)
    assert set(reading.codes()) == {0}  # the state was read back without faults
    assert len(emulator.store.accounts) == 1 + 150 + 5  # admin, kept accounts, bots: no duplicates


def test_every_operation_converges_under_faults_over_loopback_http(
    make_client: Callable[..., Client],
) -> None:
    emulator = make_emulator(fault_rate=0.3, seed=11)
    with RunningEmulator(emulator) as server:
        target = Target((server.url,), "CHATSYNC_ENDPOINT")
        wire = Recorder(httpx.HTTPTransport())
        client = make_client(transport=wire, target=target, parallelism=8)
        reader = make_client(transport=httpx.HTTPTransport(), target=target)
        converge(client, emulator, reader)
    assert sum(client.calls.values()) >= 55 + 10  # 55 logical calls, and retries on top
    assert {"drop", "HTTP 502"} <= set(wire.codes())  # real dropped connections and 502 pages
    assert len(emulator.store.accounts) == 1 + 150 + 5


# -- permanent codes --------------------------------------------------------------------------

def test_a_wrong_secret_key_fails_at_once_and_stops_the_run(make_client: Callable[..., Client]) -> None:
    emulator = make_emulator()
    client = make_client(emulator, key="not-the-key-of-this-app")
    with pytest.raises(CallFailed) as caught:
        client.call("get_all_robots")
    failure = caught.value
    assert failure.code == 70009
    assert failure.attempts == 1
    assert emulator.calls["get_all_robots"] == 1
    assert failure.stops_run
    assert "does not belong to this SDKAppID" in failure.hint
    assert "does not belong to this SDKAppID" in str(failure)


def test_a_wrong_key_stops_a_batch_operation_too(make_client: Callable[..., Client]) -> None:
    emulator = make_emulator()
    api = ChatApi(make_client(emulator, key="not-the-key-of-this-app"))
    with pytest.raises(CallFailed) as caught:
        api.account_check([f"u{i}" for i in range(250)])
    assert caught.value.code == 70009 and caught.value.stops_run


def test_the_free_edition_account_limit_is_permanent_with_the_upgrade_hint(
    make_client: Callable[..., Client],
) -> None:
    emulator = make_emulator(max_accounts=2)  # the admin counts: one more account fits
    client = make_client(emulator)
    client.call("multiaccount_import", {"AccountList": [{"UserID": "first"}]})
    with pytest.raises(CallFailed) as caught:
        client.call("multiaccount_import", {"AccountList": [{"UserID": "second"}]})
    failure = caught.value
    assert failure.code == 70398
    assert failure.attempts == 1
    assert emulator.calls["multiaccount_import"] == 2
    assert "100 accounts" in failure.hint and "100 accounts" in str(failure)
    assert not failure.stops_run  # other changes (updates, deletions) can still go on


def test_the_bot_limit_is_permanent(make_client: Callable[..., Client]) -> None:
    emulator = make_emulator(max_bots=1)
    api = ChatApi(make_client(emulator))
    api.create_robot("@RBT#one", {"nick": "One"})
    with pytest.raises(CallFailed) as caught:
        api.create_robot("@RBT#two", {"nick": "Two"})
    assert caught.value.code == 10008
    assert caught.value.attempts == 1
    assert emulator.calls["create_robot"] == 2
    assert "20 active bots" in caught.value.hint


# -- bounds -----------------------------------------------------------------------------------

@pytest.mark.parametrize("answer", [envelope(70500), envelope(60007), httpx.Response(502, text="<html>")])
def test_a_transient_failure_is_retried_up_to_max_attempts(make_client: Callable[..., Client],
                                                           answer: dict[str, Any] | httpx.Response) -> None:
    seen: list[httpx.Request] = []
    client = make_client(transport=kept(seen, answer),
                         retry=RetryPolicy(max_attempts=5, base_delay=0.001, max_delay=0.002))
    with pytest.raises(CallFailed) as caught:
        client.call("account_check", {"CheckItem": [{"UserID": "a"}]})
    assert caught.value.attempts == 5
    assert len(seen) == 5
    assert client.calls["account_check"] == 5
    text = str(caught.value)
    assert "after 5 attempts" in text
    if isinstance(answer, dict):
        assert caught.value.code == answer["ErrorCode"]
        assert str(answer["ErrorCode"]) in text
    else:
        assert caught.value.code is None and "502" in text


def test_a_transient_failure_then_success_reports_the_attempts(make_client: Callable[..., Client]) -> None:
    answers: Iterator[httpx.Response | dict[str, Any]] = iter([envelope(70169), httpx.Response(502),
                                                               envelope(0, ResultItem=[])])
    client = make_client(transport=mock(lambda r: next(answers)))
    assert client.call("account_check", {"CheckItem": [{"UserID": "a"}]}).attempts == 3


def test_a_dropped_connection_is_retried(make_client: Callable[..., Client]) -> None:
    state = {"n": 0}

    def flaky(request: httpx.Request) -> dict[str, Any]:
        state["n"] += 1
        if state["n"] < 3:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.",
                                            request=request)
        return envelope()

    client = make_client(transport=mock(flaky))
    assert client.call("create_robot", {"UserID": "@RBT#x"}).attempts == 3


def test_the_deadline_bounds_the_total_time(make_client: Callable[..., Client]) -> None:
    """On the client's clock, where each answer takes 0.125 s: attempts start at 0, 0.125, 0.25 and
    0.375 s, and none after, since the next would start past the 0.5 s deadline."""
    clock = [0.0]
    starts: list[float] = []

    def answer(request: httpx.Request) -> dict[str, Any]:
        starts.append(clock[0])
        clock[0] += 0.125  # exact in binary: the sums are too
        return envelope(70500)  # transient: retried while the deadline allows

    policy = RetryPolicy(max_attempts=10_000, base_delay=0.001, max_delay=0.001, deadline=0.5,
                         rng=random.Random(1))
    client = make_client(transport=mock(answer), retry=policy, monotonic=lambda: clock[0])
    with pytest.raises(CallFailed) as caught:
        client.call("get_all_robots")
    assert starts == [0.0, 0.125, 0.25, 0.375]
    assert caught.value.attempts == 4


def test_a_refused_connection_gives_up_after_connect_attempts(make_client: Callable[..., Client]) -> None:
    with refused_port() as port:
        url = f"http://127.0.0.1:{port}"
        client = make_client(transport=httpx.HTTPTransport(), target=Target((url,), "CHATSYNC_ENDPOINT"),
                             retry=RetryPolicy(max_attempts=12, connect_attempts=3, base_delay=0.001,
                                               max_delay=0.01))
        with pytest.raises(CallFailed) as caught:
            client.call("get_all_robots")
    failure = caught.value
    assert failure.attempts == 3
    assert client.calls["get_all_robots"] == 3
    assert failure.code is None
    assert failure.stops_run
    assert url in failure.hint and "CHATSYNC_ENDPOINT" in failure.hint
    assert url in str(failure)


def test_an_unreachable_primary_domain_falls_back_to_the_backup(make_client: Callable[..., Client]) -> None:
    hosts = []

    def dns_trouble(request: httpx.Request) -> dict[str, Any]:
        hosts.append(request.url.host)
        if request.url.host == "primary.example.com":
            raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)
        return envelope(Robot_Account=[])

    target = Target(("https://primary.example.com", "https://backup.example.com"), "app.region test")
    client = make_client(transport=mock(dns_trouble), target=target)
    assert client.call("get_all_robots").attempts == 2
    client.call("get_all_robots")
    assert hosts == ["primary.example.com", "backup.example.com", "backup.example.com"]


@pytest.mark.parametrize("response", [
    httpx.Response(404, text="<html>Not Found</html>"),
    httpx.Response(200, text="<html><body>Welcome to nginx!</body></html>",
                   headers={"Content-Type": "text/html"}),
    httpx.Response(200, json={"hello": "world"}),
])
def test_an_answer_from_something_else_than_a_chat_server_says_so(make_client: Callable[..., Client],
                                                                  response: httpx.Response) -> None:
    client = make_client(transport=mock(lambda r: response),
                         retry=RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.001))
    with pytest.raises(CallFailed) as caught:
        client.call("get_all_robots")
    failure = caught.value
    assert failure.code is None
    assert failure.stops_run
    text = str(failure)
    assert "not look like a Chat" in text or "not a Chat API answer" in text
    assert LOCAL_URL in failure.hint
    if response.status_code == 404:
        assert failure.attempts == 1 and "404" in text


def test_an_unknown_code_is_permanent(make_client: Callable[..., Client]) -> None:
    seen: list[httpx.Request] = []
    client = make_client(transport=kept(seen, envelope(98765)))
    with pytest.raises(CallFailed) as caught:
        client.call("get_all_robots")
    assert caught.value.code == 98765 and caught.value.attempts == 1 and len(seen) == 1


def test_all_endpoints_are_known_to_the_counter(make_client: Callable[..., Client]) -> None:
    client = make_client(transport=mock(lambda r: envelope()))
    assert set(client.calls) == set(ENDPOINTS)
    assert not any(client.calls.values())
    with pytest.raises(KeyError):
        client.call("no_such_api")
