"""Benchmark: the client's achieved calls/s per endpoint against its documented rate limit.

Starts ``chatsync emulator`` as its own process with every answer delayed 20 ms and the documented
per-API rate limits (``--rate-limit-scale 1``), then, one endpoint at a time, sends a long run of
calls through one :class:`~chatsync.tencent.client.Client` with its default parallelism, fanned
out with :meth:`Client.map` (through :class:`ChatApi` where it has the operation). For each
endpoint it prints:

* calls     -- HTTP requests the client sent (``Client.calls``; retries included)
* limit     -- the documented calls/s (``ENDPOINTS[name].rate_per_second``)
* achieved  -- calls / wall time, from the first send to the last answer (setup excluded)
* ratio     -- achieved / limit: must be at least 0.90 (it may pass 1.00 on a short run: the
               first second's allowance goes at once, pacing.py)
* peak/1s   -- most requests sent in any one-second window (from the client's debug log):
               must not exceed the limit, since the server counts a sliding one-second window
* 60007     -- rate-limit answers seen in the debug log: must be 0
* failed    -- calls (or batch items) that did not succeed: must be 0

and PASS or FAIL per endpoint; exits 1 if any endpoint fails.

    .venv/bin/python bench/client_rate.py [--quick] [--json] [--seconds 3] [--endpoints a,b]
"""

from __future__ import annotations

import argparse
import bisect
import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from _emulator import KEY, SDKAPPID, running_emulator

from chatsync.errors import CallFailed
from chatsync.facts.endpoints import ENDPOINTS
from chatsync.tencent.api import ChatApi, ItemResult
from chatsync.tencent.client import DEFAULT_PARALLELISM, Client
from chatsync.tencent.credentials import SigCache
from chatsync.tencent.target import Target

LATENCY_MS = 20
MIN_RATIO = 0.90
RATE_LIMITED = 60007
BATCH = 5  # ids per batch call: small, so the emulator's work stays well under the latency
USERS = 200  # ordinary accounts made in setup, for the calls that need existing accounts
BOTS = 10  # bots the create_robot run creates and re-creates (the app allows 20)
GONE_BOT = "@RBT#bench-gone"  # made in setup; delete_robot deletes it again and again (a repeat is OK)
GROUPS = 50  # groups made in setup, for the group calls that act on existing groups


@dataclass
class Row:
    endpoint: str
    calls: int
    limit: int
    achieved: float
    ratio: float
    peak_1s: int
    rate_limited: int
    failed: int
    seconds: float
    passed: bool
    error: str = ""


class CallLog(logging.Handler):
    """Keeps (send time, code) of each attempt from the client's debug line.

    The line is ``"%s attempt=%d status=%s code=%s %.1fms %s"``, logged after the answer, so the
    send time is the record's time less the exchange's duration.
    """

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.sends: dict[str, list[tuple[float, object]]] = {}
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if not isinstance(args, tuple) or len(args) != 6 or "attempt=" not in str(record.msg):
            return
        name, _attempt, _status, code, millis, _url = args
        with self._guard:
            self.sends.setdefault(str(name), []).append((record.created - float(str(millis)) / 1000, code))

    def take_all(self) -> None:
        with self._guard:
            self.sends.clear()

    def take(self, endpoint: str) -> list[tuple[float, object]]:
        with self._guard:
            return sorted(self.sends.pop(endpoint, []), key=lambda entry: entry[0])


def peak_per_second(times: Sequence[float]) -> int:
    """Most entries of sorted ``times`` inside any window (t - 1 s, t]: what a sliding limiter counts."""
    peak = 0
    for index, at in enumerate(times):
        first = bisect.bisect_right(times, at - 1.0, 0, index + 1)
        peak = max(peak, index + 1 - first)
    return peak


def user(i: int) -> str:
    return f"bench-user-{i % USERS}"


