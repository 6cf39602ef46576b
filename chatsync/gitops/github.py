"""The GitHub Action's steps around chatsync (``action.yml``), run as
``python -m chatsync.gitops.github VERB ...``:

* ``plan-comment``: the job summary, the step's outputs, and one sticky comment per environment on
  the pull request (every page of comments is read; only a comment of the bot with the marker is
  edited);
* ``reviewed-plan``: the run whose ``plan-ENV`` artifact is the plan reviewed on the pull request
  this push merged (the newest run for the pull request's head with an unexpired artifact);
* ``drift``: the summary, the outputs, and on drift one open issue per environment, opened or
  commented on;
* ``apply-report``: the summary and the outputs of an apply.

It reads GitHub's own variables (``GITHUB_API_URL``, ``GITHUB_REPOSITORY``, ``GITHUB_EVENT_PATH``,
``GITHUB_SHA``, ...) and the token from ``GITHUB_TOKEN``. Every answer is checked before use; an
error is one line on stderr (exit 1), never a traceback and never the token.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from chatsync.engine.planfile import open_unsealed
from chatsync.errors import ActionError, ChatsyncError, ForgeError
from chatsync.gitops.comment import GITHUB_LIMIT, PlanRun, body, check_env, marker, text_block
from chatsync.gitops.rest import Rest
from chatsync.gitops.steps import StepParser, environment, read_step_file
from chatsync.text.safe import clipped, server_text, visible

#: Who writes the comments and issues with the workflow's own token.
DEFAULT_AUTHOR = "github-actions[bot]"
APPLIES = "merging this pull request applies exactly this plan"
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")
_SHA = re.compile(r"[0-9a-f]{40}")
_WORKFLOW = re.compile(r"[\w.-]+\.ya?ml")
_LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}(\[bot\])?")
_OUTPUT_NAME = re.compile(r"[a-z][a-z0-9-]*")
_VARIABLE = re.compile(r"[A-Z_][A-Z0-9_]{0,99}")
#: Variables the key must never be exported as (the runner's, the shell's).
_RESERVED = re.compile(r"(GITHUB|RUNNER|ACTIONS|INPUT)_.*|PATH|HOME|SHELL|IFS|PWD|OLDPWD|BASH_ENV|ENV|CI"
                       r"|LD_.*|PYTHON.*|PIP_.*|SSL_CERT_.*|HTTPS?_PROXY|NO_PROXY|TMPDIR")
COMMANDS = ("validate", "plan", "apply", "drift")


# -- the runner's variables -------------------------------------------------------------------------

@dataclass(frozen=True)
class Runner:
    """What GitHub tells a step through its environment."""

    api_url: str
    repository: str
    token: str
    sha: str
    run_id: str
    server_url: str
    workflow_ref: str
    event: Mapping[str, Any]
    output: Path | None
    summary: Path | None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Runner:
        def need(name: str) -> str:
            value = environ.get(name, "")
            if not value:
                raise ActionError(f"{name} is not set: run this as a step of a GitHub Actions job")
            return value

        repository = need("GITHUB_REPOSITORY")
        if not _REPOSITORY.fullmatch(repository):
            raise ActionError(f"GITHUB_REPOSITORY {visible(repository)!r} is not OWNER/NAME")
        event: Mapping[str, Any] = {}
        if environ.get("GITHUB_EVENT_PATH"):
            try:
                loaded = json.loads(Path(environ["GITHUB_EVENT_PATH"]).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ActionError(f"cannot read the event (GITHUB_EVENT_PATH): {type(exc).__name__}"
                                  ) from None
            event = loaded if isinstance(loaded, dict) else {}
        output, summary = environ.get("GITHUB_OUTPUT"), environ.get("GITHUB_STEP_SUMMARY")
        return cls(api_url=environ.get("GITHUB_API_URL") or "https://api.github.com", repository=repository,
                   token=environ.get("GITHUB_TOKEN", ""), sha=environ.get("GITHUB_SHA", ""),
                   run_id=environ.get("GITHUB_RUN_ID", ""),
                   server_url=environ.get("GITHUB_SERVER_URL") or "https://github.com",
                   workflow_ref=environ.get("GITHUB_WORKFLOW_REF", ""), event=event,
                   output=Path(output) if output else None, summary=Path(summary) if summary else None)

    @property
    def run_url(self) -> str:
        if not self.run_id.isdigit():
            return ""
        return f"{self.server_url.rstrip('/')}/{self.repository}/actions/runs/{self.run_id}"

    def api(self, transport: httpx.BaseTransport | None = None) -> Rest:
        return Rest(self.api_url, self.token, forge="GitHub", transport=transport,
                    headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"})

    def pull_request(self) -> tuple[int, str] | None:
        """The pull request's number and head SHA, when the event is a pull request's."""
        pull = self.event.get("pull_request")
        if not isinstance(pull, dict):
            return None
        number, head = pull.get("number"), pull.get("head")
        sha = head.get("sha") if isinstance(head, dict) else None
        if not isinstance(number, int) or not _integer(number) or not isinstance(sha, str) \
                or not _SHA.fullmatch(sha):
            raise ActionError("the pull_request event has no usable number and head SHA")
        return number, sha

    def workflow_file(self) -> str:
        """This workflow's file name (``chatsync.yml``), from GITHUB_WORKFLOW_REF."""
        name = self.workflow_ref.split("@", 1)[0].rsplit("/", 1)[-1]
        if not _WORKFLOW.fullmatch(name):
            raise ActionError(f"GITHUB_WORKFLOW_REF {visible(self.workflow_ref)!r} names no workflow file")
        return name

    def set_outputs(self, values: Mapping[str, object]) -> None:
        """Append ``name=value`` lines to ``$GITHUB_OUTPUT`` (values of one line only)."""
        if self.output is None:
            return
        lines = []
        for name, value in values.items():
            text = str(value)
            if not _OUTPUT_NAME.fullmatch(name) or "\n" in text or "\r" in text:
                raise ActionError(f"output {name!r} cannot be written (a bad name, or more than one line)")
            lines.append(f"{name}={text}\n")
        _append(self.output, "".join(lines))

    def add_summary(self, markdown: str) -> None:
        if self.summary is not None:
            _append(self.summary, markdown.rstrip("\n") + "\n\n")


