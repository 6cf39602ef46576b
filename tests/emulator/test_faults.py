"""Injected faults: each kind happens, a seed reproduces them, and after-commit faults commit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from chatsync.emulator import Emulator
from chatsync.emulator.faults import FaultInjector, FaultKind
from tests.support import Api, api_for, make_emulator


def outcomes(seed: int, rate: float = 0.5, calls: int = 200) -> list[str]:
    emulator = make_emulator(fault_rate=rate, seed=seed)
    api = api_for(emulator)
    seen = []
    for i in range(calls):
        try:
            response = api.request("account_import", {"UserID": f"user{i % 50}"})
        except httpx.RemoteProtocolError:
            seen.append("drop")
            continue
        seen.append(str(response.json()["ErrorCode"]) if response.status_code == 200 else "502")
    return seen


def test_a_seed_reproduces_the_same_faults() -> None:
    assert outcomes(seed=7) == outcomes(seed=7)
    assert outcomes(seed=7) != outcomes(seed=8)


def test_every_kind_of_fault_happens_near_the_asked_rate() -> None:
    seen = outcomes(seed=1, rate=0.3, calls=1000)
    failed = [o for o in seen if o != "0"]
    assert 0.25 < len(failed) / len(seen) < 0.35
    assert {"drop", "502", "70169", "70500", "60008", "40006"} <= set(failed)  # 40006: import's page


def test_no_faults_at_rate_zero() -> None:
    assert set(outcomes(seed=1, rate=0.0)) == {"0"}


def test_draws_do_not_depend_on_interleaving() -> None:
    a, b = FaultInjector(0.5, seed=3), FaultInjector(0.5, seed=3)
    requests = [(f"/p{i % 3}", f"body{i % 7}".encode()) for i in range(60)]
    first = [a.draw(path, body, "account") for path, body in requests]
    # b sees the same requests in another order: each request's own sequence of draws matches
    order = list(reversed(range(60)))
    second = {i: b.draw(*requests[i], "account") for i in order}
    per_request_a: dict[tuple[str, bytes], list[Any]] = {}
    per_request_b: dict[tuple[str, bytes], list[Any]] = {}
    for i in range(60):
        per_request_a.setdefault(requests[i], []).append(first[i])
    for i in order:
        per_request_b.setdefault(requests[i], []).append(second[i])
    assert per_request_a == per_request_b


@pytest.mark.parametrize("kind", list(FaultKind))
def test_after_commit_faults_apply_the_change(kind: FaultKind, monkeypatch: pytest.MonkeyPatch) -> None:
    from chatsync.emulator import faults

    emulator = make_emulator()
    monkeypatch.setattr(emulator.faults, "draw",
                        lambda *a: faults.Fault(kind, after_commit=True, code=70500))
    api = api_for(emulator)
    try:
        response = api.request("account_import", {"UserID": "alice"})
        failed = response.status_code != 200 or response.json()["ErrorCode"] != 0
    except httpx.RemoteProtocolError:
        failed = True
    assert failed
    assert "alice" in emulator.store.accounts


def test_before_commit_faults_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from chatsync.emulator import faults

    emulator = make_emulator()
    monkeypatch.setattr(emulator.faults, "draw",
                        lambda *a: faults.Fault(FaultKind.CODE, after_commit=False, code=70169))
    api = api_for(emulator)
    assert api("account_import", {"UserID": "alice"})["ErrorCode"] == 70169
    assert "alice" not in emulator.store.accounts


def test_faults_over_loopback_http(served: Callable[..., tuple[Emulator, Api]]) -> None:
    emulator, api = served(fault_rate=1.0, seed=11)
    kinds = set()
    for i in range(40):
        try:
            response = api.request("account_import", {"UserID": f"u{i}"})
            kinds.add("502" if response.status_code == 502 else "code")
        except httpx.RemoteProtocolError:
            kinds.add("drop")
    assert kinds == {"502", "code", "drop"}
    # the server survives dropped connections and keeps serving
    emulator.faults.rate = 0.0
    assert api("get_all_robots", {})["ErrorCode"] == 0


def test_latency_delays_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    emulator = make_emulator(latency_ms=20)
    emulator.sleep = slept.append
    api = api_for(emulator)
    api("get_all_robots", {})
    assert slept == [0.02]


def test_create_robot_faults_include_40006_from_its_page_and_other_robot_apis_do_not() -> None:
    def codes(name: str, body: dict[str, Any]) -> set[int]:
        api = api_for(make_emulator(fault_rate=1.0, seed=5))
        seen = set()
        for i in range(300):
            try:
                response = api.request(name, {**body, "Nick": str(i)} if name == "create_robot" else body)
            except httpx.RemoteProtocolError:
                continue
            if response.status_code == 200:
                seen.add(response.json()["ErrorCode"])
        return seen

    assert codes("create_robot", {"UserID": "@RBT#a"}) == {10002, 40006, 60008}
    assert codes("get_all_robots", {}) == {10002, 60008}
