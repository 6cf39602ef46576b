"""Benchmark: groups, as a user runs them: whole ``chatsync plan`` and ``chatsync apply`` commands
against ``chatsync emulator`` in its own process, every answer delayed 20 ms, the documented rate
limits (``--rate-limit-scale 1``).

Each scenario starts the emulator from a state file made for it (``--seed-state``: the accounts, the
bot and the groups already there, written straight into the file, so seeding costs no API call),
writes the config, and times the command from its start to its exit:

* plan of 10,000 declared groups of 20 members each, with ``prune_groups`` (so the listing is
  read too). Floor, as issue 24 states it: 200 ``get_group_info`` calls at 200/s (1 s) plus the
  1/s listing's second: 2 s. Goal: <= 1.3x.
* apply of 1,000 new groups of 20 members: 1,000 ``create_group`` (the members ride in it) at
  200/s: 5 s. Goal: <= 1.1x.
* one bot added to 1,000 existing groups of 20: 1,000 ``add_group_member`` at 200/s: 5 s.
  Goal: <= 1.1x.

The wall includes everything the command does (loading the config, the plan's reads, the writes);
chatsync's bytecode is written beforehand, as installing it does (``_emulator.compile_sources``,
as bench/commands.py does). Each scenario also checks its result: the plan of the first plans no
change, the applies end with a plan of no change (not timed). Exits 1 on FAIL.

    .venv/bin/python bench/group_speed.py [--quick] [--json] [--only plan,apply,bot] [--runs N]

``--runs N`` runs each scenario N times (a new emulator each time) and judges the median wall.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from _emulator import KEY, SDKAPPID, compile_sources, running_emulator

from chatsync.emulator import group_state
from chatsync.emulator.store import STATE_FORMAT, STATE_VERSION
from chatsync.facts import groups as facts

LATENCY_MS = 20
MEMBERS = 20  # per group, the owner included
POOL = 1000  # accounts the members are drawn from
BOT = "@RBT#helper"
NO_CHANGES = "No changes. The app matches the configuration."


def members_of(index: int) -> list[str]:
    """The 20 accounts of group ``index`` (the first is its owner)."""
    return [f"user{(index * 7 + k * 53) % POOL:04d}" for k in range(MEMBERS)]


def seed_state(path: Path, groups: int, with_bot: bool) -> None:
    """A state file: POOL accounts (and the bot), and ``groups`` Public groups of MEMBERS each."""
    now = int(time.time())
    accounts: dict[str, Any] = {"administrator": {}}
    accounts.update({f"user{i:04d}": {} for i in range(POOL)})
    bots: dict[str, bool] = {}
    if with_bot:
        accounts[BOT] = {}
        bots[BOT] = True
    made: dict[str, Any] = {}
    for index in range(groups):
        group = group_state.new_group(facts.PUBLIC, f"Group {index}", now, index + 1,
                                      facts.DEFAULT_MEMBER_CAP)
        names = members_of(index)
        group["Owner_Account"] = names[0]
        group["Members"] = {name: {"Role": facts.OWNER if k == 0 else facts.MEMBER, "JoinTime": now}
                            for k, name in enumerate(names)}
        made[f"g{index:05d}"] = group
    data = {"format": STATE_FORMAT, "version": STATE_VERSION, "sdkappid": SDKAPPID, "accounts": accounts,
            "bots": bots, "deleted": [], "kicked": {}, "groups": made, "group_seq": groups}
    path.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")


def write_config(path: Path, url: str, groups: int, *, bot: bool, prune: bool) -> None:
    """Every account of the pool, the bot if ``bot``, and ``groups`` groups as seeded (with the bot)."""
    document: dict[str, Any] = {
        "version": 1,
        "app": {"sdkappid": SDKAPPID, "endpoint": url, "prune_groups": prune, "max_deletes": 0},
        "accounts": {f"user{i:04d}": None for i in range(POOL)},
    }
    if bot:
        document["bots"] = {BOT: None}
    document["groups"] = {
        f"g{index:05d}": {"type": "Public", "name": f"Group {index}", "owner": members_of(index)[0],
                          "members": members_of(index)[1:] + ([BOT] if bot else [])}
        for index in range(groups)}
    path.write_text(yaml.safe_dump(document, sort_keys=False, width=1000), encoding="utf-8")


def command(*args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run ``chatsync ARGS`` as a user would; (seconds from start to exit, the process)."""
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "chatsync", *args], capture_output=True, text=True,
                          env={**os.environ, "CHATSYNC_SECRET_KEY": KEY}, check=False)
    return time.perf_counter() - began, done