def _append(path: Path, text: str) -> None:
    try:
        with path.open("a", encoding="utf-8") as file:
            file.write(text)
    except OSError as exc:
        raise ActionError(f"cannot write {path.name}: {exc.strerror or exc}") from None


# -- checking answers -------------------------------------------------------------------------------

def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _get(item: Mapping[str, Any], key: str, check: Callable[[Any], bool], what: str) -> Any:
    value = item.get(key)
    if not check(value):
        raise ForgeError(f"GitHub answered {what} with no usable {key!r}; nothing was changed")
    return value


def _login(item: Mapping[str, Any]) -> str:
    user = item.get("user")
    login = user.get("login") if isinstance(user, dict) else None
    return login if isinstance(login, str) else ""


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _sha(value: Any) -> bool:
    return isinstance(value, str) and _SHA.fullmatch(value) is not None


def _optional_text(value: Any) -> bool:
    return value is None or isinstance(value, str)


# -- the GitHub calls -------------------------------------------------------------------------------

def post_sticky(api: Rest, repository: str, number: int, env: str, text: str,
                author: str = DEFAULT_AUTHOR) -> tuple[str, int]:
    """Edit ``author``'s comment of pull request ``number`` that starts with ``env``'s marker, or post
    one; ("updated"|"created", the comment's id)."""
    first_line = marker(env)
    for comment in api.pages(f"repos/{repository}/issues/{number}/comments"):
        found = _get(comment, "body", _optional_text, "a comment") or ""
        if _login(comment) == author and found.split("\n", 1)[0].strip() == first_line:
            comment_id = _get(comment, "id", _integer, "a comment")
            api.call("PATCH", f"repos/{repository}/issues/comments/{comment_id}", json={"body": text})
            return "updated", comment_id
    created = api.call("POST", f"repos/{repository}/issues/{number}/comments", json={"body": text})
    return "created", _get(created if isinstance(created, dict) else {}, "id", _integer, "the new comment")


