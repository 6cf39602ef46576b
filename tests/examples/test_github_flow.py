"""The example workflow and action.yml, run job by job as GitHub's runner runs them
(tests/examples/github_runner.py), against two emulators (dev, prod) and a fake GitHub API.

A pull request's plan (a sticky comment per environment, the saved plans uploaded), the merge's
apply of exactly those plans (dev, then prod), the daily drift check; and every way chatsync can
fail (a stale plan, a failed change, a wrong key, an unsafe plan, an invalid config, a push that
merged no pull request) fails the job, each step run under the runner's own shell flags.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chatsync.gitops.comment import marker
from chatsync.gitops.github import APPLIES
from tests.examples import fake_github
from tests.examples.conftest import ENVS, KEYS, assert_no_key
from tests.examples.fake_github import BOT, TOKEN
from tests.examples.github_runner import SHELLS, JobRun, Runner, StepRun, run_matrix
from tests.examples.workflows import GITHUB_WORKFLOW, base_env, copy_gitops, load
from tests.support import App

WORKFLOW = load(GITHUB_WORKFLOW)
JOBS = WORKFLOW["jobs"]
HEAD, MERGE, PR = "b" * 40, "c" * 40, 12
#: Each GitHub environment's secret CHATSYNC_SECRET_KEY (environment secrets: a leg sees its own).
SECRETS = {"dev": {"CHATSYNC_SECRET_KEY": KEYS["dev"]}, "prod-plan": {"CHATSYNC_SECRET_KEY": KEYS["prod"]},
           "prod": {"CHATSYNC_SECRET_KEY": KEYS["prod"]}}
PIPEFAIL = SHELLS["bash"][:-1]


@dataclass
class Flow:
    """One config repository on GitHub: its runs, the artifact store, the emulators behind it."""

    hub: fake_github.GitHub
    apps: dict[str, App]
    tmp: Path
    secrets: dict[str, dict[str, str]]

    def __post_init__(self) -> None:
        self.store = self.tmp / "artifacts"
        self.numbers = itertools.count(1)
        self.legs: tuple[str, ...] = ()

    def _run(self, job: str, event_name: str, sha: str, event: Mapping[str, Any], run_id: int,
             workspace: Path) -> dict[str, JobRun | None]:
        """The legs of ``job`` (those of ``self.legs``, when set: a test that needs one leg only)."""
        def registered(run: int, name: str) -> None:
            self.hub.artifacts.setdefault(run, []).append({"id": self.hub.new_id(), "name": name,
                                                           "expired": False})

        def runner_for(leg: Mapping[str, Any]) -> Runner:
            number = next(self.numbers)
            github = {"event_name": event_name, "sha": sha, "event": dict(event), "run_id": str(run_id),
                      "token": TOKEN, "repository": fake_github.REPO}
            env = base_env(CHATSYNC_ENDPOINT=self.apps[leg["env"]].url, **self.hub.env())
            return Runner(workspace, self.tmp / "runners" / f"{number}-{job}-{leg['env']}", self.store, env,
                          github, registered)

        the_job = JOBS[job]
        if self.legs:
            include = [leg for leg in the_job["strategy"]["matrix"]["include"] if leg["env"] in self.legs]
            the_job = {**the_job, "strategy": {**the_job["strategy"], "matrix": {"include": include}}}
        return run_matrix(runner_for, the_job, self.secrets)

    def pull_request(self, repo: Path, run_number: int = 41) -> dict[str, JobRun | None]:
        """The workflow's run for the pull request's head: its plan job, each leg."""
        run_id = self.hub.add_run(HEAD, run_number)
        event = {"pull_request": {"number": PR, "head": {"sha": HEAD}}}
        for other in ("apply", "drift"):
            skipped = self._run(other, "pull_request", HEAD, event, run_id, repo)
            assert {ran.outcome for ran in skipped.values() if ran} == {"skipped"}
        return self._run("plan", "pull_request", HEAD, event, run_id, repo)

    def merged(self) -> None:
        self.hub.pulls[MERGE] = [{"number": PR, "merged_at": "2026-11-25T10:00:00Z",
                                  "merge_commit_sha": MERGE, "head": {"sha": HEAD}}]

    def push(self) -> dict[str, JobRun | None]:
        """The workflow's run for the push to main: its apply job (no checkout: it needs none)."""
        empty = self.tmp / "push-workspace"
        empty.mkdir(exist_ok=True)
        return self._run("apply", "push", MERGE, {"after": MERGE}, 7000 + next(self.numbers), empty)

    def schedule(self, repo: Path) -> dict[str, JobRun | None]:
        return self._run("drift", "schedule", MERGE, {"schedule": "17 5 * * *"}, 8000 + next(self.numbers),
                         repo)

    def bot_comments(self) -> dict[str, str]:
        return {c["body"].split("\n", 1)[0]: c["body"] for c in self.hub.comments.get(PR, [])
                if c["user"]["login"] == BOT}


