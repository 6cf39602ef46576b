"""Faults: with a fifth of all calls failing the ways the real service fails (transient codes, HTTP
502, dropped connections, and faults *after* the change was applied), one apply still converges
exactly, and a fault-free plan afterwards is empty (docs/contract.md §4-§5)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chatsync.config import load
from chatsync.emulator import Emulator
from chatsync.emulator.faults import TRANSIENT_CODES, Fault, FaultInjector, FaultKind
from chatsync.emulator.transport import EmulatorTransport
from chatsync.engine.apply import Applier
from chatsync.engine.plan import plan as make_plan
from chatsync.facts.fields import STANDARD
from chatsync.tencent.api import ChatApi
from chatsync.tencent.client import Client
from chatsync.tencent.credentials import SigCache
from chatsync.tencent.target import Target
from tests.apply.conftest import all_fields, profile, write_config
from tests.support import ADMIN, FAST, SDKAPPID, SECRET, UNPACED, App, make_emulator

ENDPOINT = "http://127.0.0.1:9"

SEED_BOTS = {f"@RBT#b{i}": {"nick": f"Bot {i}", "face_url": f"b{i}.png"} for i in range(6)}
SEED_ACCOUNTS = {f"old{i:03d}": {"nick": f"Old {i}", "face_url": f"o{i}.png"} for i in range(100)}
BOTS = {
    "@RBT#b0": {"nick": "Bot zero", "self_signature": "new"},  # update
    "@RBT#b1": {"nick": "Bot 1"},  # unchanged
    "@RBT#b2": {"state": "absent"},  # delete
    "@RBT#n0": {"nick": "New 0", "face_url": "n0.png", "self_signature": "s"},  # create
    "@RBT#n1": {"nick": "New 1"},  # create
}  # b3, b4, b5: pruned
ACCOUNTS = {
    **{f"old{i:03d}": {"nick": f"Renamed {i}", "self_signature": f"sig {i}"} for i in range(40)},  # update
    **{f"old{i:03d}": {"nick": f"Old {i}"} for i in range(40, 60)},  # unchanged
    **{f"old{i:03d}": {"state": "absent"} for i in range(60, 90)},  # delete
    **{f"new{i:03d}": {"nick": f"New {i}", "face_url": f"n{i}.png", "self_signature": f"hi {i}"}
       for i in range(150)},  # create
}  # old090..old099: undeclared, untouched


def in_process_api(emulator: Emulator) -> ChatApi:
    client = Client(Target((ENDPOINT,), "test"), SigCache(SDKAPPID, ADMIN, SECRET), retry=FAST, rates=UNPACED,
                    transport=EmulatorTransport(emulator))
    return ChatApi(client)


def seed(api: ChatApi) -> None:
    for bot, fields in SEED_BOTS.items():
        api.create_robot(bot, fields)
    assert all(r.ok for r in api.multiaccount_import(SEED_ACCOUNTS).values())


def counting_faults(emulator: Emulator, rate: float, seed_value: int) -> Counter[tuple[str, bool]]:
    """Turn faults on; returns a counter of the faults injected, by (endpoint path, after_commit)."""
    injector = FaultInjector(rate, seed_value)
    injected: Counter[tuple[str, bool]] = Counter()
    draw = injector.draw

    def counted(path: str, body: bytes, family: str) -> Fault | None:
        fault = draw(path, body, family)
        if fault is not None:
            injected[(path.rsplit("/", 1)[-1], fault.after_commit)] += 1
        return fault

    injector.draw = counted  # type: ignore[method-assign]
    emulator.faults = injector
    return injected


def assert_converged(emulator: Emulator) -> None:
    """The emulator's store holds exactly what the config says, and nothing else changed."""
    store = emulator.store
    with store.lock:
        active = sorted(store.active_bots())
        accounts = {user_id: dict(profile) for user_id, profile in store.accounts.items()}
    assert active == ["@RBT#b0", "@RBT#b1", "@RBT#n0", "@RBT#n1"]
    def fields(user_id: str) -> dict[str, Any]:
        return {f.name: accounts[user_id].get(f.tag, f.unset) for f in STANDARD}

    assert fields("@RBT#b0") == profile("Bot zero", "b0.png", "new")
    assert fields("@RBT#n0") == profile("New 0", "n0.png", "s")
    assert fields("@RBT#n1") == all_fields({"nick": "New 1"})
    expected_ordinary = {ADMIN, *(f"old{i:03d}" for i in (*range(60), *range(90, 100))),
                         *(f"new{i:03d}" for i in range(150))}
    assert {a for a in accounts if not a.startswith("@RBT#")} == expected_ordinary
    for i in range(40):
        assert fields(f"old{i:03d}") == profile(f"Renamed {i}", f"o{i}.png", f"sig {i}")
    for i in (*range(40, 60), *range(90, 100)):
        assert fields(f"old{i:03d}") == all_fields(SEED_ACCOUNTS[f"old{i:03d}"])
    for i in range(150):
        assert fields(f"new{i:03d}") == profile(f"New {i}", f"n{i}.png", f"hi {i}")