@dataclass(frozen=True)
class Reviewed:
    """The run holding the reviewed plan, and the pull request it was reviewed on."""

    run_id: int
    pull_request: int
    head_sha: str
    url: str


def reviewed_run(api: Rest, repository: str, sha: str, workflow: str, env: str) -> Reviewed:
    """The newest run of ``workflow`` for the head of the pull request merged as ``sha`` that holds an
    unexpired ``plan-ENV`` artifact; :class:`ActionError` when there is none."""
    if not _SHA.fullmatch(sha):
        raise ActionError(f"GITHUB_SHA {visible(sha)!r} is not a commit SHA")
    artifact = f"plan-{check_env(env)}"
    pulls = api.call("GET", f"repos/{repository}/commits/{sha}/pulls")
    if not isinstance(pulls, list):
        raise ForgeError("GitHub answered the pull requests of a commit with no list; nothing was changed")
    merged = None
    for pull in pulls:
        if not isinstance(pull, dict):
            continue
        if _get(pull, "merged_at", _optional_text, "a pull request") and \
                _get(pull, "merge_commit_sha", _optional_text, "a pull request") == sha:
            merged = pull
            break
    if merged is None:
        raise ActionError(f"{sha} merged no pull request, so no plan was reviewed: nothing was applied; "
                          "change the config through a pull request")
    number = _get(merged, "number", _integer, "a pull request")
    head = _get(merged, "head", lambda v: isinstance(v, dict), "a pull request")
    head_sha = _get(head, "sha", _sha, "a pull request's head")
    runs = []
    for run in api.pages(f"repos/{repository}/actions/workflows/{workflow}/runs",
                         {"event": "pull_request", "head_sha": head_sha}, items="workflow_runs"):
        if _get(run, "head_sha", _text, "a workflow run") != head_sha:
            continue  # the filter is the server's: a run of another commit is never taken
        runs.append((_get(run, "run_number", _integer, "a workflow run"),
                     _get(run, "id", _integer, "a workflow run"), run.get("html_url")))
    for _, run_id, url in sorted(runs, reverse=True):
        for found in api.pages(f"repos/{repository}/actions/runs/{run_id}/artifacts", {"name": artifact},
                               items="artifacts"):
            if _get(found, "name", _text, "an artifact") == artifact and \
                    _get(found, "expired", lambda v: isinstance(v, bool), "an artifact") is False:
                return Reviewed(run_id, number, head_sha, url if isinstance(url, str) else "")
    raise ActionError(f"no {artifact} artifact for #{number} at {head_sha} (expired, or the plan failed): "
                      "nothing was applied; re-run the pull request's plan, or open a new pull request")


def drift_title(env: str) -> str:
    return f"chatsync drift: {check_env(env)}"


def report_drift(api: Rest, repository: str, env: str, text: str,
                 author: str = DEFAULT_AUTHOR) -> tuple[str, int]:
    """Comment on ``author``'s open drift issue of ``env`` (found by title or marker), or open one;
    ("updated"|"opened", the issue's number)."""
    title, first_line = drift_title(env), drift_marker(env)
    for issue in api.pages(f"repos/{repository}/issues", {"state": "open", "creator": author}):
        if "pull_request" in issue or _login(issue) != author:
            continue
        found = _get(issue, "body", _optional_text, "an issue") or ""
        if _get(issue, "title", _text, "an issue") == title or found.startswith(first_line):
            number = _get(issue, "number", _integer, "an issue")
            api.call("POST", f"repos/{repository}/issues/{number}/comments", json={"body": text})
            return "updated", number
    opened = api.call("POST", f"repos/{repository}/issues", json={"title": title, "body": text})
    return "opened", _get(opened if isinstance(opened, dict) else {}, "number", _integer, "the new issue")


def drift_marker(env: str) -> str:
    return f"<!-- chatsync-drift: {check_env(env)} -->"


def drift_body(env: str, plan_markdown: str, run_url: str) -> str:
    link = f" ([the run]({run_url}))" if run_url else ""
    head = (f"{drift_marker(env)}\n### chatsync drift: {env}\n\nThe live app no longer matches the config"
            f"{link}. Apply a reviewed plan through a pull request, or change the config to match.\n\n")
    return head + clipped(plan_markdown.strip(), GITHUB_LIMIT - len(head) - 100)


