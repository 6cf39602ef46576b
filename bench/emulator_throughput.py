"""Benchmark: the emulator's throughput over loopback, rate limits scaled out of the way.

Starts ``chatsync emulator`` as its own process (as users run it), then drives it from several
threads, each with a keep-alive httpx client, with a mix of reads and writes. Prints requests/s
and the ratio to the 1,000 requests/s the client benchmarks need (issue 2's floor).

    .venv/bin/python bench/emulator_throughput.py [--seconds 5] [--threads 4]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import threading
import time

import httpx

from chatsync.facts.endpoints import ENDPOINTS
from chatsync.tencent import usersig

KEY = "bench-only-secret-key"
SDKAPPID = 1400000000
FLOOR = 1000.0


def start_emulator() -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "chatsync", "emulator", "--port", "0", "--rate-limit-scale", "inf"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "CHATSYNC_SECRET_KEY": KEY},
    )
    line = process.stdout.readline().strip()
    if not line.startswith("chatsync emulator listening on "):
        raise SystemExit(f"emulator did not start: {line!r}")
    return process, line.rsplit(" ", 1)[1]


def requests_for(worker: int):
    """An endless mix: import, set a profile, check, read profiles, list bots."""
    for i in itertools.count():
        user = f"w{worker}-{i % 500}"
        yield "account_import", {"UserID": user, "Nick": f"N{i}"}
        yield "portrait_set", {"From_Account": user, "ProfileItem": [
            {"Tag": "Tag_Profile_IM_SelfSignature", "Value": f"s{i}"}]}
        yield "account_check", {"CheckItem": [{"UserID": f"w{worker}-{j}"} for j in range(20)]}
        yield "portrait_get", {"To_Account": [user], "TagList": ["Tag_Profile_IM_Nick"]}
        yield "get_all_robots", {}


def run(url: str, threads: int, seconds: float) -> tuple[int, int, float]:
    sig = usersig.make(SDKAPPID, KEY, "administrator")
    query = f"sdkappid={SDKAPPID}&identifier=administrator&usersig={sig}&random=1&contenttype=json"
    counts, errors = [0] * threads, [0] * threads
    start_at = threading.Event()
    deadline = [0.0]

    def worker(n: int) -> None:
        with httpx.Client(base_url=url, timeout=10) as client:
            start_at.wait()
            for name, body in requests_for(n):
                if time.perf_counter() >= deadline[0]:
                    return
                answer = client.post(f"{ENDPOINTS[name].path}?{query}", json=body).json()
                counts[n] += 1
                errors[n] += answer["ErrorCode"] != 0

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start_at.set()
    for thread in pool:
        thread.join()
    return sum(counts), sum(errors), time.perf_counter() - began


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (Linux /proc), or NaN elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--json", action="store_true", help="print the result as JSON rows")
    args = parser.parse_args()
    process, url = start_emulator()
    try:
        run(url, args.threads, 0.5)  # warm up
        cpu_before = cpu_seconds(process.pid)
        total, failed, elapsed = run(url, args.threads, args.seconds)
        server_cpu = cpu_seconds(process.pid) - cpu_before
    finally:
        process.terminate()
        process.wait(timeout=10)
    rate = total / elapsed
    if args.json:
        print(json.dumps([{"measure": "emulator throughput (requests/s over loopback)",
                           "value": round(rate), "goal": f">= {FLOOR:,.0f}", "ratio": round(rate / FLOOR, 2),
                           "passed": rate >= FLOOR and failed == 0}], indent=2))
        return
    print(f"emulator throughput: {rate:,.0f} requests/s over loopback "
          f"({total:,} calls, {args.threads} keep-alive threads, {elapsed:.1f} s, {failed} errors)")
    print(f"emulator CPU per request: {server_cpu / total * 1e6:,.0f} us "
          f"(one core serves ~{total / server_cpu:,.0f} requests/s; the client uses the rest)")
    print(f"ratio to the {FLOOR:,.0f} requests/s floor: {rate / FLOOR:.2f}")


if __name__ == "__main__":
    main()
