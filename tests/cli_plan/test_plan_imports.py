"""``chatsync plan`` runs the reading and planning half of the engine only: the modules that apply or
export are not even loaded (``python -X importtime`` shows every module a process imports)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.cli_plan.conftest import app_yaml, write_config
from tests.support import App

#: Loaded only by the commands that write or export.
NOT_FOR_PLAN = ("chatsync.engine.apply", "chatsync.engine.export")


def imported(args: list[str], env: dict[str, str | None]) -> tuple[int, set[str], str]:
    environ = {**os.environ, **{k: v for k, v in env.items() if v is not None}}
    for name, value in env.items():
        if value is None:
            environ.pop(name, None)
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "chatsync", *args],
                          capture_output=True, text=True, env=environ, check=False, timeout=120)
    modules = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
               if line.startswith("import time:")}
    return done.returncode, modules, done.stdout


def test_plan_loads_no_apply_or_export_module(serve: Callable[..., App], tmp_path: Path) -> None:
    app = serve()
    app.seed(bots={"@RBT#old": {"nick": "Old"}})
    config = write_config(tmp_path, app_yaml() + 'bots:\n  "@RBT#new":\n    nick: New\n')
    code, modules, out = imported(["plan", config], app.env())
    assert code == 0 and "Plan: 1 to create" in out, out  # the plan did run, to the end
    assert "chatsync.engine.plan" in modules and "chatsync.engine.read" in modules
    assert not [m for m in NOT_FOR_PLAN if m in modules]


def test_apply_does_load_the_applier(serve: Callable[..., App], tmp_path: Path) -> None:
    # the control: the probe sees the applier when a command uses it
    app = serve()
    config = write_config(tmp_path, app_yaml() + 'bots:\n  "@RBT#new":\n    nick: New\n')
    code, modules, out = imported(["apply", "--auto-approve", config], app.env())
    assert code == 0, out
    assert "chatsync.engine.apply" in modules
