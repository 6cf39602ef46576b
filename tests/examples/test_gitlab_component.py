"""The GitLab component (templates/*.yml) and the example's include of it: each template's shape
and inputs, scripts that quote every expansion, the jobs the example gets (apply manual, gated
and serialised; the reviewed plan shown before it is applied; installs pinned), the harness's
expansion refusing what GitLab refuses, and the harness running scripts with the runner's flags."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.examples.gitlab_runner import (
    INTERPOLATION,
    TEMPLATES,
    PipelineError,
    _checked,
    evaluate,
    expand_include,
    expand_pipeline,
    jobs,
    load_template,
    runner_script,
    script_lines,
    when,
)
from tests.examples.workflows import GITLAB_CI, load

TEMPLATE_FILES = sorted(TEMPLATES.glob("*.yml"))
EXAMPLE = load(GITLAB_CI)
PIPELINE = expand_pipeline(GITLAB_CI)
JOBS = jobs(PIPELINE)
SHA = "0" * 40
INCLUDE: dict[str, Any] = {"component": f"$CI_SERVER_FQDN/group/chatsync/chatsync@{SHA}",
                           "inputs": {"environment": "dev", "chatsync-project": "group/chatsync"}}


# -- the templates ----------------------------------------------------------------------------------

def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return [node] if isinstance(node, str) else []


def test_there_is_a_template() -> None:
    assert [p.name for p in TEMPLATE_FILES] == ["chatsync.yml"]


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: p.name)
def test_each_input_is_declared_described_used_and_its_default_valid(path: Path) -> None:
    template = load_template(path)  # two documents: spec, then jobs; no global keyword
    used = {m.group(1) for s in _strings(template.jobs) for m in INTERPOLATION.finditer(s)}
    inputs = {u.split(".", 1)[1] for u in used if u.startswith("inputs.")}
    fields = {u.split(".", 1)[1] for u in used if u.startswith("component.")}
    assert used == {f"inputs.{i}" for i in inputs} | {f"component.{f}" for f in fields}, used
    assert inputs == set(template.inputs), "every input used, every one used declared"
    assert fields == set(template.spec.get("component", []))
    for name, spec in template.inputs.items():
        assert len(spec.get("description", "")) > 20, name
        assert set(spec) <= {"description", "default", "options", "regex", "type"}, name
        if "default" in spec:
            _checked(name, spec, spec["default"])
    assert "$[[" not in path.read_text(encoding="utf-8").split("\n---\n")[0].split("spec:")[1]


def unquoted_expansions(line: str) -> list[str]:
    """The variables ``line`` expands outside double quotes (``$NAME``, ``${NAME...}``); a command
    substitution ``$(...)`` starts a quoting context of its own, even inside double quotes."""
    found: list[str] = []
    stack = [""]  # the quote of each nested context: "", "'" or '"'
    index = 0
    while index < len(line):
        char, quote = line[index], stack[-1]
        if char == "\\" and quote != "'":
            index += 2
            continue
        if line.startswith("$(", index) and quote != "'":
            stack.append("(")
            index += 2
            continue
        if char == ")" and quote == "(":
            stack.pop()
        elif char in "'\"" and quote in ("", "(", char):
            if quote == char:
                stack.pop()
            else:
                stack.append(char)
        elif char == "$" and quote in ("", "("):
            match = re.match(r"\$\{?([A-Za-z_]\w*)", line[index:])
            if match:
                found.append(match.group(1))
        index += 1
    return found


def test_the_expansion_scanner_finds_unquoted_variables() -> None:
    line = 'echo $CI_COMMIT_BRANCH "$A" \'$B\' "x${C}y" ${D} \\$E'
    assert unquoted_expansions(line) == ["CI_COMMIT_BRANCH", "D"]
    assert unquoted_expansions('x="$(cmd "$A")"; y=$?') == []
    assert unquoted_expansions('x="$(cmd $A)" "$(b \'$C\')"') == ["A"]


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: p.name)
def test_scripts_quote_every_expansion_and_hold_no_input(path: Path) -> None:
    """An input or a variable a merge request's author chooses (a branch name, a title) is never
    pasted into a script: inputs reach it through the job's variables, every one quoted."""
    for name, job in load_template(path).jobs.items():
        for line in [*job.get("before_script", []), *job["script"]]:
            assert "$[[" not in line, (name, line)
            assert unquoted_expansions(line) == [], (name, line)


