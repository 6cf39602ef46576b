"""Connection pools of the httpx engine (https through a proxy): --parallelism is spread over small
pools, one CA bundle load for all of them, and each in-flight slot belongs to one pool (so no pool
has more requests than connections). A direct client has one connection per slot (wire.py)."""

from __future__ import annotations

import ssl
from collections import Counter
from collections.abc import Mapping
from typing import Any

import httpx
import pytest

from chatsync.tencent import client as client_module
from chatsync.tencent.client import SHARD_CONNECTIONS, Client, _shard_sizes
from chatsync.tencent.credentials import SigCache
from chatsync.tencent.target import Target
from chatsync.tencent.wire import Engine
from tests.client.conftest import LOCAL, envelope, mock
from tests.support import ADMIN, SDKAPPID, SECRET


@pytest.mark.parametrize("parallelism", [1, 3, 4, 5, 8, 16, 17, 64, 256])
def test_pools_split_the_parallelism_evenly_and_none_is_larger_than_the_limit(parallelism: int) -> None:
    sizes = _shard_sizes(parallelism)
    assert sum(sizes) == parallelism
    assert max(sizes) <= SHARD_CONNECTIONS and max(sizes) - min(sizes) <= 1
    assert len(sizes) == -(-parallelism // SHARD_CONNECTIONS)


def test_each_pool_gets_its_share_of_the_slots_and_one_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[tuple[int, Any]] = []

    def fake_transport(target: Target, environ: Mapping[str, str], size: int, *,
                       tls: ssl.SSLContext | None = None) -> httpx.BaseTransport:
        made.append((size, tls))
        return mock(lambda request: envelope(0))

    monkeypatch.setattr(client_module, "http_transport", fake_transport)
    proxied = Target(("https://adminapisgp.im.qcloud.com",), "app.endpoint")
    client = Client(proxied, SigCache(SDKAPPID, ADMIN, SECRET), parallelism=18,
                    environ={"HTTPS_PROXY": "http://127.0.0.1:3128"})
    try:
        sizes = _shard_sizes(18)
        assert [size for size, _ in made] == sizes and len(sizes) > 1
        contexts = {id(tls) for _, tls in made}
        assert len(contexts) == 1 and isinstance(made[0][1], ssl.SSLContext)  # made once, shared
        lanes = [client._slots.get() for _ in range(18)]
        index = {id(lane): number for number, lane in enumerate(dict.fromkeys(lanes))}
        slots = [index[id(lane)] for lane in lanes]
        assert Counter(slots) == dict(enumerate(sizes))
        assert slots[:len(sizes)] == list(range(len(sizes)))  # interleaved: a few calls use every pool
        for lane in lanes:
            client._slots.put(lane)
        assert client.call("portrait_get", {}).answer["ErrorCode"] == 0
    finally:
        client.close()


def test_a_direct_client_sends_through_the_wire_engine_and_makes_no_httpx_pool(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_transport(*args: Any, **kwargs: Any) -> httpx.BaseTransport:
        raise AssertionError("a direct client makes no httpx transport")

    monkeypatch.setattr(client_module, "http_transport", no_transport)
    client = Client(LOCAL, SigCache(SDKAPPID, ADMIN, SECRET), parallelism=5,
                    environ={"HTTPS_PROXY": "http://127.0.0.1:3128"})  # plain http: never proxied
    try:
        lanes = [client._slots.get() for _ in range(5)]
        assert all(lane is client._wire for lane in lanes) and isinstance(client._wire, Engine)
        for lane in lanes:
            client._slots.put(lane)
    finally:
        client.close()
