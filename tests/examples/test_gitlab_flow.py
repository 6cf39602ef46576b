"""The example pipeline (examples/gitops/.gitlab-ci.yml) with the component it includes expanded as
GitLab expands it, each job run as GitLab Runner runs it (tests/examples/gitlab_runner.py), against
two emulators and a fake GitLab API: the merge request's plans and notes, the apply of exactly the
reviewed plans after the merge, the scheduled drift check; and every way chatsync can fail (a stale
plan, a failed change, a wrong key, each chatsync call of each job) failing its job."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.examples import fake_gitlab
from tests.examples.conftest import ENVS, KEYS, assert_no_key
from tests.examples.fake_gitlab import plan_job
from tests.examples.gitlab_runner import expand_pipeline, jobs, run_job, script_lines, when
from tests.examples.workflows import GITLAB_CI, Ran, base_env, copy_gitops
from tests.support import App

PIPELINE = expand_pipeline(GITLAB_CI)
JOBS = jobs(PIPELINE)
#: The pipeline each job belongs to: its source, and the branch of a push.
PIPELINES = {"plan": {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "5"},
             "apply": {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main"},
             "drift": {"CI_PIPELINE_SOURCE": "schedule", "CI_COMMIT_BRANCH": "main"}}
#: Each job's newest plan job id on the fake (the one whose artifact is the reviewed plan).
PLAN_JOBS = {"dev": 900, "prod": 901}


def job_env(kind: str, env: str, app: App, gitlab: fake_gitlab.GitLab, **extra: str) -> dict[str, str]:
    """What a job of ``env`` gets: its environment's key only (scoped variables), GitLab's CI
    variables for its pipeline, and the emulator standing in for the Chat API."""
    key = {f"CHATSYNC_SECRET_KEY_{env.upper()}": KEYS[env]}
    ci = {"CI_SERVER_URL": "https://gitlab.example", "CI_JOB_TOKEN": "job-token", "CI_DEFAULT_BRANCH": "main",
          **gitlab.env(), **PIPELINES[kind]}
    return base_env(**{"CHATSYNC_ENDPOINT": app.url, **key, **ci, **extra})


def run(kind: str, env: str, repo: Path, app: App, gitlab: fake_gitlab.GitLab, **extra: str) -> Ran:
    """Run the job ``chatsync-KIND-ENV`` in its pipeline, after checking that pipeline adds it."""
    job = JOBS[f"chatsync-{kind}-{env}"]
    variables = job_env(kind, env, app, gitlab, **extra)
    assert when(job, variables) == ("manual" if kind == "apply" else "on_success")
    ran = run_job(job, repo, variables)
    assert_no_key(ran.stdout, ran.stderr)
    return ran


@pytest.fixture
def gitlab(tmp_path: Path) -> Iterator[fake_gitlab.GitLab]:
    with fake_gitlab.serve(tmp_path / "artifacts") as served:
        yield served


def merge_request(apps: dict[str, App], gitlab: fake_gitlab.GitLab, pr: Path, *envs: str) -> None:
    """The merge request's pipeline: each environment's plan job, its saved plan kept as the
    artifact of the newest plan job on the fake (an older pipeline's artifact is a stale plan)."""
    gitlab.pipelines = [
        {"id": 77, "jobs": [plan_job(env, 800 + n) for n, env in enumerate(ENVS)]},
        {"id": 78, "jobs": [plan_job(env, PLAN_JOBS[env]) for env in ENVS]},
    ]
    for env in envs:
        planned = run("plan", env, pr, apps[env], gitlab)
        assert planned.returncode == 0, planned.stderr
        gitlab.add_artifact(PLAN_JOBS[env], f"plan-{env}.json", (pr / f"plan-{env}.json").read_bytes())
        gitlab.add_artifact(800 + ENVS.index(env), f"plan-{env}.json", b"{}")


def test_merge_request_plans_then_the_reviewed_plans_are_applied_then_drift_is_checked(
        apps: dict[str, App], gitlab: fake_gitlab.GitLab, tmp_path: Path) -> None:
    apps["prod"].api.multiaccount_import({"legacy-importer": {}, "customer-care": {"nick": "Care (old)"}})
    gitlab.notes = [fake_gitlab.note(n, f"review comment {n}") for n in range(1, 4)]
    old = "<!-- chatsync-plan: prod -->\n### old plan"
    gitlab.notes.append(fake_gitlab.note(4, old, author=fake_gitlab.BOT))
    pr, merged = copy_gitops(tmp_path / "pr"), copy_gitops(tmp_path / "main")
    merge_request(apps, gitlab, pr, *ENVS)

    bodies = [note["body"] for note in gitlab.notes]
    assert len(bodies) == 5  # prod's note (on page 2) was updated, dev's was added
    assert bodies[3].startswith("<!-- chatsync-plan: prod -->\n### chatsync plan: prod")
    assert "legacy-importer" in bodies[3] and bodies[4].startswith("<!-- chatsync-plan: dev -->")
    assert all("applies exactly this plan" in body for body in bodies[3:])
    for env in ENVS:
        assert json.loads((pr / f"chatsync-codequality-{env}.json").read_text(encoding="utf-8")) == []
        assert when(JOBS[f"chatsync-apply-{env}"], job_env("plan", env, apps[env], gitlab)) is None
        assert when(JOBS[f"chatsync-drift-{env}"], job_env("plan", env, apps[env], gitlab)) is None

    for env in ENVS:
        applied = run("apply", env, merged, apps[env], gitlab)
        assert applied.returncode == 0, applied.stderr
        assert "Apply complete:" in applied.stdout
        assert f"The plan reviewed on !5 for {env}: job {PLAN_JOBS[env]}" in applied.stdout
        drift = run("drift", env, merged, apps[env], gitlab)
        assert drift.returncode == 0, drift.stderr
    assert "legacy-importer" in applied.stdout  # chatsync show printed what prod's apply did
    assert apps["prod"].nick("customer-care") == "Customer care"
    assert not apps["prod"].exists("legacy-importer")

    apps["dev"].api.portrait_set("qa-alice", {"nick": "Edited by hand"})
    drift = run("drift", "dev", merged, apps["dev"], gitlab)
    assert drift.returncode == 2
    assert "Drift in dev (exit 2)" in drift.stderr
    assert "qa-alice" in (merged / "drift-dev.md").read_text(encoding="utf-8")
    assert_no_key(*(note["body"] for note in gitlab.notes),
                  *(p.read_bytes().decode("utf-8", "replace") for p in tmp_path.rglob("*") if p.is_file()))


# -- chatsync fails: the job fails ------------------------------------------------------------------

def test_a_stale_plan_fails_the_apply_job_and_writes_nothing(
        apps: dict[str, App], gitlab: fake_gitlab.GitLab, tmp_path: Path) -> None:
    apps["prod"].api.multiaccount_import({"customer-care": {"nick": "Care (old)"}})
    merge_request(apps, gitlab, copy_gitops(tmp_path / "pr"), "prod")
    apps["prod"].api.portrait_set("customer-care", {"nick": "A third value"})  # another writer
    before = apps["prod"].snapshot()
    applied = run("apply", "prod", copy_gitops(tmp_path / "main"), apps["prod"], gitlab)
    assert applied.returncode == 1
    assert "customer-care" in applied.stderr
    assert apps["prod"].snapshot() == before


def test_a_failed_change_fails_the_apply_job(apps: dict[str, App], gitlab: fake_gitlab.GitLab,
                                             tmp_path: Path) -> None:
    apps["prod"].api.multiaccount_import({"legacy-importer": {}})
    merge_request(apps, gitlab, copy_gitops(tmp_path / "pr"), "prod")
    apps["prod"].server.emulator.app.allow_account_delete = False  # a paid feature: 71000
    applied = run("apply", "prod", copy_gitops(tmp_path / "main"), apps["prod"], gitlab)
    assert applied.returncode == 1
    assert "71000" in applied.stdout + applied.stderr
    assert apps["prod"].exists("legacy-importer")


@pytest.mark.parametrize("kind", ["plan", "apply", "drift"])
def test_a_wrong_key_fails_every_job(apps: dict[str, App], gitlab: fake_gitlab.GitLab, tmp_path: Path,
                                     kind: str) -> None:
    repo = copy_gitops(tmp_path / "repo")
    if kind == "apply":
        merge_request(apps, gitlab, copy_gitops(tmp_path / "pr"), "dev")
    before = apps["dev"].snapshot()
    ran = run(kind, "dev", repo, apps["dev"], gitlab, CHATSYNC_SECRET_KEY_DEV=KEYS["prod"])
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert apps["dev"].snapshot() == before
    if kind == "plan":  # the note says the plan failed, and never that it applies
        [posted] = gitlab.notes
        assert "chatsync plan exited 1" in posted["body"] and "applies exactly" not in posted["body"]
    if kind == "drift":
        assert "chatsync plan failed (exit 1)" in ran.stderr


def test_an_invalid_config_posts_its_problems_and_fails_the_plan_job(
        apps: dict[str, App], gitlab: fake_gitlab.GitLab, tmp_path: Path) -> None:
    pr = copy_gitops(tmp_path)
    config = pr / "envs" / "dev" / "app.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "  qa-carol:\n    nik: Carol\n", encoding="utf-8")
    planned = run("plan", "dev", pr, apps["dev"], gitlab)
    assert planned.returncode == 1
    [posted] = gitlab.notes
    assert "no plan was made" in posted["body"] and "unknown field 'nik'" in posted["body"]
    assert "envs/dev/app.yaml:" in posted["body"] and "applies exactly" not in posted["body"]
    [problem] = json.loads((pr / "chatsync-codequality-dev.json").read_text(encoding="utf-8"))
    assert problem["location"]["path"] == "envs/dev/app.yaml" and problem["severity"]
    assert not (pr / "plan-dev.json").exists()


def test_an_unsafe_plan_is_noted_kept_and_fails_the_job(
        apps: dict[str, App], gitlab: fake_gitlab.GitLab, tmp_path: Path) -> None:
    doomed = [f"old-{n}" for n in range(7)]  # more than prod's max_deletes (5)
    apps["prod"].api.multiaccount_import({user: {} for user in doomed})
    pr = copy_gitops(tmp_path)
    config = pr / "envs" / "prod" / "app.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "".join(
        f"  {user}:\n    state: absent\n" for user in doomed), encoding="utf-8")
    planned = run("plan", "prod", pr, apps["prod"], gitlab)
    assert planned.returncode == 1
    [posted] = gitlab.notes
    assert "exited 1" in posted["body"] and all(user in posted["body"] for user in doomed)
    assert (pr / "plan-prod.json").is_file()
    assert JOBS["chatsync-plan-prod"]["artifacts"]["when"] == "always"