# -- the steps --------------------------------------------------------------------------------------

def plan_outputs(env: str, status: int | None, plan_file: str) -> dict[str, object]:
    """The step's outputs: exit code, the saved plan's path and its counts (when it was saved)."""
    outputs: dict[str, object] = {"exit-code": "" if status is None else status}
    path = Path(plan_file) if plan_file else None
    if path is not None and status in (0, 1, 2) and path.is_file():
        counts = open_unsealed(str(path)).summary
        outputs.update({"plan-path": str(path.resolve()), "creates": counts["create"],
                        "updates": counts["update"], "deletes": counts["delete"],
                        "has-changes": str(any(counts.values())).lower()})
    else:
        outputs.update({"plan-path": "", "creates": "", "updates": "", "deletes": "", "has-changes": ""})
    return outputs


def check_inputs(_: Mapping[str, str], args: argparse.Namespace, __: httpx.BaseTransport | None) -> str:
    """The action's inputs, checked before anything runs (the environment and author by the parser)."""
    if args.command not in COMMANDS:
        raise ActionError(f"input command: {visible(args.command)!r} is none of {', '.join(COMMANDS)}")
    name = args.secret_key_env
    if not _VARIABLE.fullmatch(name) or _RESERVED.fullmatch(name):
        raise ActionError(f"input secret-key-env: {visible(name)!r} cannot hold the key; name the variable "
                          "of the config's app.secret_key_env (capitals, digits and '_', "
                          "e.g. CHATSYNC_SECRET_KEY)")
    return f"chatsync {args.command} of {args.env}"


def plan_comment(environ: Mapping[str, str], args: argparse.Namespace,
                 transport: httpx.BaseTransport | None) -> str:
    runner = Runner.from_environ(environ)
    status = None if args.plan_status in (None, "") else int(args.plan_status)
    pull = runner.pull_request()
    run = PlanRun(env=args.env, status=status, plan_markdown=read_step_file(args.markdown),
                  printed=read_step_file(args.printed), details_url=runner.run_url,
                  sha=pull[1] if pull else runner.sha)
    text = body(run, applies=APPLIES if pull else "applying this saved plan makes exactly these changes")
    runner.add_summary(text)
    outputs = plan_outputs(args.env, status, args.plan_file)
    if status is None and args.validate_status:
        outputs["exit-code"] = args.validate_status
    runner.set_outputs(outputs)
    if pull is None:
        return f"{args.env}: not a pull request, so no comment (the plan is in the job summary)"
    with runner.api(transport) as api:
        done, comment_id = post_sticky(api, runner.repository, pull[0], args.env, text, args.author)
    return f"{args.env}: the plan comment {comment_id} on #{pull[0]} was {done}"


def reviewed_plan(environ: Mapping[str, str], args: argparse.Namespace,
                  transport: httpx.BaseTransport | None) -> str:
    runner = Runner.from_environ(environ)
    with runner.api(transport) as api:
        found = reviewed_run(api, runner.repository, runner.sha, runner.workflow_file(), args.env)
    runner.set_outputs({"run-id": found.run_id, "pull-request": found.pull_request})
    where = f": {server_text(found.url, 300)}" if found.url else ""
    return f"the plan reviewed on #{found.pull_request} ({found.head_sha}) is run {found.run_id}'s{where}"


def drift(environ: Mapping[str, str], args: argparse.Namespace,
          transport: httpx.BaseTransport | None) -> str:
    runner = Runner.from_environ(environ)
    status = int(args.status)
    runner.set_outputs(plan_outputs(args.env, status, args.plan_file))
    if status == 0:
        runner.add_summary(f"### chatsync drift: {args.env}\n\nNo drift: the live app matches the config.")
        return f"{args.env}: no drift"
    if status != 2:
        runner.add_summary("\n".join([
            f"### chatsync drift: {args.env}", "",
            f"**Error: chatsync plan exited {status}**: the drift check could not finish.", "",
            *text_block(read_step_file(args.printed), 60_000)]))
        return f"{args.env}: the drift check failed (exit {status}); no issue was opened"
    text = drift_body(args.env, read_step_file(args.markdown), runner.run_url)
    runner.add_summary(text.split("\n", 1)[1])
    with runner.api(transport) as api:
        done, number = report_drift(api, runner.repository, args.env, text, args.author)
    return f"{args.env}: drift; the issue #{number} was {done}"


