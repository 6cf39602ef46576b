"""The GitLab CI/CD component's steps (templates/chatsync.yml), run as ``python -m chatsync.gitops.gitlab
VERB``:

* ``post-note``: in a merge-request pipeline, post the plan as one note per environment, or
  update that note in place. Its note is the one whose first line is the environment's marker,
  written by the token's own user, and not a system note: a note anyone else wrote, with the
  marker copied in, is left alone. What the note says comes from :mod:`chatsync.gitops.comment`.
* ``fetch-plan``: on the default branch, fetch the plan reviewed on the merge request this commit
  merged: the saved plan kept by the plan job of that merge request's newest pipeline that ran
  it. A commit that merged no merge request, a plan job that failed, or an artifact that expired
  is an error, and nothing is written.
* ``key-variable``: print the name of the variable the config names for the app's secret key
  (``app.secret_key_env``), for ``chatsync apply --plan --secret-key-env``: the key's variable comes
  from the reviewed config on the default branch, never from the plan file.

The project, the merge request and the commit come from GitLab's predefined CI/CD variables
(``CI_API_V4_URL``, ``CI_PROJECT_ID``, ``CI_MERGE_REQUEST_IID``, ``CI_COMMIT_SHA``, ``CI_JOB_URL``);
the token (a project access token: ``api`` scope to post notes, ``read_api`` is enough to fetch a
plan) from the variable ``--token-variable`` names, never from the command line. Every answer is
checked before use; an error is one line on stderr (exit 1) and never holds the token.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from chatsync.config import load
from chatsync.errors import ChatsyncError, ForgeError, UsageError
from chatsync.gitops.comment import GITLAB_LIMIT, PlanRun, body, marker
from chatsync.gitops.rest import Rest
from chatsync.gitops.steps import StepParser, environment, read_step_file
from chatsync.text.safe import server_text, visible

#: What a good plan's note says applies it.
APPLIES = "once this merge request is merged, the apply job on the default branch applies exactly this plan"
_SHA = re.compile(r"[0-9a-f]{40}")
_ID = re.compile(r"[1-9][0-9]{0,18}")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")
_URL = re.compile(r"https?://[^\s()<>\[\]`\"']+")


@dataclass(frozen=True)
class Job:
    """The CI context of the running job, from GitLab's predefined variables."""

    api_url: str
    project: str  # the project's numeric id
    sha: str
    job_url: str = ""
    merge_request: str = ""  # the merge request's iid, in a merge-request pipeline

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Job:
        api_url = env.get("CI_API_V4_URL", "")
        if not api_url.startswith(("https://", "http://")):
            raise UsageError("CI_API_V4_URL is not set to the API's URL: run this in a GitLab CI/CD job")
        project = env.get("CI_PROJECT_ID", "")
        if not _ID.fullmatch(project):
            raise UsageError(f"CI_PROJECT_ID {visible(project)!r} is not a project id: run this in a GitLab "
                             "CI/CD job")
        sha = env.get("CI_COMMIT_SHA", "")
        if not _SHA.fullmatch(sha):
            raise UsageError(f"CI_COMMIT_SHA {visible(sha)!r} is not a full commit SHA: run this in a GitLab "
                             "CI/CD job")
        return cls(api_url, project, sha, env.get("CI_JOB_URL", ""), env.get("CI_MERGE_REQUEST_IID", ""))

    def path(self, suffix: str) -> str:
        """An API path under this project."""
        return f"projects/{self.project}/{suffix}"


def connect(job: Job, env: Mapping[str, str], token_variable: str,
            transport: httpx.BaseTransport | None = None) -> Rest:
    """A client of the job's GitLab API with the token held in ``env[token_variable]``."""
    if not _VARIABLE.fullmatch(token_variable):
        raise UsageError(f"--token-variable {visible(token_variable)!r} is not a variable name")
    token = env.get(token_variable, "")
    if not token:
        raise UsageError(f"the CI/CD variable {token_variable} is empty: add a project access token there "
                         "(masked; api scope to post notes, read_api to fetch plans)")
    return Rest(job.api_url, token, forge="GitLab", transport=transport)


# -- post-note --------------------------------------------------------------------------------------

