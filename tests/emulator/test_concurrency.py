"""Many concurrent clients over loopback HTTP lose no update, in memory and on disk."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from chatsync.emulator import Emulator
from tests.support import Api, make_emulator

THREADS, PER_THREAD = 8, 25


def test_concurrent_clients_lose_no_update(served: Callable[..., tuple[Emulator, Api]],
                                           tmp_path: Path) -> None:
    path = tmp_path / "app.json"
    emulator, first = served(state_path=path)
    base_url = str(first.client.base_url)
    first("account_import", {"UserID": "shared"})

    def worker(n: int) -> list[int]:
        codes = []
        with httpx.Client(base_url=base_url, timeout=10) as client:
            api = Api(client)
            for i in range(PER_THREAD):
                user = f"t{n}-{i}"
                codes.append(api("account_import", {"UserID": user})["ErrorCode"])
                codes.append(api("portrait_set", {"From_Account": user, "ProfileItem": [
                    {"Tag": "Tag_Profile_IM_Nick", "Value": f"nick {n}-{i}"}]})["ErrorCode"])
                # every thread also writes its own tag of one shared account
                codes.append(api("portrait_set", {"From_Account": "shared", "ProfileItem": [
                    {"Tag": "Tag_Profile_IM_Level", "Value": n * 1000 + i}]})["ErrorCode"])
        return codes

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(worker, range(THREADS)))
    assert all(code == 0 for codes in results for code in codes)

    expected = {f"t{n}-{i}": {"Tag_Profile_IM_Nick": f"nick {n}-{i}"}
                for n in range(THREADS) for i in range(PER_THREAD)}
    for store in (emulator.store, make_emulator(state_path=path).store):
        got = {k: v for k, v in store.accounts.items() if k.startswith("t")}
        assert got == expected
        assert store.accounts["shared"]["Tag_Profile_IM_Level"] % 1000 == PER_THREAD - 1
