"""chatsync/gitops/github.py against a loopback fake of GitHub's REST API: the sticky comment on any
page, only the bot's own comment edited, the reviewed plan's run, the drift issue, and answers of a
hostile shape refused with one line and no token."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatsync.engine.plan import diff
from chatsync.gitops import github
from chatsync.gitops.comment import GITHUB_LIMIT, marker
from chatsync.render import markdown
from tests.examples import fake_github
from tests.examples.fake_github import BOT, PREFIX, TOKEN
from tests.plan.conftest import ENDPOINT, desired, live

HEAD, MERGE = "b" * 40, "c" * 40


@pytest.fixture
def hub() -> Iterator[fake_github.GitHub]:
    with fake_github.serve() as served:
        yield served


def pr_event(tmp_path: Path, number: int = 12) -> str:
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"pull_request": {"number": number, "head": {"sha": HEAD}}}), encoding="utf-8")
    return str(path)


def run(hub: fake_github.GitHub, tmp_path: Path, *argv: str, **env: str) -> tuple[int, str, str]:
    """``python -m chatsync.gitops.github ARGV`` in-process: (exit status, stdout, stderr)."""
    outputs, summary = tmp_path / "output", tmp_path / "summary"
    environ = hub.env(GITHUB_OUTPUT=str(outputs), GITHUB_STEP_SUMMARY=str(summary), **env)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = github.main(list(argv), environ)
    assert TOKEN not in out.getvalue() + err.getvalue()
    if status:
        assert err.getvalue().startswith("Error: ") and err.getvalue().count("\n") == 1, err.getvalue()
    return status, out.getvalue(), err.getvalue()


def outputs(tmp_path: Path) -> dict[str, str]:
    text = (tmp_path / "output").read_text(encoding="utf-8")
    return dict(line.split("=", 1) for line in text.splitlines())


def write(tmp_path: Path, name: str, text: str) -> str:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return str(tmp_path / name)


# -- the sticky comment -----------------------------------------------------------------------------

def test_the_bots_comment_on_page_two_is_updated_and_anothers_with_the_marker_left_alone(
        hub: fake_github.GitHub, tmp_path: Path) -> None:
    thread = [{"id": n, "user": {"login": "reviewer"}, "body": f"looks good {n}"} for n in range(1, 5)]
    thread.append({"id": 50, "user": {"login": "mallory"}, "body": f"{marker('prod')}\nquoted plan"})
    thread.append({"id": 51, "user": {"login": BOT}, "body": f"{marker('dev')}\n### old dev plan"})
    thread.append({"id": 52, "user": {"login": BOT}, "body": f"{marker('prod')}\n### old prod plan"})
    hub.comments[12] = thread  # the bot's prod comment is on page 3 (3 a page)
    plan = write(tmp_path, "plan.md",
                 "<!-- chatsync-plan -->\n**Plan: 1 to create, 0 to update, 0 to delete.**")
    status, out, _ = run(hub, tmp_path, "plan-comment", "--env", "prod", "--plan-status", "0",
                         "--markdown", plan, GITHUB_EVENT_PATH=pr_event(tmp_path))
    assert status == 0 and "was updated" in out
    assert hub.writes() == [("PATCH", f"{PREFIX}/issues/comments/52")]
    by_id = {c["id"]: c["body"] for c in hub.comments[12]}
    assert by_id[52].startswith(f"{marker('prod')}\n### chatsync plan: prod\n")
    assert "Plan: 1 to create" in by_id[52] and github.APPLIES in by_id[52] and HEAD in by_id[52]
    assert by_id[50] == f"{marker('prod')}\nquoted plan" and by_id[51].endswith("old dev plan")
    pages = [path for method, path in hub.calls if "/issues/12/comments" in path]
    assert len(pages) == 3  # every page read until the comment was found
    summary = (tmp_path / "summary").read_text(encoding="utf-8")
    assert "Plan: 1 to create" in summary


def test_a_failed_validation_posts_the_problems_and_promises_nothing(hub: fake_github.GitHub,
                                                                     tmp_path: Path) -> None:
    printed = write(tmp_path, "printed.txt",
                    "envs/dev/app.yaml:4:3: unknown field 'nik' in app\n1 problem found.\n")
    status, out, _ = run(hub, tmp_path, "plan-comment", "--env", "dev", "--printed", printed,
                         "--markdown", str(tmp_path / "missing.md"), GITHUB_EVENT_PATH=pr_event(tmp_path))
    assert status == 0 and "was created" in out
    [comment] = hub.comments[12]
    assert "unknown field 'nik'" in comment["body"] and "no plan was made" in comment["body"]
    assert github.APPLIES not in comment["body"] and "plan exited :" not in comment["body"]
    assert "nothing is applied" in comment["body"]
    assert outputs(tmp_path)["exit-code"] == "" and outputs(tmp_path)["has-changes"] == ""


def test_not_a_pull_request_writes_the_summary_only(hub: fake_github.GitHub, tmp_path: Path) -> None:
    plan = write(tmp_path, "plan.md", "**Plan: 0 to create, 0 to update, 0 to delete.**")
    status, out, _ = run(hub, tmp_path, "plan-comment", "--env", "dev", "--plan-status", "0",
                         "--markdown", plan)
    assert status == 0 and "no comment" in out and hub.calls == []
    assert "Plan: 0 to create" in (tmp_path / "summary").read_text(encoding="utf-8")


@pytest.mark.parametrize(("route", "answer", "expected"), [
    (("GET", f"{PREFIX}/issues/12/comments"), {"comments": []}, "answered no list"),
    (("GET", f"{PREFIX}/issues/12/comments"),
     [{"id": "52; DROP", "user": {"login": BOT}, "body": marker("prod")}], "no usable 'id'"),
    (("GET", f"{PREFIX}/issues/12/comments"),
     [{"id": 52, "user": {"login": BOT}, "body": ["not", "text"]}], "no usable 'body'"),
    (("POST", f"{PREFIX}/issues/12/comments"), ["not an object"], "no usable 'id'"),
])
def test_a_hostile_answer_shape_is_refused_in_one_line(hub: fake_github.GitHub, tmp_path: Path,
                                                        route: tuple[str, str], answer: object,
                                                        expected: str) -> None:
    hub.hostile[route] = (200 if route[0] == "GET" else 201, answer)
    plan = write(tmp_path, "plan.md", "**Plan**")
    status, _, err = run(hub, tmp_path, "plan-comment", "--env", "prod", "--plan-status", "0",
                         "--markdown", plan, GITHUB_EVENT_PATH=pr_event(tmp_path))
    assert status == 1 and expected in err
    assert "PATCH" not in {method for method, _ in hub.writes()}


def test_a_refusal_names_the_call_and_never_the_token(hub: fake_github.GitHub, tmp_path: Path) -> None:
    hub.hostile[("GET", f"{PREFIX}/issues/12/comments")] = (403, {"message": f"no access for {TOKEN}"})
    plan = write(tmp_path, "plan.md", "**Plan**")
    status, _, err = run(hub, tmp_path, "plan-comment", "--env", "prod", "--plan-status", "0",
                         "--markdown", plan, GITHUB_EVENT_PATH=pr_event(tmp_path))
    assert status == 1 and "HTTP 403" in err and "issues/12/comments" in err
    assert "no access for [token]" in err


# -- the reviewed plan ------------------------------------------------------------------------------

def merged(hub: fake_github.GitHub) -> None:
    hub.pulls[MERGE] = [
        {"number": 3, "merged_at": None, "merge_commit_sha": "d" * 40, "head": {"sha": "e" * 40}},
        {"number": 7, "merged_at": "2026-11-25T10:00:00Z", "merge_commit_sha": MERGE, "head": {"sha": HEAD}}]


def test_the_newest_run_with_an_unexpired_plan_is_the_reviewed_one(hub: fake_github.GitHub,
                                                                    tmp_path: Path) -> None:
    merged(hub)
    hub.add_run(HEAD, 40, {"plan-prod": False})
    chosen = hub.add_run(HEAD, 41, {"plan-prod": False, "plan-dev": False})
    hub.add_run(HEAD, 43, {"plan-prod": True})  # expired
    hub.add_run(HEAD, 44, {"plan-dev": False})  # its prod plan failed: no artifact
    hub.add_run(HEAD, 42, {})
    hub.add_run("e" * 40, 99, {"plan-prod": False})  # another head
    status, out, _ = run(hub, tmp_path, "reviewed-plan", "--env", "prod", GITHUB_SHA=MERGE)
    assert status == 0 and f"run {chosen}" in out and "#7" in out
    assert outputs(tmp_path) == {"run-id": str(chosen), "pull-request": "7"}
    assert hub.writes() == []
    search = next(path for _, path in hub.calls if "/runs?" in path)
    assert f"/actions/workflows/{fake_github.WORKFLOW}/runs" in search
    assert "event=pull_request" in search and f"head_sha={HEAD}" in search


def test_a_push_that_merged_no_pull_request_applies_nothing(hub: fake_github.GitHub, tmp_path: Path) -> None:
    hub.pulls[MERGE] = [{"number": 3, "merged_at": "2026-11-25T10:00:00Z", "merge_commit_sha": "d" * 40,
                         "head": {"sha": HEAD}}]  # merged, but as another commit
    status, _, err = run(hub, tmp_path, "reviewed-plan", "--env", "prod", GITHUB_SHA=MERGE)
    assert status == 1 and "merged no pull request" in err and "nothing was applied" in err
    assert not (tmp_path / "output").exists() or outputs(tmp_path) == {}


def test_only_expired_plans_apply_nothing(hub: fake_github.GitHub, tmp_path: Path) -> None:
    merged(hub)
    hub.add_run(HEAD, 40, {"plan-prod": True})
    status, _, err = run(hub, tmp_path, "reviewed-plan", "--env", "prod", GITHUB_SHA=MERGE)
    assert status == 1 and "no plan-prod artifact for #7" in err


@pytest.mark.parametrize(("route", "answer", "expected"), [
    (("GET", f"{PREFIX}/commits/{MERGE}/pulls"), {"pulls": []}, "no list"),
    (("GET", f"{PREFIX}/commits/{MERGE}/pulls"),
     [{"number": 7, "merged_at": "x", "merge_commit_sha": MERGE, "head": {"sha": "../../evil"}}], "'sha'"),
    (("GET", f"{PREFIX}/actions/workflows/chatsync.yml/runs"),
     {"workflow_runs": [{"id": "1", "run_number": 1, "head_sha": HEAD}]}, "no usable 'id'"),
    (("GET", f"{PREFIX}/actions/runs/5040/artifacts"),
     {"artifacts": [{"name": "plan-prod", "expired": "false"}]}, "no usable 'expired'"),
])
def test_a_hostile_answer_never_picks_a_plan(hub: fake_github.GitHub, tmp_path: Path, route: tuple[str, str],
                                             answer: object, expected: str) -> None:
    merged(hub)
    hub.add_run(HEAD, 40, {"plan-prod": False})
    hub.hostile[route] = (200, answer)
    status, _, err = run(hub, tmp_path, "reviewed-plan", "--env", "prod", GITHUB_SHA=MERGE)
    assert status == 1 and expected in err


def test_missing_runner_variables_and_bad_arguments_are_one_line_errors(hub: fake_github.GitHub,
                                                                        tmp_path: Path) -> None:
    status, _, err = run(hub, tmp_path, "reviewed-plan", "--env", "prod", GITHUB_SHA="main")
    assert status == 1 and "not a commit SHA" in err
    status, _, err = run(hub, tmp_path, "reviewed-plan", "--env", "prod", GITHUB_REPOSITORY="")
    assert status == 1 and "GITHUB_REPOSITORY is not set" in err
    status, _, err = run(hub, tmp_path, "reviewed-plan", "--env", "../prod")
    assert status == 1 and "environment name" in err
    status, _, err = run(hub, tmp_path, "plan-comment", "--env", "dev", "--bogus")
    assert status == 1 and "--bogus" in err
    status, _, err = run(hub, tmp_path, "drift", "--env", "dev", "--status", "two")
    assert status == 1 and "exit status" in err


# -- the drift issue --------------------------------------------------------------------------------

def test_drift_opens_one_issue_then_comments_on_it(hub: fake_github.GitHub, tmp_path: Path) -> None:
    plan = write(tmp_path, "drift.md", "**Plan: 0 to create, 1 to update, 0 to delete.**")
    hub.issues = [{"number": n, "title": f"other {n}", "body": "", "state": "open", "user": {"login": BOT}}
                  for n in range(1, 5)]
    hub.issues.append({"number": 5, "title": "chatsync drift: prod", "body": "", "state": "open",
                       "user": {"login": "mallory"}})  # another user's: never the one
    status, out, _ = run(hub, tmp_path, "drift", "--env", "prod", "--status", "2", "--markdown", plan)
    assert status == 0 and "#6 was opened" in out
    opened = hub.issues[-1]
    assert opened["title"] == "chatsync drift: prod" and "1 to update" in opened["body"]
    assert "/actions/runs/900" in opened["body"]

    status, out, _ = run(hub, tmp_path, "drift", "--env", "prod", "--status", "2", "--markdown", plan)
    assert status == 0 and "#6 was updated" in out
    assert [i["number"] for i in hub.issues] == [1, 2, 3, 4, 5, 6]
    assert "1 to update" in hub.comments[6][0]["body"]
    assert hub.writes() == [("POST", f"{PREFIX}/issues"), ("POST", f"{PREFIX}/issues/6/comments")]


def test_no_drift_and_a_failed_check_open_no_issue(hub: fake_github.GitHub, tmp_path: Path) -> None:
    status, out, _ = run(hub, tmp_path, "drift", "--env", "dev", "--status", "0")
    assert status == 0 and "no drift" in out
    printed = write(tmp_path, "printed.txt", "Error: CHATSYNC_SECRET_KEY_DEV is not set")
    status, out, _ = run(hub, tmp_path, "drift", "--env", "dev", "--status", "1", "--printed", printed)
    assert status == 0 and "no issue" in out
    assert hub.calls == []
    summary = (tmp_path / "summary").read_text(encoding="utf-8")
    assert "No drift" in summary and "exited 1" in summary and "CHATSYNC_SECRET_KEY_DEV is not set" in summary


# -- a delete is never cut out ----------------------------------------------------------------------

def test_a_delete_among_45590_creates_is_in_the_posted_comment(hub: fake_github.GitHub,
                                                               tmp_path: Path) -> None:
    """The Markdown plan lists deletes first and cuts itself; the comment keeps all of it."""
    accounts: dict[str, dict[str, str] | None] = {f"user-{i:05d}": {"nick": f"U{i}"} for i in range(45_590)}
    accounts["mallory"] = {"state": "absent"}
    plan = diff(desired(accounts=accounts), live(accounts={"mallory": {}}), endpoint=ENDPOINT)
    rendered = write(tmp_path, "plan.md", markdown.render(plan))
    status, _, _ = run(hub, tmp_path, "plan-comment", "--env", "prod", "--plan-status", "0",
                       "--markdown", rendered, GITHUB_EVENT_PATH=pr_event(tmp_path))
    assert status == 0
    [comment] = hub.comments[12]
    text = comment["body"]
    assert len(text) <= GITHUB_LIMIT < 65_536
    assert "**Plan: 45590 to create, 0 to update, 1 to delete.**" in text
    assert "| - delete | account <code>mallory</code> |" in text
    assert "create left out" in text or "creates left out" in text
    assert "more characters not shown" not in text  # the plan fitted whole: nothing clipped after it


@pytest.mark.parametrize(("argv", "expected"), [
    (["--command", "destroy", "--env", "dev", "--secret-key-env", "K"], "none of validate, plan"),
    (["--command", "plan", "--env", "dev prod", "--secret-key-env", "K"], "environment name"),
    (["--command", "plan", "--env", "dev", "--secret-key-env", "PATH"], "secret-key-env: 'PATH' cannot hold"),
    (["--command", "plan", "--env", "dev", "--secret-key-env", "GITHUB_TOKEN"], "cannot hold the key"),
    (["--command", "plan", "--env", "dev", "--secret-key-env", "key; rm -rf /"], "cannot hold the key"),
    (["--command", "plan", "--env", "dev", "--secret-key-env", "K", "--author", "a b"], "not a GitHub login"),
])
def test_the_actions_inputs_are_checked(hub: fake_github.GitHub, tmp_path: Path, argv: list[str],
                                        expected: str) -> None:
    status, _, err = run(hub, tmp_path, "check-inputs", *argv)
    assert status == 1 and expected in err


def test_good_inputs_pass(hub: fake_github.GitHub, tmp_path: Path) -> None:
    status, out, _ = run(hub, tmp_path, "check-inputs", "--command", "apply", "--env", "prod-eu.1",
                         "--secret-key-env", "CHATSYNC_SECRET_KEY_PROD")
    assert status == 0 and out == "chatsync apply of prod-eu.1\n" and hub.calls == []


def test_on_a_runner_an_error_is_an_annotation(capsys: pytest.CaptureFixture[str]) -> None:
    status = github.main(["check-inputs", "--command", "plan", "--env", "dev", "--secret-key-env", "100%"],
                         {"GITHUB_ACTIONS": "true"})
    err = capsys.readouterr().err
    assert status == 1 and err.startswith("::error::input secret-key-env: '100%25' cannot hold the key")
