"""Saved plans: the file ``plan --out`` writes, read back for ``apply --plan`` and ``show``.

A saved plan is the JSON form of a :class:`~chatsync.domain.plan.Plan`, sealed with an HMAC keyed by the
app's secret key (:func:`chatsync.domain.plan.seal`). Two ways to read one:

* :func:`open_sealed` for applying: the seal is checked with a key the *operator* names (a
  variable of their environment, never one the file names: whoever edits a file could name a
  variable whose value they know and re-seal it), then the plan's own consistency, then its
  safety is worked out again from its changes (the file's flags are not trusted).
* :func:`open_unsealed` for showing: no key is needed, nothing is applied; safety is still worked
  out again, so what is shown is what ``apply --plan`` would decide.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chatsync.domain.plan import Plan, seal_matches
from chatsync.engine.plan import check_safety, tampered
from chatsync.errors import PlanFileError

#: A saved plan larger than this is not chatsync's (100,000 changes take about 30 MB).
MAX_PLAN_BYTES = 256 * 1024 * 1024


def read_plan_data(path: str) -> dict[str, Any]:
    """The JSON object in the plan file at ``path``; :class:`PlanFileError` when there is none."""
    file = Path(path)
    try:
        if file.is_dir():
            raise PlanFileError(f"{path} is a directory; give the file that plan --out wrote")
        if file.stat().st_size > MAX_PLAN_BYTES:
            raise PlanFileError(f"{path} is larger than any chatsync plan; make one with: "
                                "chatsync plan --out FILE")
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanFileError(f"cannot read the plan file {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise PlanFileError(f"{path} is not JSON; make a plan file with: chatsync plan --out FILE") from None
    if not isinstance(data, dict):
        raise PlanFileError(f"{path} is not a chatsync plan; make one with: chatsync plan --out FILE")
    try:  # JSON lets "\ud800" through: half of a surrogate pair, no character (no config holds one)
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        raise PlanFileError(f"{path} is not a chatsync plan (a string in it is not Unicode text: a \\u "
                            "escape of half a surrogate pair); make one with: chatsync plan --out FILE"
                            ) from None
    return data


def open_unsealed(path: str) -> Plan:
    """The plan saved at ``path``, for showing: read strictly, seal not checked, safety recomputed."""
    saved = Plan.from_data(read_plan_data(path), source=path)
    check_safety(saved)
    return saved


def open_sealed(path: str, secret_key: str, key_variable: str) -> Plan:
    """The plan saved at ``path``, for applying: sealed with ``secret_key`` (read by the caller from
    ``key_variable``, a variable the operator chose), consistent, and with its safety recomputed."""
    data = read_plan_data(path)
    saved = Plan.from_data(data, source=path)  # first: a file that is no plan at all says so
    if not seal_matches(data, secret_key):
        raise PlanFileError(
            f"{path} was edited after it was made, or sealed with another key than the one in "
            f"{key_variable}; make a new plan (or pass --secret-key-env with the variable that holds "
            "this app's key)"
        )
    if tampered(saved):
        raise PlanFileError(f"{path} does not agree with itself (its changes and what it saw differ); "
                            "make a new plan")
    check_safety(saved)
    return saved