@pytest.fixture
def hub() -> Iterator[fake_github.GitHub]:
    with fake_github.serve() as served:
        yield served


@pytest.fixture
def flow(apps: dict[str, App], hub: fake_github.GitHub, tmp_path: Path) -> Flow:
    """prod has an account to retire and one with an old nick; dev is empty."""
    apps["prod"].api.multiaccount_import({"legacy-importer": {}, "customer-care": {"nick": "Care (old)"}})
    return Flow(hub, apps, tmp_path, {k: dict(v) for k, v in SECRETS.items()})


def action(job: JobRun) -> StepRun:
    """The job's step that ran the chatsync action."""
    [found] = [s for s in job.steps if s.inner]
    return found


def outcomes(results: Mapping[str, JobRun | None]) -> dict[str, str | None]:
    return {env: ran.outcome if ran else None for env, ran in results.items()}


def assert_no_key_anywhere(root: Path, *texts: str) -> None:
    assert_no_key(*texts)
    for path in root.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", "replace")
            assert_no_key(text)
            assert TOKEN not in text or path.name == "event.json", path


def test_plan_on_the_pull_request_apply_on_merge_then_drift(flow: Flow, tmp_path: Path) -> None:
    hub, prod = flow.hub, flow.apps["prod"]
    hub.comments[PR] = [{"id": n, "user": {"login": "reviewer"}, "body": f"comment {n}"} for n in range(1, 5)]
    hub.comments[PR].append({"id": 9, "user": {"login": BOT}, "body": f"{marker('prod')}\n### an old plan"})
    pr, main = copy_gitops(tmp_path / "pr"), copy_gitops(tmp_path / "main")

    planned = flow.pull_request(pr)
    assert outcomes(planned) == {"dev": "success", "prod": "success"}, planned
    comments = flow.bot_comments()
    assert set(comments) == {marker("dev"), marker("prod")}
    assert [c["id"] for c in hub.comments[PR] if c["body"].startswith(marker("prod"))] == [9]  # edited
    assert "legacy-importer" in comments[marker("prod")] and APPLIES in comments[marker("prod")]
    assert "qa-alice" in comments[marker("dev")]
    prod_plan = planned["prod"]
    assert prod_plan is not None
    outputs = action(prod_plan).outputs
    assert outputs["exit-code"] == "0" and outputs["has-changes"] == "true"
    assert outputs["deletes"] == "1" and outputs["plan-path"].endswith("plan-prod.json")
    assert "legacy-importer" in prod_plan.summary
    assert sorted(a["name"] for a in hub.artifacts[5041]) == ["plan-dev", "plan-prod"]

    flow.merged()
    applied = flow.push()
    assert outcomes(applied) == {"dev": "success", "prod": "success"}, applied
    assert prod.nick("customer-care") == "Customer care" and not prod.exists("legacy-importer")
    assert flow.apps["dev"].exists("qa-alice")
    prod_apply = applied["prod"]
    assert prod_apply is not None
    shown = prod_apply.step("chatsync show, then apply the reviewed plan")
    assert "legacy-importer" in shown.stdout and "Apply complete:" in shown.stdout
    assert shown.command[:-1] == PIPEFAIL
    assert action(prod_apply).outputs["exit-code"] == "0"
    assert "Apply complete:" in prod_apply.summary
    assert list(flow.store.glob("*/apply-report-prod/apply-prod.txt"))

    clean = flow.schedule(main)
    assert outcomes(clean) == {"dev": "success", "prod": "success"}, clean
    assert hub.issues == []

    prod.api.portrait_set("customer-care", {"nick": "Changed by hand"})  # someone edits the live app
    drifted = flow.schedule(main)
    assert outcomes(drifted) == {"dev": "success", "prod": "failure"}
    [issue] = hub.issues
    assert issue["title"] == "chatsync drift: prod" and "customer-care" in issue["body"]
    drift_run = drifted["prod"]
    assert drift_run is not None and action(drift_run).outputs["exit-code"] == "2"
    again = flow.schedule(main)
    assert outcomes(again) == {"dev": "success", "prod": "failure"}
    assert len(hub.issues) == 1 and "customer-care" in hub.comments[issue["number"]][0]["body"]

    texts = [s.stdout + s.stderr for run in [*planned.values(), *applied.values(), *drifted.values()]
             if run for s in run.all_steps()]
    assert_no_key_anywhere(tmp_path, *texts)