@pytest.mark.parametrize("seed_value", [1, 2, 3, 4, 5, 6])
def test_one_apply_converges_exactly_under_faults(tmp_path: Path, seed_value: int) -> None:
    emulator = make_emulator()
    seeding = in_process_api(emulator)
    seed(seeding)
    seeding.client.close()
    desired = load([write_config(tmp_path, bots=BOTS, accounts=ACCOUNTS, prune_bots=True, max_deletes=100)])

    injected = counting_faults(emulator, 0.2, seed_value)
    api = in_process_api(emulator)
    try:
        planned = make_plan(api, desired, ENDPOINT)
        assert planned.summary == {"create": 152, "update": 41, "delete": 34}
        report = Applier(api, planned).run()
    finally:
        api.client.close()
    failures = [o.data for o in report.outcomes if o.status != "ok"]
    assert report.ok, failures[:5]
    assert report.counts == {"created": 152, "updated": 41, "deleted": 34, "failed": 0, "skipped": 0,
                             "partial": 0, "already_done": 0}
    assert any(after for (_, after) in injected), injected  # some changes were applied, then failed
    assert sum(n for (name, _), n in injected.items() if name in ("portrait_set", "multiaccount_import")) > 5

    counting_faults(emulator, 0.0, 0)
    assert_converged(emulator)
    api = in_process_api(emulator)
    try:
        assert make_plan(api, desired, ENDPOINT).empty
    finally:
        api.client.close()


def test_after_commit_faults_on_every_write_endpoint_still_converge(tmp_path: Path) -> None:
    """Every write call is applied and then answered with a failure the first time it is sent:
    each retry meets a change already made, and must count as done (no duplicate, no failure)."""
    emulator = make_emulator()
    seeding = in_process_api(emulator)
    seed(seeding)
    seeding.client.close()
    desired = load([write_config(tmp_path, bots=BOTS, accounts=ACCOUNTS, prune_bots=True, max_deletes=100)])
    api = in_process_api(emulator)
    planned = make_plan(api, desired, ENDPOINT)

    writes = {"create_robot", "delete_robot", "multiaccount_import", "account_delete", "portrait_set"}
    seen: set[tuple[str, bytes]] = set()
    kinds = (FaultKind.DROP, FaultKind.HTTP_502, FaultKind.CODE)

    def first_time_after_commit(path: str, body: bytes, family: str) -> Fault | None:
        if path.rsplit("/", 1)[-1] not in writes or (path, body) in seen:
            return None
        seen.add((path, body))
        return Fault(kinds[len(seen) % 3], after_commit=True, code=TRANSIENT_CODES[family][0])

    emulator.faults.draw = first_time_after_commit  # type: ignore[method-assign]
    try:
        report = Applier(api, planned).run()
    finally:
        api.client.close()
    assert report.ok, [o.data for o in report.outcomes if o.status != "ok"][:5]
    assert {p.rsplit("/", 1)[-1] for p, _ in seen} == writes
    emulator.faults = FaultInjector(0.0, 0)
    assert_converged(emulator)


def test_apply_over_http_with_faults_converges(serve: Callable[..., App], tmp_path: Path) -> None:
    """The CLI (default retry policy) over a real socket: 502 pages and dropped connections too."""
    app = serve()
    app.seed({"@RBT#old": {"nick": "Old"}}, {"alice": {"nick": "Al"}, "mallory": {}})
    injected = counting_faults(app.emulator, 0.2, 11)
    accounts = {"alice": {"nick": "Alice"}, "mallory": {"state": "absent"},
                **{f"u{i}": {"nick": f"U{i}", "self_signature": f"s{i}"} for i in range(12)}}
    config = write_config(tmp_path, bots={"@RBT#new": {"nick": "New"}}, accounts=accounts, prune_bots=True)
    result = app.cli("apply", config, "--auto-approve", "--format", "json")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    report = json.loads(result.stdout)
    assert {c["status"] for c in report["changes"]} == {"ok"}
    assert sum(injected.values()) > 0
    assert any(c["attempts"] > 1 for c in report["changes"])
    app.emulator.faults = FaultInjector(0.0, 0)
    plan = app.cli("plan", config, "--detailed-exitcode")
    assert plan.exit_code == 0, plan.stdout
    live = app.read(accounts)
    assert live.bots == ["@RBT#new"]
    assert live.accounts == {"alice", *(f"u{i}" for i in range(12))}
    again = app.cli("apply", config, "--auto-approve")
    assert again.exit_code == 0 and "Apply complete" not in again.stdout
