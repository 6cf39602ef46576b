"""Plan is read-only for every kind, by construction: a plan of a config that declares every kind
(bots, accounts, groups) with every field, with creates, updates, deletes, member changes and
prunes to make, sends only APIs the facts mark as reads, in every output format, and leaves the
emulator's data exactly as it was."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from chatsync.domain.kinds import KINDS
from chatsync.facts import groups as group_facts
from chatsync.facts.endpoints import ENDPOINTS
from chatsync.facts.fields import STANDARD
from chatsync.tencent.groups import GroupApi, NewGroup
from tests.apply.conftest import FAST_RATES
from tests.support import SDKAPPID, App, fresh_client

#: Every API a plan may send: the profile family's reads and the group reads of the facts table.
READS = {"get_all_robots", "account_check", "portrait_get",
         *(api.name for api in group_facts.GROUP_APIS.values() if not api.writes)}
CUSTOM = ("Level",)


def every_field(seed: int) -> dict[str, Any]:
    """A value for each standard profile field (another one for another ``seed``)."""
    values: dict[str, Any] = {}
    for f in STANDARD:
        if f.kind == "enum":
            values[f.name] = f.names[seed % len(f.names)]
        elif f.kind == "uint32":
            values[f.name] = seed + 1
        else:
            values[f.name] = f"v{seed}"
    values["custom"] = {"Level": f"L{seed}"}
    return values


def group_body(seed: int, **more: Any) -> dict[str, Any]:
    return {"type": "Public", "name": f"G{seed}", "introduction": f"i{seed}", "notification": f"n{seed}",
            "face_url": f"https://img.example/{seed}.png", "max_members": 100 + seed,
            "apply_join": ("anyone", "approval", "nobody")[seed % 3], "owner": "alice", **more}


def test_no_plan_of_any_kind_sends_a_write(serve: Callable[..., App], tmp_path: Path) -> None:
    app = serve(custom_fields=CUSTOM)
    app.seed(bots={"@RBT#old": {"nick": "Old"}, "@RBT#keep": {"nick": "K"}},
             accounts={"alice": {"nick": "A"}, "bob": {}, "mallory": {}})
    with fresh_client(app.url) as client:
        api = GroupApi(client)
        for gid in ("changed", "gone", "stray"):
            api.create_group(NewGroup(gid, "Public", "Old", owner="alice", members={"bob": "Admin"}))
    app.forget_calls()
    document = {
        "version": 1,
        "app": {"sdkappid": SDKAPPID, "rate_limits": dict(FAST_RATES), "prune_bots": True,
                "prune_groups": True, "custom_fields": list(CUSTOM)},
        "bots": {"@RBT#new": every_field(1), "@RBT#keep": every_field(2)},
        "accounts": {"alice": every_field(3), "bob": every_field(4), "carol": every_field(5),
                     "mallory": {"state": "absent"}},
        "groups": {
            "new": group_body(1, admins=["bob"], members=["carol", "@RBT#new"], notify=True),
            "changed": group_body(2, owner="bob", admins=["carol"], members=["alice", "@RBT#keep"]),
            "gone": {"state": "absent"},
        },
    }
    assert {kind.section for kind in KINDS} <= set(document)
    config = tmp_path / "chatsync.yaml"
    config.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    before = app.snapshot()
    for flags in ((), ("--format", "json"), ("--format", "markdown"), ("--out", str(tmp_path / "p.json"))):
        result = app.cli("plan", str(config), *flags)
        assert result.exit_code in (0, 2), (flags, result.stdout, result.stderr)
    text = app.cli("plan", str(config)).stdout
    for needle in ('+ group "new"', '~ group "changed"', '- group "gone"', '- group "stray"',
                   '- bot "@RBT#old"', '- account "mallory"', '+ account "carol"'):
        assert needle in text, text
    sent = {name for name, count in app.emulator.calls.items() if count}
    assert sent <= READS, sorted(sent - READS)
    assert sent >= {"get_appid_group_list", "get_group_info", "account_check", "portrait_get"}
    assert set(ENDPOINTS) >= READS
    assert app.snapshot() == before