def scenario(folder: Path, name: str, *, seeded: int, declared: int, bot_seeded: bool, bot_declared: bool,
             prune: bool, verb: str, floor: float, goal: float, runs: int = 1) -> dict[str, Any]:
    """Run one scenario ``runs`` times, each on a new emulator: the median wall is judged."""
    walls = []
    ok = True
    for _ in range(runs):
        wall, good = _run_once(folder, name, seeded=seeded, declared=declared, bot_seeded=bot_seeded,
                               bot_declared=bot_declared, prune=prune, verb=verb)
        walls.append(wall)
        ok = ok and good
    wall = statistics.median(walls)
    ratio = wall / floor
    return {"measure": name, "wall_s": round(wall, 3), "walls_s": [round(w, 3) for w in walls],
            "floor_s": floor, "ratio": round(ratio, 3), "goal": goal, "correct": ok,
            "passed": ok and ratio <= goal}


def _run_once(folder: Path, name: str, *, seeded: int, declared: int, bot_seeded: bool, bot_declared: bool,
              prune: bool, verb: str) -> tuple[float, bool]:
    state = folder / f"{name}.json"
    seed_state(state, seeded, bot_seeded)
    with running_emulator("--latency-ms", str(LATENCY_MS), "--rate-limit-scale", "1",
                          "--seed-state", str(state)) as url:
        config = folder / f"{name}.yaml"
        write_config(config, url, declared, bot=bot_declared, prune=prune)
        args = ("plan", str(config)) if verb == "plan" else ("apply", "--auto-approve", str(config))
        time.sleep(1.1)  # a fresh second of allowance for every API
        wall, done = command(*args)
        ok = done.returncode == 0 and (NO_CHANGES in done.stdout if verb == "plan"
                                       else "0 failed" in done.stdout)
        if verb == "apply":
            _, after = command("plan", str(config))
            ok = ok and NO_CHANGES in after.stdout
        if not ok:
            sys.stderr.write(done.stdout[-2000:] + done.stderr[-2000:])
    return wall, ok


#: The scenarios, by the name ``--only`` takes.
PARTS = ("plan", "apply", "bot")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes (goals not judged)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--only", default=",".join(PARTS),
                        help=f"run only these scenarios, comma-separated (of {', '.join(PARTS)})")
    parser.add_argument("--runs", type=int, default=1, help="runs of each scenario; the median is judged")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if only - set(PARTS) or args.runs < 1:
        parser.error(f"--only takes {', '.join(PARTS)}; --runs at least 1")
    scale = 10 if args.quick else 1
    plan_groups, apply_groups = 10_000 // scale, 1_000 // scale
    compile_sources()
    rows = []
    with tempfile.TemporaryDirectory(prefix="chatsync-bench-groups-") as name:
        folder = Path(name)
        if "plan" in only:
            rows.append(scenario(
                folder, f"plan of {plan_groups:,} declared groups of {MEMBERS} members (prune_groups)",
                seeded=plan_groups, declared=plan_groups, bot_seeded=False, bot_declared=False, prune=True,
                verb="plan", floor=plan_groups / facts.INFO_BATCH / facts.DEFAULT_RATE + 1.0, goal=1.3,
                runs=args.runs))
        if "apply" in only:
            rows.append(scenario(
                folder, f"apply of {apply_groups:,} new groups of {MEMBERS} members",
                seeded=0, declared=apply_groups, bot_seeded=False, bot_declared=False, prune=False,
                verb="apply", floor=apply_groups / facts.DEFAULT_RATE, goal=1.1, runs=args.runs))
        if "bot" in only:
            rows.append(scenario(
                folder, f"apply adding one bot to {apply_groups:,} existing groups of {MEMBERS}",
                seeded=apply_groups, declared=apply_groups, bot_seeded=True, bot_declared=True, prune=False,
                verb="apply", floor=apply_groups / facts.DEFAULT_RATE, goal=1.1, runs=args.runs))
    if args.quick:
        for row in rows:
            row["passed"] = row["correct"]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            verdict = "PASS" if row["passed"] else "FAIL"
            runs = f" (median of {' '.join(f'{w:.2f}' for w in row['walls_s'])})" if args.runs > 1 else ""
            print(f"{row['measure']}: {row['wall_s']:.2f} s{runs} / floor {row['floor_s']:.2f} s = "
                  f"{row['ratio']:.3f}x (goal <= {row['goal']})  {verdict}")
    return 0 if all(row["passed"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
