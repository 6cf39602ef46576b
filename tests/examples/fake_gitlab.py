"""A loopback stand-in for the GitLab REST API (v4) routes the component's steps call
(chatsync/gitops/gitlab.py).

One project (id 1) and the token's user (a project bot, id ``BOT``); one merge request (iid 5)
merged as ``MERGE_SHA``; its pipelines, each with jobs (name, status, artifacts), whose artifact
files are read from a directory the test fills; and the merge request's notes, each with an
author and a ``system`` flag. Lists are paged two items a page, with GitLab's ``Link: rel="next"``
and ``X-Next-Page`` headers, so a client that reads page 1 only misses items. As on GitLab, only a
note's author may edit it (403 otherwise), and the token must come as ``Authorization: Bearer``.
``answers`` replaces the answer of one route (method, path) to play a hostile or broken server.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

TOKEN = "glpat-test-only-token"
MERGE_SHA = "a" * 40
BOT = 77  # the token's user
HUMAN = 12  # a reviewer
PREFIX = "/api/v4/projects/1"
PAGE = 2


def note(note_id: int, body: str, author: int = HUMAN, system: bool = False) -> dict[str, Any]:
    """A note as GitLab answers it."""
    return {"id": note_id, "body": body, "system": system,
            "author": {"id": author, "username": f"user{author}"}}


def plan_job(env: str, number: int, *, status: str = "success", artifacts: bool = True,
             expire_at: str | None = "2999-01-01T00:00:00.000Z", name: str = "") -> dict[str, Any]:
    """A plan job as GitLab's pipeline jobs list answers it."""
    return {"id": number, "name": name or f"chatsync-plan-{env}", "status": status,
            "web_url": f"https://gitlab.example/group/config/-/jobs/{number}",
            "artifacts": [{"file_type": "archive", "filename": "artifacts.zip"}] if artifacts else [],
            "artifacts_expire_at": expire_at}


@dataclass
class GitLab:
    """The state the fake serves, and every call it received (method, path)."""

    artifacts: Path
    notes: list[Any] = field(default_factory=list)  # dicts, or whatever a test puts there
    pipelines: list[dict[str, Any]] = field(default_factory=list)  # each with "id" and "jobs"
    merged_sha: str = MERGE_SHA
    answers: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""

    def env(self) -> dict[str, str]:
        """The CI variables a job gets on GitLab (and the token the project stores)."""
        return {"CI_API_V4_URL": f"{self.url}/api/v4", "CI_PROJECT_ID": "1", "GITLAB_TOKEN": TOKEN,
                "CI_MERGE_REQUEST_IID": "5", "CI_COMMIT_SHA": self.merged_sha,
                "CI_JOB_URL": "https://gitlab.example/group/config/-/jobs/1"}

    def add_artifact(self, job: int, name: str, content: bytes) -> None:
        folder = self.artifacts / str(job)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)

    def route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if (method, path) in self.answers:
            return self.answers[(method, path)]
        notes = f"{PREFIX}/merge_requests/5/notes"
        if path == "/api/v4/user" and method == "GET":
            return 200, {"id": BOT, "username": "project_1_bot_1234", "bot": True}
        if path == notes and method == "GET":
            return 200, self.notes
        if path == notes and method == "POST":
            self.notes.append(note(1000 + len(self.notes), body["body"], author=BOT))
            return 201, self.notes[-1]
        if (match := re.fullmatch(rf"{notes}/(\d+)", path)) and method == "PUT":
            found = [n for n in self.notes if n["id"] == int(match.group(1))]
            if not found:
                return 404, {"message": "404 Not found"}
            if found[0]["author"]["id"] != BOT or found[0]["system"]:
                return 403, {"message": "403 Forbidden"}
            found[0]["body"] = body["body"]
            return 200, found[0]
        if path == f"{PREFIX}/repository/commits/{self.merged_sha}/merge_requests":
            return 200, [{"iid": 4, "state": "closed", "merge_commit_sha": None, "sha": "c" * 40},
                         {"iid": 5, "state": "merged", "merge_commit_sha": self.merged_sha, "sha": "b" * 40}]
        if re.fullmatch(rf"{PREFIX}/repository/commits/\w+/merge_requests", path):
            return 200, []
        if path == f"{PREFIX}/merge_requests/5/pipelines":
            newest_first = sorted(self.pipelines, key=lambda p: -p["id"])
            return 200, [{k: v for k, v in p.items() if k != "jobs"} for p in newest_first]
        if match := re.fullmatch(rf"{PREFIX}/pipelines/(\d+)/jobs", path):
            pipeline = next(p for p in self.pipelines if p["id"] == int(match.group(1)))
            return 200, pipeline["jobs"]
        if match := re.fullmatch(rf"{PREFIX}/jobs/(\d+)/artifacts/([\w.-]+)", path):
            file = self.artifacts / match.group(1) / match.group(2)
            return (200, file.read_bytes()) if file.is_file() else (404, {"message": "404 Not Found"})
        return 404, {"message": "404 Not Found"}


@contextmanager
def serve(artifacts: Path) -> Iterator[GitLab]:
    """A :class:`GitLab` served on a free loopback port while the block runs."""
    gitlab = GitLab(artifacts)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def handle_any(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                status, answer = 401, {"message": "401 Unauthorized"}
            else:
                with lock:
                    gitlab.calls.append((method, parts.path))
                    status, answer = gitlab.route(method, parts.path, body)
            headers: dict[str, str] = {}
            if status == 200 and isinstance(answer, list):  # paginate, as GitLab does
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                page = int(query.get("page", "1"))
                if len(answer) > page * PAGE:
                    headers["X-Next-Page"] = str(page + 1)
                    following = urlencode({**query, "page": page + 1})
                    headers["Link"] = f'<{gitlab.url}{parts.path}?{following}>; rel="next"'
                answer = answer[(page - 1) * PAGE:page * PAGE]
            raw = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream" if isinstance(answer, bytes)
                             else "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            self.handle_any("GET")

        def do_POST(self) -> None:
            self.handle_any("POST")

        def do_PUT(self) -> None:
            self.handle_any("PUT")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    gitlab.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield gitlab
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
