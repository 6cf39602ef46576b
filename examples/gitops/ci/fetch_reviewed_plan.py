"""Fetch the plan reviewed on the merge request that this default-branch pipeline merged.

Usage (in the apply job): python3 ci/fetch_reviewed_plan.py ENV OUT.json
The merge request is the merged one whose merge, squash or head commit is CI_COMMIT_SHA; its plan
is the artifact plan-ENV.json of the job ``plan: [ENV]`` in its newest pipeline that ran that job
(the one that wrote the note). A commit that merged no merge request has no reviewed plan: the
script fails and nothing is applied. Needs GITLAB_TOKEN (read_api is enough).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from gitlab_api import GitLabError, pages, request


def merged_request(sha: str) -> dict[str, Any]:
    """The merged merge request that ``sha`` is the result of."""
    for mr in pages(f"/repository/commits/{sha}/merge_requests"):
        if mr.get("state") == "merged" and sha in (mr.get("merge_commit_sha"), mr.get("squash_commit_sha"),
                                                   mr.get("sha")):
            return mr
    raise GitLabError(f"{sha} merged no merge request, so no plan was reviewed: change the config "
                      "through a merge request")


def plan_job(mr: dict[str, Any], env: str) -> dict[str, Any]:
    """The ``plan: [ENV]`` job of the newest pipeline of ``mr`` that ran one."""
    name = f"plan: [{env}]"
    for pipeline in pages(f"/merge_requests/{mr.get('iid')}/pipelines"):  # newest first
        jobs = [job for job in pages(f"/pipelines/{pipeline.get('id')}/jobs", {"include_retried": "false"})
                if job.get("name") == name]
        if jobs:
            return max(jobs, key=lambda job: int(job.get("id", 0)))
    raise GitLabError(f"no '{name}' job in any pipeline of !{mr.get('iid')}: nothing to apply")


def main(env: str, out: str) -> None:
    sha = os.environ.get("CI_COMMIT_SHA", "")
    mr = merged_request(sha)
    job = plan_job(mr, env)
    artifact = f"plan-{env}.json"
    if not any(a.get("file_type") == "archive" for a in job.get("artifacts", []) if isinstance(a, dict)):
        raise GitLabError(f"job {job.get('web_url')} kept no artifacts (the plan failed, or they "
                          "expired): nothing was applied")
    content, _ = request("GET", f"/jobs/{job.get('id')}/artifacts/{artifact}", raw=True)
    Path(out).write_bytes(content)
    print(f"The plan reviewed on !{mr.get('iid')}: {job.get('web_url')} -> {out}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python3 ci/fetch_reviewed_plan.py ENV OUT.json")
    try:
        main(sys.argv[1], sys.argv[2])
    except GitLabError as error:
        sys.exit(f"Error: fetching the reviewed plan: {error}")
