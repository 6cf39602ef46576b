"""Shared pieces for the planning-core tests: desired/live builders and clients on an in-process emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx
import pytest

from chatsync.domain.live import LiveState
from chatsync.domain.model import PROFILE_FIELDS, AppConfig, DesiredState, Kind, Principal
from chatsync.emulator import Emulator
from chatsync.emulator.transport import EmulatorTransport
from chatsync.tencent.api import ChatApi
from chatsync.tencent.client import Client
from chatsync.tencent.credentials import SigCache
from tests.client.conftest import FAST, LOCAL, UNPACED
from tests.support import ADMIN, SDKAPPID, SECRET

ENDPOINT = "http://127.0.0.1:8080"
WRITE_ENDPOINTS = ("create_robot", "delete_robot", "account_import", "multiaccount_import",
                   "account_delete", "kick", "portrait_set")


def desired(
    bots: Mapping[str, Mapping[str, Any] | None] | None = None,
    accounts: Mapping[str, Mapping[str, Any] | None] | None = None,
    **app: Any,
) -> DesiredState:
    """A DesiredState from plain dicts: ``{"id": {"nick": "N", "state": "absent"}}``; None = no fields."""
    app.setdefault("sdkappid", SDKAPPID)

    def build(kind: Kind, items: Mapping[str, Mapping[str, Any] | None] | None) -> dict[str, Principal]:
        result = {}
        for user_id, spec in (items or {}).items():
            spec = dict(spec or {})
            state = spec.pop("state", "present")
            result[user_id] = Principal(kind, user_id, spec, state)
        return result

    return DesiredState(AppConfig(**app), build("bot", bots), build("account", accounts))


def live(
    bots: Mapping[str, Mapping[str, str] | None] | None = None,
    accounts: Mapping[str, Mapping[str, str] | None] | None = None,
    *,
    extra_bots: tuple[str, ...] = (),
) -> LiveState:
    """A LiveState: ``bots`` are active (listed) with the fields read; ``extra_bots`` are listed only."""
    state = LiveState(listed={"bot": [*(bots or {}), *extra_bots]})
    kinds: tuple[tuple[Kind, Mapping[str, Mapping[str, str] | None] | None], ...] = (
        ("bot", bots), ("account", accounts))
    for kind, items in kinds:
        for user_id, fields in (items or {}).items():
            state.principals[f"{kind}.{user_id}"] = Principal(kind, user_id, dict(fields or {}))
    return state


def seed(emulator: Emulator, *, bots: Mapping[str, Mapping[str, str] | None] | None = None,
         accounts: Mapping[str, Mapping[str, str] | None] | None = None) -> None:
    """Put bots and accounts straight into the emulator's store (no calls, nothing counted)."""
    store = emulator.store
    with store.lock:
        for kind, items in (("bot", bots), ("account", accounts)):
            for user_id, fields in (items or {}).items():
                store.accounts[user_id] = {PROFILE_FIELDS[k]: v for k, v in (fields or {}).items()}
                if kind == "bot":
                    store.bots[user_id] = True


def writes(emulator: Emulator) -> dict[str, int]:
    """Calls the emulator answered on endpoints that change something (should stay empty for plan)."""
    return {name: emulator.calls[name] for name in WRITE_ENDPOINTS if emulator.calls.get(name)}


@pytest.fixture
def make_api() -> Iterator[Callable[..., ChatApi]]:
    """Factory: a ChatApi over a Client for an emulator (in process) or any transport, closed after."""
    clients: list[Client] = []

    def make(emulator: Emulator | None = None, *, transport: httpx.BaseTransport | None = None,
             key: str = SECRET, **options: Any) -> ChatApi:
        if transport is None:
            assert emulator is not None
            transport = EmulatorTransport(emulator)
        options.setdefault("retry", FAST)
        options.setdefault("rates", UNPACED)
        client = Client(LOCAL, SigCache(SDKAPPID, ADMIN, key), transport=transport, **options)
        clients.append(client)
        return ChatApi(client)

    yield make
    for client in clients:
        client.close()
