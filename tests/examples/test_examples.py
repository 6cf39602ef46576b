"""Every example is exercised: configs validate, workflows parse, and each chatsync command they
run exists with the flags they pass (so a renamed flag cannot silently break a user's CI)."""

from __future__ import annotations

import io
import json
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from chatsync.cli import main
from chatsync.config import load

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
GITOPS = EXAMPLES / "gitops"
WORKFLOWS = [GITOPS / ".github/workflows/chatsync.yml", GITOPS / ".gitlab-ci.yml"]


@pytest.mark.parametrize("paths", [
    ["quickstart"], ["gitops/bots", "gitops/envs/dev"], ["gitops/bots", "gitops/envs/prod"],
])
def test_example_configs_validate(paths: list[str]) -> None:
    state = load([str(EXAMPLES / p) for p in paths])
    assert state.bots, "every example declares bots"


def test_environments_share_the_bot_definitions() -> None:
    dev = load([str(GITOPS / "bots"), str(GITOPS / "envs/dev")])
    prod = load([str(GITOPS / "bots"), str(GITOPS / "envs/prod")])
    shared = set(prod.bots) & set(dev.bots)
    assert {"@RBT#support", "@RBT#release-notes"} <= shared
    assert dev.app.sdkappid != prod.app.sdkappid


def _shell_lines(node: Any) -> list[str]:
    """Every shell line of a workflow: GitHub ``run:`` and GitLab ``script``/``before_script`` items."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "run" and isinstance(value, str):
                found += value.replace("\\\n", " ").splitlines()
            elif key in ("script", "before_script") and isinstance(value, list):
                found += [line for line in value if isinstance(line, str)]
            else:
                found += _shell_lines(value)
    elif isinstance(node, list):
        for item in node:
            found += _shell_lines(item)
    return found


def _chatsync_commands(lines: list[str]) -> list[list[str]]:
    commands = []
    for line in lines:
        line = re.sub(r"\$\{\{[^}]*\}\}", "X", line)  # GitHub expressions
        line = line.split(">")[0].split("#")[0]
        for part in re.split(r"&&|\|", line):
            words = shlex.split(part)
            if words and words[0] == "chatsync":
                commands.append(words[1:])
    return commands


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_parse_and_run_commands_that_exist(workflow: Path) -> None:
    document = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    commands = _chatsync_commands(_shell_lines(document))
    assert {c[0] for c in commands} >= {"validate", "plan", "apply"}, commands
    for words in commands:
        _assert_parses(words)


def test_the_github_workflow_posts_one_sticky_comment_and_applies_the_saved_plan() -> None:
    text = (GITOPS / ".github/workflows/chatsync.yml").read_text(encoding="utf-8")
    assert "<!-- chatsync-plan -->" in text and "updateComment" in text
    assert "apply --plan" in text and "secrets.CHATSYNC_SECRET_KEY_PROD" in text
    assert "--auto-approve" not in text  # merge applies the reviewed plan, not a fresh one


def test_pre_commit_hook_runs_validate_on_directories_that_exist() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    entry = {h["id"]: h for h in hooks}["chatsync-validate"]["entry"].split()
    assert entry[0] == "chatsync"
    config = yaml.safe_load((EXAMPLES / "pre-commit/.pre-commit-config.yaml").read_text(encoding="utf-8"))
    for hook in config["repos"][0]["hooks"]:
        assert hook["id"] == "chatsync-validate"
        _assert_parses(entry[1:] + hook["args"])
        load([str(GITOPS / path) for path in hook["args"]])


def _assert_parses(words: list[str]) -> None:
    command = main.commands.get(words[0])
    assert command is not None, f"no command chatsync {words[0]}"
    ctx = click.Context(command)
    command.parse_args(ctx, list(words[1:]))  # raises on an unknown flag or a bad value


def test_the_gitlab_note_script_updates_its_own_note(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    sys.path.insert(0, str(GITOPS / "ci"))
    try:
        import post_plan_note
    finally:
        sys.path.pop(0)
    calls: list[tuple[str, str, Any]] = []
    notes = [{"id": 7, "body": "<!-- chatsync-plan -->\n### prod\nold"}, {"id": 8, "body": "hello"}]

    class Answer(io.BytesIO):
        def __enter__(self) -> Answer:
            return self

        def __exit__(self, *args: object) -> None:
            pass

    def urlopen(request: Any) -> Answer:
        body = json.loads(request.data) if request.data else None
        calls.append((request.get_method(), request.full_url, body))
        return Answer(json.dumps(notes if request.get_method() == "GET" else {}).encode())

    monkeypatch.setattr(post_plan_note.urllib.request, "urlopen", urlopen)
    for name, value in {"CI_API_V4_URL": "https://gitlab.example/api/v4", "CI_PROJECT_ID": "1",
                        "GITLAB_TOKEN": "t", "CI_MERGE_REQUEST_IID": "5"}.items():
        monkeypatch.setenv(name, value)
    plan = tmp_path / "plan.md"
    plan.write_text("<!-- chatsync-plan -->\n**Plan: 1 to create, 0 to update, 0 to delete.**\n",
                    encoding="utf-8")
    post_plan_note.main(str(plan), "prod")
    assert calls[-1][0] == "PUT" and calls[-1][1].endswith("/merge_requests/5/notes/7")
    assert calls[-1][2]["body"].startswith("<!-- chatsync-plan -->\n### prod\n**Plan: 1 to create")
    post_plan_note.main(str(plan), "dev")
    assert calls[-1][0] == "POST"
