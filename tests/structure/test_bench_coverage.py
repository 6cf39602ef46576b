"""``make bench`` measures every API the client knows: an endpoint added to the fact tables
without a workload in bench/client_rate.py would stop the whole run (as the group APIs once did)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

from chatsync.facts.endpoints import ENDPOINTS

BENCH = Path(__file__).resolve().parents[2] / "bench"


def bench_module(name: str) -> ModuleType:
    sys.path.insert(0, str(BENCH))  # the benchmarks import their helpers (_emulator) by name
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


def test_client_rate_has_a_workload_for_every_endpoint() -> None:
    client_rate = bench_module("client_rate")
    api = SimpleNamespace(client=object())  # the workloads are made, not run
    made = client_rate.workloads(api, {name: 1 for name in ENDPOINTS})
    assert sorted(made) == sorted(ENDPOINTS)
