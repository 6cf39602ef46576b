"""GitHub's runner, as far as the example workflow and action.yml need it, run for real on this machine.

* A ``run:`` step is written to a file and run as GitHub runs it: no ``shell:`` is ``bash -e {0}``
  (no pipefail: a failing command on the left of a pipe does not fail the step), ``shell: bash`` is
  ``bash --noprofile --norc -eo pipefail {0}``. Any other shell fails the test. A ``${{ }}`` in a
  ``run:`` script fails the test (template injection: values go through ``env:``).
* ``${{ }}`` in ``if:``, ``env:``, ``with:`` and the action's outputs are evaluated: literals,
  contexts (``github``, ``inputs``, ``matrix``, ``secrets``, ``steps``, ``runner``, ``env``), ``==``
  ``!=`` (strings compared case-insensitively, as GitHub does), ``!``, ``&&``, ``||``, parentheses
  and the status functions. Anything else fails the test, so no condition is guessed.
* ``uses:`` of this repository's action (``OWNER/chatsync@<SHA>``) runs action.yml's steps with
  ``inputs`` resolved; its install step is simulated (it needs the network): its script is checked
  and its output points at this virtualenv. actions/checkout is a no-op (the workspace is a copy of
  examples/gitops); upload-artifact and download-artifact copy files to and from a per-test store,
  registering each artifact with the fake GitHub API. Any other action fails the test.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.examples.workflows import ROOT

ACTION = ROOT / "action.yml"
OUR_ACTION = re.compile(r"[\w.-]+/chatsync@[0-9a-f]{40}")
PINNED = re.compile(r"(actions/[\w-]+)@[0-9a-f]{40}")
#: How GitHub runs a ``run:`` step on Linux ({0} is the script's file).
SHELLS = {None: ["bash", "-e", "{0}"], "bash": ["bash", "--noprofile", "--norc", "-eo", "pipefail", "{0}"]}
WHOLE = re.compile(r"^\$\{\{(.*)\}\}$", re.DOTALL)
PART = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


# -- expressions ------------------------------------------------------------------------------------

TOKEN = re.compile(r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>\d+)|(?P<op>==|!=|&&|\|\||!|\(|\)|\[|\])"
                   r"|(?P<name>[A-Za-z_][\w-]*(?:\.[A-Za-z_*][\w-]*)*))")


class Expression:
    """One GitHub expression, parsed and evaluated at once against ``contexts``."""

    def __init__(self, text: str, contexts: Mapping[str, Any], status: Mapping[str, bool]) -> None:
        self.tokens: list[tuple[str, str]] = []
        position = 0
        text = text.strip()
        while position < len(text):
            match = TOKEN.match(text, position)
            assert match and match.end() > position, f"the test does not understand {text!r} at {position}"
            kind = match.lastgroup
            assert kind is not None
            self.tokens.append((kind, match.group(kind)))
            position = match.end()
        self.contexts, self.status, self.at = contexts, status, 0

    def value(self) -> Any:
        result = self._or()
        assert self.at == len(self.tokens), f"the test does not understand {self.tokens[self.at:]}"
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def _or(self) -> Any:
        left = self._and()
        while self._peek() == "||":
            self._take()
            right = self._and()
            left = left if truthy(left) else right
        return left

    def _and(self) -> Any:
        left = self._compare()
        while self._peek() == "&&":
            self._take()
            right = self._compare()
            left = right if truthy(left) else left
        return left

    def _compare(self) -> Any:
        left = self._unary()
        while self._peek() in ("==", "!="):
            operator = self._take()[1]
            right = self._unary()
            left = equal(left, right) == (operator == "==")
        return left

    def _unary(self) -> Any:
        if self._peek() == "!":
            self._take()
            return not truthy(self._unary())
        return self._primary()

    def _primary(self) -> Any:
        kind, text = self._take()
        if text == "(":
            inner = self._or()
            assert self._take()[1] == ")"
            return inner
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "number":
            return int(text)
        assert kind == "name", f"the test does not understand {text!r}"
        if text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        if self._peek() == "(":
            self._take()
            assert self._take()[1] == ")", f"{text}(...): only the status functions are known"
            assert text in self.status, f"the test does not know the function {text}()"
            return self.status[text]
        head, *rest = text.split(".")
        assert head in self.contexts, f"the test does not know the context {head!r}"
        found: Any = self.contexts[head]
        for part in rest:
            if head == "inputs":
                assert part in found, f"inputs.{part} is not an input of the action"
            found = found.get(part) if isinstance(found, Mapping) else None
        return found


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "")


def equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    return bool(left == right or (left in (None, "") and right in (None, "")))


def evaluate(text: str, contexts: Mapping[str, Any], status: Mapping[str, bool]) -> Any:
    return Expression(text, contexts, status).value()


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def interpolate(value: Any, contexts: Mapping[str, Any], status: Mapping[str, bool]) -> str:
    """``value`` (from YAML) with each ``${{ }}`` replaced by its value."""
    text = as_text(value)
    return PART.sub(lambda m: as_text(evaluate(m.group(1), contexts, status)), text)


def condition(step: Mapping[str, Any], contexts: Mapping[str, Any], status: Mapping[str, bool]) -> bool:
    """Whether a step or job runs: its ``if:`` (default ``success()``), with or without ``${{ }}``."""
    text = as_text(step.get("if", "success()")).strip()
    whole = WHOLE.match(text)
    expression = whole.group(1) if whole else text
    assert "${{" not in expression, f"the test does not understand {text!r}"
    uses_status = re.search(r"\b(success|failure|always|cancelled)\(\)", expression)
    if not uses_status:  # GitHub adds success() to a condition without a status function
        expression = f"success() && ({expression})"
    return truthy(evaluate(expression, contexts, status))


# -- results ----------------------------------------------------------------------------------------

@dataclass
class StepRun:
    """One step as it ran: outcome ``success``, ``failure`` or ``skipped``, and what it printed."""

    name: str
    outcome: str
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    command: list[str] = field(default_factory=list)  # how the shell was started
    inner: list[StepRun] = field(default_factory=list)  # an action's own steps


@dataclass
class JobRun:
    outcome: str
    steps: list[StepRun]
    summary: str

    def step(self, name: str) -> StepRun:
        found = [s for s in self.all_steps() if s.name == name]
        assert len(found) == 1, (name, [s.name for s in self.all_steps()])
        return found[0]

    def all_steps(self) -> list[StepRun]:
        return [inner for s in self.steps for inner in [s, *s.inner]]

    @property
    def printed(self) -> str:
        return "\n".join(s.stdout + s.stderr for s in self.all_steps())


def _status(steps: list[StepRun]) -> dict[str, bool]:
    failed = any(s.outcome == "failure" for s in steps)
    return {"success": not failed, "failure": failed, "always": True, "cancelled": False}


# -- the runner -------------------------------------------------------------------------------------

@dataclass
class Runner:
    """One job's machine: a workspace (a copy of the config repository), RUNNER_TEMP, the process
    environment every step starts from, the ``github`` context, and the per-test artifact store
    (``store/<run id>/<name>/``). ``registered(run_id, name)`` tells the fake GitHub of an upload."""

    workspace: Path
    temp: Path
    store: Path
    env: dict[str, str]
    github: dict[str, Any]
    registered: Callable[[int, str], None] = lambda run_id, name: None
    venv_bin: Path = Path(sys.executable).parent
    simulate_install: bool = True  # False: the install step runs (its tests put a stub python3 on PATH)

    def __post_init__(self) -> None:
        self.temp.mkdir(parents=True, exist_ok=True)
        event = self.temp / "event.json"
        event.write_text(json.dumps(self.github.get("event", {})), encoding="utf-8")
        self.github.setdefault("run_id", "900")
        self.github.setdefault("token", self.env.get("GITHUB_TOKEN", ""))
        self.env.update({"GITHUB_EVENT_PATH": str(event), "GITHUB_EVENT_NAME": self.github["event_name"],
                         "GITHUB_SHA": self.github["sha"], "GITHUB_RUN_ID": str(self.github["run_id"]),
                         "GITHUB_WORKSPACE": str(self.workspace), "RUNNER_TEMP": str(self.temp),
                         "GITHUB_ACTIONS": "true", "CI": "true"})
        self.env.pop("GITHUB_TOKEN", None)  # a step gets the token only where it is passed
        self._scripts = 0

    def run_job(self, job: Mapping[str, Any], matrix: Mapping[str, Any],
                secrets: Mapping[str, str]) -> JobRun:
        contexts: dict[str, Any] = {"github": self.github, "matrix": dict(matrix), "secrets": dict(secrets),
                                    "runner": {"temp": str(self.temp), "os": "Linux"}, "steps": {},
                                    "env": {}, "vars": {}}
        if not condition(job, contexts, _status([])):
            return JobRun("skipped", [], "")
        done, summary = self.run_steps(job["steps"], contexts, scope="job")
        outcome = "failure" if any(s.outcome == "failure" for s in done) else "success"
        return JobRun(outcome, done, summary)

    def run_steps(self, steps: list[Mapping[str, Any]], contexts: dict[str, Any], scope: str
                  ) -> tuple[list[StepRun], str]:
        """Steps run one after another in ``contexts`` (whose ``steps`` they fill)."""
        done: list[StepRun] = []
        summary: list[str] = []
        for the_step in steps:
            done.append(self._step(the_step, contexts, done, summary, scope))
        return done, "".join(summary)

    def _step(self, the_step: Mapping[str, Any], contexts: dict[str, Any], done: list[StepRun],
              summary: list[str], scope: str) -> StepRun:
        name = the_step.get("name") or the_step.get("uses") or the_step.get("id") or "step"
        status = _status(done)
        if not condition(the_step, contexts, status):
            ran = StepRun(name, "skipped")
        elif "run" in the_step:
            ran = self._run(the_step, contexts, status, summary, scope)
        else:
            ran = self._uses(the_step, contexts, status, summary)
        if "id" in the_step:
            contexts["steps"][the_step["id"]] = {"outcome": ran.outcome, "conclusion": ran.outcome,
                                                 "outputs": ran.outputs}
        return ran

    def _run(self, the_step: Mapping[str, Any], contexts: dict[str, Any], status: Mapping[str, bool],
             summary: list[str], scope: str) -> StepRun:
        name = the_step.get("name", "run")
        script = the_step["run"]
        assert "${{" not in script, f"{name}: an expression in a run: script (template injection): use env:"
        shell = the_step.get("shell")
        assert scope != "action" or shell is not None, f"{name}: a composite action's run step needs shell:"
        assert shell in SHELLS, f"{name}: the test does not run shell {shell!r}"
        if the_step.get("id") == "install" and scope == "action" and self.simulate_install:
            return self._install(the_step)
        self._scripts += 1
        file = self.temp / f"_step_{self._scripts}.sh"
        file.write_text(script, encoding="utf-8")
        output, step_summary = self.temp / f"_output_{self._scripts}", self.temp / f"_summary_{self._scripts}"
        output.write_text("", encoding="utf-8")
        step_summary.write_text("", encoding="utf-8")
        env = {**self.env, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(step_summary),
               **{k: as_text(v) for k, v in contexts.get("env", {}).items()}}
        if scope == "action":
            env["GITHUB_ACTION_PATH"] = str(contexts["github"]["action_path"])
        env.update({k: interpolate(v, contexts, status) for k, v in (the_step.get("env") or {}).items()})
        command = [part.replace("{0}", str(file)) for part in SHELLS[shell]]
        done = subprocess.run(command, cwd=self.workspace, env=env, capture_output=True, text=True,
                              timeout=120)
        summary.append(step_summary.read_text(encoding="utf-8"))
        return StepRun(name, "success" if done.returncode == 0 else "failure", done.stdout, done.stderr,
                       _outputs(output.read_text(encoding="utf-8")), command)

    def _install(self, the_step: Mapping[str, Any]) -> StepRun:
        """The action's install step, simulated: it pins what it installs, and this venv has it."""
        script = the_step["run"]
        lock = r'--require-hashes --no-deps[\s\\]*-r "\$ACTION_PATH/requirements/runtime.txt"'
        assert re.search(lock, script)
        assert re.search(r'--no-deps --no-build-isolation "\$ACTION_PATH"$', script, re.MULTILINE)
        return StepRun(the_step["name"], "success", outputs={"bin": str(self.venv_bin)})

    def _uses(self, the_step: Mapping[str, Any], contexts: dict[str, Any], status: Mapping[str, bool],
              summary: list[str]) -> StepRun:
        uses = the_step["uses"]
        name = the_step.get("name", uses)
        given = {k: interpolate(v, contexts, status) for k, v in (the_step.get("with") or {}).items()}
        if OUR_ACTION.fullmatch(uses):
            return self.run_action(name, given, contexts, summary)
        pinned = PINNED.fullmatch(uses)
        assert pinned, f"the test does not run the action {uses!r} (or it is not pinned by a full SHA)"
        action = pinned.group(1)
        if action == "actions/checkout":
            return StepRun(name, "success")
        if action == "actions/upload-artifact":
            return self._upload(name, given)
        if action == "actions/download-artifact":
            return self._download(name, given)
        raise AssertionError(f"the test does not run the action {action}")

    def run_action(self, name: str, given: Mapping[str, str], caller: Mapping[str, Any],
                   summary: list[str]) -> StepRun:
        """This repository's action.yml, its inputs from ``given`` (and their defaults)."""
        action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
        declared = action["inputs"]
        unknown = set(given) - set(declared)
        assert not unknown, f"inputs the action does not declare: {sorted(unknown)}"
        defaults = {"github": caller["github"], "runner": caller["runner"]}
        inputs = {}
        for input_name, spec in declared.items():
            if input_name in given:
                inputs[input_name] = given[input_name]
            else:
                assert not spec.get("required"), f"the required input {input_name} is not given"
                inputs[input_name] = interpolate(spec.get("default", ""), defaults, _status([]))
        contexts = {"github": {**caller["github"], "action_path": str(ROOT)}, "inputs": inputs,
                    "runner": caller["runner"], "steps": {}, "env": {}}
        inner, text = self.run_steps(action["runs"]["steps"], contexts, scope="action")
        summary.append(text)
        outputs = {key: interpolate(spec["value"], contexts, _status(inner))
                   for key, spec in action["outputs"].items()}
        outcome = "failure" if any(s.outcome == "failure" for s in inner) else "success"
        return StepRun(name, outcome, outputs=outputs, inner=inner)

    def _upload(self, name: str, given: Mapping[str, str]) -> StepRun:
        run_id = int(self.github["run_id"])
        target = self.store / str(run_id) / given["name"]
        if target.exists():  # v4+: a name is uploaded once a run
            return StepRun(name, "failure", stderr=f"an artifact named {given['name']} already exists")
        source = Path(given["path"])
        source = source if source.is_absolute() else self.workspace / source
        if not source.exists():
            missing = given.get("if-no-files-found", "warn")
            return StepRun(name, "failure" if missing == "error" else "success", stderr="no files found")
        target.mkdir(parents=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy(source, target / source.name)
        self.registered(run_id, given["name"])
        return StepRun(name, "success")

    def _download(self, name: str, given: Mapping[str, str]) -> StepRun:
        run_id = given.get("run-id") or str(self.github["run_id"])
        source = self.store / run_id / given["name"]
        if not run_id.isdigit() or not source.is_dir():
            return StepRun(name, "failure", stderr=f"Unable to download artifact(s): {given['name']}")
        target = Path(given.get("path") or self.workspace)
        target = target if target.is_absolute() else self.workspace / target
        shutil.copytree(source, target, dirs_exist_ok=True)
        return StepRun(name, "success")


COMMAND = re.compile(r"::([\w-]+)(?: [^:]*)?::(.*)")


def workflow_commands(printed: str) -> list[str]:
    """The lines of a step's output the runner would take as workflow commands: ``::name ...::``
    at the start of a line, except between ``::stop-commands::TOKEN`` and ``::TOKEN::``."""
    found: list[str] = []
    stopped: str | None = None
    for line in printed.splitlines():
        line = line.strip()
        if stopped is not None:
            stopped = None if line == f"::{stopped}::" else stopped
            continue
        match = COMMAND.fullmatch(line)
        if match and match.group(1) == "stop-commands":
            stopped = match.group(2)
        elif match:
            found.append(line)
    return found


def _outputs(text: str) -> dict[str, str]:
    """``$GITHUB_OUTPUT``'s ``name=value`` lines (the heredoc form is not used here)."""
    outputs = {}
    for line in text.splitlines():
        if line:
            assert "=" in line and "<<" not in line.split("=", 1)[0], f"an output line not understood: {line}"
            key, value = line.split("=", 1)
            outputs[key] = value
    return outputs


def run_matrix(runner_for: Callable[[Mapping[str, Any]], Runner], job: Mapping[str, Any],
               secrets_of: Mapping[str, Mapping[str, str]]) -> dict[str, JobRun | None]:
    """A job's legs in matrix order, one after another (``max-parallel: 1``); with ``fail-fast`` a
    failed leg cancels those not yet run (None). Each leg gets its environment's secrets."""
    strategy = job.get("strategy", {})
    matrix = strategy["matrix"]
    legs = list(matrix.get("include") or [{"env": env} for env in matrix["env"]])
    fail_fast = strategy.get("fail-fast", True)
    results: dict[str, JobRun | None] = {}
    failed = False
    for leg in legs:
        if failed and fail_fast:
            results[leg["env"]] = None
            continue
        runner = runner_for(leg)
        environment = interpolate(job.get("environment", ""), {"matrix": leg, "github": runner.github},
                                  _status([]))
        results[leg["env"]] = ran = runner.run_job(job, leg, secrets_of.get(environment, {}))
        failed = failed or ran.outcome == "failure"
    return results
