"""Helpers to read the example CI files and run their shell steps as a runner would.

GitHub jobs run through tests/examples/github_runner.py, which runs steps and the action as
GitHub's runner does; GitLab jobs run through tests/examples/gitlab_runner.py, which expands the
component as GitLab does. Commands run in a copy of examples/gitops, with this virtualenv's
``chatsync`` first on PATH; install lines never run (they need the network): the test's
environment already has chatsync installed.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
GITOPS = ROOT / "examples" / "gitops"
GITHUB_WORKFLOW = GITOPS / ".github" / "workflows" / "chatsync.yml"
GITLAB_CI = GITOPS / ".gitlab-ci.yml"


def load(path: Path) -> dict[str, Any]:
    """A CI file as YAML (GitHub's ``on:`` key comes back as ``on``, not PyYAML's ``True``)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), path
    if True in document:
        document["on"] = document.pop(True)
    return document


def step(job: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The step of ``job`` named ``name`` (exactly one)."""
    found: list[dict[str, Any]] = [s for s in job["steps"] if s.get("name") == name]
    assert len(found) == 1, (name, [s.get("name") for s in job["steps"]])
    return found[0]


def base_env(**extra: str) -> dict[str, str]:
    """A clean environment: no CHATSYNC_* of the caller's, this venv's bin first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHATSYNC_", "GITHUB_", "CI_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env


@dataclass
class Ran:
    """One shell step that ran: its exit status, outputs and what it wrote to ``$GITHUB_OUTPUT``."""

    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str] = field(default_factory=dict)


def copy_gitops(tmp_path: Path) -> Path:
    """A copy of examples/gitops to run the steps in (as a checkout of the config repository)."""
    target = tmp_path / "repo"
    shutil.copytree(GITOPS, target)
    return target