# -- every failure fails the job --------------------------------------------------------------------

def _planned_and_merged(flow: Flow, tmp_path: Path, *legs: str) -> None:
    """The pull request planned (``legs`` only, or every leg) and merged."""
    flow.legs = legs
    planned = flow.pull_request(copy_gitops(tmp_path / "pr"))
    assert {ran.outcome for ran in planned.values() if ran} == {"success"}
    flow.merged()


def _stale(flow: Flow) -> None:
    flow.apps["prod"].api.portrait_set("customer-care", {"nick": "Changed after the review"})


def _failed_change(flow: Flow) -> None:
    flow.apps["prod"].server.emulator.app.allow_account_delete = False  # 71000 for the one delete


def _wrong_key(flow: Flow) -> None:
    flow.secrets["prod"] = {"CHATSYNC_SECRET_KEY": KEYS["dev"]}


@pytest.mark.parametrize("breaks", [_stale, _failed_change, _wrong_key], ids=["stale", "failed", "wrong-key"])
def test_a_failed_apply_fails_the_job(flow: Flow, tmp_path: Path, breaks: Any) -> None:
    _planned_and_merged(flow, tmp_path, "prod")
    breaks(flow)
    applied = flow.push()
    assert outcomes(applied) == {"prod": "failure"}
    prod = applied["prod"]
    assert prod is not None
    step = prod.step("chatsync show, then apply the reviewed plan")
    assert step.outcome == "failure" and step.command[:-1] == PIPEFAIL
    assert action(prod).outputs["exit-code"] == "1"
    assert "failed (exit 1)" in prod.summary
    assert list(flow.store.glob("*/apply-report-prod/apply-prod.txt"))  # the report is kept
    if breaks is _failed_change:
        assert "71000" in step.stdout and flow.apps["prod"].exists("legacy-importer")
        assert flow.apps["prod"].nick("customer-care") == "Customer care"  # the rest was applied
    else:
        assert flow.apps["prod"].exists("legacy-importer")  # nothing was written


def test_a_failed_dev_apply_leaves_prod_alone(flow: Flow, tmp_path: Path) -> None:
    _planned_and_merged(flow, tmp_path)
    flow.apps["dev"].api.multiaccount_import({"qa-alice": {"nick": "Made by someone else"}})
    before = flow.apps["prod"].snapshot()
    assert outcomes(flow.push()) == {"dev": "failure", "prod": None}  # fail-fast: prod cancelled
    assert flow.apps["prod"].snapshot() == before


def test_the_old_pipe_to_tee_without_a_shell_would_have_been_green(flow: Flow, tmp_path: Path) -> None:
    """The harness runs a step with no ``shell:`` as GitHub does (``bash -e``, no pipefail), so the
    old example's apply step passes on a stale plan; with ``shell: bash`` it fails."""
    _planned_and_merged(flow, tmp_path, "prod")
    _stale(flow)
    old = {"name": "chatsync apply", "env": {"ENV_NAME": "prod", "KEY_NAME": "CHATSYNC_SECRET_KEY_PROD",
                                               "CHATSYNC_SECRET_KEY_PROD": KEYS["prod"]},
           "run": 'chatsync apply --plan "reviewed/plan-$ENV_NAME.json" --secret-key-env "$KEY_NAME"'
                  ' | tee apply.txt'}
    download = {"name": "Download", "with": {"name": "plan-prod", "run-id": "5041", "path": "reviewed"},
                "uses": "actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c"}
    workspace = tmp_path / "old"
    workspace.mkdir()
    runner = Runner(workspace, tmp_path / "old-runner", flow.store,
                    base_env(CHATSYNC_ENDPOINT=flow.apps["prod"].url),
                    {"event_name": "push", "sha": MERGE, "run_id": "7999"})
    green = runner.run_job({"steps": [download, old]}, {}, {})
    assert green.outcome == "success" and green.step("chatsync apply").command[:-1] == SHELLS[None][:-1]
    assert "stale" in green.step("chatsync apply").stderr  # chatsync refused, and the step passed
    red = runner.run_job({"steps": [download, {**old, "shell": "bash"}]}, {}, {})
    assert red.outcome == "failure"


