"""The runner harness itself (tests/examples/github_runner.py) and action.yml's install step: steps
run with GitHub's shell flags, conditions it does not know fail the test, expressions never reach a
script, and the install checks Python and fails when pip fails."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from tests.examples.github_runner import SHELLS, Runner, condition, workflow_commands
from tests.examples.workflows import ROOT, base_env

STATUS = {"success": True, "failure": False, "always": True, "cancelled": False}


def runner(tmp_path: Path, **kwargs: Any) -> Runner:
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    return Runner(workspace, tmp_path / "temp", tmp_path / "store", base_env(), {"event_name": "push",
                  "sha": "c" * 40, "run_id": "1"}, **kwargs)


def test_a_step_without_shell_runs_as_bash_e_and_a_bash_step_with_pipefail(tmp_path: Path) -> None:
    ran = runner(tmp_path).run_job({"steps": [
        {"name": "default", "run": "false | tee out.txt\necho reached"},
        {"name": "bash", "shell": "bash", "run": "false | tee out.txt\necho reached"}]}, {}, {})
    default, bash = ran.step("default"), ran.step("bash")
    assert default.outcome == "success" and default.stdout == "reached\n"
    assert default.command[:-1] == ["bash", "-e"] == SHELLS[None][:-1]
    assert bash.outcome == "failure" and bash.stdout == ""
    assert bash.command[:-1] == ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
    assert Path(bash.command[-1]).read_text(encoding="utf-8").startswith("false | tee")  # a file, as {0}


def test_steps_after_a_failure_are_skipped_unless_their_condition_says(tmp_path: Path) -> None:
    ran = runner(tmp_path).run_job({"steps": [
        {"name": "fails", "shell": "bash", "run": "exit 3"},
        {"name": "skipped", "shell": "bash", "run": "true"},
        {"name": "not cancelled", "if": "${{ !cancelled() }}", "shell": "bash", "run": "true"},
        {"name": "on failure", "if": "failure()", "shell": "bash", "run": "true"}]}, {}, {})
    assert [s.outcome for s in ran.steps] == ["failure", "skipped", "success", "success"]
    assert ran.outcome == "failure"


@pytest.mark.parametrize(("text", "expected"), [
    ("inputs.command == 'PLAN'", True),  # strings compare case-insensitively
    ("inputs.command != 'plan'", False),
    ("${{ !cancelled() && inputs.command == 'plan' && steps.x.outputs.path != '' }}", True),
    ("steps.y.outcome == 'success'", False),  # a step that did not run has no outcome
    ("github.event_name == 'schedule' || github.event_name == 'push'", True),
])
def test_conditions(text: str, expected: bool) -> None:
    contexts = {"inputs": {"command": "plan"}, "github": {"event_name": "push"},
                "steps": {"x": {"outputs": {"path": "p"}}}}
    assert condition({"if": text}, contexts, STATUS) is expected


@pytest.mark.parametrize("text", ["contains(github.event_name, 'p')", "vars.X == '1'", "inputs.nope == ''",
                                  "github.event_name = 'push'"])
def test_a_condition_the_harness_does_not_know_fails_the_test(text: str) -> None:
    with pytest.raises(AssertionError):
        condition({"if": text}, {"inputs": {}, "github": {"event_name": "push"}}, STATUS)


def test_an_expression_in_a_script_and_a_composite_step_without_shell_are_refused(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="template injection"):
        runner(tmp_path).run_job({"steps": [{"shell": "bash", "run": "echo ${{ github.sha }}"}]}, {}, {})
    contexts: dict[str, Any] = {"github": {"action_path": str(ROOT)}, "steps": {}, "env": {}}
    with pytest.raises(AssertionError, match="needs shell"):
        runner(tmp_path).run_steps([{"name": "x", "run": "true"}], contexts, scope="action")


# -- the action's install step, run for real with a stub python3 -------------------------------------

STUB = """#!/bin/bash
echo "$(basename "$0") $*" >> "$STUB_LOG"
case "$1 $2" in
  "-c "*) exit "${STUB_OLD:-0}" ;;
  "--version ") echo "Python 3.9.18" ;;
  "-m venv") mkdir -p "$3/bin" && cp "$0" "$3/bin/python" ;;
  "-m pip") exit "${STUB_PIP:-0}" ;;
  *) exit 9 ;;
