"""The GitOps glue: what the GitHub Action (``action.yml``) and the GitLab CI/CD component
(``templates/``) run around ``chatsync plan`` and ``chatsync apply``.

The top layer, beside the CLI: it reads what the CLI wrote (the Markdown plan, its exit status,
the saved plan) and talks to the forge's REST API. One module a job:

* :mod:`~chatsync.gitops.comment`: the body of the plan comment (GitHub) or note (GitLab);
* :mod:`~chatsync.gitops.rest`: the forge's REST API over httpx, answers checked, tokens kept out of
  every message;
* :mod:`~chatsync.gitops.github` and :mod:`~chatsync.gitops.gitlab`: the steps of each forge, run as
  ``python -m chatsync.gitops.github ...`` / ``python -m chatsync.gitops.gitlab ...``.
"""