def workloads(api: ChatApi, calls: dict[str, int]) -> dict[str, Callable[[int], int]]:
    """For each endpoint, call number i -> how many of its items failed (0 when all went through)."""
    client = api.client

    def failed_items(results: dict[str, ItemResult]) -> int:
        return sum(not result.ok for result in results.values())

    def sent(_reply: object) -> int:
        return 0  # a single call that returns succeeded (a failure raises CallFailed)

    def batch_of(i: int) -> list[str]:
        return [user(i * BATCH + j) for j in range(BATCH)]

    deletes = calls.get("account_delete", 0)
    return {
        "create_robot": lambda i: sent(api.create_robot(f"@RBT#bench-{i % BOTS}", {"nick": f"Bot {i}"})),
        "delete_robot": lambda i: sent(api.delete_robot(GONE_BOT)),
        "get_all_robots": lambda i: int(GONE_BOT in api.get_all_robots()),
        "account_import": lambda i: sent(client.call(
            "account_import", {"UserID": f"bench-single-{i % USERS}", "Nick": f"Single {i}"})),
        "multiaccount_import": lambda i: failed_items(api.multiaccount_import(
            {f"bench-multi-{(i * BATCH + j) % 1000}": {"nick": f"Multi {i}"} for j in range(BATCH)})),
        "account_check": lambda i: failed_items(api.account_check(batch_of(i))),
        "account_delete": lambda i: failed_items(api.account_delete(
            [f"bench-del-{(i * BATCH + j) % max(deletes * BATCH, 1)}" for j in range(BATCH)])),
        "kick": lambda i: sent(client.call("kick", {"UserID": user(i)})),
        "portrait_get": lambda i: failed_items(api.portrait_get(batch_of(i), ["nick", "self_signature"])),
        "portrait_set": lambda i: sent(api.portrait_set(user(i), {"self_signature": f"run {i}"})),
        **group_workloads(client, calls),
    }


def group(i: int) -> str:
    return f"bench-group-{i % GROUPS}"


