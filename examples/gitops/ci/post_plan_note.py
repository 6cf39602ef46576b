"""Post a chatsync Markdown plan on the current GitLab merge request as one note, updated in place.

Usage (in a merge-request pipeline): python3 ci/post_plan_note.py plan.md ENV [PLAN_EXIT_STATUS]
Needs GITLAB_TOKEN (a project access token with api scope); CI_* variables come from GitLab.
The note is found again, among all the merge request's notes, by its first line
``<!-- chatsync-plan: ENV -->``. A non-zero exit status of plan puts a warning on top.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from gitlab_api import GitLabError, pages, request

LIMIT = 900_000  # a note holds 1,000,000 characters; the artifact holds the whole plan


def note_body(plan: str, env: str, status: str = "0") -> str:
    """The note: its marker, a heading, a warning if plan failed or is unsafe, then the plan."""
    job = os.environ.get("CI_JOB_URL", "the job log")
    warning = "" if status == "0" else (
        f"> **Warning:** chatsync plan exited {status}: this plan is unsafe or failed, and will not be "
        f"applied as it is. See {job}.\n\n")
    plan = plan.strip()
    if len(plan) > LIMIT:
        plan = f"{plan[:LIMIT]}\n\n… cut: the whole plan is the artifact plan-{env}.json of {job}."
    sha = os.environ.get("CI_COMMIT_SHA", "")
    plan = plan or "_No plan was made: see the job log._"
    return (f"{marker(env)}\n### chatsync plan: {env}\n\n{warning}{plan}"
            f"\n\n<sub>For {sha}; the apply job on the default branch applies exactly this plan.</sub>")


def marker(env: str) -> str:
    return f"<!-- chatsync-plan: {env} -->"


def main(plan_path: str, env: str, status: str = "0") -> None:
    path = Path(plan_path)
    plan = path.read_text(encoding="utf-8") if path.exists() else ""
    body = note_body(plan, env, status)
    notes_path = f"/merge_requests/{os.environ.get('CI_MERGE_REQUEST_IID', '')}/notes"
    mine = next((n for n in pages(notes_path) if str(n.get("body", "")).startswith(marker(env))
                 and not n.get("system")), None)
    if mine:
        request("PUT", f"{notes_path}/{mine['id']}", {"body": body})
    else:
        request("POST", notes_path, {"body": body})


if __name__ == "__main__":
    if not 3 <= len(sys.argv) <= 4:
        sys.exit("usage: python3 ci/post_plan_note.py plan.md ENV [PLAN_EXIT_STATUS]")
    try:
        main(*sys.argv[1:])
    except GitLabError as error:
        sys.exit(f"Error: posting the plan note: {error}")