def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def token_user(api: Rest) -> int:
    """The id of the token's user (a project access token has a bot user of its own)."""
    me = api.call("GET", "user")
    user_id = _int(me.get("id")) if isinstance(me, dict) else None
    if user_id is None:
        raise ForgeError("GitLab: GET user answered no user id; nothing was posted")
    return user_id


def own_note(api: Rest, job: Job, env: str, user_id: int) -> int | None:
    """The id of ``env``'s plan note on the merge request (the first one, if several), or None."""
    first_line = marker(env) + "\n"
    notes = job.path(f"merge_requests/{job.merge_request}/notes")
    for note in api.pages(notes, {"sort": "asc", "order_by": "created_at"}):
        author = note.get("author")
        note_id = _int(note.get("id"))
        if (note_id is not None and note.get("system") is False and isinstance(author, dict)
                and _int(author.get("id")) == user_id and isinstance(note.get("body"), str)
                and note["body"].startswith(first_line)):
            return note_id
    return None


def post_note(api: Rest, job: Job, run: PlanRun) -> str:
    """Post ``run``'s note on the job's merge request, or update the one already there; says which."""
    if not _ID.fullmatch(job.merge_request):
        raise UsageError("CI_MERGE_REQUEST_IID is not set: post-note runs in merge-request pipelines only "
                         "(rules: if: $CI_PIPELINE_SOURCE == \"merge_request_event\")")
    text = body(run, applies=APPLIES, limit=GITLAB_LIMIT)
    notes = job.path(f"merge_requests/{job.merge_request}/notes")
    note_id = own_note(api, job, run.env, token_user(api))
    if note_id is None:
        answer = api.call("POST", notes, json={"body": text})
        done = "posted"
    else:
        answer = api.call("PUT", f"{notes}/{note_id}", json={"body": text})
        done = "updated"
    written = _int(answer.get("id")) if isinstance(answer, dict) else None
    if written is None:
        raise ForgeError(f"GitLab: the note for {run.env} was sent, but the answer holds no note id")
    return f"The plan note for {run.env} was {done} on !{job.merge_request} (note {written})."


# -- fetch-plan -------------------------------------------------------------------------------------

def merged_request(api: Rest, job: Job) -> int:
    """The iid of the merged merge request whose merge, squash or head commit is the job's commit."""
    for mr in api.pages(job.path(f"repository/commits/{job.sha}/merge_requests")):
        iid = _int(mr.get("iid"))
        if iid is not None and mr.get("state") == "merged" and job.sha in (
                mr.get("merge_commit_sha"), mr.get("squash_commit_sha"), mr.get("sha")):
            return iid
    raise ChatsyncError(f"commit {job.sha} merged no merge request, so no plan was reviewed for it; nothing "
                        "was applied (change the config through a merge request)")


def plan_job(api: Rest, job: Job, iid: int, name: str) -> dict[str, Any]:
    """The job ``name`` of the newest pipeline of merge request ``iid`` that ran one."""
    pipelines = [_int(p.get("id")) for p in api.pages(job.path(f"merge_requests/{iid}/pipelines"))]
    for pipeline in sorted((p for p in pipelines if p is not None), reverse=True):
        jobs = [j for j in api.pages(job.path(f"pipelines/{pipeline}/jobs"), {"include_retried": "false"})
                if j.get("name") == name and _int(j.get("id")) is not None]
        if jobs:
            return max(jobs, key=lambda j: int(j["id"]))
    raise ChatsyncError(f"no job {name!r} ran in any pipeline of !{iid}, so no plan was reviewed; "
                        "nothing was applied")


def _expired(job: Mapping[str, Any], now: datetime.datetime) -> bool:
    expires = job.get("artifacts_expire_at")
    if not isinstance(expires, str) or not expires:
        return False
    try:
        when = datetime.datetime.fromisoformat(expires.replace("Z", "+00:00"))
    except ValueError:
        return True  # an answer we cannot read is no promise that the plan is still there
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when <= now