def test_chatsync_is_installed_from_the_component_commit_with_the_hash_pinned_lock() -> None:
    for name, job in JOBS.items():
        _, installs = script_lines(job)
        words = [shlex.split(line) for line in installs]
        assert words[1][-2:] == ["$CI_SERVER_URL/$CHATSYNC_CI_PROJECT.git", "$CHATSYNC_CI_SHA"], name
        assert "--depth" in words[1] and words[2][-1] == "FETCH_HEAD", name
        assert words[3][3:] == ["install", "-q", "--require-hashes", "--no-deps", "-r",
                                "$CHATSYNC_CI_SOURCE/requirements/runtime.txt"], name
        assert words[4][3:] == ["install", "-q", "--no-deps", "--no-build-isolation",
                                "$CHATSYNC_CI_SOURCE"], name
        assert job["variables"]["CHATSYNC_CI_SHA"] == SHA  # $[[ component.sha ]]: the pinned commit
        assert job["cache"]["key"] == f"chatsync-pip-{SHA}"
        assert "CI_JOB_TOKEN" not in " ".join(words[1]).replace('password=$CI_JOB_TOKEN"', "")


# -- the example's jobs -----------------------------------------------------------------------------

def test_the_example_includes_the_component_once_per_environment_by_a_full_sha() -> None:
    components = [include["component"] for include in EXAMPLE["include"]]
    assert components == [f"$CI_SERVER_FQDN/YOUR-GROUP/chatsync/chatsync@{SHA}"] * 2
    assert [include["inputs"]["environment"] for include in EXAMPLE["include"]] == ["dev", "prod"]
    assert set(JOBS) == {f"chatsync-{kind}-{env}" for kind in ("plan", "apply", "drift")
                         for env in ("dev", "prod")}
    header = GITLAB_CI.read_text(encoding="utf-8").split("\nworkflow:")[0]
    for setting in ("protected environment", "masked", "scoped to its environment", "GITLAB_TOKEN",
                    "Job token permissions", "pipeline schedule"):
        assert setting in header, setting
    assert len(GITLAB_CI.read_text(encoding="utf-8").splitlines()) <= 45


