"""Shared test fixtures: emulators in process and over loopback HTTP, and raw signed calls."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from chatsync.emulator import Emulator
from chatsync.emulator.server import RunningEmulator
from tests.support import ADMIN, SDKAPPID, SECRET, Api, App, Shown, api_for, make_emulator, sign

__all__ = ["ADMIN", "SDKAPPID", "SECRET", "Api", "make_emulator", "sign"]


@pytest.fixture
def emulator() -> Emulator:
    """An in-process emulator with default settings."""
    return make_emulator()


@pytest.fixture
def api(emulator: Emulator) -> Iterator[Api]:
    """Signed calls to ``emulator`` in process (httpx transport, no socket)."""
    api = api_for(emulator)
    yield api
    api.client.close()


@pytest.fixture
def api_with() -> Iterator[Callable[..., Api]]:
    """Factory: signed in-process calls to a fresh emulator made with the given config."""
    apis: list[Api] = []

    def start(**config: Any) -> Api:
        apis.append(api_for(make_emulator(**config)))
        return apis[-1]

    yield start
    for api in apis:
        api.client.close()


@pytest.fixture
def served() -> Iterator[Callable[..., tuple[Emulator, Api]]]:
    """Factory: an emulator served over loopback HTTP, and signed calls to it."""
    running: list[tuple[RunningEmulator, httpx.Client]] = []

    def start(**config: Any) -> tuple[Emulator, Api]:
        emulator = make_emulator(**config)
        server = RunningEmulator(emulator).__enter__()
        client = httpx.Client(base_url=server.url, timeout=10)
        running.append((server, client))
        return emulator, Api(client)

    yield start
    for server, client in running:
        client.close()
        server.stop()


@pytest.fixture
def shown_outputs() -> Shown | None:
    """Where the apps :func:`serve` makes hand each CLI output; tests/apply/conftest.py overrides it
    to check every output for secrets."""
    return None


@pytest.fixture
def serve(shown_outputs: Shown | None) -> Iterator[Callable[..., App]]:
    """Factory: ``serve(key=SECRET, **emulator_config)`` -> a fresh :class:`~tests.support.App`
    served on loopback (stopped after the test)."""
    started: list[App] = []

    def start(**config: Any) -> App:
        started.append(App.start(shown=shown_outputs, **config))
        return started[-1]

    yield start
    for app in started:
        app.close()
