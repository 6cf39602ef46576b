"""Benchmark: how close ``plan`` of 10,000 accounts comes to the rate-limit floor of its reads, and
the CPU time of the diff.

**Live plan.** Starts ``chatsync emulator`` as its own process with every answer delayed 20 ms and
the documented per-API rate limits (``--rate-limit-scale 1``). Setup (not timed): imports 5,000 of
the 10,000 accounts with nick and face_url through ``ChatApi.multiaccount_import``, sleeps 1.1 s so
the emulator's one-second windows are empty, writes a config of the 10,000 accounts, each with nick
and face_url (every other existing one with a different nick), and loads it with
``chatsync.config.load``. Then it times ``chatsync.engine.plan.plan`` (what ``chatsync plan`` runs,
as it runs it: with the cyclic GC paused, ``chatsync/cli/tuning.py``) through a :class:`Client` with
the default parallelism. The reads overlap (each ``account_check`` chunk feeds its existing
accounts into ``portrait_get`` batches), so the floor is the slowest read
API alone at its documented rate::

    floor = max(calls[api] / documented_rate[api])
          = max(100 / 100 (account_check), 50 / 200 (portrait_get), 1 / 200 (get_all_robots)) = 1.0 s

A second's allowance may go at once (``pacing.py``), so the wall can be under the floor; this times
the read and the diff in process (``bench/commands.py`` times the whole command). It prints the
calls made per API, when each API's calls went out (first send, last answer: whether
``portrait_get`` overlaps ``account_check``), the wall split into the steps of ``planner.plan`` (the
read, from the first declaration to the last answer, and the ``diff``; the module's function is
wrapped to time it), the cyclic GC's pauses during the plan, the wall time and wall / floor, which
must be at most 1.3 (judged from 10,000 accounts: on a small plan the ~0.05 s of fixed tail, the
last answers' latency, outweighs a short floor).

**Diff CPU.** Builds a :class:`DesiredState` and a :class:`LiveState` of N = 25,000, 50,000 and
100,000 accounts in process (every account live, half with a different nick) and times
``chatsync.engine.plan.diff`` with ``time.process_time`` (best of 3). t(100k) must be under 2 s; the
ratio t(100k) / t(50k) shows whether it grows linearly (about 2).

Exits 1 if a goal fails.

    .venv/bin/python bench/plan_speed.py [--quick] [--json] [--accounts N] [--repeat N]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import math
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from _emulator import KEY, SDKAPPID, running_emulator
from client_rate import CallLog, peak_per_second

from chatsync.cli.tuning import no_cyclic_gc
from chatsync.config import load
from chatsync.domain.live import LiveState
from chatsync.domain.model import AppConfig, DesiredState, Principal
from chatsync.engine import plan as planner
from chatsync.engine.plan import diff, plan
from chatsync.facts.endpoints import ENDPOINTS
from chatsync.facts.limits import BATCH_MAX
from chatsync.tencent.api import ChatApi
from chatsync.tencent.client import DEFAULT_PARALLELISM, Client

LATENCY_MS = 20
PLAN_GOAL = 1.3  # wall / floor
GOAL_FROM = 10_000  # accounts from which the ratio is judged
DIFF_GOAL_S = 2.0  # CPU seconds for 100,000 accounts
DIFF_SIZES = (25_000, 50_000, 100_000)
READS = ("account_check", "portrait_get", "get_all_robots")
RATE_LIMITED = 60007


@dataclass
class PlanRun:
    accounts: int
    existing: int
    wall_s: float
    floor_s: float
    floor_formula: str
    ratio: float
    calls: dict[str, int]  # requests the client sent per API (retries included)
    expected_calls: dict[str, int]
    windows: dict[str, list[float]]  # API -> [first send, last answer] in seconds from the start
    peak_1s: dict[str, int]
    rate_limited: int
    summary: dict[str, int]
    steps: dict[str, float]  # seconds of the wall in each step of planner.plan
    gc: dict[str, float]  # the cyclic GC's collections during the plan, and their seconds
    ratio_judged: bool  # False below GOAL_FROM accounts (--quick): the ratio is shown, not judged
    passed: bool


@dataclass
class DiffRun:
    sizes: list[int]
    cpu_s: list[float]
    growth: float | None  # t(largest) / t(the size before): about 2 when the diff is linear
    goal_s: float
    passed: bool


def user(i: int) -> str:
    return f"bench-user-{i:05d}"


def live_fields(i: int) -> dict[str, str]:
    return {"nick": f"User {i}", "face_url": f"https://example.com/{user(i)}.png"}


def wanted_fields(i: int) -> dict[str, str]:
    """The declared fields: every other existing account (i % 4 == 0) has a new nick."""
    fields = live_fields(i)
    if i % 4 == 0:
        fields["nick"] = f"Renamed {i}"
    return fields


def write_config(folder: Path, url: str, count: int) -> Path:
    lines = ["version: 1", "app:", f"  sdkappid: {SDKAPPID}", f"  endpoint: {url}", "accounts:"]
    for i in range(count):
        fields = wanted_fields(i)
        lines += [f"  {user(i)}:", f'    nick: "{fields["nick"]}"', f'    face_url: "{fields["face_url"]}"']
    path = folder / "plan-bench.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def floor_of(calls: dict[str, int]) -> tuple[float, str]:
    terms = {name: calls.get(name, 0) / ENDPOINTS[name].rate_per_second for name in READS}
    formula = "max(" + ", ".join(
        f"{calls.get(n, 0)}/{ENDPOINTS[n].rate_per_second} {n}" for n in READS) + ")"
    return max(terms.values()), formula


@contextlib.contextmanager
def phases() -> Iterator[dict[str, float]]:
    """Marks (``time.time()``) of the start and end of ``planner.plan``'s diff (the read is what
    comes before it): the module's function is wrapped while the plan runs (the code itself is not
    changed)."""
    marks: dict[str, float] = {}
    originals: dict[str, Callable[..., Any]] = {name: vars(planner)[name] for name in ("diff",)}

    def wrapped(name: str) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            marks[f"{name} start"] = time.time()
            try:
                return originals[name](*args, **kwargs)
            finally:
                marks[f"{name} end"] = time.time()
        return run

    for name in originals:
        setattr(planner, name, wrapped(name))
    try:
        yield marks
    finally:
        for name, function in originals.items():
            setattr(planner, name, function)


@contextlib.contextmanager
def gc_pauses() -> Iterator[list[tuple[int, float]]]:
    """(generation, seconds) of each cyclic-GC collection while the block runs."""
    pauses: list[tuple[int, float]] = []
    began = [0.0]

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            pauses.append((info["generation"], time.perf_counter() - began[0]))

    gc.callbacks.append(note)
    try:
        yield pauses
    finally:
        gc.callbacks.remove(note)


def run_plan(count: int, log: AnswerLog) -> PlanRun:
    existing = [i for i in range(count) if i % 2 == 0]  # interleaved: every check chunk finds some
    expected = {"account_check": math.ceil(count / BATCH_MAX),
                "portrait_get": math.ceil(len(existing) / BATCH_MAX), "get_all_robots": 1}
    with running_emulator("--latency-ms", str(LATENCY_MS), "--rate-limit-scale", "1") as url, \
            tempfile.TemporaryDirectory(prefix="chatsync-bench-") as folder:
        desired = load([write_config(Path(folder), url, count)])
        with Client.for_app(desired.app, {"CHATSYNC_SECRET_KEY": KEY}) as client:
            api = ChatApi(client)
            failed = [r for r in api.multiaccount_import({user(i): live_fields(i) for i in existing}).values()
                      if not r.ok]
            if failed:
                raise SystemExit(f"setup failed: {failed[0]}")
            time.sleep(1.1)  # the emulator's one-second windows forget the setup calls
            log.take_all()
            before = dict(client.calls)
            with phases() as marks, gc_pauses() as pauses:
                start = time.time()
                began = time.perf_counter()
                with no_cyclic_gc():  # as ``chatsync plan`` runs it (chatsync/cli/tuning.py)
                    result = plan(api, desired, client.target.url)
                wall = time.perf_counter() - began
            sent = {n: client.calls[n] - before.get(n, 0) for n in ENDPOINTS}
    calls = {n: c for n, c in sent.items() if c}
    windows, peaks, limited = {}, {}, 0
    for name in calls:
        sends = log.take(name)
        limited += sum(code == RATE_LIMITED for _, code in sends)
        peaks[name] = peak_per_second([at for at, _ in sends])
        if sends:
            windows[name] = [round(sends[0][0] - start, 3), round(log.last_answer[name] - start, 3)]
    steps = {"read (from the first declaration to the last answer)": marks["diff start"] - start,
             "diff": marks["diff end"] - marks["diff start"]}
    steps["other"] = wall - sum(steps.values())
    collections = {"count": len(pauses), "seconds": round(sum(s for _, s in pauses), 3),
                   "gen2_seconds": round(sum(s for g, s in pauses if g == 2), 3)}
    floor, formula = floor_of(calls)
    ratio = wall / floor
    updates = sum(1 for i in existing if i % 4 == 0)
    want = {"create": count - len(existing), "update": updates, "delete": 0}
    judged = count >= GOAL_FROM  # below it, fixed costs (the last answers' latency) outweigh a short floor
    passed = (ratio <= PLAN_GOAL or not judged) and limited == 0 and result.summary == want \
        and calls == expected
    return PlanRun(count, len(existing), round(wall, 3), round(floor, 3),
                   formula, round(ratio, 3), calls, expected, windows, peaks, limited, result.summary,
                   {k: round(v, 3) for k, v in steps.items()}, collections, judged, passed)


class AnswerLog(CallLog):
    """:class:`CallLog` that also keeps when each API's last answer came (the log line's time)."""

    def __init__(self) -> None:
        super().__init__()
        self.last_answer: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        super().emit(record)
        args = record.args
        if isinstance(args, tuple) and len(args) == 6 and "attempt=" in str(record.msg):
            name = str(args[0])
            self.last_answer[name] = max(self.last_answer.get(name, 0.0), record.created)

    def take_all(self) -> None:
        super().take_all()
        self.last_answer.clear()


def states(count: int) -> tuple[DesiredState, LiveState]:
    """``count`` declared accounts with nick and face_url, all live, half with another nick."""
    desired = DesiredState(AppConfig(sdkappid=SDKAPPID))
    live = LiveState(listed={"bot": []})
    for i in range(count):
        fields = live_fields(i)
        live.principals[f"account.{user(i)}"] = Principal("account", user(i), fields)
        if i % 2 == 0:
            fields = {**fields, "nick": f"Renamed {i}"}
        desired.accounts[user(i)] = Principal("account", user(i), fields)
    return desired, live


def run_diff(sizes: tuple[int, ...], repeat: int) -> DiffRun:
    times = []
    for size in sizes:
        desired, live = states(size)
        best = math.inf
        for _ in range(repeat):
            gc.collect()
            began = time.process_time()
            result = diff(desired, live, endpoint="http://127.0.0.1:8080")
            best = min(best, time.process_time() - began)
            if result.summary != {"create": 0, "update": size // 2 + size % 2, "delete": 0}:
                raise SystemExit(f"unexpected diff: {result.summary}")
            del result
        times.append(round(best, 3))
        del desired, live
    ratio = round(times[-1] / times[-2], 2) if len(times) >= 2 and times[-2] > 0 else None
    # the goal is for 100,000 accounts; a smaller largest size (--quick) is held to its share of it
    goal = DIFF_GOAL_S * sizes[-1] / 100_000
    return DiffRun(list(sizes), times, ratio, round(goal, 3), times[-1] < goal)


def print_plan(run: PlanRun) -> None:
    print(f"plan of {run.accounts:,} declared accounts ({run.existing:,} existing, nick and face_url "
          f"managed): emulator latency {LATENCY_MS} ms, documented rate limits, parallelism "
          f"{DEFAULT_PARALLELISM}")
    print(f"  calls sent              {', '.join(f'{n} {c}' for n, c in run.calls.items())}"
          f"{'' if run.calls == run.expected_calls else f'  (expected {run.expected_calls})'}")
    print(f"  floor                   {run.floor_formula} = {run.floor_s:.3f} s  (the reads overlap)")
    for name, (first, last) in run.windows.items():
        print(f"  {name:<23} first send {first:6.3f} s, last answer {last:6.3f} s, "
              f"peak {run.peak_1s.get(name, 0)} in 1 s")
    print("  wall by step            " + ", ".join(f"{k} {v:.3f} s" for k, v in run.steps.items()))
    print(f"  GC during the plan      {run.gc['count']} collections, {run.gc['seconds']:.3f} s "
          f"(of which generation 2: {run.gc['gen2_seconds']:.3f} s)")
    print(f"  plan summary            {run.summary}")
    print(f"  60007 answers           {run.rate_limited}  (must be 0)")
    print(f"  wall                    {run.wall_s:.3f} s")
    verdict = "PASS" if run.passed else "FAIL"
    goal = f"goal <= {PLAN_GOAL}" if run.ratio_judged else \
        f"not judged below {GOAL_FROM:,} accounts: ~0.05 s of fixed tail weighs on a short floor"
    print(f"  wall / floor            {run.ratio:.3f}  ({goal})  {verdict}")


def print_diff(run: DiffRun) -> None:
    print("diff CPU time (planner.diff, in process; every account live, half differ; best of runs)")
    for size, seconds in zip(run.sizes, run.cpu_s, strict=True):
        print(f"  {size:>7,} accounts      {seconds:.3f} s  ({seconds / size * 1e6:.1f} us per account)")
    if run.growth is not None:
        print(f"  t({run.sizes[-1]:,}) / t({run.sizes[-2]:,})  {run.growth:.2f}  (linear: 2.00)")
    print(f"  t({run.sizes[-1]:,}) < {run.goal_s:g} s      {'PASS' if run.passed else 'FAIL'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="2,000 accounts to plan, diff of 12,500/25,000/50,000 (a smoke check)")
    parser.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    parser.add_argument("--accounts", type=int, default=None,
                        help="declared accounts to plan (default 10000)")
    parser.add_argument("--repeat", type=int, default=3, help="diff runs per size; the best counts")
    args = parser.parse_args()
    count = args.accounts if args.accounts is not None else (2_000 if args.quick else 10_000)
    sizes = tuple(n // 2 for n in DIFF_SIZES) if args.quick else DIFF_SIZES
    if count < 2 or args.repeat < 1:
        parser.error("--accounts must be at least 2 and --repeat at least 1")

    log = AnswerLog()
    client_log = logging.getLogger("chatsync.client")
    client_log.addHandler(log)
    client_log.setLevel(logging.DEBUG)
    plan_run = run_plan(count, log)
    client_log.removeHandler(log)
    diff_run = run_diff(sizes, args.repeat)

    if args.json:
        rows = [
            {"measure": f"plan of {count:,} accounts: wall / read floor", "value": plan_run.wall_s,
             "goal": f"<= {PLAN_GOAL}" if plan_run.ratio_judged else "not judged (--quick)",
             "ratio": plan_run.ratio, "passed": plan_run.passed,
             "details": asdict(plan_run)},
            {"measure": f"diff of {sizes[-1]:,} accounts: CPU seconds", "value": diff_run.cpu_s[-1],
             "goal": f"< {diff_run.goal_s:g}", "ratio": round(diff_run.cpu_s[-1] / diff_run.goal_s, 3),
             "passed": diff_run.passed,
             "details": asdict(diff_run)},
        ]
        print(json.dumps(rows, indent=2))
    else:
        print_plan(plan_run)
        print()
        print_diff(diff_run)
    return 0 if plan_run.passed and diff_run.passed else 1


if __name__ == "__main__":
    sys.exit(main())
