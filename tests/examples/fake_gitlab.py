"""A loopback stand-in for the few GitLab REST API (v4) routes the CI scripts call.

One project (id 1), one merge request (iid 5) merged as ``MERGE_SHA``, its pipelines with a
``plan: [ENV]`` job each, whose artifact files are read from a directory the test fills, and the
merge request's notes (paginated two at a time, so a script that reads only page 1 misses some).
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
from urllib.parse import parse_qs, urlsplit

TOKEN = "glpat-test-only-token"
MERGE_SHA = "a" * 40
PREFIX = "/api/v4/projects/1"


@dataclass
class GitLab:
    """The state the fake serves, and every call it received (method, path)."""

    artifacts: Path
    notes: list[dict[str, Any]] = field(default_factory=list)
    pipelines: list[dict[str, Any]] = field(default_factory=list)  # newest first, each with "jobs"
    merged_sha: str = MERGE_SHA
    calls: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""

    def env(self) -> dict[str, str]:
        """The CI variables a job gets on GitLab (and the token the project stores)."""
        return {"CI_API_V4_URL": f"{self.url}/api/v4", "CI_PROJECT_ID": "1", "GITLAB_TOKEN": TOKEN,
                "CI_MERGE_REQUEST_IID": "5", "CI_COMMIT_SHA": self.merged_sha,
                "CI_JOB_URL": f"{self.url}/jobs/1"}

    def route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        notes = f"{PREFIX}/merge_requests/5/notes"
        if path == notes and method == "GET":
            return 200, self.notes
        if path == notes and method == "POST":
            self.notes.append({"id": 100 + len(self.notes), "body": body["body"], "system": False})
            return 201, self.notes[-1]
        if (match := re.fullmatch(rf"{notes}/(\d+)", path)) and method == "PUT":
            note = next(n for n in self.notes if n["id"] == int(match.group(1)))
            note["body"] = body["body"]
            return 200, note
        if path == f"{PREFIX}/repository/commits/{self.merged_sha}/merge_requests":
            return 200, [{"iid": 4, "state": "closed", "merge_commit_sha": None, "sha": "c" * 40},
                         {"iid": 5, "state": "merged", "merge_commit_sha": self.merged_sha, "sha": "b" * 40}]
        if re.fullmatch(rf"{PREFIX}/repository/commits/\w+/merge_requests", path):
            return 200, []
        if path == f"{PREFIX}/merge_requests/5/pipelines":
            return 200, [{k: v for k, v in p.items() if k != "jobs"} for p in self.pipelines]
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
            if self.headers.get("PRIVATE-TOKEN") != TOKEN:
                status, answer = 401, {"message": "401 Unauthorized"}
            else:
                with lock:
                    gitlab.calls.append((method, parts.path))
                    status, answer = gitlab.route(method, parts.path, body)
            headers = {}
            if status == 200 and isinstance(answer, list):  # paginate: 2 a page
                page = int(parse_qs(parts.query).get("page", ["1"])[0])
                size = 2
                if len(answer) > page * size:
                    headers["X-Next-Page"] = str(page + 1)
                answer = answer[(page - 1) * size:page * size]
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
