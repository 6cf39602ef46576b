"""The GitHub workflow's own shell steps, run as a runner would, against the emulator.

A pull request's plan job (validate, plan, the failure gate), the artifact hand-over, the merge's
apply job (show, apply) and the scheduled drift check, for dev and prod, each with its own key.
The step scripts and env: blocks are the workflow's, unchanged; only ``${{ }}`` values are given.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.examples.conftest import ENVS, KEYS, App, assert_no_key
from tests.examples.workflows import (
    GITHUB_WORKFLOW,
    Ran,
    base_env,
    copy_gitops,
    load,
    run_github_step,
    runs,
    step,
)

WORKFLOW = load(GITHUB_WORKFLOW)
JOBS = WORKFLOW["jobs"]
SECRETS = {"secrets.CHATSYNC_SECRET_KEY_DEV": KEYS["dev"], "secrets.CHATSYNC_SECRET_KEY_PROD": KEYS["prod"]}


def context(env: str, job: str, **outputs: str) -> dict[str, str]:
    """The values of the expressions a step's env: uses, for the ``env`` leg of ``job``.

    Secrets: a leg sees only its own environment's key (environment secrets), the other is empty.
    """
    legs = {leg["env"]: leg for leg in JOBS[job]["strategy"]["matrix"].get("include", [])}
    values = {"matrix.env": env, **{f"matrix.{k}": str(v) for k, v in legs.get(env, {}).items()}}
    values.update({name: (key if name.endswith(env.upper()) else "") for name, key in SECRETS.items()})
    values.update(outputs)
    return values


def run(job: str, name: str, env: str, repo: Path, app: App, **outputs: str) -> Ran | None:
    """Run the step ``name`` of ``job`` for the ``env`` leg (None: its ``if:`` skips it)."""
    the_step, values = step(JOBS[job], name), context(env, job, **outputs)
    if not runs(the_step, values):
        return None
    ran = run_github_step(the_step, repo, base_env(CHATSYNC_ENDPOINT=app.url, **WORKFLOW["env"]), values)
    assert_no_key(ran.stdout, ran.stderr)
    return ran


def ok(ran: Ran | None) -> Ran:
    """A step that ran and exited 0."""
    assert ran is not None and ran.returncode == 0, ran
    return ran


def pull_request(env: str, repo: Path, app: App) -> Ran:
    """The plan job's shell steps; returns the plan step (the failure gate is checked too)."""
    ok(run("plan", "chatsync validate", env, repo, app))
    planned = ok(run("plan", "chatsync plan", env, repo, app))  # never fails: the comment must be posted
    gate = run("plan", "Fail if the plan failed or is unsafe", env, repo, app,
               **{"steps.plan.outputs.status": planned.outputs["status"]})
    assert (gate is None) == (planned.outputs["status"] == "0")
    assert gate is None or gate.returncode == 1
    return planned


def hand_over(env: str, repo: Path, merged: Path) -> None:
    """What upload-artifact then download-artifact do: plan-ENV.json into the apply job's path."""
    upload = step(JOBS["plan"], "Upload the saved plan")["with"]
    download = step(JOBS["apply"], "Download the reviewed plan")["with"]
    assert upload["name"] == download["name"] == "plan-${{ matrix.env }}"
    (merged / download["path"]).mkdir(exist_ok=True)
    shutil.copy(repo / upload["path"].replace("${{ matrix.env }}", env), merged / download["path"])


@pytest.fixture
def seeded(apps: dict[str, App]) -> dict[str, App]:
    """prod has an account to retire and one with an old nick; dev is empty."""
    apps["prod"].api.multiaccount_import({"legacy-importer": {}, "customer-care": {"nick": "Care (old)"}})
    return apps


