"""Item 8: linear time in every list the server returns. Structural checks (no timing): the bot
list is never scanned per lookup, and a plan over 30,000 live bots (which took quadratic time)
completes through the CLI. bench/hostile_lists.py measures the growth."""

from __future__ import annotations

import json
from collections.abc import Callable

from click.testing import Result

from chatsync.domain.live import LiveState
from chatsync.domain.model import AppConfig, DesiredState
from chatsync.engine.plan import diff
from chatsync.tencent import answers
from tests.hostile.conftest import HonestApp, overriding
from tests.hostile.fakes import Behaviour, FakeServer, ok


class NoScan(list[str]):
    """A list that refuses membership tests (each would be a scan of the whole list)."""

    def __contains__(self, item: object) -> bool:
        raise AssertionError("the bot list was scanned for one id")

    def index(self, *args: object) -> int:
        raise AssertionError("the bot list was scanned for one id")


def test_a_plan_never_scans_the_live_bot_list_per_bot() -> None:
    bots = NoScan(f"@RBT#b{i}" for i in range(2000))
    live = LiveState(listed={"bot": bots})
    desired = DesiredState(app=AppConfig(sdkappid=1400000000, prune_bots=True, max_deletes=10**6))
    result = diff(desired, live, endpoint="http://127.0.0.1:1")
    assert len(result.changes) == 2000


def test_answer_readers_take_any_number_of_items_once_each() -> None:
    ids = [f"u{i}" for i in range(50_000)]
    items = [{"UserID": i, "ResultCode": 0, "AccountStatus": "Imported"} for i in ids]
    assert len(answers.result_items(ok(ResultItem=items), frozenset(ids), statuses=True)) == len(ids)
    assert answers.failed_accounts(ok(FailAccounts=ids), frozenset(ids)) == ids
    bots = [f"@RBT#{i}" for i in range(50_000)]
    assert answers.robot_ids(ok(Robot_Account=bots + bots)) == bots  # repeats listed once


def test_a_plan_over_30000_live_bots_completes(fake: Callable[[Behaviour], FakeServer],
                                               cli: Callable[..., Result]) -> None:
    bots = [f"@RBT#bot-{i:05d}" for i in range(30_000)]
    server = fake(overriding(HonestApp(), get_all_robots=ok(Robot_Account=bots)))
    result = cli(server.url, "plan", "--format", "json", "--force", bots={"@RBT#bot-00000": None},
                 prune_bots=True, max_deletes=100_000)
    plan = json.loads(result.stdout)
    assert sum(1 for c in plan["changes"] if c["action"] == "delete") == 29_999
