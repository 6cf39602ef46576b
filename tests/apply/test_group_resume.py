"""A group created whose members are not all in yet: ``create_group`` carries the first 100, the
rest are added after, and the admins among them get their role last. A run stopped in between (a
fault that stops the run, here the trial's daily quota, 60028) leaves the group partly made; the
report says so, and both ``apply --plan`` with the same file and a fresh ``apply`` finish it: the
create made again meets its own GroupId (10025), recognises the group and adds the rest. A create
whose answer was lost goes on the same way within one run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from chatsync.emulator.faults import Fault, FaultKind
from chatsync.facts.endpoints import ENDPOINTS
from tests.apply.conftest import summary
from tests.apply.test_groups import NO_CHANGES, groups_of, write
from tests.support import App

Serve = Callable[..., App]

#: 128 plain members and 2 admins: create_group carries 100 of them, the other 30 are added after.
PLAIN = [f"u{i:03d}" for i in range(128)]
ADMINS = ["zadmin1", "zadmin2"]  # after every plain member: among those added after the create
DOCUMENT: dict[str, Any] = {
    "accounts": {user_id: None for user_id in ["owner", *PLAIN, *ADMINS]},
    "groups": {"big": {"type": "Public", "name": "Big", "owner": "owner", "admins": ADMINS,
                       "members": PLAIN}},
}
WHOLE = {"owner": "Owner", **dict.fromkeys(PLAIN, "Member"), **dict.fromkeys(ADMINS, "Admin")}
#: Stops the run: the trial edition's daily quota of REST calls is spent (a run-stopping code).
QUOTA = Fault(FaultKind.CODE, after_commit=False, code=60028)
#: The request was applied, then its connection dropped: the answer is lost.
LOST = Fault(FaultKind.DROP, after_commit=True)


def fault_once(app: App, endpoint: str, fault: Fault) -> list[bool]:
    """The first request to ``endpoint`` meets ``fault``; returns a list that holds True once it did."""
    draw = app.emulator.faults.draw
    wanted = ENDPOINTS[endpoint].path
    hit: list[bool] = []

    def once(path: str, body: bytes, family: str) -> Fault | None:
        if path == wanted and not hit:
            hit.append(True)
            return fault
        return draw(path, body, family)

    app.emulator.faults.draw = once  # type: ignore[method-assign]
    return hit


def stopped_after_create(app: App, *args: str, endpoint: str = "add_group_member") -> Result:
    """``apply ARGS`` whose first call to ``endpoint`` stops the run; the group is left partly made."""
    hit = fault_once(app, endpoint, QUOTA)
    result = app.cli("apply", *args)
    assert hit and result.exit_code == 1, (result.stdout, result.stderr)
    line = [x for x in result.stdout.splitlines() if x.startswith('  + group "big"')][-1]  # the report's
    assert "failed 60028" in line and "(created; members not all added)" in line, line
    assert summary(result).startswith("Apply stopped: ")
    members = groups_of(app)["big"]["members"]
    assert 101 <= len(members) <= len(WHOLE) and set(members) <= set(WHOLE)  # the first 100 at least
    assert all(role in ("Owner", "Member") for role in members.values())  # no admin role set yet
    return result


@pytest.mark.parametrize("endpoint", ["add_group_member", "modify_group_member_info"])
def test_a_saved_plan_applied_again_finishes_a_partly_made_group(serve: Serve, tmp_path: Path,
                                                                 endpoint: str) -> None:
    app = serve()
    config = write(tmp_path, DOCUMENT)
    saved = tmp_path / "plan.json"
    made = app.cli("plan", config, "--out", str(saved))
    assert made.exit_code == 0, made.stderr
    stopped_after_create(app, "--plan", str(saved), endpoint=endpoint)  # stopped before members, or roles
    app.forget_calls()
    again = app.cli("apply", "--plan", str(saved), "--format", "json")
    assert again.exit_code == 0, (again.stdout, again.stderr)
    report = json.loads(again.stdout)
    big = next(c for c in report["changes"] if c["address"] == "group.big")
    assert (big["status"], big["state"]) == ("ok", None)
    assert report["summary"]["already_done"] == len(DOCUMENT["accounts"])  # the accounts were made
    assert app.emulator.calls["create_group"] == 1  # made again: 10025, its own group, recognised
    assert app.emulator.calls["modify_group_member_info"] == len(ADMINS)
    assert groups_of(app)["big"]["members"] == WHOLE
    assert NO_CHANGES in app.cli("plan", config).stdout


def test_a_fresh_apply_finishes_a_partly_made_group(serve: Serve, tmp_path: Path) -> None:
    app = serve()
    config = write(tmp_path, DOCUMENT)
    stopped_after_create(app, "--auto-approve", config)
    shown = app.cli("plan", config).stdout
    assert '~ group "big"' in shown and "admins:" in shown and "+ zadmin1" in shown, shown
    app.forget_calls()
    result = app.cli("apply", "--auto-approve", config)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert summary(result) == "Apply complete: 0 created, 1 updated, 0 deleted, 0 failed."
    assert app.emulator.calls.get("create_group", 0) == 0  # the plan saw the group: an update
    assert groups_of(app)["big"]["members"] == WHOLE
    assert NO_CHANGES in app.cli("plan", config).stdout


@pytest.mark.parametrize("endpoint", ["create_group", "add_group_member"])
def test_a_lost_answer_mid_create_goes_on_in_the_same_run(serve: Serve, tmp_path: Path,
                                                          endpoint: str) -> None:
    app = serve()
    config = write(tmp_path, DOCUMENT)
    hit = fault_once(app, endpoint, LOST)
    result = app.cli("apply", "--auto-approve", config)
    assert hit and result.exit_code == 0, (result.stdout, result.stderr)
    assert '  + group "big"  ok' in result.stdout
    assert app.emulator.calls["create_group"] == (2 if endpoint == "create_group" else 1)
    assert groups_of(app)["big"]["members"] == WHOLE
    assert NO_CHANGES in app.cli("plan", config).stdout
