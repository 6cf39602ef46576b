"""Emulators for the example's two apps (dev and prod, with the SDKAppIDs their configs declare)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chatsync.config import load
from tests.examples.workflows import GITOPS
from tests.support import SECRET, App

ENVS = ("dev", "prod")
#: Each environment's key: different, so a leg given the other's key would fail.
KEYS = {"dev": SECRET, "prod": SECRET[::-1]}


def assert_no_key(*texts: str) -> None:
    """No key appears in any of ``texts`` (outputs of the steps, files they left)."""
    for text in texts:
        assert all(key not in text for key in KEYS.values()), "a secret key was shown"


@pytest.fixture
def apps(serve: Callable[..., App]) -> dict[str, App]:
    """``{"dev": App, "prod": App}``: each app's emulator (tests/support.py's :class:`App`, from the
    shared ``serve`` fixture) with the SDKAppID its config declares, keyed with ``KEYS[env]``."""
    started: dict[str, App] = {}
    for env in ENVS:
        sdkappid = load([str(GITOPS / "bots"), str(GITOPS / "envs" / env)]).app.sdkappid
        started[env] = serve(key=KEYS[env], sdkappid=sdkappid)
    return started