MAIN = {"CI_DEFAULT_BRANCH": "main"}
PIPELINES = {
    "merge request": {"CI_PIPELINE_SOURCE": "merge_request_event", **MAIN},
    "schedule": {"CI_PIPELINE_SOURCE": "schedule", "CI_COMMIT_BRANCH": "main", **MAIN},
    "merge": {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main", **MAIN},
    "other branch": {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "feature", **MAIN},
}


@pytest.mark.parametrize("pipeline, expected", [
    ("merge request", {"plan": "on_success"}),
    ("merge", {"apply": "manual"}),
    ("schedule", {"drift": "on_success"}),
    ("other branch", {}),
])
def test_each_pipeline_gets_its_jobs(pipeline: str, expected: dict[str, str]) -> None:
    variables = PIPELINES[pipeline]
    created = any(evaluate(rule["if"], variables) for rule in EXAMPLE["workflow"]["rules"])
    assert created == bool(expected)
    for env in ("dev", "prod"):
        added = {kind: when(JOBS[f"chatsync-{kind}-{env}"], variables) for kind in ("plan", "apply", "drift")}
        assert {kind: how for kind, how in added.items() if how} == expected


def test_apply_is_manual_gated_serialised_and_applies_the_reviewed_plan_only() -> None:
    for env in ("dev", "prod"):
        apply = JOBS[f"chatsync-apply-{env}"]
        assert apply["allow_failure"] is False
        assert apply["resource_group"] == f"chatsync-{env}"
        assert apply["environment"] == {"name": env}
        lines, _ = script_lines(apply)
        commands = [line.split()[:4] for line in lines[1:]]
        assert commands == [["python3", "-m", "chatsync.gitops.gitlab", "fetch-plan"],
                            ["chatsync", "show", "plan.json"],
                            ['key_variable="$(python3', "-m", "chatsync.gitops.gitlab", "key-variable"],
                            ["chatsync", "apply", "--plan", "plan.json"]]
        assert lines[-1].endswith('--secret-key-env "$key_variable"')
        plan = JOBS[f"chatsync-plan-{env}"]
        assert plan["environment"] == {"name": env, "action": "prepare"}
        assert plan["artifacts"]["when"] == "always"
        assert plan["artifacts"]["paths"] == [f"plan-{env}.json", f"plan-{env}.md"]
        assert plan["artifacts"]["reports"] == {"codequality": f"chatsync-codequality-{env}.json"}
        assert JOBS[f"chatsync-drift-{env}"]["environment"] == {"name": env, "action": "verify"}
    text = (TEMPLATES / "chatsync.yml").read_text(encoding="utf-8")
    assert "--force" not in text and "--auto-approve" not in text


# -- the expansion refuses what GitLab refuses ------------------------------------------------------

@pytest.mark.parametrize("inputs, message", [
    ({"environment": "dev"}, "`chatsync-project` input: required value has not been provided"),
    ({**INCLUDE["inputs"], "enviroment": "dev"}, "unknown input arguments"),
    ({**INCLUDE["inputs"], "environment": "dev; rm -rf /"}, "does not match required RegEx"),
    ({**INCLUDE["inputs"], "apply-when": "always"}, "not in the list of allowed options"),
    ({**INCLUDE["inputs"], "plan-stage": 3}, "not a string"),
    ({**INCLUDE["inputs"], "token-variable": "$(id)"}, "does not match required RegEx"),
])
def test_an_include_gitlab_would_refuse_fails(inputs: dict[str, Any], message: str) -> None:
    with pytest.raises(PipelineError, match=re.escape(message)):
        expand_include({**INCLUDE, "inputs": inputs})


def test_an_include_by_a_moving_ref_fails(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="full commit SHA"):
        expand_include({**INCLUDE, "component": "$CI_SERVER_FQDN/group/chatsync/chatsync@main"})
    include = (f"  - component: {INCLUDE['component']}\n"
               "    inputs: {environment: dev, chatsync-project: g/chatsync}\n")
    twice = tmp_path / ".gitlab-ci.yml"
    twice.write_text("include:\n" + include * 2, encoding="utf-8")
    with pytest.raises(PipelineError, match="two includes define the job chatsync-plan-dev"):
        expand_pipeline(twice)


def test_the_defaults_fill_the_inputs_not_given() -> None:
    plan = expand_include(INCLUDE)["chatsync-plan-dev"]
    assert (plan["stage"], plan["image"]) == ("test", "python:3.12")
    assert plan["artifacts"]["expire_in"] == "30 days"
    assert plan["variables"]["CHATSYNC_CI_TOKEN_VARIABLE"] == "GITLAB_TOKEN"
    assert plan["variables"]["CHATSYNC_CI_PATHS"] == ""


# -- the harness runs a script as the runner does ---------------------------------------------------

@pytest.mark.parametrize("lines, status, printed", [
    (["false", "echo after"], 1, ""),
    (["false | true", "echo after"], 1, ""),  # pipefail
    (["x=$(false)", "echo after"], 1, ""),
    (["false || echo tested", "echo after"], 0, "tested\nafter"),
    (["if false; then :; fi", "echo after"], 0, "after"),
    (["x=1", "echo $((x + 1))"], 0, "2"),  # one shell for every line
    (["exit 3", "echo after"], 3, ""),
    (["cat", "echo after"], 0, "after"),  # stdin is empty
])
def test_the_runner_script_stops_where_gitlab_runner_stops(lines: list[str], status: int,
                                                           printed: str) -> None:
    done = subprocess.run(["bash", "--noprofile", "--norc"], input=runner_script(lines), capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == status
    shown = [line for line in done.stdout.splitlines() if not line.startswith("$ ")]
    assert "\n".join(shown) == printed
