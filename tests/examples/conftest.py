"""Emulators for the example's two apps (dev and prod, with the SDKAppIDs their configs declare)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from chatsync.config import load
from chatsync.emulator import Emulator, EmulatorConfig
from chatsync.emulator.server import RunningEmulator
from chatsync.tencent.api import ChatApi
from chatsync.tencent.client import Client
from chatsync.tencent.credentials import SigCache
from chatsync.tencent.target import Target
from tests.apply.conftest import FAST, UNPACED
from tests.examples.workflows import GITOPS
from tests.support import ADMIN, SECRET

ENVS = ("dev", "prod")
#: Each environment's key: different, so a leg given the other's key would fail.
KEYS = {"dev": SECRET, "prod": SECRET[::-1]}


def assert_no_key(*texts: str) -> None:
    """No key appears in any of ``texts`` (outputs of the steps, files they left)."""
    for text in texts:
        assert all(key not in text for key in KEYS.values()), "a secret key was shown"


@dataclass
class App:
    """One environment's served emulator and a client to seed and read it."""

    env: str
    url: str
    api: ChatApi
    server: RunningEmulator

    def nick(self, user_id: str) -> str:
        return self.api.portrait_get([user_id])[user_id].data.get("nick", "")

    def exists(self, user_id: str) -> bool:
        return self.api.account_check([user_id])[user_id].data.get("AccountStatus") == "Imported"

    def snapshot(self) -> str:
        with self.server.emulator.store.lock:
            return json.dumps(self.server.emulator.store.snapshot(), sort_keys=True)


@pytest.fixture
def apps() -> Iterator[dict[str, App]]:
    """``{"dev": App, "prod": App}``: each app's emulator, keyed with ``KEYS[env]``."""
    started: dict[str, App] = {}
    clients: list[Client] = []
    try:
        for env in ENVS:
            sdkappid = load([str(GITOPS / "bots"), str(GITOPS / "envs" / env)]).app.sdkappid
            emulator = Emulator(EmulatorConfig(secret_key=KEYS[env], sdkappid=sdkappid,
                                               rate_limit_scale=float("inf")))
            server = RunningEmulator(emulator).__enter__()
            client = Client(Target((server.url,), "test"), SigCache(sdkappid, ADMIN, KEYS[env]),
                            rates=UNPACED, retry=FAST)
            clients.append(client)
            started[env] = App(env, server.url, ChatApi(client), server)
        yield started
    finally:
        for client in clients:
            client.close()
        for app in started.values():
            app.server.stop()
