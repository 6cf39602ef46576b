"""The few GitLab REST API (v4) calls the chatsync CI scripts make, with the standard library only.

Every call is for this project (CI_API_V4_URL, CI_PROJECT_ID) with GITLAB_TOKEN, a project access
token (``api`` scope to post notes; ``read_api`` is enough to fetch a plan). Answers are untrusted:
callers check the shape of what they use.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any


class GitLabError(Exception):
    """A call failed or answered something unexpected; the message says which."""


def _env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise GitLabError(f"{name} is not set (GITLAB_TOKEN: a project access token, as a masked CI/CD "
                          "variable; the CI_* variables come from GitLab)")
    return value


def request(method: str, path: str, body: dict[str, Any] | None = None,
            query: dict[str, Any] | None = None, raw: bool = False) -> tuple[Any, dict[str, str]]:
    """``method`` ``/projects/:id{path}``; returns (the JSON answer, or the bytes if ``raw``, and the
    response headers)."""
    url = f"{_env('CI_API_V4_URL')}/projects/{urllib.parse.quote(_env('CI_PROJECT_ID'), safe='')}{path}"
    if query:
        url += "?" + urllib.parse.urlencode(query)
    data = json.dumps(body).encode() if body is not None else None
    headers = {"PRIVATE-TOKEN": _env("GITLAB_TOKEN"), "Content-Type": "application/json"}
    call = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(call, timeout=60) as response:
            content = response.read()
            answer_headers = {k.lower(): v for k, v in (response.headers or {}).items()}
    except urllib.error.HTTPError as error:
        raise GitLabError(f"{method} {path}: HTTP {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        raise GitLabError(f"{method} {path}: {error}") from None
    if raw:
        return content, answer_headers
    try:
        return json.loads(content or b"null"), answer_headers
    except ValueError:
        raise GitLabError(f"{method} {path}: the answer is not JSON") from None


def pages(path: str, query: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """Every item of a paginated list, page after page (100 a page), in the order GitLab gives."""
    page = "1"
    while page:
        items, headers = request("GET", path, query={**(query or {}), "per_page": 100, "page": page})
        if not isinstance(items, list):
            raise GitLabError(f"GET {path}: expected a list")
        yield from (item for item in items if isinstance(item, dict))
        page = headers.get("x-next-page", "")
