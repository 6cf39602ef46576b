"""Another tool sharing the app's quota: ``portrait_set`` at a steady rate until stopped.

Sends one call every ``1 / RATE`` seconds (from a fixed schedule, so late answers do not lower the
rate), from enough threads to keep the schedule through the emulator's latency, each setting the
nick of one account. Stops on SIGTERM and prints one JSON line: ``{"sent": ..., "refused": ...}``.

    python bench/_quota_user.py URL SDKAPPID RATE   (the secret key in CHATSYNC_SECRET_KEY)
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from chatsync.tencent.usersig import make

ADMIN = "administrator"
USER = "quota-user"


def main() -> int:
    url, sdkappid, rate = sys.argv[1].rstrip("/"), int(sys.argv[2]), float(sys.argv[3])
    sig = make(sdkappid, os.environ["CHATSYNC_SECRET_KEY"], ADMIN)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    http = httpx.Client(timeout=30.0, limits=httpx.Limits(max_connections=32))
    counts = {"sent": 0, "refused": 0}
    lock = threading.Lock()
    query: dict[str, str | int] = {"sdkappid": sdkappid, "identifier": ADMIN, "usersig": sig, "random": 1,
                                   "contenttype": "json"}

    def post(path: str, body: dict[str, Any]) -> int:
        code: int = http.post(f"{url}/{path}", params=query, json=body).json().get("ErrorCode", -1)
        return code

    post("v4/im_open_login_svc/account_import", {"UserID": USER})

    def one(n: int) -> None:
        code = post("v4/profile/portrait_set", {
            "From_Account": USER, "ProfileItem": [{"Tag": "Tag_Profile_IM_Nick", "Value": f"n{n}"}]})
        with lock:
            counts["sent"] += 1
            counts["refused"] += code == 60007

    print("ready", flush=True)
    with ThreadPoolExecutor(32) as pool:
        began = time.monotonic()
        n = 0
        while not stop.is_set():
            due = began + n / rate
            delay = due - time.monotonic()
            if delay > 0 and stop.wait(delay):
                break
            pool.submit(one, n)
            n += 1
    print(json.dumps(counts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