def test_an_unsafe_plan_is_posted_and_uploaded_then_fails_and_is_never_applied(flow: Flow,
                                                                                 tmp_path: Path) -> None:
    prod = flow.apps["prod"]
    doomed = [f"old-{n}" for n in range(7)]  # more than prod's max_deletes (5)
    prod.api.multiaccount_import({user: {} for user in doomed})
    pr = copy_gitops(tmp_path / "pr")
    config = pr / "envs" / "prod" / "app.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "".join(
        f"  {user}:\n    state: absent\n" for user in doomed), encoding="utf-8")
    flow.legs = ("prod",)
    planned = flow.pull_request(pr)
    assert outcomes(planned) == {"prod": "failure"}
    comment = flow.bot_comments()[marker("prod")]
    assert "exited 1" in comment and all(user in comment for user in doomed) and APPLIES not in comment
    assert "plan-prod" in {a["name"] for a in flow.hub.artifacts[5041]}
    flow.merged()
    applied = flow.push()
    assert outcomes(applied) == {"prod": "failure"}
    assert all(prod.exists(user) for user in doomed)


def test_an_invalid_config_posts_its_problems(flow: Flow, tmp_path: Path) -> None:
    pr = copy_gitops(tmp_path / "pr")
    config = pr / "envs" / "dev" / "app.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("  prune_bots: true", "  nik: x\n  prune_bots: true"), encoding="utf-8")
    planned = flow.pull_request(pr)
    assert outcomes(planned) == {"dev": "failure", "prod": "success"}
    comment = flow.bot_comments()[marker("dev")]
    assert "unknown field 'nik'" in comment and "no plan was made" in comment
    assert "plan exited :" not in comment and APPLIES not in comment
    assert {a["name"] for a in flow.hub.artifacts[5041]} == {"plan-prod"}
    dev = planned["dev"]
    assert dev is not None and action(dev).outputs["exit-code"] == "1"


def test_a_plan_or_drift_check_with_a_wrong_key_fails(flow: Flow, tmp_path: Path) -> None:
    flow.secrets["prod-plan"] = flow.secrets["prod"] = {"CHATSYNC_SECRET_KEY": KEYS["dev"]}
    repo = copy_gitops(tmp_path / "pr")
    planned = flow.pull_request(repo)
    assert outcomes(planned) == {"dev": "success", "prod": "failure"}
    assert "exited 1" in flow.bot_comments()[marker("prod")]
    drift = flow.schedule(repo)  # dev was never applied: it drifted; prod cannot be read
    assert outcomes(drift) == {"dev": "failure", "prod": "failure"}
    assert [issue["title"] for issue in flow.hub.issues] == ["chatsync drift: dev"]  # an error is no drift
    prod = drift["prod"]
    assert prod is not None and action(prod).outputs["exit-code"] == "1"


def test_a_push_that_merged_no_pull_request_applies_nothing(flow: Flow) -> None:
    before = {env: app.snapshot() for env, app in flow.apps.items()}
    applied = flow.push()  # no pull request was merged as MERGE
    assert outcomes(applied) == {"dev": "failure", "prod": None}
    dev = applied["dev"]
    assert dev is not None and "merged no pull request" in dev.printed
    assert {env: app.snapshot() for env, app in flow.apps.items()} == before


def test_each_leg_runs_in_its_environment_with_its_key_only() -> None:
    """The key comes from the leg's environment secret; the action gets the variable name the
    config's app.secret_key_env names."""
    for name, job in JOBS.items():
        legs = job["strategy"]["matrix"]["include"]
        assert {leg["env"] for leg in legs} == set(ENVS), name
        for leg in legs:
            assert leg["key"] == f"CHATSYNC_SECRET_KEY_{leg['env'].upper()}"
        [uses] = [s for s in job["steps"] if "chatsync@" in s.get("uses", "")]
        assert uses["with"]["secret-key"] == "${{ secrets.CHATSYNC_SECRET_KEY }}"
        assert uses["with"]["secret-key-env"] == "${{ matrix.key }}"
