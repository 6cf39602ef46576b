"""Issue 22, item 3: the JSON report's ``state`` says what is true of each change. An account created
by ``multiaccount_import`` and then given its other fields by ``portrait_set`` is ``ok`` with no
state left (not ``imported; profile not set``); likewise a bot made by ``create_robot``. Over
loopback with the emulator, a few hundred accounts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.apply.conftest import write_config
from tests.support import App

#: nick and face_url go with the import; self_signature and gender need a portrait_set after it.
ACCOUNTS = {f"user{i:03d}": {"nick": f"User {i}", "face_url": f"https://img.example/{i}.png",
                             "self_signature": f"Hello {i}", "gender": "female"} for i in range(300)}
BOTS = {"@RBT#helper": {"nick": "Helper", "gender": "male"}}


def test_changes_done_carry_no_state_of_a_step_still_to_come(serve: Callable[..., App],
                                                             tmp_path: Path) -> None:
    app = serve()
    config = write_config(tmp_path, BOTS, ACCOUNTS)
    result = app.cli("apply", config, "--auto-approve", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert app.emulator.calls.get("portrait_set", 0) >= len(ACCOUNTS) + len(BOTS)  # the follow-up ran
    assert len(report["changes"]) == len(ACCOUNTS) + len(BOTS)
    wrong = [(c["address"], c["status"], c["state"]) for c in report["changes"]
             if c["status"] != "ok" or c["state"] is not None]
    assert not wrong, (len(wrong), wrong[:3])
    live = app.read(ACCOUNTS)
    seven = live.profile("user007")
    assert seven["self_signature"] == "Hello 7" and seven["gender"] == "female"


def test_a_resumed_plan_still_reports_already_done(serve: Callable[..., App], tmp_path: Path) -> None:
    """The state issue 20 added stays: a saved plan applied again reports each change ``already done``."""
    app = serve()
    config = write_config(tmp_path, BOTS, dict(list(ACCOUNTS.items())[:20]))
    saved = str(tmp_path / "plan.json")
    assert app.cli("plan", config, "--out", saved).exit_code == 0
    assert app.cli("apply", "--plan", saved).exit_code == 0
    again = app.cli("apply", "--plan", saved, "--format", "json")
    assert again.exit_code == 0, again.stderr
    assert {c["state"] for c in json.loads(again.stdout)["changes"]} == {"already done"}
