"""The GitLab pipeline's own job scripts, run as the runner would, against the emulator and a fake
GitLab API: the merge request's plan (note + artifact), the manual apply of exactly that plan on
the default branch, and the scheduled drift check."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.examples import fake_gitlab
from tests.examples.conftest import ENVS, KEYS, App, assert_no_key
from tests.examples.workflows import GITLAB_CI, Ran, base_env, copy_gitops, load, run_gitlab_script

PIPELINE = load(GITLAB_CI)


def job_env(env: str, app: App, gitlab: fake_gitlab.GitLab, **extra: str) -> dict[str, str]:
    """A job of the ``env`` leg: its environment's key only (scoped variables), the CI variables."""
    variables = {k: str(v) for k, v in PIPELINE["variables"].items()}
    key = {f"CHATSYNC_SECRET_KEY_{env.upper()}": KEYS[env]}
    return base_env(**{"ENV": env, "CHATSYNC_ENDPOINT": app.url, **key, **variables, **gitlab.env(), **extra})


def run(job: str, env: str, repo: Path, app: App, gitlab: fake_gitlab.GitLab, **extra: str) -> Ran:
    ran = run_gitlab_script(PIPELINE[job], repo, job_env(env, app, gitlab, **extra))
    assert_no_key(ran.stdout, ran.stderr)
    return ran


def plan_job(env: str, number: int, artifacts: bool = True) -> dict[str, Any]:
    return {"id": number, "name": f"plan: [{env}]", "web_url": f"https://gitlab.example/jobs/{number}",
            "artifacts": [{"file_type": "archive"}] if artifacts else []}


@pytest.fixture
def gitlab(tmp_path: Path) -> Iterator[fake_gitlab.GitLab]:
    with fake_gitlab.serve(tmp_path / "artifacts") as served:
        yield served


def test_merge_request_plan_then_manual_apply_of_that_plan_then_no_drift(
        apps: dict[str, App], gitlab: fake_gitlab.GitLab, tmp_path: Path) -> None:
    apps["prod"].api.multiaccount_import({"legacy-importer": {}, "customer-care": {"nick": "Care (old)"}})
    gitlab.notes = [{"id": n, "body": f"review comment {n}", "system": False} for n in range(1, 4)]
    gitlab.notes.append({"id": 4, "body": "<!-- chatsync-plan: prod -->\n### old plan", "system": False})
    pr, merged = copy_gitops(tmp_path / "pr"), copy_gitops(tmp_path / "main")
    older = {"id": 77, "jobs": [plan_job(env, 800 + n) for n, env in enumerate(ENVS)]}
    newest = {"id": 78, "jobs": [plan_job(env, 900 + n) for n, env in enumerate(ENVS)]}
    gitlab.pipelines = [newest, older]
    for n, env in enumerate(ENVS):
        planned = run("plan", env, pr, apps[env], gitlab)
        assert planned.returncode == 0, planned.stderr
        for job in (800 + n, 900 + n):  # the artifact of each run (an older one is a stale plan)
            (gitlab.artifacts / str(job)).mkdir(parents=True)
        shutil.copy(pr / f"plan-{env}.json", gitlab.artifacts / str(900 + n))
        (gitlab.artifacts / str(800 + n) / f"plan-{env}.json").write_text("{}", encoding="utf-8")
    bodies = [note["body"] for note in gitlab.notes]
    assert len(bodies) == 5  # prod's note (on page 2) was updated, dev's was added
    assert bodies[3].startswith("<!-- chatsync-plan: prod -->\n### chatsync plan: prod")
    assert "legacy-importer" in bodies[3] and bodies[4].startswith("<!-- chatsync-plan: dev -->")

    for env in ENVS:
        applied = run("apply", env, merged, apps[env], gitlab)
        assert applied.returncode == 0, applied.stderr
        assert "Apply complete:" in applied.stdout
        drift = run("drift", env, merged, apps[env], gitlab)
        assert drift.returncode == 0, drift.stderr
    assert "legacy-importer" in applied.stdout  # chatsync show printed what prod's apply did
    assert apps["prod"].nick("customer-care") == "Customer care"
    assert not apps["prod"].exists("legacy-importer")

    apps["dev"].api.portrait_set("qa-alice", {"nick": "Edited by hand"})
    drift = run("drift", "dev", merged, apps["dev"], gitlab)
    assert drift.returncode == 2
    assert "qa-alice" in (merged / "drift.md").read_text(encoding="utf-8")
    assert_no_key(*(note["body"] for note in gitlab.notes),
                  *(p.read_bytes().decode("utf-8", "replace") for p in tmp_path.rglob("*") if p.is_file()))


def test_a_commit_that_merged_no_merge_request_applies_nothing(
        apps: dict[str, App], gitlab: fake_gitlab.GitLab, tmp_path: Path) -> None:
    before = apps["dev"].snapshot()
    applied = run("apply", "dev", copy_gitops(tmp_path), apps["dev"], gitlab, CI_COMMIT_SHA="d" * 40)
    assert applied.returncode == 1
    assert "merged no merge request" in applied.stderr
    assert apps["dev"].snapshot() == before


def test_a_plan_job_that_kept_no_artifact_applies_nothing(
        apps: dict[str, App], gitlab: fake_gitlab.GitLab, tmp_path: Path) -> None:
    gitlab.pipelines = [{"id": 78, "jobs": [plan_job("dev", 900, artifacts=False)]}]
    before = apps["dev"].snapshot()
    applied = run("apply", "dev", copy_gitops(tmp_path), apps["dev"], gitlab)
    assert applied.returncode == 1 and "kept no artifacts" in applied.stderr
    assert apps["dev"].snapshot() == before


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
    [note] = gitlab.notes
    assert "exited 1" in note["body"] and all(user in note["body"] for user in doomed)
    assert (pr / "plan-prod.json").is_file()
    assert PIPELINE["plan"]["artifacts"]["when"] == "always"
