"""What ``chatsync plan`` sends, counted by the emulator (docs/contract.md §4): reads only, and no more
calls than the batch limits require."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

from tests.cli_plan.conftest import accounts_yaml, app_yaml, write_config
from tests.support import WRITE_ENDPOINTS, App

READS = {"get_all_robots", "account_check", "portrait_get"}


def test_plan_never_writes(serve: Callable[..., App], tmp_path: Path) -> None:
    """A plan with every kind of change, in every format, with --out: only reads reach the app."""
    app = serve()
    app.seed(bots={"@RBT#old": {"nick": "Old"}, "@RBT#bot": {"nick": "B", "self_signature": "s"}},
             accounts={"alice": {"nick": "Al"}, "mallory": {}, "trent": {"face_url": "https://x/t.png"}})
    config = write_config(tmp_path, app_yaml(prune_bots="true") + """\
bots:
  "@RBT#new":
    nick: New
    self_signature: Hello
  "@RBT#bot":
    nick: Bot
    self_signature: ""
accounts:
  alice:
    nick: Alice
    face_url: https://x/a.png
  bob:
  trent:
    face_url: ""
  mallory:
    state: absent
""")
    with app.emulator.store.lock:
        before = copy.deepcopy((app.emulator.store.accounts, app.emulator.store.bots))
    for flags in ((), ("--format", "json"), ("--format", "markdown"), ("--out", str(tmp_path / "p.json")),
                  ("--detailed-exitcode",)):
        result = app.plan(config, *flags)
        assert result.exit_code in (0, 2), (flags, result.stderr)
    summary = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))["summary"]
    assert summary == {"create": 2, "update": 3, "delete": 2}
    assert {name for name, n in app.emulator.calls.items() if n} <= READS
    assert not any(app.emulator.calls.get(name) for name in WRITE_ENDPOINTS), dict(app.emulator.calls)
    with app.emulator.store.lock:
        assert (app.emulator.store.accounts, app.emulator.store.bots) == before


def test_250_accounts_take_3_checks_1_bot_list_and_minimal_profile_reads(serve: Callable[..., App],
                                                                         tmp_path: Path) -> None:
    app = serve()
    existing = {f"u{i:03d}": {"nick": f"Old {i}"} for i in range(150)}  # managed fields: profiles read
    app.seed(bots={"@RBT#a": {"nick": "A"}}, accounts=existing)
    declared = {f"u{i:03d}": {"nick": f"User {i}"} for i in range(250)}
    bots = 'bots:\n  "@RBT#a":\n    nick: A\n'
    config = write_config(tmp_path, app_yaml() + bots + accounts_yaml(declared))
    result = app.plan(config, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["summary"] == {"create": 100, "update": 150, "delete": 0}
    calls = {name: n for name, n in app.emulator.calls.items() if n}
    # 250 ids in chunks of 100; one bot list; 151 existing objects with managed fields in chunks of 100
    assert calls == {"account_check": 3, "get_all_robots": 1, "portrait_get": 2}


def test_accounts_without_managed_fields_need_no_profile_read(serve: Callable[..., App],
                                                              tmp_path: Path) -> None:
    app = serve()
    app.seed(accounts={f"u{i:03d}": {"nick": "x"} for i in range(250)})
    config = write_config(tmp_path, app_yaml() + accounts_yaml({f"u{i:03d}": None for i in range(250)}))
    result = app.plan(config, "--detailed-exitcode")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.endswith("\n\nNo changes. The app matches the configuration.\n")
    calls = {name: n for name, n in app.emulator.calls.items() if n}
    assert calls == {"account_check": 3, "get_all_robots": 1}
