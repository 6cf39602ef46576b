"""The rules the example CI files must keep: pinned installs and actions, least privilege, each key
only where it is needed, applies serialised per environment and gated, reviewed plans shown before
they are applied; and zizmor (offline) finds nothing of medium or high severity."""

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

GITHUB = load(GITHUB_WORKFLOW)
SHA = re.compile(r"[0-9a-f]{40}")
PROD_KEY = "secrets.CHATSYNC_SECRET_KEY_PROD"


# -- installs ---------------------------------------------------------------------------------------

def test_the_example_lock_is_the_runtime_lock() -> None:
    """`make lock` copies it; a stale copy would install other versions in users' CI."""
    example = (GITOPS / "ci" / "requirements.txt").read_text(encoding="utf-8")
    assert example == (ROOT / "requirements" / "runtime.txt").read_text(encoding="utf-8")


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


def test_every_pip_install_in_the_examples_is_pinned() -> None:
    """Each is the hash-checked lock, or chatsync-iac at a full commit SHA: never a bare name."""
    variables = GITHUB["env"]
    seen = 0
    for path in _example_files():
        for command in _pip_installs(path.read_text(encoding="utf-8")):
            seen += 1
            command = re.sub(r"\$\{(\w+)\}", lambda m: str(variables[m.group(1)]), command)
            words = shlex.split(command)
            if "--require-hashes" in words:
                assert _requirements(command) == [] and "--no-deps" in words, (path, command)
                assert (GITOPS / words[words.index("-r") + 1]).is_file(), (path, command)
                continue
            [requirement] = _requirements(command)
            match = re.fullmatch(r"(\S+) @ git\+https://\S+@(\S+)", requirement)
            assert match and "--no-deps" in words, f"{path.name}: unpinned: {command}"
            assert match.group(1) == "chatsync-iac", command
            assert SHA.fullmatch(match.group(2)), command
    assert seen >= 6  # the three GitHub jobs each install twice (GitLab's: test_gitlab_component.py)


def test_no_example_or_readme_command_installs_the_unrelated_pypi_chatsync() -> None:
    """Code blocks of the README and every example: chatsync comes as chatsync-iac or from a clone."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    texts = ["\n".join(re.findall(r"```\w*\n(.*?)```", readme, re.DOTALL))]
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
    text = GITHUB_WORKFLOW.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if re.match(r"\s*(- )?uses:", line)]
    assert len(lines) == len(_uses(GITHUB["jobs"])) >= 10
    for line in lines:
        assert re.search(r"uses: [\w-]+/[\w-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+$", line), line


def test_permissions_are_least_privilege_per_job() -> None:
    assert GITHUB["permissions"] == {}
    expected = {
        "plan": {"contents": "read", "pull-requests": "write"},
        "apply": {"contents": "read", "actions": "read", "pull-requests": "read"},
        "drift": {"contents": "read", "issues": "write"},
    }
    assert {name: job["permissions"] for name, job in GITHUB["jobs"].items()} == expected


def _environments(job: dict[str, Any]) -> set[str]:
    """The environments a job's legs run in."""
    environment = job.get("environment")
    if environment is None:
        return set()
    matrix = job["strategy"]["matrix"]
    legs = matrix.get("include") or [{"env": env} for env in matrix["env"]]
    return {str(environment).replace("${{ matrix.environment }}", leg.get("environment", ""))
            .replace("${{ matrix.env }}", leg["env"]) for leg in legs}


def test_keys_reach_only_jobs_in_an_environment_and_prod_only_protected_ones() -> None:
    """A secret of a job without an environment would be a repository secret, which every
    pull-request job can read; the prod key lives in prod (main only) and prod-plan (reviewers)."""
    for name, job in GITHUB["jobs"].items():
        text = json.dumps(job)
        if "secrets." in text:
            assert job.get("environment"), name
        if PROD_KEY in text:
            assert "prod" in {env.split("-")[0] for env in _environments(job)}, name
    assert _environments(GITHUB["jobs"]["plan"]) == {"dev", "prod-plan"}
    assert _environments(GITHUB["jobs"]["apply"]) == _environments(GITHUB["jobs"]["drift"]) == {"dev", "prod"}
    header = GITHUB_WORKFLOW.read_text(encoding="utf-8").split("\nname:")[0]
    assert "required reviewers" in header and "main only" in header


def test_applies_are_serialised_per_environment_and_apply_the_reviewed_plan() -> None:
    apply = GITHUB["jobs"]["apply"]
    assert apply["if"] == "github.event_name == 'push'"
    assert apply["concurrency"] == {"group": "chatsync-apply-${{ matrix.env }}", "cancel-in-progress": False}
    assert apply["strategy"]["max-parallel"] == 1
    names = [s.get("name") for s in apply["steps"]]
    assert names.index("Find the reviewed plan") < names.index("Download the reviewed plan") \
        < names.index("chatsync show (what is applied)") < names.index("chatsync apply")
    download = next(s for s in apply["steps"] if s.get("name") == "Download the reviewed plan")
    assert download["with"]["run-id"] == "${{ steps.reviewed.outputs.run-id }}"
    assert "--auto-approve" not in GITHUB_WORKFLOW.read_text(encoding="utf-8")


def test_the_sticky_comment_is_found_among_all_comments() -> None:
    plan = GITHUB["jobs"]["plan"]
    script = next(s for s in plan["steps"] if s.get("name") == "Post the plan as one sticky comment")
    body = script["with"]["script"]
    assert "github.paginate(github.rest.issues.listComments" in body and "updateComment" in body


def test_pip_is_cached_on_the_lock_and_checkouts_keep_no_token() -> None:
    for name, job in GITHUB["jobs"].items():
        steps = {s["uses"].split("@")[0]: s for s in job["steps"] if "uses" in s}
        assert steps["actions/setup-python"]["with"]["cache"] == "pip", name
        assert steps["actions/setup-python"]["with"]["cache-dependency-path"] == "ci/requirements.txt", name
        assert steps["actions/checkout"]["with"]["persist-credentials"] is False, name


def test_the_drift_check_is_scheduled() -> None:
    assert GITHUB["on"]["schedule"]
    assert GITHUB["jobs"]["drift"]["if"].startswith("github.event_name == 'schedule'")


# -- zizmor -----------------------------------------------------------------------------------------

def _zizmor() -> str | None:
    beside = Path(sys.executable).parent / "zizmor"
    return str(beside) if beside.exists() else shutil.which("zizmor")


def test_zizmor_finds_nothing_of_medium_or_high_severity() -> None:
    binary = _zizmor()
    if binary is None and sys.version_info < (3, 11):
        pytest.skip("zizmor's wheels need Python 3.11+; the 3.11 run of the suite checks the workflow")
    assert binary is not None, "zizmor is not installed: make installs it from requirements/dev.txt"
    done = subprocess.run([binary, "--offline", "--persona", "auditor", "--format", "json", "--no-config",
                           str(GITHUB_WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 10, 11, 12, 13, 14), done.stderr  # 1x: findings, judged below
    findings = json.loads(done.stdout)
    serious = [f for f in findings if f["determinations"]["severity"].lower() in ("medium", "high")]
    assert serious == [], [(f["ident"], f["desc"]) for f in serious]
