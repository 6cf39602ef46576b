"""Run every benchmark in bench/ and print one table: ``make bench``.

Each benchmark runs as a subprocess with ``--json``; this script turns their results into rows of
(measure, result, goal, pass). Pass ``--quick`` for a short smoke run (goals not all judged).
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
Row = tuple[str, str, str, bool]


def run(script: str, quick: bool) -> Any:
    command = [sys.executable, str(HERE / script), "--json"]
    if quick:
        command.append("--quick" if script != "emulator_throughput.py" else "--seconds=1")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    try:
        return json.loads(done.stdout)
    except ValueError:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"{script} printed no JSON (exit {done.returncode})") from None


def emulator_rows(data: list[dict[str, Any]]) -> list[Row]:
    return [(r["measure"], f"{r['value']:,} req/s ({r['ratio']:.2f}x)", r["goal"], r["passed"]) for r in data]


def client_rows(data: list[dict[str, Any]]) -> list[Row]:
    worst = min(data, key=lambda r: r["ratio"])
    best = max(data, key=lambda r: r["ratio"])
    limited = sum(r["rate_limited"] for r in data)
    return [(f"client calls/s over each API's limit ({len(data)} APIs, 20 ms latency)",
             f"{worst['ratio']:.3f}-{best['ratio']:.3f} of the limit, {limited} x 60007",
             ">= 0.90, peak/1s <= limit, no 60007", all(r["passed"] for r in data))]


def plan_rows(data: list[dict[str, Any]]) -> list[Row]:
    rows = []
    for r in data:
        value = f"{r['ratio']:.3f}x floor" if "floor" in r["measure"] else f"{r['value']:.2f} s"
        rows.append((r["measure"], value, str(r["goal"]), r["passed"]))
    return rows


def apply_rows(r: dict[str, Any]) -> list[Row]:
    return [
        (f"apply of {r['accounts']:,} new accounts: wall / rate-limit floor",
         f"{r['ratio_to_floor']:.3f}x ({r['wall_s']:.2f} s / {r['floor_s']:.2f} s)",
         f"<= {r['goal']}", r["ratio_to_floor"] <= r["goal"]),
        ("apply: speed-up over --parallelism 1", f"{r['speedup']:.1f}x", "> 1", r["speedup"] > 1),
    ]


def durability_rows(data: list[dict[str, Any]]) -> list[Row]:
    return [(r["measure"], f"{r['value']} ({r['ratio']:.2f}x)", r["goal"], r["passed"]) for r in data]


def command_rows(data: list[dict[str, Any]]) -> list[Row]:
    return [(r["measure"], r["result"], r["goal"], r["passed"]) for r in data]


def linear_rows(data: list[dict[str, Any]]) -> list[Row]:
    return [(r["measure"], f"{r['value']:.2f}x ({r['seconds']:.3f} s)", r["goal"], r["passed"]) for r in data]


def group_rows(data: list[dict[str, Any]]) -> list[Row]:
    return [(r["measure"], f"{r['ratio']:.3f}x floor ({r['wall_s']:.2f} s / {r['floor_s']:.2f} s)",
             f"<= {r['goal']}", r["passed"]) for r in data]


BENCHMARKS: list[tuple[str, Callable[[Any], list[Row]]]] = [
    ("commands.py", command_rows),
    ("emulator_throughput.py", emulator_rows),
    ("emulator_durability.py", durability_rows),
    ("client_rate.py", client_rows),
    ("plan_speed.py", plan_rows),
    ("apply_speed.py", apply_rows),
    ("hostile_lists.py", linear_rows),
    ("group_speed.py", group_rows),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke check)")
    args = parser.parse_args()
    rows: list[Row] = []
    for script, to_rows in BENCHMARKS:
        print(f"running {script} ...", file=sys.stderr, flush=True)
        rows += to_rows(run(script, args.quick))
    today = datetime.date.today().isoformat()
    print(f"chatsync benchmarks, {today} ({'quick' if args.quick else 'full'} run: make bench)\n")
    print("| measure | result | goal | pass |")
    print("|---|---|---|---|")
    for measure, result, goal, passed in rows:
        print(f"| {measure} | {result} | {goal} | {'yes' if passed else 'NO'} |")
    return 0 if all(row[3] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
