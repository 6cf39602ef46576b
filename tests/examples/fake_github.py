"""A loopback stand-in for the GitHub REST API routes chatsync/gitops/github.py calls.

One repository (``REPO``): issues and pull requests with their comments, the pull requests of a
commit, the runs of a workflow and their artifacts. Lists are served ``page_size`` items a page with
``Link: rel="next"`` headers (3 by default, so code that reads only page 1 misses some), whatever
``per_page`` asks. ``hostile`` replaces the answer of one route (method, path) for a test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from tests.examples import loopback

TOKEN = "ghs_test-only-token-value"
REPO = "acme/chat-config"
BOT = "github-actions[bot]"
WORKFLOW = "chatsync.yml"
PREFIX = f"/repos/{REPO}"


@dataclass
class GitHub:
    """The state the fake serves, and every call it received (method, path with query)."""

    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # issue number -> comments
    issues: list[dict[str, Any]] = field(default_factory=list)
    pulls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # commit SHA -> pull requests
    runs: list[dict[str, Any]] = field(default_factory=list)  # each with "workflow" (a file name), "event"
    artifacts: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # run id -> artifacts
    hostile: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    page_size: int = 3
    url: str = ""
    _next_id: int = 1000

    def env(self, **extra: str) -> dict[str, str]:
        """The variables a step gets on GitHub (and the token the action passes)."""
        return {"GITHUB_API_URL": self.url, "GITHUB_SERVER_URL": "https://github.example",
                "GITHUB_REPOSITORY": REPO, "GITHUB_TOKEN": TOKEN, "GITHUB_RUN_ID": "900",
                "GITHUB_WORKFLOW_REF": f"{REPO}/.github/workflows/{WORKFLOW}@refs/heads/main", **extra}

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def writes(self) -> list[tuple[str, str]]:
        return [(method, path) for method, path in self.calls if method != "GET"]

    def add_run(self, head_sha: str, run_number: int, artifacts: dict[str, bool] | None = None) -> int:
        """A pull_request run of the workflow for ``head_sha`` with ``{artifact name: expired}``."""
        run_id = 5000 + run_number
        self.runs.append({"id": run_id, "run_number": run_number, "head_sha": head_sha,
                          "event": "pull_request", "workflow": WORKFLOW,
                          "html_url": f"https://github.example/{REPO}/actions/runs/{run_id}"})
        self.artifacts[run_id] = [{"id": self.new_id(), "name": name, "expired": expired}
                                  for name, expired in (artifacts or {}).items()]
        return run_id

    def route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        if (method, path) in self.hostile:
            return self.hostile[(method, path)]
        if match := re.fullmatch(rf"{PREFIX}/issues/(\d+)/comments", path):
            comments = self.comments.setdefault(int(match.group(1)), [])
            if method == "GET":
                return 200, comments
            comments.append({"id": self.new_id(), "user": {"login": BOT}, "body": body["body"]})
            return 201, comments[-1]
        if (match := re.fullmatch(rf"{PREFIX}/issues/comments/(\d+)", path)) and method == "PATCH":
            for comment in (c for thread in self.comments.values() for c in thread):
                if comment["id"] == int(match.group(1)):
                    comment["body"] = body["body"]
                    return 200, comment
            return 404, {"message": "Not Found"}
        if path == f"{PREFIX}/issues" and method == "GET":
            return 200, [i for i in self.issues if i["state"] == query.get("state", "open")
                         and i["user"]["login"] == query.get("creator", i["user"]["login"])]
        if path == f"{PREFIX}/issues" and method == "POST":
            number = len(self.issues) + 1
            self.issues.append({"number": number, "title": body["title"], "body": body["body"],
                                "state": "open", "user": {"login": BOT}})
            return 201, self.issues[-1]
        if match := re.fullmatch(rf"{PREFIX}/commits/(\w+)/pulls", path):
            return 200, self.pulls.get(match.group(1), [])
        if match := re.fullmatch(rf"{PREFIX}/actions/workflows/([\w.-]+)/runs", path):
            runs = [{k: v for k, v in r.items() if k != "workflow"} for r in self.runs
                    if r["workflow"] == match.group(1) and r["event"] == query.get("event", r["event"])
                    and r["head_sha"] == query.get("head_sha", r["head_sha"])]
            return 200, {"total_count": len(runs), "workflow_runs": runs}
        if match := re.fullmatch(rf"{PREFIX}/actions/runs/(\d+)/artifacts", path):
            found = [a for a in self.artifacts.get(int(match.group(1)), [])
                     if a["name"] == query.get("name", a["name"])]
            return 200, {"total_count": len(found), "artifacts": found}
        return 404, {"message": "Not Found"}


def _page(answer: Any, page: int, size: int) -> tuple[Any, bool]:
    """One page of a list answer (or of the list in an object answer), and whether more follow."""
    if isinstance(answer, list):
        return answer[(page - 1) * size:page * size], len(answer) > page * size
    if isinstance(answer, dict):
        for key, value in answer.items():
            if isinstance(value, list) and key != "labels":
                shown, more = _page(value, page, size)
                return {**answer, key: shown}, more
    return answer, False


@contextmanager
def serve() -> Iterator[GitHub]:
    """A :class:`GitHub` served on a free loopback port while the block runs."""
    github = GitHub()

    def handle(request: loopback.Request) -> loopback.Answer:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return loopback.Answer(401, {"message": "Bad credentials"})
        called = f"{request.path}?{request.raw_query}" if request.raw_query else request.path
        github.calls.append((request.method, called))
        status, answer = github.route(request.method, request.path, request.query, request.body)
        headers = {}
        if status == 200 and request.method == "GET":
            page = int(request.query.get("page", "1"))
            answer, more = _page(answer, page, github.page_size)
            if more:
                following = urlencode({**request.query, "page": page + 1})
                headers["Link"] = f'<{github.url}{request.path}?{following}>; rel="next"'
        return loopback.Answer(status, answer, headers)

    with loopback.serve(handle) as url:
        github.url = url
        yield github