def test_plan_on_the_pull_request_apply_on_merge_then_no_drift(seeded: dict[str, App],
                                                               tmp_path: Path) -> None:
    pr, merged = copy_gitops(tmp_path / "pr"), copy_gitops(tmp_path / "main")
    for env in ENVS:
        app = seeded[env]
        planned = pull_request(env, pr, app)
        assert planned.outputs["status"] == "0"
        markdown = (pr / "plan.md").read_text(encoding="utf-8")
        assert markdown.startswith("<!-- chatsync-plan -->")
        hand_over(env, pr, merged)

        shown = ok(run("apply", "chatsync show (what is applied)", env, merged, app))
        ok(run("apply", "chatsync apply", env, merged, app))
        assert "Apply complete:" in (merged / "apply.txt").read_text(encoding="utf-8")

        drift = ok(run("drift", "chatsync plan --detailed-exitcode", env, merged, app))
        assert drift.outputs["status"] == "0", drift.stderr
        clean = {"steps.drift.outputs.status": "0"}
        assert run("drift", "Fail on drift or error", env, merged, app, **clean) is None

    prod = seeded["prod"]
    assert "customer-care" in shown.stdout and "legacy-importer" in shown.stdout  # show printed prod's plan
    assert prod.nick("customer-care") == "Customer care"
    assert not prod.exists("legacy-importer")
    assert seeded["dev"].exists("qa-alice")

    prod.api.portrait_set("customer-care", {"nick": "Changed by hand"})  # someone edits the live app
    drift = ok(run("drift", "chatsync plan --detailed-exitcode", "prod", merged, prod))
    assert drift.outputs["status"] == "2", drift.stderr
    assert "customer-care" in (merged / "drift.md").read_text(encoding="utf-8")
    gate = run("drift", "Fail on drift or error", "prod", merged, prod, **{"steps.drift.outputs.status": "2"})
    assert gate is not None and gate.returncode == 1

    _assert_no_key_anywhere(tmp_path)


def test_a_plan_made_stale_after_review_is_refused_on_merge(seeded: dict[str, App], tmp_path: Path) -> None:
    pr, merged = copy_gitops(tmp_path / "pr"), copy_gitops(tmp_path / "main")
    prod = seeded["prod"]
    pull_request("prod", pr, prod)
    hand_over("prod", pr, merged)
    prod.api.portrait_set("customer-care", {"nick": "Changed after the review"})
    before = prod.snapshot()
    applied = run("apply", "chatsync apply", "prod", merged, prod)
    assert applied is not None and applied.returncode == 1
    assert "stale" in applied.stderr
    assert prod.snapshot() == before
    _assert_no_key_anywhere(tmp_path)


def test_an_unsafe_plan_is_still_posted_and_uploaded_and_fails_the_job(seeded: dict[str, App],
                                                                        tmp_path: Path) -> None:
    prod = seeded["prod"]
    doomed = [f"old-{n}" for n in range(7)]  # more than prod's max_deletes (5)
    prod.api.multiaccount_import({user: {} for user in doomed})
    pr = copy_gitops(tmp_path / "pr")
    config = pr / "envs" / "prod" / "app.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "".join(
        f"  {user}:\n    state: absent\n" for user in doomed), encoding="utf-8")
    planned = pull_request("prod", pr, prod)
    assert planned.outputs["status"] == "1"
    assert all(user in (pr / "plan.md").read_text(encoding="utf-8") for user in doomed)  # the comment's body
    assert (pr / "plan-prod.json").is_file()  # the artifact
    merged = copy_gitops(tmp_path / "main")
    hand_over("prod", pr, merged)
    applied = run("apply", "chatsync apply", "prod", merged, prod)
    assert applied is not None and applied.returncode == 1 and all(prod.exists(user) for user in doomed)


def test_each_leg_uses_its_own_key(seeded: dict[str, App], tmp_path: Path) -> None:
    """The prod leg given only the dev key cannot plan prod (so no leg needs both keys)."""
    repo = copy_gitops(tmp_path)
    step_ = step(JOBS["plan"], "chatsync plan")
    values = context("prod", "plan")
    values["secrets.CHATSYNC_SECRET_KEY_PROD"] = ""
    values["secrets.CHATSYNC_SECRET_KEY_DEV"] = KEYS["dev"]
    planned = run_github_step(step_, repo, base_env(CHATSYNC_ENDPOINT=seeded["prod"].url), values)
    assert planned.outputs["status"] == "1"
    assert "CHATSYNC_SECRET_KEY_PROD" in planned.stderr


def _assert_no_key_anywhere(tmp_path: Path) -> None:
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert_no_key(path.read_bytes().decode("utf-8", "replace"))
