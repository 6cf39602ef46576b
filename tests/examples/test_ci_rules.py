"""The rules the example CI files must keep: pinned installs and actions, least privilege, each key
only where it is needed, applies serialised per environment and gated, reviewed plans shown before
they are applied; and zizmor (offline) finds nothing in action.yml and the example workflow."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.examples.workflows import GITHUB_WORKFLOW, GITOPS, ROOT, load

ACTION_FILE = ROOT / "action.yml"
ACTION = load(ACTION_FILE)
GITHUB = load(GITHUB_WORKFLOW)


# -- installs ---------------------------------------------------------------------------------------

def _example_files() -> list[Path]:
    return [p for p in sorted((ROOT / "examples").rglob("*")) if p.is_file() and p.suffix in
            {".yml", ".yaml", ".md", ".py", ".sh", ".txt", ""} and p.name != "requirements.txt"]


def _pip_installs(text: str) -> list[str]:
    return [m.group(0).strip() for m in re.finditer(r"pip3? install[^\n#`]*", text)]


def _requirements(command: str) -> list[str]:
    """What ``pip install ...`` installs: its arguments that are not options (nor an option's file)."""
    words = shlex.split(command)[2:]
    found, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word in ("-r", "--requirement", "-c", "--constraint"):
            skip = True
        elif not word.startswith("-"):
            found.append(word)
    return found


def test_no_example_installs_chatsync_by_hand() -> None:
    """The action (action.yml) and the component (templates/) install chatsync from their own
    checkout with the hashed lock: an example copies no lock and names no package to install."""
    assert [(path.name, command) for path in _example_files()
            for command in _pip_installs(path.read_text(encoding="utf-8"))] == []
    assert not (GITOPS / "ci").exists()


def test_no_example_or_readme_command_installs_the_unrelated_pypi_chatsync() -> None:
    """Code blocks of the README, the docs pages and every example: chatsync comes as chatsync-iac or
    from a clone."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    texts = ["\n".join(re.findall(r"```\w*\n(.*?)```", page.read_text(encoding="utf-8"), re.DOTALL))
             for page in pages]
    assert any("pip install" in text for text in texts)  # the install instructions are still read here
    texts += [p.read_text(encoding="utf-8") for p in _example_files()]
    for text in texts:
        for command in _pip_installs(text):
            for requirement in _requirements(command):
                name = re.split(r"[\s@=<>!~\[;]", requirement, maxsplit=1)[0]
                assert name in (".", "chatsync-iac") or "/" in name or name.startswith("${"), command


# -- GitHub Actions ---------------------------------------------------------------------------------

def _uses(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "uses"] + [u for v in node.values() for u in _uses(v)]
    if isinstance(node, list):
        return [u for v in node for u in _uses(v)]
    return []


def test_actions_are_pinned_by_full_commit_sha_with_the_release_named() -> None:
    """Every action by commit SHA (a tag can be moved); chatsync's own with a line saying to put
    the SHA of the copy you host."""
    ours = 0
    for path, document in ((GITHUB_WORKFLOW, GITHUB), (ACTION_FILE, ACTION)):
        lines = [line for line in path.read_text(encoding="utf-8").splitlines()
                 if re.match(r"\s*(- )?uses:", line)]
        assert len(lines) == len(_uses(document)), path
        for line in lines:
            if "/chatsync@" in line:
                ours += 1
                assert re.search(r"uses: OWNER/chatsync@[0-9a-f]{40}  # REPLACE", line), line
            else:
                assert re.search(r"uses: actions/[\w-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+$", line), line
    assert ours == 3
    assert "actions/github-script" not in GITHUB_WORKFLOW.read_text(encoding="utf-8")  # tested Python instead


def test_the_action_installs_chatsync_from_its_own_checkout_with_the_hash_pinned_lock() -> None:
    """No package name, no copied lock: the lock and the source are the action's own checkout."""
    [install] = [s for s in ACTION["runs"]["steps"] if s.get("id") == "install"]
    commands = _pip_installs(install["run"].replace("\\\n", " "))
    assert [shlex.split(c)[2:] for c in commands] == [
        ["--quiet", "--disable-pip-version-check", "--require-hashes", "--no-deps",
         "-r", "$ACTION_PATH/requirements/runtime.txt"],
        ["--quiet", "--disable-pip-version-check", "--no-deps", "--no-build-isolation", "$ACTION_PATH"]]
    assert install["env"] == {"ACTION_PATH": "${{ github.action_path }}"}
    assert "sys.version_info < (3, 10)" in install["run"]


def test_every_run_step_of_the_action_is_bash_with_pipefail_and_no_expression() -> None:
    """``shell: bash`` is ``bash -eo pipefail``; values reach a script through env: only."""
    steps = [s for s in ACTION["runs"]["steps"] if "run" in s]
    assert len(steps) >= 8
    for the_step in steps:
        assert the_step["shell"] == "bash", the_step["name"]
        assert "${{" not in the_step["run"], the_step["name"]
    assert not [s for job in GITHUB["jobs"].values() for s in job["steps"] if "run" in s]  # all in the action


def test_the_key_reaches_only_the_steps_running_chatsync_and_the_token_only_the_forge_steps() -> None:
    for the_step in ACTION["runs"]["steps"]:
        env = the_step.get("env") or {}
        values = " ".join(str(v) for v in env.values())
        if "inputs.secret-key }}" in values:
            assert re.search(r'chatsync" (plan|apply)', the_step["run"]), the_step["name"]
            assert "unset SECRET_KEY" in the_step["run"] and "export \"$KEY_ENV=$key\"" in the_step["run"]
            assert "inputs.github-token" not in values
        if "inputs.github-token" in values:
            assert "chatsync.gitops.github" in the_step["run"] and "chatsync\" " not in the_step["run"]


def test_permissions_are_least_privilege_per_job() -> None:
    assert GITHUB["permissions"] == {}
    expected = {
        "plan": {"contents": "read", "pull-requests": "write"},
        "apply": {"contents": "read", "actions": "read", "pull-requests": "read"},
        "drift": {"contents": "read", "issues": "write"},
    }
    assert {name: job["permissions"] for name, job in GITHUB["jobs"].items()} == expected


def test_keys_are_environment_secrets_and_prod_only_in_protected_environments() -> None:
    """A secret of a job without an environment would be a repository secret, which every
    pull-request job can read; the prod key lives in prod (main only) and prod-plan (reviewers)."""
    environments = {}
    for name, job in GITHUB["jobs"].items():
        assert job["environment"] in ("${{ matrix.environment }}", "${{ matrix.env }}"), name
        legs = job["strategy"]["matrix"]["include"]
        environments[name] = {leg.get("environment", leg["env"]) for leg in legs}
    assert environments == {"plan": {"dev", "prod-plan"}, "apply": {"dev", "prod"}, "drift": {"dev", "prod"}}
    header = GITHUB_WORKFLOW.read_text(encoding="utf-8").split("\nname:")[0]
    assert "required reviewers" in header and "main only" in header and "repository secret" in header


def test_applies_are_serialised_per_environment_dev_first_and_apply_the_reviewed_plan() -> None:
    apply = GITHUB["jobs"]["apply"]
    assert apply["if"] == "github.event_name == 'push'"
    assert apply["concurrency"] == {"group": "chatsync-apply-${{ matrix.env }}", "cancel-in-progress": False}
    assert apply["strategy"]["max-parallel"] == 1 and apply["strategy"]["fail-fast"] is True
    assert [leg["env"] for leg in apply["strategy"]["matrix"]["include"]] == ["dev", "prod"]
    steps = [s for s in ACTION["runs"]["steps"] if s.get("if", "").startswith("inputs.command == 'apply'")]
    assert [s["name"] for s in steps] == ["Find the plan reviewed on the merged pull request",
                                          "Download the reviewed plan",
                                          "chatsync show, then apply the reviewed plan"]
    assert steps[1]["with"]["run-id"] == "${{ steps.reviewed.outputs.run-id }}"
    assert steps[2]["run"].index("chatsync\" show") < steps[2]["run"].index("chatsync\" apply")
    text = ACTION_FILE.read_text(encoding="utf-8")
    assert "--auto-approve" not in text and "--force" not in text


def test_checkouts_keep_no_token() -> None:
    for name, job in GITHUB["jobs"].items():
        for the_step in job["steps"]:
            if the_step["uses"].startswith("actions/checkout@"):
                assert the_step["with"]["persist-credentials"] is False, name


def test_the_drift_check_is_scheduled() -> None:
    assert GITHUB["on"]["schedule"]
    assert GITHUB["jobs"]["drift"]["if"].startswith("github.event_name == 'schedule'")


# -- zizmor -----------------------------------------------------------------------------------------

def _zizmor() -> str | None:
    beside = Path(sys.executable).parent / "zizmor"
    return str(beside) if beside.exists() else shutil.which("zizmor")


def test_zizmor_finds_nothing_in_the_action_and_the_example_workflow() -> None:
    binary = _zizmor()
    if binary is None and sys.version_info < (3, 11):
        pytest.skip("zizmor's wheels need Python 3.11+; the 3.11 run of the suite checks the workflow")
    assert binary is not None, "zizmor is not installed: make installs it from requirements/dev.txt"
    done = subprocess.run([binary, "--offline", "--persona", "auditor", "--format", "json", "--no-config",
                           str(ACTION_FILE), str(GITHUB_WORKFLOW)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 10, 11, 12, 13, 14), done.stderr  # 1x: findings, listed below
    findings = json.loads(done.stdout)
    assert findings == [], [(f["ident"], f["desc"]) for f in findings]
