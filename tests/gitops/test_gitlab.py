"""The GitLab component's steps (chatsync/gitops/gitlab.py) against a loopback fake of GitLab's API:
the note found on any page and updated, other notes left alone, the reviewed plan found or refused,
and hostile answers refused without the token in any message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatsync.errors import ChatsyncError
from chatsync.gitops import gitlab as steps
from chatsync.gitops.comment import marker
from tests.examples import fake_gitlab
from tests.examples.fake_gitlab import BOT, HUMAN, PREFIX, TOKEN, note, plan_job
from tests.examples.workflows import GITOPS

NOTES = f"{PREFIX}/merge_requests/5/notes"


@pytest.fixture
def gitlab(tmp_path: Path) -> Iterator[fake_gitlab.GitLab]:
    with fake_gitlab.serve(tmp_path / "artifacts") as served:
        yield served


def run(gitlab: fake_gitlab.GitLab, *argv: str, **env: str) -> str:
    return steps.run(list(argv), {**gitlab.env(), **env})


def post(gitlab: fake_gitlab.GitLab, tmp_path: Path, env: str, status: str, plan: str = "",
         log: str = "") -> str:
    (tmp_path / "plan.md").write_text(plan, encoding="utf-8")
    (tmp_path / "chatsync.log").write_text(log, encoding="utf-8")
    return run(gitlab, "post-note", "--environment", env, "--status", status,
               "--plan", str(tmp_path / "plan.md"), "--log", str(tmp_path / "chatsync.log"))


# -- post-note --------------------------------------------------------------------------------------

def test_the_note_is_found_on_a_later_page_and_updated_and_no_other_note_is_touched(
        gitlab: fake_gitlab.GitLab, tmp_path: Path) -> None:
    prod = marker("prod") + "\n### chatsync plan: prod\n\nold plan"
    gitlab.notes = [
        note(1, "looks good"), note(2, "one question"),
        note(3, prod, author=BOT, system=True),  # a system note quoting the marker
        note(4, prod, author=HUMAN),  # someone pasted the marker: not ours to edit
        note(5, "another review comment"),
        note(6, prod, author=BOT),  # ours, on page 3 (two notes a page)
    ]
    before = json.dumps(gitlab.notes[:5])
    said = post(gitlab, tmp_path, "prod", "0", plan="**Plan: 1 to create, 0 to update, 0 to delete.**")
    assert said == "The plan note for prod was updated on !5 (note 6)."
    assert json.dumps(gitlab.notes[:5]) == before
    body = gitlab.notes[5]["body"]
    assert body.startswith(marker("prod") + "\n### chatsync plan: prod\n")
    assert "Plan: 1 to create" in body and steps.APPLIES in body
    assert ("PUT", f"{NOTES}/6") in gitlab.calls and ("POST", NOTES) not in gitlab.calls

    said = post(gitlab, tmp_path, "dev", "0", plan="**Plan: 0 to create**")
    assert said == "The plan note for dev was posted on !5 (note 1006)."
    assert gitlab.notes[6]["body"].startswith(marker("dev") + "\n")
    assert len(gitlab.notes) == 7


def test_a_failed_validation_posts_the_problems_and_never_says_it_applies(
        gitlab: fake_gitlab.GitLab, tmp_path: Path) -> None:
    log = "Error: envs/dev/app.yaml:3:5: unknown field 'nik' (did you mean 'nick'?)"
    post(gitlab, tmp_path, "dev", "none", log=log)
    [posted] = gitlab.notes
    assert "unknown field 'nik'" in posted["body"] and "no plan was made" in posted["body"]
    assert steps.APPLIES not in posted["body"] and "nothing is applied" in posted["body"]


def test_an_unsafe_plan_says_so_on_top(gitlab: fake_gitlab.GitLab, tmp_path: Path) -> None:
    post(gitlab, tmp_path, "prod", "1", plan="**Plan: 0 to create, 0 to update, 7 to delete.**",
         log="Error: the plan deletes 7 accounts, more than app.max_deletes (5)")
    [posted] = gitlab.notes
    assert "chatsync plan exited 1" in posted["body"] and "7 to delete" in posted["body"]
    assert steps.APPLIES not in posted["body"]


def test_post_note_outside_a_merge_request_pipeline_is_refused(
        gitlab: fake_gitlab.GitLab, tmp_path: Path) -> None:
    with pytest.raises(ChatsyncError, match="CI_MERGE_REQUEST_IID is not set"):
        steps.run(["post-note", "--environment", "dev", "--status", "0"],
                  {**gitlab.env(), "CI_MERGE_REQUEST_IID": ""})
    assert gitlab.notes == []


@pytest.mark.parametrize("argv, expected", [
    (["post-note", "--environment", "dev"], "required"),
    (["post-note", "--environment", "dev prod", "--status", "0"], "environment name"),
    (["post-note", "--environment", "dev", "--status", "-1"], "exit status"),
    (["fetch-plan", "--environment", "dev", "--job", "x", "--out", "p.json", "--bogus"], "unrecognized"),
    (["drift"], "invalid choice"),
])
def test_a_usage_error_exits_1_in_one_line(argv: list[str], expected: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        steps.main(argv)
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert expected in err and err.startswith("Error: ") and err.count("\n") == 1


def test_no_token_no_call(gitlab: fake_gitlab.GitLab) -> None:
    with pytest.raises(ChatsyncError, match="variable GITLAB_TOKEN is empty"):
        steps.run(["post-note", "--environment", "dev", "--status", "0"],
                  {**gitlab.env(), "GITLAB_TOKEN": ""})
    with pytest.raises(ChatsyncError, match="MY_TOKEN is empty"):
        steps.run(["post-note", "--environment", "dev", "--status", "0", "--token-variable", "MY_TOKEN"],
                  gitlab.env())
    with pytest.raises(ChatsyncError, match="not a variable name"):
        steps.run(["post-note", "--environment", "dev", "--status", "0", "--token-variable", "$(id)"],
                  gitlab.env())
    assert gitlab.calls == []


# -- fetch-plan -------------------------------------------------------------------------------------

def fetch(gitlab: fake_gitlab.GitLab, tmp_path: Path, env: str = "dev", **extra: str) -> str:
    return run(gitlab, "fetch-plan", "--environment", env, "--job", f"chatsync-plan-{env}",
               "--out", str(tmp_path / "plan.json"), **extra)


def test_the_plan_of_the_newest_pipeline_that_ran_the_job_is_fetched(
        gitlab: fake_gitlab.GitLab, tmp_path: Path) -> None:
    gitlab.pipelines = [
        {"id": 76, "jobs": [plan_job("dev", 700)]},
        {"id": 77, "jobs": [plan_job("dev", 800), plan_job("dev", 801)]},  # 801 is the retry
        {"id": 78, "jobs": [{"id": 950, "name": "lint", "status": "success"}]},  # ran no plan
    ]
    for job in (700, 800, 801):
        gitlab.add_artifact(job, "plan-dev.json", f'{{"job": {job}}}'.encode())
    said = fetch(gitlab, tmp_path)
    assert (tmp_path / "plan.json").read_text(encoding="utf-8") == '{"job": 801}'
    assert said.startswith("The plan reviewed on !5 for dev: job 801 (https://gitlab.example/")


def _refused(gitlab: fake_gitlab.GitLab, tmp_path: Path, match: str, **extra: str) -> None:
    with pytest.raises(ChatsyncError, match=match) as caught:
        fetch(gitlab, tmp_path, **extra)
    assert not (tmp_path / "plan.json").exists()
    assert TOKEN not in str(caught.value) and "\n" not in str(caught.value)


def test_a_commit_that_merged_no_merge_request_fetches_nothing(
        gitlab: fake_gitlab.GitLab, tmp_path: Path) -> None:
    _refused(gitlab, tmp_path, "merged no merge request", CI_COMMIT_SHA="d" * 40)


def test_a_merge_request_without_a_plan_job_fetches_nothing(gitlab: fake_gitlab.GitLab,
                                                            tmp_path: Path) -> None:
    gitlab.pipelines = [{"id": 78, "jobs": [plan_job("prod", 900)]}]
    _refused(gitlab, tmp_path, "no job 'chatsync-plan-dev' ran in any pipeline of !5")


@pytest.mark.parametrize("job", [
    plan_job("dev", 900, artifacts=False),
    plan_job("dev", 900, expire_at="2020-01-01T00:00:00.000Z"),
    plan_job("dev", 900, expire_at="soon"),
], ids=["no-archive", "expired", "unreadable-expiry"])
def test_expired_artifacts_fetch_nothing(gitlab: fake_gitlab.GitLab, tmp_path: Path,
                                         job: dict[str, Any]) -> None:
    gitlab.pipelines = [{"id": 78, "jobs": [job]}]
    gitlab.add_artifact(900, "plan-dev.json", b"{}")
    _refused(gitlab, tmp_path, "no longer kept")


def test_an_artifact_gone_from_storage_fetches_nothing(gitlab: fake_gitlab.GitLab, tmp_path: Path) -> None:
    gitlab.pipelines = [{"id": 78, "jobs": [plan_job("dev", 900)]}]
    _refused(gitlab, tmp_path, "kept no plan-dev.json")


@pytest.mark.parametrize("status", ["failed", "canceled", "running", None])
def test_a_plan_job_that_did_not_succeed_fetches_nothing(gitlab: fake_gitlab.GitLab, tmp_path: Path,
                                                         status: str | None) -> None:
    gitlab.pipelines = [{"id": 77, "jobs": [plan_job("dev", 800)]},
                        {"id": 78, "jobs": [plan_job("dev", 900, status=status)]}]  # type: ignore[arg-type]
    for job in (800, 900):
        gitlab.add_artifact(job, "plan-dev.json", b"{}")
    _refused(gitlab, tmp_path, "did not succeed")  # never falls back to an older plan


# -- hostile answers --------------------------------------------------------------------------------

HOSTILE_NOTE_ROUTES = [
    (("GET", "/api/v4/user"), (200, [{"id": BOT}]), "no user id"),
    (("GET", "/api/v4/user"), (200, {"id": "77"}), "no user id"),
    (("GET", "/api/v4/user"), (200, {"id": True}), "no user id"),
    (("GET", NOTES), (200, {"notes": []}), "answered no list"),
    (("POST", NOTES), (201, ["not", "a", "note"]), "holds no note id"),
    (("POST", NOTES), (500, {"message": f"\x1b[2J{TOKEN}"}), "HTTP 500"),
    (("GET", "/api/v4/user"), (200, "<html>"), "no user id"),
]


@pytest.mark.parametrize("route, answer, match", HOSTILE_NOTE_ROUTES)
def test_hostile_answers_to_post_note_are_refused(gitlab: fake_gitlab.GitLab, tmp_path: Path,
                                                  route: tuple[str, str], answer: tuple[int, Any],
                                                  match: str) -> None:
    gitlab.answers[route] = answer
    with pytest.raises(ChatsyncError, match=match) as caught:
        post(gitlab, tmp_path, "dev", "0", plan="plan")
    message = str(caught.value)
    assert TOKEN not in message and "\x1b" not in message


def test_notes_of_strange_shapes_are_never_taken_for_ours(gitlab: fake_gitlab.GitLab, tmp_path: Path) -> None:
    ours = marker("dev") + "\nold"
    gitlab.notes = [
        {"id": 1, "body": ours, "system": None, "author": {"id": BOT}},  # system unknown
        {"id": 2, "body": ours, "system": False, "author": BOT},  # author not an object
        {"id": "3", "body": ours, "system": False, "author": {"id": BOT}},  # id not a number
        {"id": 4, "body": [ours], "system": False, "author": {"id": BOT}},
        {"id": 5, "body": marker("dev") + "-->\n", "system": False, "author": {"id": BOT}},
        "not a note",
    ]
    post(gitlab, tmp_path, "dev", "0", plan="plan")
    assert ("PUT", f"{NOTES}/1") not in gitlab.calls
    assert [c for c in gitlab.calls if c[0] != "GET"] == [("POST", NOTES)]


MERGE_REQUESTS = f"{PREFIX}/repository/commits/{'a' * 40}/merge_requests"


@pytest.mark.parametrize("route, answer, match", [
    (("GET", MERGE_REQUESTS), (200, [{"iid": "5", "state": "merged", "merge_commit_sha": "a" * 40}]),
     "merged no merge request"),
    (("GET", MERGE_REQUESTS), (200, [{"iid": 5, "state": "opened", "merge_commit_sha": "a" * 40}]),
     "merged no merge request"),
    (("GET", MERGE_REQUESTS), (200, {"iid": 5}), "answered no list"),
    (("GET", f"{PREFIX}/merge_requests/5/pipelines"), (200, [{"id": "78"}, {"id": None}]), "no job"),
    (("GET", f"{PREFIX}/pipelines/78/jobs"), (200, [{"id": "900", "name": "chatsync-plan-dev"}]), "no job"),
    (("GET", f"{PREFIX}/pipelines/78/jobs"),
     (200, [{**plan_job("dev", 900), "artifacts": "archive"}]), "no longer kept"),
    (("GET", f"{PREFIX}/pipelines/78/jobs"),
     (200, [{**plan_job("dev", 900), "status": {"x": 1}}]), r"status unknown"),
    (("GET", f"{PREFIX}/pipelines/78/jobs"),
     (200, [{**plan_job("dev", 900), "status": "failed\x1b]0;pwned\x07"}]), r"status failed\\x1b"),
])
def test_hostile_answers_to_fetch_plan_are_refused(gitlab: fake_gitlab.GitLab, tmp_path: Path,
                                                   route: tuple[str, str], answer: tuple[int, Any],
                                                   match: str) -> None:
    gitlab.pipelines = [{"id": 78, "jobs": [plan_job("dev", 900)]}]
    gitlab.add_artifact(900, "plan-dev.json", b"{}")
    gitlab.answers[route] = answer
    _refused(gitlab, tmp_path, match)


def test_a_next_page_on_another_host_is_not_followed(gitlab: fake_gitlab.GitLab) -> None:
    evil = f"{gitlab.url.replace('127.0.0.1', 'localhost')}{NOTES}?page=2"

    def hostile(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[], headers={"link": f'<{evil}>; rel="next"'})

    job = steps.Job.from_env(gitlab.env())
    with steps.connect(job, gitlab.env(), "GITLAB_TOKEN", httpx.MockTransport(hostile)) as api, \
            pytest.raises(ChatsyncError, match="another host"):
        steps.own_note(api, job, "dev", BOT)


# -- key-variable -----------------------------------------------------------------------------------

def test_the_key_variable_comes_from_the_config() -> None:
    bots = str(GITOPS / "bots")
    assert steps.run(["key-variable", bots, str(GITOPS / "envs" / "prod")], {}) == "CHATSYNC_SECRET_KEY_PROD"
    assert steps.run(["key-variable", bots, str(GITOPS / "envs" / "dev")], {}) == "CHATSYNC_SECRET_KEY_DEV"


def test_a_broken_config_names_no_key_variable(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text("version: 1\napp: {}\n", encoding="utf-8")
    with pytest.raises(ChatsyncError):
        steps.run(["key-variable", str(tmp_path)], {})
