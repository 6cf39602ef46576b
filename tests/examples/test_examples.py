"""Every example is exercised: configs validate, CI files parse, each chatsync command they run
exists with the flags they pass (so a renamed flag cannot silently break a user's CI), and the
pre-commit hook runs on directories that exist. (test_github_flow and test_gitlab_flow run the
commands; test_ci_rules checks the CI files' security and ordering rules.)"""

from __future__ import annotations

import re
import shlex
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
#: The files that run chatsync in CI, and the drift check's command in each.
WORKFLOWS = {
    ROOT / "action.yml": ["plan", "${paths[@]}", "--detailed-exitcode", "--format", "markdown",
                          "--out", "$out/drift-$ENVIRONMENT.json"],
    ROOT / "templates" / "chatsync.yml": ["plan", "${chatsync_paths[@]}", "--detailed-exitcode", "--format",
                                          "markdown"],
}


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
    """Every shell line of a CI file: GitHub ``run:`` and GitLab ``script``/``before_script`` items."""
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
    """The arguments of each ``chatsync`` command in ``lines`` (redirections and comments dropped)."""
    commands = []
    for line in lines:
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words: list[str] = []
        redirected = False
        for token in [*lexer, ";"]:
            if token and set(token) <= set("|&;<>()"):  # an operator: the command ends here
                if words and words[0].split("/")[-1] == "chatsync":  # or "$CHATSYNC_BIN/chatsync"
                    commands.append(words[1:])
                words = []
                redirected = ">" in token
            elif not redirected:
                words.append(token)
    return commands


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_parse_and_run_commands_that_exist(workflow: Path) -> None:
    document = list(yaml.safe_load_all(workflow.read_text(encoding="utf-8")))[-1]  # a component: its jobs
    assert isinstance(document, dict)
    commands = _chatsync_commands(_shell_lines(document))
    assert {c[0] for c in commands} >= {"validate", "plan", "show", "apply"}, commands
    assert WORKFLOWS[workflow] in commands
    for words in commands:
        _assert_parses(words)


def test_pre_commit_hook_runs_validate_on_directories_that_exist() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    entry = {h["id"]: h for h in hooks}["chatsync-validate"]["entry"].split()
    assert entry[0] == "chatsync"
    text = (EXAMPLES / "pre-commit/.pre-commit-config.yaml").read_text(encoding="utf-8")
    config = yaml.safe_load(text)
    # No release tag exists yet: the rev is a full commit SHA, and the file says how to pin it.
    assert re.fullmatch(r"[0-9a-f]{40}", config["repos"][0]["rev"])
    assert "pre-commit autoupdate --freeze" in text
    for hook in config["repos"][0]["hooks"]:
        assert hook["id"] == "chatsync-validate"
        _assert_parses(entry[1:] + hook["args"])
        load([str(GITOPS / path) for path in hook["args"]])


def _assert_parses(words: list[str]) -> None:
    command = main.commands.get(words[0])
    assert command is not None, f"no command chatsync {words[0]}"
    ctx = click.Context(command)
    command.parse_args(ctx, list(words[1:]))  # raises on an unknown flag or a bad value