def fetch_plan(api: Rest, job: Job, env: str, name: str, out: Path,
               now: datetime.datetime | None = None) -> str:
    """Write the plan reviewed for ``env`` to ``out``; says where it came from."""
    iid = merged_request(api, job)
    found = plan_job(api, job, iid, name)
    where = f"job {found['id']}"
    if isinstance(found.get("web_url"), str) and _URL.fullmatch(found["web_url"]):
        where += f" ({found['web_url']})"
    status = found.get("status")
    if status != "success":
        shown = server_text(status, 40) if isinstance(status, str) else "unknown"
        raise ChatsyncError(f"the newest plan of !{iid} for {env}, {where}, did not succeed (status "
                            f"{shown}); nothing was applied (its note says why)")
    artifacts = found.get("artifacts")
    kept = isinstance(artifacts, list) and any(isinstance(a, dict) and a.get("file_type") == "archive"
                                               for a in artifacts)
    if not kept or _expired(found, now or datetime.datetime.now(datetime.timezone.utc)):
        raise ChatsyncError(f"the plan of !{iid} for {env}, {where}, is no longer kept (its artifacts "
                            "expired or were deleted); nothing was applied: plan it again in a merge request")
    try:
        content = api.raw(job.path(f"jobs/{found['id']}/artifacts/plan-{env}.json"))
    except ForgeError as error:
        if error.status == 404:
            raise ChatsyncError(f"{where} of !{iid} kept no plan-{env}.json (expired or deleted); nothing "
                                "was applied: plan it again in a new merge request") from None
        raise
    out.write_bytes(content)
    return f"The plan reviewed on !{iid} for {env}: {where} -> {out}"


# -- key-variable -----------------------------------------------------------------------------------

def key_variable(paths: Sequence[str]) -> str:
    """The variable the config at ``paths`` names for the app's secret key."""
    name = load(list(paths)).app.secret_key_env
    if not _VARIABLE.fullmatch(name):
        raise ChatsyncError(f"app.secret_key_env {visible(name)!r} is not a variable name")
    return name


# -- the command line -------------------------------------------------------------------------------

def _status(text: str) -> int | None:
    if text == "none":
        return None
    if not re.fullmatch(r"[0-9]{1,3}", text):
        raise argparse.ArgumentTypeError("expected an exit status or 'none'")
    return int(text)


def parser() -> argparse.ArgumentParser:
    top = StepParser(prog="python -m chatsync.gitops.gitlab",
                  description="The GitLab CI/CD component's steps (templates/chatsync.yml).")
    verbs = top.add_subparsers(dest="verb", required=True, parser_class=StepParser)
    note = verbs.add_parser("post-note", help="post or update the plan note of an environment")
    note.add_argument("--environment", required=True, type=environment)
    note.add_argument("--status", required=True, type=_status,
                      help="the exit status of chatsync plan, or 'none' when no plan was made")
    note.add_argument("--plan", default="", help="the Markdown plan (chatsync plan --format markdown)")
    note.add_argument("--log", default="", help="what chatsync printed on stderr")
    note.add_argument("--token-variable", default="GITLAB_TOKEN")
    fetch = verbs.add_parser("fetch-plan", help="fetch the plan reviewed on the merged merge request")
    fetch.add_argument("--environment", required=True, type=environment)
    fetch.add_argument("--job", required=True, help="the name of the plan job")
    fetch.add_argument("--out", required=True, type=Path)
    fetch.add_argument("--token-variable", default="GITLAB_TOKEN")
    key = verbs.add_parser("key-variable", help="print the variable the config names for the secret key")
    key.add_argument("paths", nargs="+")
    return top


def run(argv: Sequence[str], env: Mapping[str, str], transport: httpx.BaseTransport | None = None) -> str:
    """Run one verb; what it says on success (errors raise :class:`ChatsyncError`)."""
    args = parser().parse_args(list(argv))
    if args.verb == "key-variable":
        return key_variable(args.paths)
    job = Job.from_env(env)
    with connect(job, env, args.token_variable, transport) as api:
        if args.verb == "post-note":
            plan = PlanRun(args.environment, args.status, read_step_file(args.plan),
                           read_step_file(args.log), job.job_url, job.sha)
            return post_note(api, job, plan)
        return fetch_plan(api, job, args.environment, args.job, args.out)


def main(argv: Sequence[str] | None = None) -> None:
    try:
        said = run(sys.argv[1:] if argv is None else argv, os.environ)
    except ChatsyncError as error:
        for line in error.report():
            print(line, file=sys.stderr)
        sys.exit(error.exit_code)
    print(said)


if __name__ == "__main__":
    main()
