"""Benchmark: the time of reading and planning on server lists grows linearly (issue 12 item 8).

In process, no network: for N = 20,000, 40,000 and 80,000 it times (best of 5, ``process_time``,
the cyclic garbage collector paused during each run)
reading a ``get_all_robots`` answer of N bot ids (``answers.robot_ids``), an ``account_check``
answer of N items (``answers.result_items``), and ``planner.diff`` of a config with ``prune_bots``
against N live bots (every one a delete). Each ratio t(80k) / t(40k) must be under 3 (linear is
about 2; the quadratic lookups this replaced gave about 4). ``--json`` prints the rows, ``--quick``
uses N / 4.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chatsync.domain.live import LiveState
from chatsync.domain.model import AppConfig, DesiredState
from chatsync.engine.plan import diff
from chatsync.tencent import answers

GOAL = 3.0
RUNS = 5


def best(function: Callable[[], object]) -> float:
    """The least ``process_time`` of :data:`RUNS` runs of ``function``, each with the cyclic garbage
    collector paused (after a collection): its full collections come at thresholds of the whole
    heap, now in one run, now in the next, and weighed up to 1.5x on a ratio of two runs here."""
    times = []
    for _ in range(RUNS):
        gc.collect()
        gc.disable()
        try:
            started = time.process_time()
            function()
            times.append(time.process_time() - started)
        finally:
            gc.enable()
    return min(times)


def measures(n: int) -> dict[str, float]:
    bots = [f"@RBT#bot-{i:07d}" for i in range(n)]
    ids = [f"user-{i:07d}" for i in range(n)]
    robots = {"ActionStatus": "OK", "ErrorCode": 0, "Robot_Account": bots}
    items = {"ActionStatus": "OK", "ErrorCode": 0,
             "ResultItem": [{"UserID": i, "ResultCode": 0, "AccountStatus": "Imported"} for i in ids]}
    asked = frozenset(ids)
    desired = DesiredState(app=AppConfig(sdkappid=1400000000, prune_bots=True, max_deletes=10**9))
    return {
        "get_all_robots answer": best(lambda: answers.robot_ids(robots)),
        "account_check answer": best(lambda: answers.result_items(items, asked, statuses=True)),
        "plan with prune_bots": best(lambda: diff(desired, LiveState(listed={"bot": list(bots)}),
                                                  endpoint="x")),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    base = 5_000 if args.quick else 20_000
    runs = {n: measures(n) for n in (base, 2 * base, 4 * base)}
    rows = []
    for measure in runs[base]:
        ratio = runs[4 * base][measure] / max(runs[2 * base][measure], 1e-9)
        rows.append({"measure": f"{measure}: t({4 * base:,}) / t({2 * base:,}) items",
                     "value": ratio, "seconds": runs[4 * base][measure], "goal": f"< {GOAL}",
                     "passed": ratio < GOAL})
    if args.json:
        print(json.dumps(rows))
    else:
        for row in rows:
            print(f"{row['measure']}: {row['value']:.2f} ({row['seconds']:.3f} s) goal {row['goal']}")
    return 0 if all(row["passed"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
