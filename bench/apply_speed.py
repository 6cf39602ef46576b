"""Benchmark: how close ``apply`` of 2,000 new accounts comes to the rate-limit floor.

Starts ``chatsync emulator`` as its own process with every answer delayed 20 ms and the documented
per-API rate limits (``--rate-limit-scale 1``), writes a config of 2,000 new accounts, each with
nick, face_url and self_signature, and applies it through the library the way ``chatsync apply``
does (``config.load`` -> ``Client.for_app`` -> ``planner.plan`` -> ``Applier.run``). Only
``Applier.run`` is timed: loading the config and reading the live app are not.

Such an apply makes 20 ``multiaccount_import`` calls (100 accounts each, nick and face_url carried)
and 2,000 ``portrait_set`` calls (self_signature, which the import cannot carry). Each chunk's
portrait_sets start as soon as its import answers, so the two APIs overlap and the floor is the
slowest API alone at its documented rate::

    floor = max(calls[api] / documented_rate[api]) = max(20 / 100, 2000 / 200) = 10 s

A second's allowance may go at once (``pacing.py``), so the wall can be under the floor; this
times ``Applier.run`` in process (``bench/commands.py`` times the whole command). It prints:

* wall / floor            -- must be at most 1.15 (PASS / FAIL)
* the same apply with ``--parallelism 1`` (the sequential baseline), on fewer accounts (500 by
  default: one call at a time through 20 ms of latency is ~40 calls/s, so 2,000 would take ~50 s),
  its wall scaled linearly to the full count, and the speedup of the parallel apply over it
* 60007 answers (rate limited; must be 0) and failed changes (must be 0)
* with ``--timeline``, the calls sent in each second of the parallel apply, per API

Each apply runs against a fresh emulator, so both create new accounts. Exits 1 on FAIL.

    .venv/bin/python bench/apply_speed.py [--quick] [--json] [--timeline] [--accounts N]
                                          [--sequential-accounts N]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from _emulator import KEY, SDKAPPID, running_emulator
from client_rate import CallLog, peak_per_second

from chatsync.config import load
from chatsync.engine.apply import Applier
from chatsync.engine.plan import apply_calls, plan
from chatsync.facts.endpoints import ENDPOINTS
from chatsync.tencent.api import ChatApi
from chatsync.tencent.client import DEFAULT_PARALLELISM, Client

LATENCY_MS = 20
GOAL = 1.15
RATE_LIMITED = 60007


@dataclass
class Run:
    """One timed apply."""

    accounts: int
    parallelism: int
    wall: float
    calls: dict[str, int]  # HTTP requests sent per API (retries included)
    planned: dict[str, int]  # calls the plan said the apply makes
    rate_limited: int
    failed_changes: int
    skipped_changes: int
    peak_1s: dict[str, int]
    per_second: dict[str, list[int]] = field(default_factory=dict)


def floors(planned: dict[str, int]) -> tuple[float, str]:
    """(floor at the documented rates, how it is computed)."""
    terms = {name: count / ENDPOINTS[name].rate_per_second for name, count in planned.items()}
    floor = max(terms.values())
    how = "max(" + ", ".join(f"{planned[n]}/{ENDPOINTS[n].rate_per_second} ({n})" for n in terms) + ")"
    return floor, how


def write_config(folder: Path, url: str, prefix: str, count: int) -> Path:
    """A config declaring ``count`` new accounts with nick, face_url and self_signature."""
    lines = ["version: 1", "app:", f"  sdkappid: {SDKAPPID}", f"  endpoint: {url}", "accounts:"]
    for i in range(count):
        user = f"{prefix}-{i:05d}"
        lines += [f"  {user}:", f"    nick: User {i}", f"    face_url: https://example.com/{user}.png",
                  f"    self_signature: Signature of user {i}"]
    path = folder / f"{prefix}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def apply_once(folder: Path, log: CallLog, count: int, parallelism: int, prefix: str) -> Run:
    """Apply ``count`` new accounts through a fresh emulator; time ``Applier.run`` only."""
    with running_emulator("--latency-ms", str(LATENCY_MS), "--rate-limit-scale", "1") as url:
        desired = load([write_config(folder, url, prefix, count)])
        environ = {"CHATSYNC_SECRET_KEY": KEY}
        with Client.for_app(desired.app, environ, parallelism=parallelism) as client:
            api = ChatApi(client)
            planned = plan(api, desired, client.target.url)
            if planned.summary != {"create": count, "update": 0, "delete": 0}:
                raise SystemExit(f"unexpected plan: {planned.summary}")
            time.sleep(1.1)  # the emulator's one-second windows forget the plan's reads
            before = dict(client.calls)
            log.take_all()
            began = time.perf_counter()
            report = Applier(api, planned).run()
            wall = time.perf_counter() - began
            calls = {n: client.calls[n] - before[n] for n in ENDPOINTS if client.calls[n] - before[n]}
    attempts = {name: log.take(name) for name in calls}
    rate_limited = sum(code == RATE_LIMITED for sends in attempts.values() for _, code in sends)
    start = min((sends[0][0] for sends in attempts.values() if sends), default=0.0)
    per_second = {}
    for name, sends in attempts.items():
        seconds = Counter(int(at - start) for at, _ in sends)
        per_second[name] = [seconds.get(s, 0) for s in range(int(wall) + 1)]
    return Run(count, parallelism, round(wall, 3), calls, apply_calls(planned.changes), rate_limited,
               report.counts["failed"], report.counts["skipped"],
               {name: peak_per_second([at for at, _ in sends]) for name, sends in attempts.items()},
               per_second)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="400 accounts, 100 sequential (a smoke check)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    parser.add_argument("--timeline", action="store_true", help="print calls sent per second, per API")
    parser.add_argument("--accounts", type=int, default=None, help="accounts to apply (default 2000)")
    parser.add_argument("--sequential-accounts", type=int, default=None,
                        help="accounts for the --parallelism 1 baseline (default 500; 0 skips it)")
    args = parser.parse_args()
    count = args.accounts if args.accounts is not None else (400 if args.quick else 2000)
    seq_count = args.sequential_accounts if args.sequential_accounts is not None else \
        (100 if args.quick else 500)
    if count < 1 or seq_count < 0:
        parser.error("--accounts must be at least 1 and --sequential-accounts at least 0")

    log = CallLog()
    client_log = logging.getLogger("chatsync.client")
    client_log.addHandler(log)
    client_log.setLevel(logging.DEBUG)
    with tempfile.TemporaryDirectory(prefix="chatsync-bench-") as folder:
        parallel = apply_once(Path(folder), log, count, DEFAULT_PARALLELISM, "par")
        sequential = apply_once(Path(folder), log, seq_count, 1, "seq") if seq_count else None

    floor, how = floors(parallel.planned)
    ratio = parallel.wall / floor
    seq_scaled = sequential.wall * count / seq_count if sequential else None
    passed = ratio <= GOAL and parallel.rate_limited == 0 and parallel.failed_changes == 0 \
        and parallel.skipped_changes == 0 and parallel.calls == parallel.planned \
        and (sequential is None or (sequential.failed_changes == 0 and sequential.rate_limited == 0))
    result: dict[str, Any] = {
        "accounts": count, "latency_ms": LATENCY_MS, "parallelism": DEFAULT_PARALLELISM,
        "floor_s": round(floor, 3), "floor_formula": how,
        "wall_s": parallel.wall, "ratio_to_floor": round(ratio, 3), "goal": GOAL,
        "sequential_accounts": seq_count, "sequential_wall_s": sequential.wall if sequential else None,
        "sequential_wall_scaled_s": round(seq_scaled, 2) if seq_scaled else None,
        "speedup": round(seq_scaled / parallel.wall, 2) if seq_scaled else None,
        "rate_limited_60007": parallel.rate_limited + (sequential.rate_limited if sequential else 0),
        "failed_changes": parallel.failed_changes + (sequential.failed_changes if sequential else 0),
        "passed": passed, "parallel": asdict(parallel),
        "sequential": asdict(sequential) if sequential else None,
    }
    if args.json:
        if not args.timeline:
            for run in (result["parallel"], result["sequential"]):
                if run:
                    run.pop("per_second")
        print(json.dumps(result, indent=2))
    else:
        print_table(result, parallel, sequential, args.timeline)
    return 0 if passed else 1


def print_table(result: dict[str, Any], parallel: Run, sequential: Run | None, timeline: bool) -> None:
    count = result["accounts"]
    print(f"apply of {count} new accounts (nick, face_url, self_signature): emulator latency "
          f"{LATENCY_MS} ms, documented rate limits, parallelism {DEFAULT_PARALLELISM}")
    print(f"  calls planned           {', '.join(f'{n} {c}' for n, c in parallel.planned.items())}")
    print(f"  calls sent              {', '.join(f'{n} {c}' for n, c in parallel.calls.items())}")
    print(f"  floor                   {result['floor_formula']} = {result['floor_s']:.2f} s  "
          "(imports feed portrait_sets as they answer, so the APIs overlap)")
    print(f"  wall                    {parallel.wall:.2f} s")
    verdict = "PASS" if result["passed"] else "FAIL"
    print(f"  wall / floor            {result['ratio_to_floor']:.3f}  (goal <= {GOAL})  {verdict}")
    print(f"  peak calls in 1 s       {', '.join(f'{n} {c}' for n, c in parallel.peak_1s.items())}")
    if sequential:
        scaled = "" if sequential.accounts == count else \
            f", x{count / sequential.accounts:g} = {result['sequential_wall_scaled_s']:.1f} s for {count}"
        print(f"  sequential baseline     --parallelism 1 on {sequential.accounts} accounts: "
              f"{sequential.wall:.2f} s{scaled}")
        print(f"  speedup                 {result['speedup']:.1f}x over the sequential apply")
    print(f"  60007 answers           {result['rate_limited_60007']}  (must be 0)")
    print(f"  failed changes          {result['failed_changes']}  (must be 0)")
    if timeline:
        print("  calls sent per second of the parallel apply:")
        for name, counts in parallel.per_second.items():
            print(f"    {name:<20} {' '.join(str(c) for c in counts)}")


if __name__ == "__main__":
    sys.exit(main())
