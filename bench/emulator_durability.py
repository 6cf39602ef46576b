"""Benchmark: what durability costs the emulator: writes/s with --state, with and without fsync.

Starts ``chatsync emulator --state FILE`` as its own process (rate limits off), once with fsync
(the default: an OK survives a power cut) and once with ``--no-fsync`` (an OK survives a killed
emulator only), each driven by 1 and by 8 keep-alive threads importing new accounts (every call a
change, so every call waits for its write). Group commit is what 8 threads buy: one write saves
every change that queued behind the one before. Prints writes/s per case and the ratios.

    .venv/bin/python bench/emulator_durability.py [--seconds 3] [--dir FOLDER]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _emulator import KEY, SDKAPPID, running_emulator

from chatsync.facts.endpoints import ENDPOINTS
from chatsync.tencent import usersig

PATH = ENDPOINTS["account_import"].path


def drive(url: str, threads: int, seconds: float, tag: str) -> tuple[float, int]:
    """Writes/s over ``seconds`` from ``threads`` clients, and how many calls were not OK."""
    sig = usersig.make(SDKAPPID, KEY, "administrator")
    query = f"sdkappid={SDKAPPID}&identifier=administrator&usersig={sig}&random=1&contenttype=json"
    counts, failed = [0] * threads, [0] * threads
    start, deadline = threading.Event(), [0.0]

    def worker(n: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            start.wait()
            i = 0
            while time.perf_counter() < deadline[0]:
                body = {"UserID": f"{tag}{n}-{i}", "Nick": f"nick {i}"}
                failed[n] += client.post(f"{PATH}?{query}", json=body).json()["ErrorCode"] != 0
                counts[n] += 1
                i += 1

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.set()
    for thread in pool:
        thread.join()
    return sum(counts) / (time.perf_counter() - began), sum(failed)


def filesystem_of(folder: str) -> str:
    """The type of the filesystem holding ``folder`` (Linux /proc/mounts), or '?'."""
    best, kind = "", "?"
    try:
        with open("/proc/mounts") as mounts:
            for line in mounts:
                _device, point, fstype = line.split()[:3]
                if os.path.realpath(folder).startswith(point) and len(point) > len(best):
                    best, kind = point, fstype
    except OSError:
        pass
    return kind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--dir", help="folder for the state files (default: the system temp folder)")
    parser.add_argument("--quick", action="store_true", help="1-second runs")
    parser.add_argument("--json", action="store_true", help="print the result as JSON rows")
    args = parser.parse_args()
    seconds = 1.0 if args.quick else args.seconds
    results: dict[tuple[bool, int], float] = {}
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        for fsync in (True, False):
            state = os.path.join(folder, f"state-{'fsync' if fsync else 'nofsync'}.json")
            flags = ["--state", state, "--rate-limit-scale", "inf", *([] if fsync else ["--no-fsync"])]
            with running_emulator(*flags) as url:
                drive(url, 2, 0.3, "warm")
                for threads in (1, 8):
                    rate, failed = drive(url, threads, seconds, f"t{threads}-")
                    if failed:
                        raise SystemExit(f"{failed} writes failed (fsync={fsync}, {threads} threads)")
                    results[(fsync, threads)] = rate
        kind = filesystem_of(folder)
    group_commit = results[(True, 8)] / results[(True, 1)]
    cost = results[(False, 1)] / results[(True, 1)]
    if args.json:
        print(json.dumps([
            {"measure": f"emulator writes/s with --state and fsync, 1 / 8 threads ({kind})",
             "value": f"{results[(True, 1)]:,.0f} / {results[(True, 8)]:,.0f}",
             "goal": "8 threads > 1 (group commit)", "ratio": round(group_commit, 2),
             "passed": group_commit > 1},
            {"measure": f"emulator writes/s with --no-fsync, 1 / 8 threads ({kind})",
             "value": f"{results[(False, 1)]:,.0f} / {results[(False, 8)]:,.0f}",
             "goal": "(the cost of fsync)", "ratio": round(cost, 2), "passed": True},
        ], indent=2))
        return
    print(f"state files on {kind} ({folder}); {seconds:.0f} s per case; every call a new account")
    for (fsync, threads), rate in results.items():
        print(f"  {'fsync   ' if fsync else 'no fsync'}  {threads} thread{'s' if threads > 1 else ' '}: "
              f"{rate:8,.0f} writes/s")
    print(f"fsync costs {cost:.1f}x at 1 thread; group commit gives {group_commit:.1f}x with fsync at "
          f"8 threads ({results[(False, 8)] / results[(True, 8)]:.1f}x cost of fsync at 8 threads)")


if __name__ == "__main__":
    main()
