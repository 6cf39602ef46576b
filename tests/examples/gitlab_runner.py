"""GitLab CI as the tests need it: a component included the way GitLab expands it, and a job's
script run the way GitLab Runner's bash shell runs it.

Including (GitLab's CI/CD inputs, docs.gitlab.com/ci/inputs and the ``spec:`` keywords of
docs.gitlab.com/ci/yaml): a template is two YAML documents, the ``spec:`` header then the jobs. Each
``$[[ inputs.NAME ]]`` in a key or a value of the jobs takes the include's input, or the spec's
default; ``$[[ component.FIELD ]]`` the component's context, for the fields ``spec:component``
lists. As on GitLab, the pipeline is refused (here: the test fails) for an input the include
passes but the spec does not declare, a mandatory input not passed, a value not of the input's
``type``, not among its ``options`` or not matching its ``regex``, and an interpolation naming
anything undeclared. A string that is exactly one interpolation takes the input's typed value.

Running (GitLab Runner's ``shells/bash.go``, ``BashWriter.Finish``, and ``shells/abstract.go``,
``writeCommands``; gitlab.com/gitlab-org/gitlab-runner): the job's ``before_script`` and
``script`` lines become one script, each line echoed as ``$ line`` and then run, and the whole of
it is run as::

    trap exit 1 TERM
    if set -o | grep pipefail > /dev/null; then set -o pipefail; fi; set -o errexit
    set +o noclobber
    : | eval '<the lines>'
    exit 0

so bash has ``errexit`` and ``pipefail`` on, the lines share one shell (a variable set in
``before_script`` is seen by ``script``), and a command whose failure is tested (``cmd || x``,
``if cmd``) does not stop it. The job's ``variables:`` are expanded against the job's
environment (``$NAME`` and ``${NAME}``; unknown names are empty) as the runner does. The lines
that fetch and install chatsync (``git ...`` and ``python3 -m pip install ...``, which need the
network) are not run: the test's virtualenv already has chatsync first on PATH. Every other line
is.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import yaml

from tests.examples.workflows import ROOT, Ran

TEMPLATES = ROOT / "templates"
INTERPOLATION = re.compile(r"\$\[\[\s*(.*?)\s*\]\]")
COMPONENT = re.compile(r"\$CI_SERVER_FQDN/(?P<project>[\w.-]+(?:/[\w.-]+)+)/(?P<name>[\w-]+)@(?P<ref>\S+)")
#: Top-level keywords a component must not set: they would change the including pipeline.
GLOBAL_KEYWORDS = {"default", "include", "stages", "variables", "workflow", "image", "services", "cache",
                   "before_script", "after_script"}
VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
RUNNER_PROLOGUE = ("trap exit 1 TERM\n\n"
                   "if set -o | grep pipefail > /dev/null; then set -o pipefail; fi; set -o errexit\n"
                   "set +o noclobber\n")


class PipelineError(AssertionError):
    """GitLab would refuse to create the pipeline; the text says why."""


@dataclass(frozen=True)
class Template:
    """A component template: its ``spec:`` header and its jobs, not yet interpolated."""

    path: Path
    spec: dict[str, Any]
    jobs: dict[str, Any]

    @property
    def inputs(self) -> dict[str, dict[str, Any]]:
        return {name: dict(value or {}) for name, value in (self.spec.get("inputs") or {}).items()}


def load_template(path: Path) -> Template:
    """``path`` as GitLab reads a component: exactly two YAML documents, the header then the jobs."""
    documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    if len(documents) != 2 or not isinstance(documents[0], dict) or not isinstance(documents[1], dict):
        raise PipelineError(f"{path.name}: a component is a spec header, ---, then the jobs")
    if set(documents[0]) != {"spec"}:
        raise PipelineError(f"{path.name}: the header holds spec: only, not {sorted(documents[0])}")
    spec = documents[0]["spec"]
    if not isinstance(spec, dict) or set(spec) - {"inputs", "component", "description"}:
        raise PipelineError(f"{path.name}: spec: takes inputs, component and description")
    if GLOBAL_KEYWORDS & set(documents[1]):
        raise PipelineError(f"{path.name}: a component sets no global keyword "
                            f"({sorted(GLOBAL_KEYWORDS & set(documents[1]))})")
    return Template(path, spec, documents[1])


def _checked(name: str, declared: Mapping[str, Any], value: Any) -> Any:
    kind = declared.get("type", "string")
    types: dict[str, type | tuple[type, ...]] = {"string": str, "number": (int, float), "boolean": bool,
                                                 "array": list}
    expected = types[kind]
    if not isinstance(value, expected) or (kind == "number" and isinstance(value, bool)):
        raise PipelineError(f"`{name}` input: provided value is not a {kind}")
    if "options" in declared and value not in declared["options"]:
        raise PipelineError(f"`{name}` input: `{value}` cannot be used because it is not in the list of "
                            "allowed options")
    if "regex" in declared and not re.search(declared["regex"], cast(str, value)):
        raise PipelineError(f"`{name}` input: provided value does not match required RegEx pattern")
    return value


def input_values(template: Template, given: Mapping[str, Any]) -> dict[str, Any]:
    """The value of every input: given, else the default; checked as GitLab checks them."""
    declared = template.inputs
    unknown = set(given) - set(declared)
    if unknown:
        raise PipelineError(f"unknown input arguments: {sorted(unknown)}")
    values = {}
    for name, spec in declared.items():
        if name in given:
            values[name] = _checked(name, spec, given[name])
        elif "default" in spec:
            values[name] = _checked(name, spec, spec["default"])
        else:
            raise PipelineError(f"`{name}` input: required value has not been provided")
    return values


def interpolate(node: Any, inputs: Mapping[str, Any], component: Mapping[str, str]) -> Any:
    """``node`` with every ``$[[ ... ]]`` replaced (a fresh copy: YAML aliases share nodes)."""
    if isinstance(node, dict):
        return {interpolate(k, inputs, component): interpolate(v, inputs, component) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(item, inputs, component) for item in node]
    if not isinstance(node, str):
        return node

    def value(expression: str) -> Any:
        scope, _, name = expression.partition(".")
        if scope == "inputs" and name in inputs:
            return inputs[name]
        if scope == "component" and name in component:
            return component[name]
        raise PipelineError(f"unknown interpolation key: `{expression}`")

    whole = INTERPOLATION.fullmatch(node)
    if whole:
        return value(whole.group(1))
    return INTERPOLATION.sub(lambda m: str(value(m.group(1))), node)


def expand_include(include: Mapping[str, Any]) -> dict[str, Any]:
    """The jobs an ``include: - component: ...`` adds, from this repository's templates/."""
    match = COMPONENT.fullmatch(str(include.get("component", "")))
    if not match:
        raise PipelineError(f"not a component include: {include}")
    if not re.fullmatch(r"[0-9a-f]{40}", match["ref"]):
        raise PipelineError(f"{include['component']}: pin the component to a full commit SHA")
    template = load_template(TEMPLATES / f"{match['name']}.yml")
    fields = template.spec.get("component") or []
    context = {"sha": match["ref"], "name": match["name"], "reference": match["ref"]}
    inputs = input_values(template, include.get("inputs") or {})
    return dict(interpolate(template.jobs, inputs, {k: v for k, v in context.items() if k in fields}))


