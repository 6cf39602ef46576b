"""Post a chatsync Markdown plan on the current GitLab merge request as one note, updated in place.

Usage (in a merge-request pipeline): python3 ci/post_plan_note.py plan.md ENV
Needs GITLAB_TOKEN (a project access token with api scope); CI_* variables come from GitLab.
The note is found again by its first lines: <!-- chatsync-plan --> and "### ENV".
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request

MARKER = "<!-- chatsync-plan -->"


def api(method: str, path: str, body: dict | None = None) -> object:
    url = f"{os.environ['CI_API_V4_URL']}/projects/{os.environ['CI_PROJECT_ID']}{path}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "PRIVATE-TOKEN": os.environ["GITLAB_TOKEN"], "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def main(plan_path: str, env: str) -> None:
    with open(plan_path, encoding="utf-8") as file:
        plan = file.read()
    tag = f"{MARKER}\n### {env}"
    body = plan.replace(MARKER, tag, 1)
    notes_path = f"/merge_requests/{os.environ['CI_MERGE_REQUEST_IID']}/notes"
    notes = api("GET", f"{notes_path}?per_page=100")
    mine = next((n for n in notes if isinstance(n, dict) and n.get("body", "").startswith(tag)), None)
    if mine:
        api("PUT", f"{notes_path}/{mine['id']}", {"body": body})
    else:
        api("POST", notes_path, {"body": body})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
