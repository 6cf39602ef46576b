"""The fingerprint: a digest of what the plan saw (bot list and touched objects), for the stale check."""

from __future__ import annotations

import json
import re
from typing import Any

from chatsync.domain.live import LiveState
from chatsync.domain.model import Principal
from chatsync.domain.plan import Change
from chatsync.engine.plan import diff, fingerprint, observed
from tests.plan.conftest import ENDPOINT, desired, live
from tests.support import SECRET

WANT: dict[str, Any] = dict(
    bots={"@RBT#new": {"nick": "N"}, "@RBT#upd": {"nick": "U"}},
    accounts={"alice": {"nick": "Alice", "face_url": "a.png"}, "bob": {"nick": "Bob"},
              "carol": {"nick": "Carol"}, "mallory": {"state": "absent"}},
)
HAVE: dict[str, Any] = dict(
    bots={"@RBT#upd": {"nick": "u"}, "@RBT#same": {}},
    accounts={"alice": {"nick": "Al", "face_url": "a.png"}, "bob": {"nick": "Bob"}, "mallory": {}},
)


def accounts(**edit: Any) -> dict[str, Any]:
    """HAVE with some live accounts replaced (None removes one)."""
    merged = {**HAVE["accounts"], **edit}
    return {**HAVE, "accounts": {k: v for k, v in merged.items() if v is not None}}


def fp(want: dict[str, Any] | None = None, have: dict[str, Any] | None = None, **app: Any) -> str:
    return diff(desired(**(want or WANT), **app), live(**(have or HAVE)), endpoint=ENDPOINT).fingerprint


def test_format_and_stability_across_runs() -> None:
    first = fp()
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", first)
    assert fp() == first == fp()


def test_stable_across_dict_orderings() -> None:
    want = {key: dict(reversed(value.items())) for key, value in WANT.items()}
    have = {key: dict(reversed(value.items())) for key, value in HAVE.items()}
    assert fp(want, have) == fp()
    alice = {"face_url": "a.png", "nick": "Alice"}
    assert fp({**WANT, "accounts": {**WANT["accounts"], "alice": alice}}) == fp()
    assert fingerprint(1, {"bot": ["b", "a"]}, {"x": {"n": "1", "m": "2"}, "y": None}) == \
        fingerprint(1, {"bot": ["a", "b"]}, {"y": None, "x": {"m": "2", "n": "1"}})


def test_changes_when_the_bot_list_changes() -> None:
    base = fp()
    assert fp(have={**HAVE, "bots": {**HAVE["bots"], "@RBT#another": {}}}) != base
    assert fp(have={**HAVE, "bots": {"@RBT#upd": {"nick": "u"}}}) != base  # @RBT#same is gone


def test_changes_when_a_touched_object_changes_live() -> None:
    base = fp()
    # alice's nick (the field the plan changes) moved on
    assert fp(have=accounts(alice={"nick": "Ally", "face_url": "a.png"})) != base
    # the update of the bot now starts from another value
    assert fp(have={**HAVE, "bots": {**HAVE["bots"], "@RBT#upd": {"nick": "v"}}}) != base
    # mallory (to delete) no longer exists
    assert fp(have=accounts(mallory=None)) != base
    # carol (to create) exists meanwhile
    assert fp(have=accounts(carol={"nick": "x"})) != base


def test_does_not_change_when_an_untouched_object_changes() -> None:
    base = fp()
    # bob is declared and unchanged; his unmanaged fields, or an undeclared account, do not matter
    assert fp(have=accounts(bob={"nick": "Bob", "face_url": "z"})) == base
    assert fp(have=accounts(zed={"nick": "Z"})) == base
    assert fp(have={**HAVE, "bots": {**HAVE["bots"], "@RBT#same": {"nick": "renamed"}}}) == base


def test_depends_on_the_app() -> None:
    assert fp(sdkappid=1400000001) != fp()


def test_observed_records_every_managed_field_the_plan_read() -> None:
    # An update records all fields read (not only the changed ones), so a saved plan can tell that
    # an untouched managed field changed before apply --plan; a pruned bot exists with no fields.
    changes = [Change("bot", "@RBT#n", "create", None, {"nick": "N"}),
               Change("account", "a", "update", {"nick": "x"}, {"nick": "y"}),
               Change("account", "m", "delete", {}, None),
               Change("bot", "@RBT#old", "delete", {}, None)]
    state = LiveState(listed={"bot": ["@RBT#old"]}, principals={
        "account.a": Principal("account", "a", {"nick": "x", "face_url": "f"}),
        "account.m": Principal("account", "m")})
    assert observed(changes, state) == {"bot.@RBT#n": None, "account.a": {"nick": "x", "face_url": "f"},
                                        "account.m": {}, "bot.@RBT#old": {}}


def test_unicode_ids_and_values() -> None:
    want = {"bots": {"@RBT#助手": {"nick": "客服 🤖"}}, "accounts": {"élodie": {"nick": "É"}}}
    have = {"bots": {"@RBT#助手": {"nick": "客服"}}, "accounts": {"élodie": {"nick": "E"}}}
    first = fp(want, have)
    assert first == fp(want, have)
    assert first != fp(want, {**have, "accounts": {"élodie": {"nick": "e"}}})


def test_contains_no_secret() -> None:
    plan = diff(desired(**WANT, secret_key_env="MY_SECRET_ENV"), live(**HAVE), endpoint=ENDPOINT)
    text = json.dumps(plan.data, ensure_ascii=False)
    assert SECRET not in text
    assert SECRET[:16] not in text
    assert "usersig" not in text.lower()
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", plan.fingerprint)
