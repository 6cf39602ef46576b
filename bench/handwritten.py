"""The job of ``bench/commands.py``'s apply, done the way a hand-written script would do it.

16 threads over one ``httpx.Client``, no pacing; a call refused for its rate (60007) is sent again
at once; any other failure stops the script. The job: import the accounts (``multiaccount_import``,
100 a call, with their nick), then one ``portrait_set`` per account for its self_signature. No plan,
no check of what exists, no report: it only does the calls. Prints one JSON line::

    {"wall_s": ..., "calls": {"multiaccount_import": ..., "portrait_set": ...}, "refused": ...}

    python bench/handwritten.py URL SDKAPPID PREFIX COUNT [THREADS]   (the key in CHATSYNC_SECRET_KEY)

``THREADS`` (default 16) also sizes the connection pool: ``bench/commands.py`` runs it with
chatsync's ``--parallelism`` to weigh chatsync's CPU per call against a bare httpx client's.

The UserSig comes from chatsync's signer (a script would use Tencent's tls-sig-api package).
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from chatsync.tencent.usersig import make

THREADS = 16
ADMIN = "administrator"
RATE_LIMITED = 60007


class Script:
    """The script's state: one HTTP client, one UserSig, and counts."""

    def __init__(self, url: str, sdkappid: int, key: str, threads: int = THREADS) -> None:
        self.url = url.rstrip("/")
        self.sdkappid = sdkappid
        self.sig = make(sdkappid, key, ADMIN)
        self.http = httpx.Client(timeout=30.0, limits=httpx.Limits(max_connections=threads))
        self.lock = threading.Lock()
        self.calls: dict[str, int] = {}
        self.refused = 0

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        name = path.rsplit("/", 1)[-1]
        while True:
            params: dict[str, str | int] = {
                "sdkappid": self.sdkappid, "identifier": ADMIN, "usersig": self.sig,
                "random": random.randrange(2**32), "contenttype": "json"}
            answer: dict[str, Any] = self.http.post(f"{self.url}/{path}", params=params, json=body).json()
            with self.lock:
                self.calls[name] = self.calls.get(name, 0) + 1
                if answer.get("ErrorCode") == RATE_LIMITED:
                    self.refused += 1
            if answer.get("ErrorCode") == RATE_LIMITED:
                continue
            if answer.get("ErrorCode") != 0:
                raise SystemExit(f"{name} failed: {answer}")
            return answer


def main() -> int:
    url, sdkappid, prefix, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    threads = int(sys.argv[5]) if len(sys.argv) > 5 else THREADS
    script = Script(url, sdkappid, os.environ["CHATSYNC_SECRET_KEY"], threads)
    users = [f"{prefix}-{i:05d}" for i in range(count)]
    began = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        batches = [users[i:i + 100] for i in range(0, count, 100)]
        list(pool.map(lambda batch: script.post("v4/im_open_login_svc/multiaccount_import", {
            "AccountList": [{"UserID": u, "Nick": f"User {u[-5:]}"} for u in batch]}), batches))
        list(pool.map(lambda u: script.post("v4/profile/portrait_set", {
            "From_Account": u,
            "ProfileItem": [{"Tag": "Tag_Profile_IM_SelfSignature", "Value": f"Signature of {u}"}]}), users))
    wall = time.perf_counter() - began
    print(json.dumps({"wall_s": round(wall, 3), "calls": script.calls, "refused": script.refused}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