def test_a_commit_that_merged_no_merge_request_applies_nothing(
        apps: dict[str, App], gitlab: fake_gitlab.GitLab, tmp_path: Path) -> None:
    before = apps["dev"].snapshot()
    applied = run("apply", "dev", copy_gitops(tmp_path), apps["dev"], gitlab, CI_COMMIT_SHA="d" * 40)
    assert applied.returncode == 1
    assert "merged no merge request" in applied.stderr
    assert "chatsync show" not in applied.stdout.split("fetch-plan", 1)[1]  # it stopped there
    assert apps["dev"].snapshot() == before


def test_a_note_that_cannot_be_posted_fails_the_plan_job(
        apps: dict[str, App], gitlab: fake_gitlab.GitLab, tmp_path: Path) -> None:
    planned = run("plan", "dev", copy_gitops(tmp_path), apps["dev"], gitlab, GITLAB_TOKEN="revoked")
    assert planned.returncode == 1
    assert "HTTP 401" in planned.stderr and "revoked" not in planned.stderr + planned.stdout


# -- every chatsync call of every job ---------------------------------------------------------------

#: A chatsync command in a script line: at its start, after ``then``, or in ``$(...)``.
CALL = re.compile(r"(?:^|then |\$\()(?:chatsync|python3 -m chatsync\.gitops\.gitlab) ")
SHIM = """#!/bin/bash
# Counts the calls of {name}; the call numbered $SHIM_FAIL_AT fails as chatsync fails.
if [ "{counted}" = all ] || [ "$1 $2" = "-m chatsync.gitops.gitlab" ]; then
  n=$(( $(cat "$SHIM_COUNTER") + 1 ))
  echo "$n" > "$SHIM_COUNTER"
  if [ "$n" = "$SHIM_FAIL_AT" ]; then echo "Error: injected failure of call $n ($*)" >&2; exit 1; fi
fi
exec {real} "$@"
"""


