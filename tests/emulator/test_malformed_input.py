"""Malformed requests get the gateway's own codes, never 70500 (the emulator's own faults only)."""

from __future__ import annotations

from typing import Any

import pytest

from chatsync.emulator import Emulator
from chatsync.facts.endpoints import ENDPOINTS
from tests.support import Api, call

DEEP = 5_000


@pytest.mark.parametrize("raw", [
    b"[" * DEEP + b"]" * DEEP,
    b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    b'{"UserID": "alice", "Nick": ' + b"[" * DEEP + b"]" * DEEP + b"}",
    b'{"UserID": "alice", "Nick": ' + b"[" * DEEP,  # deep and unfinished
])
@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_a_body_nested_too_deeply_is_60003_on_every_endpoint(api: Api, name: str, raw: bytes) -> None:
    call(api, name, raw=raw, code=60003)
    call(api, "get_all_robots", {})  # and the emulator keeps serving


def test_nesting_the_parser_handles_reaches_the_api_and_its_own_code(api: Api) -> None:
    call(api, "account_import", raw=b'{"UserID": "alice", "Nick": ' + b"[" * 200 + b"]" * 200 + b"}",
         code=70402)


@pytest.mark.parametrize("raw", [
    b'{"UserID": "alice", "Nick": NaN}',
    b'{"UserID": "alice", "Nick": Infinity}',
    b'{"UserID": "alice", "Nick": -Infinity}',
    b'{"UserID": "alice", "Nick": ' + b"9" * DEEP + b"}",  # more digits than Python converts
])
def test_bodies_that_are_not_json_or_cannot_be_parsed_are_60003(api: Api, raw: bytes) -> None:
    call(api, "account_import", raw=raw, code=60003)


@pytest.mark.parametrize("query", [
    {"random": "9" * DEEP}, {"random": "1" + "0" * 4999}, {"sdkappid": "1" * DEEP},
    {"random": "4294967296"}, {"sdkappid": "4294967296"}, {"random": "-1"}, {"random": "+1"},
    {"random": "1_000"}, {"random": " 1"}, {"random": "0x10"}, {"random": ""},
])
def test_malformed_query_numbers_are_60025(api: Api, query: dict[str, Any]) -> None:
    call(api, "get_all_robots", {}, code=60025, **query)


@pytest.mark.parametrize("random", ["0", "4294967295", "00000000000000000000042"])
def test_query_numbers_in_range_are_accepted(api: Api, random: str) -> None:
    call(api, "get_all_robots", {}, random=random)


def test_a_target_that_is_not_a_url_is_60002(emulator: Emulator, api: Api) -> None:
    target = f"//[broken{ENDPOINTS['get_all_robots'].path}?{api.query()}"
    assert emulator.handle("POST", target, b"{}").json()["ErrorCode"] == 60002


@pytest.mark.parametrize("raw", [
    b'{"UserID": {"a": ' * 100 + b"1" + b"}" * 100 + b"}", b'{"UserID": 1e999}', b'{"UserID": -0}',
    b'{"UserID": "x", "Identifier": [1, 2]}', b'{"UserID": "\\u0000"}', b'{"": ""}', b"1e999",
    b'"\\ud83d\\ude00"', b'{"Accounts": null, "AccountList": null}', b'{"CheckItem": [null, 1, []]}',
    b'{"DeleteItem": [{"UserID": "' + b"x" * 10_000 + b'"}]}', b'{"To_Account": ["a"], "TagList": [[]]}',
])
@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_odd_but_parseable_bodies_never_answer_70500(api: Api, name: str, raw: bytes) -> None:
    response = api.request(name, raw=raw)
    assert response.status_code == 200
    assert response.json()["ErrorCode"] != 70500