def apply_report(environ: Mapping[str, str], args: argparse.Namespace,
                 transport: httpx.BaseTransport | None) -> str:
    runner = Runner.from_environ(environ)
    status = int(args.status)
    outcome = "done" if status == 0 else f"failed (exit {status}): see the report below"
    runner.add_summary("\n".join([f"### chatsync apply: {args.env}", "", f"The apply {outcome}.", "",
                                  *text_block(read_step_file(args.report), 60_000)]))
    runner.set_outputs(plan_outputs(args.env, status, args.plan_file))
    return f"{args.env}: apply {outcome}"


# -- the command line -------------------------------------------------------------------------------

def _login_name(value: str) -> str:
    if not _LOGIN.fullmatch(value):
        raise argparse.ArgumentTypeError(f"{visible(value)!r} is not a GitHub login")
    return value


def _status(value: str) -> str:
    if value != "" and not value.isdigit():
        raise argparse.ArgumentTypeError(f"{visible(value)!r} is not an exit status")
    return value


def parser() -> argparse.ArgumentParser:
    top = StepParser(prog="python -m chatsync.gitops.github", description=__doc__.split("\n\n")[0])
    verbs = top.add_subparsers(dest="verb", required=True, parser_class=StepParser)

    def verb(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = verbs.add_parser(name, help=help_text)
        sub.add_argument("--env", required=True, type=environment, help="the environment's name")
        sub.add_argument("--author", type=_login_name, default=DEFAULT_AUTHOR,
                         help=f"who writes the comments and issues (default {DEFAULT_AUTHOR})")
        return sub

    sub = verb("check-inputs", "check the action's inputs")
    sub.add_argument("--command", required=True)
    sub.add_argument("--secret-key-env", required=True)
    sub = verb("plan-comment", "summary, outputs and the sticky plan comment")
    sub.add_argument("--validate-status", type=_status, default="", help="validate's exit status")
    sub.add_argument("--plan-status", type=_status, default="",
                     help="plan's exit status ('' when it did not run)")
    sub.add_argument("--markdown", default="", help="the Markdown plan")
    sub.add_argument("--printed", default="", help="what chatsync printed on stderr")
    sub.add_argument("--plan-file", default="", help="the saved plan")
    sub = verb("reviewed-plan", "the run id of the plan reviewed on the merged pull request")
    sub = verb("drift", "summary, outputs, and the drift issue on drift")
    sub.add_argument("--status", type=_status, required=True)
    sub.add_argument("--markdown", default="")
    sub.add_argument("--printed", default="")
    sub.add_argument("--plan-file", default="")
    sub = verb("apply-report", "summary and outputs of an apply")
    sub.add_argument("--status", type=_status, required=True)
    sub.add_argument("--report", default="")
    sub.add_argument("--plan-file", default="")
    return top


VERBS: dict[str, Callable[[Mapping[str, str], argparse.Namespace, httpx.BaseTransport | None], str]] = {
    "check-inputs": check_inputs, "plan-comment": plan_comment, "reviewed-plan": reviewed_plan,
    "drift": drift, "apply-report": apply_report,
}


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None,
         transport: httpx.BaseTransport | None = None) -> int:
    """Run one verb; 0 when done, 1 with a one-line error on stderr."""
    environ = os.environ if environ is None else environ
    try:
        args = parser().parse_args(argv)
        if args.verb in ("drift", "apply-report") and args.status == "":
            raise ActionError("--status: give the exit status of chatsync")
        print(VERBS[args.verb](environ, args, transport))
    except ChatsyncError as exc:
        message = str(exc)
        token = environ.get("GITHUB_TOKEN", "")
        if token:
            message = message.replace(token, "[token]")
        shown = visible(message)
        if environ.get("GITHUB_ACTIONS") == "true":  # an annotation; '%' is the command's escape
            print(f"::error::{shown.replace('%', '%25')}", file=sys.stderr)
        else:
            print(f"Error: {shown}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