def _shims(folder: Path) -> Path:
    """A folder of ``chatsync`` and ``python3`` wrappers that count the calls and fail one."""
    folder.mkdir()
    for name, counted in (("chatsync", "all"), ("python3", "gitops")):
        real = shutil.which(name, path=base_env()["PATH"])
        assert real, name
        shim = folder / name
        shim.write_text(SHIM.format(name=name, counted=counted, real=real), encoding="utf-8")
        shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    return folder


@pytest.mark.parametrize("kind, env", [("plan", "dev"), ("apply", "prod"), ("drift", "prod")])
def test_every_chatsync_call_of_every_job_fails_the_job_when_it_fails(
        apps: dict[str, App], gitlab: fake_gitlab.GitLab, tmp_path: Path, kind: str, env: str) -> None:
    shims = _shims(tmp_path / "shims")
    counter = tmp_path / "calls"
    path = f"{shims}{os.pathsep}{base_env()['PATH']}"
    if kind == "apply":
        merge_request(apps, gitlab, copy_gitops(tmp_path / "pr"), env)
    if kind == "drift":  # the app as the default branch declares it: no drift
        converged = subprocess.run(["chatsync", "apply", "bots", f"envs/{env}", "--auto-approve"],
                                   cwd=copy_gitops(tmp_path / "main"), capture_output=True, text=True,
                                   env=job_env("drift", env, apps[env], gitlab), timeout=60)
        assert converged.returncode == 0, converged.stderr

    def attempt(fail_at: int) -> Ran:
        counter.write_text("0", encoding="utf-8")
        gitlab.notes.clear()
        return run(kind, env, copy_gitops(tmp_path / f"run-{fail_at}"), apps[env], gitlab,
                   PATH=path, SHIM_COUNTER=str(counter), SHIM_FAIL_AT=str(fail_at))

    lines, _ = script_lines(JOBS[f"chatsync-{kind}-{env}"])
    calls = sum(len(CALL.findall(line)) for line in lines)
    before = apps[env].snapshot()
    for fail_at in range(1, calls + 1):  # the clean run last: a failed one changes nothing
        failed = attempt(fail_at)
        assert f"injected failure of call {fail_at}" in failed.stderr
        assert failed.returncode != 0, (fail_at, failed.stdout, failed.stderr)
        assert apps[env].snapshot() == before
    clean = attempt(0)
    assert clean.returncode == 0, clean.stderr
    assert int(counter.read_text(encoding="utf-8")) == calls


def test_the_install_lines_left_out_are_the_fetch_and_the_pip_installs() -> None:
    for name, job in JOBS.items():
        _, skipped = script_lines(job)
        assert len(skipped) == 5, name
        assert [line.split()[0] for line in skipped] == ["git", "git", "git", "python3", "python3"], name
        assert not any("chatsync " in line for line in skipped), name