def expand_pipeline(path: Path) -> dict[str, Any]:
    """A ``.gitlab-ci.yml`` with its component includes expanded: its own keys, then every job."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    pipeline = {k: v for k, v in document.items() if k != "include"}
    for include in document.get("include", []):
        for name, job in expand_include(include).items():
            if name in pipeline:
                raise PipelineError(f"two includes define the job {name}")
            pipeline[name] = job
    return pipeline


def jobs(pipeline: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The pipeline's jobs (keys that are not keywords nor hidden)."""
    keywords = GLOBAL_KEYWORDS | {"spec"}
    return {k: v for k, v in pipeline.items() if k not in keywords and not k.startswith(".")}


# -- rules ------------------------------------------------------------------------------------------

TOKEN = re.compile(r'\s*(?:(\$\w+)|"([^"]*)"|(==|!=|&&|\|\|))')


def evaluate(expression: str, variables: Mapping[str, str]) -> bool:
    """A ``rules: if:`` expression: comparisons of variables and double-quoted strings joined by
    ``&&`` and ``||`` (the forms the component uses; anything else fails the test)."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(expression.rstrip()):
        match = TOKEN.match(expression, position)
        assert match, f"the harness does not understand {expression!r} at {position}"
        variable, string, operator = match.groups()
        tokens.append(("value", variables.get(variable[1:], "")) if variable
                      else ("value", string) if string is not None else ("op", operator))
        position = match.end()
    ors: list[bool] = []
    ands: list[bool] = []
    index = 0
    while index < len(tokens):
        kind, left = tokens[index]
        assert kind == "value", expression
        result = left != ""
        if index + 1 < len(tokens) and tokens[index + 1][1] in ("==", "!="):
            right = tokens[index + 2][1]
            result = (left == right) == (tokens[index + 1][1] == "==")
            index += 2
        ands.append(result)
        index += 1
        if index < len(tokens):
            if tokens[index][1] == "||":
                ors.append(all(ands))
                ands = []
            index += 1
    ors.append(all(ands))
    return any(ors)


def when(job: Mapping[str, Any], variables: Mapping[str, str]) -> str | None:
    """How the job is added to a pipeline with ``variables``: its first matching rule's ``when``
    (``on_success`` by default), or None when no rule matches (the job is not added)."""
    for rule in job.get("rules", []):
        if "if" not in rule or evaluate(rule["if"], variables):
            found = rule.get("when", "on_success")
            return None if found == "never" else str(found)
    return None if job.get("rules") else "on_success"


# -- running a job ----------------------------------------------------------------------------------

def installs(line: str) -> bool:
    """Whether ``line`` fetches or installs chatsync (needs the network; not run here)."""
    return line.startswith(("git ", "python3 -m pip install "))


def job_variables(job: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    """``env`` plus the job's ``variables:``, each expanded as the runner expands them."""
    full = dict(env)
    for name, value in (job.get("variables") or {}).items():
        text = str(value).replace("$$", "\0")
        text = VARIABLE.sub(lambda m: full.get(m.group(1) or m.group(2), ""), text)
        full[name] = text.replace("\0", "$")
    return full


def runner_script(lines: list[str]) -> str:
    """The script GitLab Runner's bash shell runs for these lines."""
    body = "".join(f"echo {shlex.quote('$ ' + line.splitlines()[0])}\n{line}\n" for line in lines)
    return f"{RUNNER_PROLOGUE}: | eval {shlex.quote(body)}\nexit 0\n"


def script_lines(job: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The lines run (``before_script`` then ``script``) and the install lines left out."""
    lines = [str(line).strip() for line in [*job.get("before_script", []), *job["script"]]]
    return [line for line in lines if not installs(line)], [line for line in lines if installs(line)]


def run_job(job: Mapping[str, Any], workdir: Path, env: Mapping[str, str]) -> Ran:
    """Run ``job`` in ``workdir`` as GitLab Runner's bash shell would, with ``env`` (the CI/CD
    variables the job gets) and its own ``variables:``."""
    lines, _ = script_lines(job)
    full = job_variables(job, {**env, "CI_PROJECT_DIR": str(workdir)})
    done = subprocess.run(["bash", "--noprofile", "--norc"], input=runner_script(lines), cwd=workdir,
                          env=full, capture_output=True, text=True, timeout=120)
    return Ran(done.returncode, done.stdout, done.stderr)
