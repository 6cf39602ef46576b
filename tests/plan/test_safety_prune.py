"""A prune that would delete most live bots is probably a forgotten file or directory: the plan
says so and is unsafe without --force (issue: `chatsync plan envs/dev` without `bots/`)."""

from __future__ import annotations

import pytest

from chatsync.domain.live import LiveState
from chatsync.domain.model import AppConfig, DesiredState, Principal
from chatsync.domain.plan import Plan
from chatsync.engine.plan import diff


def bots(*ids: str) -> dict[str, Principal]:
    return {b: Principal("bot", b, {}) for b in ids}


def plan_for(declared: list[str], live: list[str], max_deletes: int = 100) -> Plan:
    app = AppConfig(sdkappid=1400000000, prune_bots=True, max_deletes=max_deletes)
    desired = DesiredState(app=app, bots=bots(*declared), accounts={})
    return diff(desired, LiveState(listed={"bot": list(live)}), endpoint="http://127.0.0.1:8080")


@pytest.mark.parametrize(("declared", "live", "flagged"), [
    ([], ["@RBT#a", "@RBT#b", "@RBT#c"], True),             # every bot: a directory left out
    (["@RBT#a"], ["@RBT#a", "@RBT#b", "@RBT#c"], True),     # two of three
    (["@RBT#a", "@RBT#b"], ["@RBT#a", "@RBT#b", "@RBT#c", "@RBT#d"], False),  # half: not most
    ([], ["@RBT#a"], False),                                 # one bot: an ordinary prune
    (["@RBT#a", "@RBT#b", "@RBT#c"], ["@RBT#a", "@RBT#b", "@RBT#c", "@RBT#d"], False),
])
def test_pruning_most_live_bots_is_unsafe(declared: list[str], live: list[str], flagged: bool) -> None:
    plan = plan_for(declared, live)
    reasons = [r for r in plan.unsafe_reasons if "left out of the command" in r]
    assert bool(reasons) == flagged
    assert plan.safe == (not flagged)
    if flagged:
        pruned = len(set(live) - set(declared))
        assert f"prune_bots would delete {pruned} of the app's {len(live)} live bots" in reasons[0]
        assert "--force" in reasons[0]