esac
"""


def _install(tmp_path: Path, **env: str) -> tuple[Any, list[str]]:
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    python3 = stubs / "python3"
    python3.write_text(STUB, encoding="utf-8")
    python3.chmod(python3.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "log"
    log.write_text("", encoding="utf-8")
    the_runner = runner(tmp_path, simulate_install=False)
    the_runner.env.update({"PATH": f"{stubs}:{the_runner.env['PATH']}", "STUB_LOG": str(log), **env})
    contexts = {"github": {**the_runner.github, "action_path": str(ROOT)}, "runner": {"temp": ""}}
    ran = the_runner.run_action("chatsync", {"command": "validate", "environment": "dev"}, contexts, [])
    return ran.inner[0], log.read_text(encoding="utf-8").splitlines()


def test_the_install_uses_the_actions_own_lock_and_checkout(tmp_path: Path) -> None:
    install, calls = _install(tmp_path)
    assert install.outcome == "success" and install.command[:-1] == SHELLS["bash"][:-1]
    venv = tmp_path / "temp" / "chatsync-venv"
    assert install.outputs == {"bin": f"{venv}/bin"}
    assert calls[:2] == ["python3 -c import sys; sys.exit(sys.version_info < (3, 10))",
                         f"python3 -m venv {venv}"]
    assert calls[2:4] == [
        f"python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps "
        f"-r {ROOT}/requirements/runtime.txt",
        f"python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation {ROOT}"]


def test_an_old_python_is_a_clear_error(tmp_path: Path) -> None:
    install, calls = _install(tmp_path, STUB_OLD="1")
    assert install.outcome == "failure"
    assert "::error::chatsync needs Python 3.10 or later as python3 (found: Python 3.9.18); add " \
           "actions/setup-python before this step" in install.stdout
    assert not any("pip" in call for call in calls)


def test_a_failed_pip_install_fails_the_step(tmp_path: Path) -> None:
    install, calls = _install(tmp_path, STUB_PIP="1")
    assert install.outcome == "failure" and "bin" not in install.outputs
    assert sum("pip install" in call for call in calls) == 1  # stopped at the first


def test_what_chatsync_prints_cannot_act_as_a_workflow_command(tmp_path: Path) -> None:
    """A config file named like a command, its problem printed by the drift check's plan: shown in
    the log, but between stop-commands and their token, so the runner acts on none of it."""
    the_runner = runner(tmp_path)
    hostile = the_runner.workspace / "::warning::forged.yaml"
    hostile.write_text("version: 1\napp:\n  sdkappid: 1\n  nik: x\n", encoding="utf-8")
    the_runner.env["GITHUB_REPOSITORY"] = "acme/chat-config"
    contexts = {"github": {**the_runner.github, "action_path": str(ROOT), "token": "t"},
                "runner": {"temp": ""}}
    ran = the_runner.run_action("chatsync", {"command": "drift", "environment": "dev",
                                             "paths": "::warning::forged.yaml",
                                             "secret-key": "a-key"},  # checked first: then the config
                                contexts, [])
    drift = next(step for step in ran.inner if step.name.startswith("chatsync plan --detailed-exitcode"))
    forged = "::warning::forged.yaml:4:3: unknown field 'nik'"
    assert any(line.startswith(forged) for line in drift.stdout.splitlines())  # shown, at a line's start
    assert workflow_commands(drift.stdout) == []
    assert ran.outcome == "failure"
    [report] = [step for step in ran.inner if step.name.startswith("Report drift")]
    assert workflow_commands(report.stdout) == [
        "::error::the drift check of dev failed: chatsync plan exited 1"]
