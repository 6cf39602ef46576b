"""The call strategy for updates of nick and face_url: ``multiaccount_import``, 100 a call, sending
both fields (the unchanged one as the plan read it), then a ``portrait_get`` read-back per batch
(docs/contract.md §4). Anything else, or an account whose other field was not read, is a
``portrait_set``."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from chatsync.domain import strategy
from chatsync.domain.model import Kind
from chatsync.domain.plan import Change
from chatsync.engine.plan import apply_calls, diff, fingerprint
from tests.plan.conftest import ENDPOINT, desired, live


def update(user_id: str, before: dict[str, Any], after: dict[str, Any], kind: Kind = "account") -> Change:
    return Change(kind, user_id, "update", before, after)


def test_a_nick_change_sends_the_face_url_read() -> None:
    change = update("a", {"nick": "x"}, {"nick": "y"})
    sent = strategy.import_update(change, {"nick": "x", "face_url": "f.png"})
    assert sent == {"nick": "y", "face_url": "f.png"}
    assert strategy.first_call(change, {"nick": "x", "face_url": "f.png"}) == "multiaccount_import"


def test_both_fields_changed_send_both_new_values() -> None:
    change = update("a", {"nick": "x", "face_url": "f"}, {"nick": "y", "face_url": "g"})
    assert strategy.import_update(change, {"nick": "x", "face_url": "f"}) == {"nick": "y", "face_url": "g"}


@pytest.mark.parametrize(("change", "seen"), [
    pytest.param(update("a", {"nick": "x"}, {"nick": "y"}), {"nick": "x"}, id="face_url-not-read"),
    pytest.param(update("a", {"nick": "x"}, {"nick": "y"}), None, id="nothing-seen"),
    pytest.param(update("a", {"nick": "x", "self_signature": "s"}, {"nick": "y", "self_signature": "t"}),
                 {"nick": "x", "face_url": "", "self_signature": "s"}, id="another-field-too"),
    pytest.param(update("@RBT#b", {"nick": "x"}, {"nick": "y"}, kind="bot"), {"nick": "x", "face_url": ""},
                 id="a-bot"),
    pytest.param(Change("account", "a", "create", None, {"nick": "y"}), None, id="a-create"),
])
def test_other_changes_are_not_updates_by_import(change: Change, seen: dict[str, Any] | None) -> None:
    assert strategy.import_update(change, seen) is None
    if change.action == "update":
        assert strategy.first_call(change, seen) == "portrait_set"


@pytest.mark.parametrize("count", [1, 100, 101, 250])
def test_updates_by_import_go_100_a_call_each_batch_read_back_once(count: int) -> None:
    changes = [update(f"u{i}", {"nick": "x"}, {"nick": f"y{i}"}) for i in range(count)]
    seen = {c.address: {"nick": "x", "face_url": ""} for c in changes}
    batches = -(-count // 100)
    assert apply_calls(changes, seen) == {"multiaccount_import": batches, "portrait_get": batches}
    # nothing observed: no import
    assert apply_calls(changes) == {"portrait_set": count, "portrait_get": batches}


def test_creates_and_updates_by_import_are_batched_apart() -> None:
    creates = [Change("account", f"n{i}", "create", None, {"nick": "n"}) for i in range(50)]
    updates = [update(f"u{i}", {"nick": "x"}, {"nick": "y"}) for i in range(50)]
    seen = {c.address: {"nick": "x", "face_url": ""} for c in updates}
    assert apply_calls(creates + updates, seen) == {"multiaccount_import": 2, "portrait_get": 1}


def test_a_plan_reads_face_url_to_rename_by_import_and_shows_the_calls() -> None:
    want = desired(accounts={**{f"u{i}": {"nick": f"New {i}"} for i in range(150)},
                             "s": {"self_signature": "t"}})
    have = live(accounts={**{f"u{i}": {"nick": "Old", "face_url": f"{i}.png"} for i in range(150)},
                          "s": {"self_signature": "s"}})
    plan = diff(want, have, endpoint=ENDPOINT)
    assert plan.summary["update"] == 151
    # the changes show what changes (nick); the observations hold face_url too, for the stale check
    assert plan.changes[0].before == {"nick": "Old"} and plan.changes[0].after == {"nick": "New 0"}
    assert plan.observed_objects["account.u0"] == {"nick": "Old", "face_url": "0.png"}
    assert plan.estimate.calls == {"multiaccount_import": 2, "portrait_get": 2, "portrait_set": 1}
    assert plan.data["estimate"]["calls"] == {"multiaccount_import": 2, "portrait_get": 2, "portrait_set": 1}


@pytest.mark.parametrize("count", [0, 1, 999, 1000, 1001, 2500])
def test_the_fingerprint_hashes_the_whole_json_a_chunk_at_a_time(count: int) -> None:
    seen = {f"account.u{i:05d}": ({"nick": f"N{i}", "face_url": "é"} if i % 3 else None)
            for i in range(count)}
    seen = dict(reversed(list(seen.items())))  # any order in, sorted in the digest
    whole = json.dumps({"sdkappid": 14, "bots": ["@RBT#a", "@RBT#b"],
                        "objects": dict(sorted(seen.items()))},
                       ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    expected = "sha256:" + hashlib.sha256(whole.encode("utf-8")).hexdigest()
    assert fingerprint(14, {"bot": ["@RBT#b", "@RBT#a"]}, seen) == expected
