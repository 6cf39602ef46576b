"""Property: applying a plan's changes to the live state gives the desired state, and a re-plan is empty."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatsync.domain.live import LiveState, wanted_for
from chatsync.domain.model import PROFILE_FIELDS, AppConfig, DesiredState, Kind, Principal
from chatsync.domain.plan import Plan
from chatsync.engine.plan import diff
from tests.plan.conftest import ENDPOINT

BOTS = ["@RBT#a", "@RBT#b", "@RBT#ç", "@RBT#d"]
ACCOUNTS = ["administrator", "alice", "Alice", "bob", "名前"]
KINDS: tuple[tuple[Kind, list[str]], ...] = (("bot", BOTS), ("account", ACCOUNTS))
FIELDS = list(PROFILE_FIELDS)
values = st.sampled_from(["", "x", "y", "é 🤖"])
profiles = st.fixed_dictionaries({name: values for name in FIELDS})
managed = st.dictionaries(st.sampled_from(FIELDS), values)
declarations = st.one_of(st.none(), st.just("absent"), managed)  # undeclared / absent / present


@st.composite
def worlds(draw: st.DrawFn) -> tuple[DesiredState, dict[str, dict[str, Any]]]:
    """(desired, world): world maps address -> full live profile of every object that exists."""
    world: dict[str, dict[str, Any]] = {}
    for kind, ids in KINDS:
        for user_id in ids:
            if draw(st.booleans()) or user_id == "administrator":
                world[f"{kind}.{user_id}"] = draw(profiles)
    declared: dict[Kind, dict[str, Principal]] = {"bot": {}, "account": {}}
    for kind, ids in KINDS:
        for user_id in ids:
            spec = draw(declarations)
            if spec is None:
                continue
            if spec == "absent":
                declared[kind][user_id] = Principal(kind, user_id, {}, "absent")
            else:
                assert isinstance(spec, dict)
                declared[kind][user_id] = Principal(kind, user_id, spec)
    app = AppConfig(sdkappid=1400000000, prune_bots=draw(st.booleans()),
                    protected=tuple(draw(st.lists(st.sampled_from(BOTS + ACCOUNTS), max_size=2))),
                    max_deletes=draw(st.integers(0, 10)))
    return DesiredState(app, declared["bot"], declared["account"]), world


def read(desired: DesiredState, world: dict[str, dict[str, Any]]) -> LiveState:
    """What read_live would return: the bot list, and each wanted object with its wanted fields."""
    live = LiveState(listed={"bot": [a.split(".", 1)[1] for a in world if a.startswith("bot.")]})
    for want in wanted_for(desired):
        profile = world.get(f"{want.kind}.{want.user_id}")
        if profile is not None:
            live.principals[f"{want.kind}.{want.user_id}"] = Principal(
                want.kind, want.user_id, {name: profile[name] for name in want.fields})
    return live


def apply(plan: Plan, world: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The changes, done to the world the way apply does them."""
    world = {address: dict(profile) for address, profile in world.items()}
    for change in plan.changes:
        if change.action == "create":
            assert change.address not in world and change.after is not None
            world[change.address] = {name: change.after.get(name, "") for name in FIELDS}
        elif change.action == "update":
            assert change.before is not None and change.after is not None
            profile = world[change.address]
            assert {name: profile[name] for name in change.before} == dict(change.before)
            assert set(change.before) == set(change.after)
            profile.update(change.after)
        else:
            del world[change.address]
    return world


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_applying_the_plan_converges_and_a_replan_is_empty(
    case: tuple[DesiredState, dict[str, dict[str, Any]]],
) -> None:
    desired, world = case
    plan = diff(desired, read(desired, world), endpoint=ENDPOINT)
    after = apply(plan, world)

    assert diff(desired, read(desired, after), endpoint=ENDPOINT).changes == []
    keep = desired.app.protected_ids
    for want in desired.principals():
        have = after.get(want.address)
        if want.present:
            assert have is not None
            assert {name: have[name] for name in want.fields} == dict(want.fields)
        elif want.user_id in keep:
            assert have == world.get(want.address)
        else:
            assert have is None
    for address, profile in world.items():
        kind, user_id = address.split(".", 1)
        declared = (desired.bots if kind == "bot" else desired.accounts).get(user_id)
        if declared is None and not (kind == "bot" and desired.app.prune_bots and user_id not in keep):
            assert after.get(address) == profile  # undeclared objects are left alone
    if desired.app.prune_bots:
        left = {a.split(".", 1)[1] for a in after if a.startswith("bot.")}
        assert left <= {b for b, p in desired.bots.items() if p.present} | keep
    assert plan.summary["delete"] == sum(1 for c in plan.changes if c.action == "delete")
    pruned = sum(1 for c in plan.changes if c.reason == "not declared (prune_bots)")
    forgotten = pruned > 1 and pruned * 2 > len(plan.observed("bot"))  # most live bots: a file left out?
    assert plan.safe == (plan.summary["delete"] <= desired.app.max_deletes and not forgotten)
    kept = {k.user_id for k in plan.kept}
    undeclared = set() if desired.app.prune_bots else set(plan.observed("bot")) - set(desired.bots)
    assert kept <= keep | undeclared and not kept & {c.user_id for c in plan.changes}
    assert undeclared <= kept  # without prune_bots, every live bot no file declares is listed as kept
