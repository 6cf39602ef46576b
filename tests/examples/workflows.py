"""Helpers to read the example CI files and run their shell steps as a runner would.

A GitHub step's ``run:`` script runs under ``bash -eo pipefail`` (GitHub's default shell) with the
step's ``env:``, whose ``${{ }}`` expressions are looked up in a table the test gives (an
expression the table lacks fails the test: every one is accounted for). GitLab jobs run through
tests/examples/gitlab_runner.py, which expands the component as GitLab does. Commands run in a copy of
examples/gitops, with this virtualenv's ``chatsync`` first on PATH; install lines never run (they
need the network): the test's environment already has chatsync installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
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
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def load(path: Path) -> dict[str, Any]:
    """A CI file as YAML (GitHub's ``on:`` key comes back as ``on``, not PyYAML's ``True``)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), path
    if True in document:
        document["on"] = document.pop(True)
    return document


def step(job: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The step of ``job`` named ``name`` (exactly one)."""
    found = [s for s in job["steps"] if s.get("name") == name]
    assert len(found) == 1, (name, [s.get("name") for s in job["steps"]])
    return found[0]


def resolve(value: Any, context: Mapping[str, str]) -> str:
    """``value`` with each ``${{ expr }}`` replaced by ``context[expr]``."""
    def lookup(match: re.Match[str]) -> str:
        assert match.group(1) in context, f"the test does not know the expression {match.group(0)}"
        return context[match.group(1)]
    return EXPRESSION.sub(lookup, str(value))


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


def run_github_step(the_step: Mapping[str, Any], workdir: Path, env: Mapping[str, str],
                    context: Mapping[str, str]) -> Ran:
    """Run a ``run:`` step in ``workdir`` with ``env`` plus its own ``env:`` (resolved in ``context``)."""
    script = the_step["run"]
    assert "${{" not in script, "an expression in a run: script (template injection): pass it via env:"
    output_file = workdir / f".github-output-{os.getpid()}"
    output_file.write_text("", encoding="utf-8")
    full = {**env, "GITHUB_OUTPUT": str(output_file)}
    full.update({k: resolve(v, context) for k, v in (the_step.get("env") or {}).items()})
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=workdir,
                          env=full, capture_output=True, text=True, timeout=60)
    lines = output_file.read_text(encoding="utf-8").splitlines()
    outputs = dict(line.split("=", 1) for line in lines if line)
    output_file.unlink()
    return Ran(done.returncode, done.stdout, done.stderr, outputs)


def copy_gitops(tmp_path: Path) -> Path:
    """A copy of examples/gitops to run the steps in (as a checkout of the config repository)."""
    target = tmp_path / "repo"
    shutil.copytree(GITOPS, target)
    return target


CONDITION = re.compile(r"^([\w.-]+) (==|!=) '([^']*)'$")


def runs(the_step: Mapping[str, Any], context: Mapping[str, str]) -> bool:
    """Whether the step's ``if:`` holds. Only the forms the workflow uses are understood:
    ``!cancelled()`` (true: nothing is cancelled here) and ``NAME == 'v'`` / ``NAME != 'v'``."""
    condition = str(the_step.get("if", "true")).strip()
    condition = EXPRESSION.sub(lambda m: m.group(1), condition).strip()
    if condition in ("true", "!cancelled()"):
        return True
    match = CONDITION.match(condition)
    assert match, f"the test does not understand the condition {condition!r}"
    name, operator, value = match.groups()
    assert name in context, f"the test does not know {name}"
    return (context[name] == value) == (operator == "==")
