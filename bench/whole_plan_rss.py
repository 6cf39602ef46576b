"""Benchmark: ``chatsync plan`` and ``chatsync apply`` run as a user runs them (their own process),
against ``chatsync emulator --latency-ms 20`` (another process, documented rate limits): wall time,
peak memory (``ru_maxrss`` of the child, as ``/usr/bin/time -v`` reports it) and calls.

Scenarios:

* ``plan N``: N declared accounts with nick and face_url, every other one existing (imported in
  setup, not timed), a quarter renamed. Floor: ``ceil(N / 100)`` ``account_check`` at 100/s.
  Peak memory per declared account is (peak RSS - RSS of ``chatsync --version``) / N.
* ``rename N``: N existing accounts whose nick changes (nothing else): ``apply --auto-approve``
  of the config, timed whole (its plan included).

    .venv/bin/python bench/whole_plan_rss.py plan 100000
    .venv/bin/python bench/whole_plan_rss.py rename 2000
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _emulator import KEY, SDKAPPID, running_emulator

from chatsync.domain.model import AppConfig
from chatsync.tencent.api import ChatApi, chunks
from chatsync.tencent.client import Client

LATENCY_MS = 20


def user(i: int) -> str:
    return f"bench-user-{i:06d}"


def write_config(path: Path, url: str, count: int, renamed: set[int]) -> None:
    lines = ["version: 1", "app:", f"  sdkappid: {SDKAPPID}", f"  endpoint: {url}", "accounts:"]
    for i in range(count):
        nick = f"Renamed {i}" if i in renamed else f"User {i}"
        lines += [f"  {user(i)}:", f'    nick: "{nick}"', f'    face_url: "https://example.com/{i}.png"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def seed(url: str, ids: list[int]) -> None:
    app = AppConfig(sdkappid=SDKAPPID, endpoint=url)
    with Client.for_app(app, {"CHATSYNC_SECRET_KEY": KEY}) as client:
        api = ChatApi(client)
        for chunk in chunks(ids, 1000):
            results = api.multiaccount_import(
                {user(i): {"nick": f"User {i}", "face_url": f"https://example.com/{i}.png"} for i in chunk})
            bad = [r for r in results.values() if not r.ok]
            if bad:
                raise SystemExit(f"setup failed: {bad[0]}")
    time.sleep(1.1)  # the emulator's one-second windows forget the setup


def run(*args: str) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (KB) and stdout of ``python -m chatsync ARGS`` in its own process."""
    env = {**os.environ, "CHATSYNC_SECRET_KEY": KEY, "NO_COLOR": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "chatsync", *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode not in (0, 2):
        raise SystemExit(f"chatsync {args[0]} exited {done.returncode}: {done.stderr[-2000:]}")
    return wall, peak if peak > before else -1, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=("plan", "rename"))
    parser.add_argument("count", type=int)
    args = parser.parse_args()
    count = args.count
    with running_emulator("--latency-ms", str(LATENCY_MS), "--rate-limit-scale", "1") as url, \
            tempfile.TemporaryDirectory(prefix="chatsync-bench-") as folder:
        config = Path(folder) / "chatsync.yaml"
        baseline = run("--version")[1]
        if args.scenario == "plan":
            existing = [i for i in range(count) if i % 2 == 0]
            seed(url, existing)
            write_config(config, url, count, {i for i in existing if i % 4 == 0})
            wall, peak, out = run("plan", str(config))
            floor = math.ceil(count / 100) / 100
            result = {"scenario": "plan", "accounts": count, "wall_s": round(wall, 2), "floor_s": floor,
                      "ratio": round(wall / floor, 2), "peak_rss_mb": round(peak / 1024, 1),
                      "baseline_rss_mb": round(baseline / 1024, 1),
                      "kb_per_account": round((peak - baseline) / count, 2),
                      "summary": out.strip().splitlines()[-2:]}
        else:
            seed(url, list(range(count)))
            write_config(config, url, count, set(range(count)))
            wall, peak, out = run("apply", str(config), "--auto-approve")
            result = {"scenario": "rename", "accounts": count, "wall_s": round(wall, 2),
                      "peak_rss_mb": round(peak / 1024, 1), "summary": out.strip().splitlines()[-1:]}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
