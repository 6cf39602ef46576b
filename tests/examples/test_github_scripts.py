"""The workflow's actions/github-script blocks, run under node with a fake GitHub API: the sticky
comment is found among all comments (not the first page), the reviewed plan's run is the newest
plan run of the merged pull request's head, and drift opens one issue per environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.examples.workflows import GITHUB_WORKFLOW, load, step

RUNNER = Path(__file__).with_name("github_script_runner.js")
JOBS = load(GITHUB_WORKFLOW)["jobs"]
NODE = shutil.which("node")
REPO = {"owner": "acme", "repo": "chat-config"}
BOT = {"login": "github-actions[bot]"}
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed (it runs github-script blocks)")


def run_script(job: str, name: str, context: dict[str, Any], data: dict[str, Any], cwd: Path,
               **env: str) -> dict[str, Any]:
    the_step = step(JOBS[job], name)
    assert the_step["uses"].startswith("actions/github-script@")
    script = the_step["with"]["script"]
    ref = "acme/chat-config/.github/workflows/chatsync.yml@refs/heads/main"
    full_env = {**os.environ, "GITHUB_WORKFLOW_REF": ref, **env}
    done = subprocess.run([str(NODE), str(RUNNER)], input=json.dumps(
        {"script": script, "context": {"repo": REPO, **context}, "data": data}), cwd=cwd, env=full_env,
        capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def writes(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    reads = ("paginate", "issues.listComments", "issues.listForRepo", "actions.listWorkflowRuns",
             "actions.listWorkflowRunArtifacts", "repos.listPullRequestsAssociatedWithCommit")
    return [(name, params) for name, params in result["calls"] if name not in reads]


PR_CONTEXT = {"issue": {"number": 12}, "payload": {"pull_request": {"head": {"sha": "b" * 40}}},
              "serverUrl": "https://github.com", "runId": 99}


def test_the_plan_comment_past_the_first_page_is_updated(tmp_path: Path) -> None:
    (tmp_path / "plan.md").write_text("<!-- chatsync-plan -->\n**Plan: 1 to create.**\n", encoding="utf-8")
    comments = [{"id": n, "user": {"login": "someone"}, "body": f"comment {n}"} for n in range(40)]
    comments.append({"id": 500, "user": {"login": "someone"}, "body": "<!-- chatsync-plan: prod --> quoted"})
    comments.append({"id": 501, "user": BOT, "body": "<!-- chatsync-plan: dev -->\n### old dev plan"})
    comments.append({"id": 502, "user": BOT, "body": "<!-- chatsync-plan: prod -->\n### old prod plan"})
    result = run_script("plan", "Post the plan as one sticky comment", PR_CONTEXT, {"comments": comments},
                        tmp_path, ENV_NAME="prod", PLAN_STATUS="0")
    [(name, params)] = writes(result)
    assert name == "issues.updateComment" and params["comment_id"] == 502
    heading = "<!-- chatsync-plan: prod -->\n### chatsync plan: prod\n\n"
    assert params["body"].startswith(f"{heading}<!-- chatsync-plan -->")
    assert "CAUTION" not in params["body"]


def test_a_first_plan_is_a_new_comment_and_an_unsafe_one_says_so(tmp_path: Path) -> None:
    (tmp_path / "plan.md").write_text("<!-- chatsync-plan -->\n**UNSAFE**\n", encoding="utf-8")
    result = run_script("plan", "Post the plan as one sticky comment", PR_CONTEXT, {"comments": []},
                        tmp_path, ENV_NAME="dev", PLAN_STATUS="1")
    [(name, params)] = writes(result)
    assert name == "issues.createComment" and params["issue_number"] == 12
    assert "chatsync plan exited 1" in params["body"] and "**UNSAFE**" in params["body"]


MERGE = "m" * 40
HEAD = "h" * 40
PULL = {"number": 7, "merged_at": "2026-11-25T10:00:00Z", "merge_commit_sha": MERGE, "head": {"sha": HEAD}}


def _reviewed(tmp_path: Path, pulls: list[dict[str, Any]], runs: list[dict[str, Any]],
              artifacts: dict[str, Any]) -> dict[str, Any]:
    return run_script("apply", "Find the reviewed plan", {"sha": MERGE}, {
        "pulls": pulls, "runs": runs, "artifacts": artifacts}, tmp_path, ENV_NAME="prod")


def test_the_reviewed_plan_is_the_newest_plan_run_of_the_merged_head(tmp_path: Path) -> None:
    pulls = [{"number": 3, "merged_at": None, "merge_commit_sha": "x" * 40, "head": {"sha": "y" * 40}}, PULL]
    runs = [{"id": 1000 + n, "run_number": n, "head_sha": HEAD, "workflow": "chatsync.yml",
             "html_url": f"https://github.com/run/{n}"} for n in (40, 45, 41)]
    runs.append({"id": 2000, "run_number": 99, "head_sha": "y" * 40, "workflow": "chatsync.yml",
                 "html_url": ""})
    artifacts = {"1040": [{"name": "plan-prod", "expired": False}],
                 "1045": [{"name": "plan-dev", "expired": False}],  # the newest run: no prod plan (failed)
                 "1041": [{"name": "plan-prod", "expired": False}],
                 "2000": [{"name": "plan-prod", "expired": False}]}
    result = _reviewed(tmp_path, pulls, runs, artifacts)
    assert result["failed"] is None and result["outputs"] == {"run-id": "1041"}
    [(_, search)] = [c for c in result["calls"] if c[0] == "paginate" and "head_sha" in c[1]]
    assert search["event"] == "pull_request" and search["workflow_id"] == "chatsync.yml"


def test_a_push_that_merged_no_pull_request_has_no_reviewed_plan(tmp_path: Path) -> None:
    result = _reviewed(tmp_path, [], [], {})
    assert "merged no pull request" in result["failed"] and result["outputs"] == {}


def test_an_expired_plan_is_not_applied(tmp_path: Path) -> None:
    pulls = [PULL]
    runs = [{"id": 1040, "run_number": 40, "head_sha": HEAD, "workflow": "chatsync.yml", "html_url": ""}]
    result = _reviewed(tmp_path, pulls, runs, {"1040": [{"name": "plan-prod", "expired": True}]})
    assert "no plan-prod artifact" in result["failed"] and result["outputs"] == {}


def test_drift_opens_one_issue_then_comments_on_it(tmp_path: Path) -> None:
    (tmp_path / "drift.md").write_text("**Plan: 0 to create, 1 to update, 0 to delete.**", encoding="utf-8")
    context = {"serverUrl": "https://github.com", "runId": 5}
    first = run_script("drift", "Open or update the drift issue", context, {"issues": []}, tmp_path,
                       ENV_NAME="prod")
    [(name, params)] = writes(first)
    assert name == "issues.create" and params["title"] == "chatsync drift: prod"
    assert "1 to update" in params["body"]
    issues = [{"number": n, "title": f"other {n}"} for n in range(35)]
    issues.append({"number": 77, "title": "chatsync drift: prod"})  # past the first page
    again = run_script("drift", "Open or update the drift issue", context, {"issues": issues}, tmp_path,
                       ENV_NAME="prod")
    [(name, params)] = writes(again)
    assert name == "issues.createComment" and params["issue_number"] == 77