def group_workloads(client: Client, calls: dict[str, int]) -> dict[str, Callable[[int], int]]:
    """The group APIs (docs/tencent-api.md section 10): each call acts on the groups of set_up (or
    on new ones), so that every call is one the service accepts. Owners change in turn between
    two accounts; a role flips between admin and member; members added are already in the group
    (the answer says so per item; the call succeeds); each delete and destroy has a group of its own."""

    def call(endpoint: str, body: dict[str, object]) -> int:
        client.call(endpoint, body)
        return 0

    def owner(i: int) -> str:  # group(i)'s owner after this call: the two founders take turns
        return user(1 - (i // GROUPS) % 2)

    return {
        "get_appid_group_list": lambda i: call("get_appid_group_list", {"Limit": 100}),
        "create_group": lambda i: call("create_group", {
            "Owner_Account": user(0), "Type": "Public", "GroupId": f"bench-new-{i}", "Name": f"New {i}"}),
        "get_group_info": lambda i: call("get_group_info", {
            "GroupIdList": [group(i * BATCH + j) for j in range(BATCH)]}),
        "modify_group_base_info": lambda i: call("modify_group_base_info", {
            "GroupId": group(i), "Introduction": f"run {i}"}),
        "destroy_group": lambda i: call("destroy_group", {"GroupId": f"bench-gone-{i}"}),
        "add_group_member": lambda i: call("add_group_member", {
            "GroupId": group(i), "Silence": 1, "MemberList": [{"Member_Account": user(2)}]}),
        "delete_group_member": lambda i: call("delete_group_member", {
            "GroupId": f"bench-leave-{i}", "Silence": 1,
            "MemberToDel_Account": [user(3)]}),
        "get_group_member_info": lambda i: call("get_group_member_info", {"GroupId": group(i), "Limit": 10}),
        "import_group": lambda i: call("import_group", {
            "Owner_Account": user(0), "Type": "Public", "GroupId": f"bench-imported-{i}", "Name": f"I {i}"}),
        "import_group_member": lambda i: call("import_group_member", {
            "GroupId": group(i), "MemberList": [{"Member_Account": user(4)}]}),
        "change_group_owner": lambda i: call("change_group_owner", {
            "GroupId": group(i), "NewOwner_Account": owner(i)}),
        "modify_group_member_info": lambda i: call("modify_group_member_info", {
            "GroupId": group(i), "Member_Account": user(2),
            "Role": "Admin" if (i // GROUPS) % 2 == 0 else "Member"}),
        "get_joined_group_list": lambda i: call("get_joined_group_list", {"Member_Account": user(i)}),
    }


def set_up(api: ChatApi, calls: dict[str, int]) -> None:
    """Accounts for kick, portrait_* and account_delete to act on, and a bot to delete."""
    accounts = {user(i): {"nick": f"User {i}"} for i in range(USERS)}
    accounts.update({f"bench-del-{i}": {} for i in range(calls.get("account_delete", 0) * BATCH)})
    problems = [result for result in api.multiaccount_import(accounts).values() if not result.ok]
    if problems:
        raise SystemExit(f"setup failed: {problems[0]}")
    api.create_robot(GONE_BOT, {"nick": "Gone"})
    founders = [{"Member_Account": user(k)} for k in (1, 2, 3, 4)]  # user(0) owns each group
    made = [(f"bench-group-{i}", founders) for i in range(GROUPS)]
    made += [(f"bench-gone-{i}", founders) for i in range(calls.get("destroy_group", 0))]
    made += [(f"bench-leave-{i}", founders) for i in range(calls.get("delete_group_member", 0))]
    api.client.map(lambda pair: api.client.call("create_group", {
        "Owner_Account": user(0), "Type": "Public", "GroupId": pair[0], "Name": pair[0],
        "MemberList": pair[1]}), made)
    time.sleep(1.1)  # let the emulator's one-second windows forget the setup calls


def measure(client: Client, log: CallLog, endpoint: str, work: Callable[[int], int], count: int) -> Row:
    limit = ENDPOINTS[endpoint].rate_per_second
    sent_before = client.calls[endpoint]
    error = ""
    began = time.perf_counter()
    try:
        failed = sum(client.map(work, range(count)))
    except CallFailed as exc:
        failed, error = -1, str(exc).splitlines()[0]
    wall = time.perf_counter() - began
    sent = client.calls[endpoint] - sent_before
    attempts = log.take(endpoint)
    limited = sum(code == RATE_LIMITED for _, code in attempts)
    peak = peak_per_second([at for at, _ in attempts])
    achieved = sent / wall
    ratio = achieved / limit
    passed = (not error and failed == 0 and limited == 0 and peak <= limit
              and ratio >= MIN_RATIO)
    return Row(endpoint, sent, limit, round(achieved, 1), round(ratio, 3), peak, limited,
               max(failed, 0), round(wall, 2), passed, error)


def print_table(rows: list[Row], seconds: float) -> None:
    print(f"client rate vs documented limit: emulator latency {LATENCY_MS} ms, parallelism "
          f"{DEFAULT_PARALLELISM}, ~{seconds:g} s per endpoint; pass: ratio >= "
          f"{MIN_RATIO:.2f}, peak/1s <= limit, no 60007, no failures")
    header = f"{'endpoint':<20} {'calls':>5} {'limit':>5} {'achieved':>8} {'ratio':>6} " \
             f"{'peak/1s':>7} {'60007':>5} {'failed':>6} {'wall s':>6}  result"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row.endpoint:<20} {row.calls:>5} {row.limit:>5} {row.achieved:>8.1f} {row.ratio:>6.3f} "
              f"{row.peak_1s:>7} {row.rate_limited:>5} {row.failed:>6} {row.seconds:>6.2f}  "
              f"{'PASS' if row.passed else 'FAIL'}{'  ' + row.error if row.error else ''}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="~1 s per endpoint (a smoke check)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    parser.add_argument("--seconds", type=float, default=None,
                        help="seconds of calls per endpoint at its limit (default 3; 1 with --quick)")
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS),
                        help="comma-separated endpoints to measure (default: all)")
    args = parser.parse_args()
    seconds = args.seconds if args.seconds is not None else (1.0 if args.quick else 3.0)
    names = [name.strip() for name in args.endpoints.split(",") if name.strip()]
    unknown = [name for name in names if name not in ENDPOINTS]
    if unknown or not names or seconds <= 0:
        parser.error(f"unknown endpoint(s): {', '.join(unknown)}" if unknown else "nothing to measure")
    calls = {name: max(2, round(ENDPOINTS[name].rate_per_second * seconds)) for name in names}

    log = CallLog()
    client_log = logging.getLogger("chatsync.client")
    client_log.addHandler(log)
    client_log.setLevel(logging.DEBUG)
    rows: list[Row] = []
    with running_emulator("--latency-ms", str(LATENCY_MS), "--rate-limit-scale", "1") as url, \
            Client(Target((url,), "bench"), SigCache(SDKAPPID, "administrator", KEY)) as client:
        api = ChatApi(client)
        set_up(api, calls)
        log.take_all()
        work = workloads(api, calls)
        for name in names:
            rows.append(measure(client, log, name, work[name], calls[name]))
    if args.json:
        print(json.dumps([asdict(row) for row in rows], indent=2))
    else:
        print_table(rows, seconds)
    return 0 if all(row.passed for row in rows) else 1

if __name__ == "__main__":
    sys.exit(main())
