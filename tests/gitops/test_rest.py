"""The forge REST client: paging, untrusted answers, retries, and no token in any message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from chatsync.errors import ForgeError
from chatsync.gitops.rest import MAX_PAGES, Rest

TOKEN = "ghs_secret-token-value"


def rest(handler: Callable[[httpx.Request], httpx.Response],
         **kwargs: Any) -> Rest:
    return Rest("https://api.example.test/", TOKEN, forge="GitHub", transport=httpx.MockTransport(handler),
                backoff=0, **kwargs)


def test_pages_follow_next_links_on_the_same_origin() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        page = int(request.url.params.get("page", "1"))
        link = f'<https://api.example.test/items?page={page + 1}>; rel="next"'
        headers = {"link": link} if page < 3 else {}
        return httpx.Response(200, json=[{"n": page}, "not an object"], headers=headers)

    with rest(handler) as api:
        assert [item["n"] for item in api.pages("items")] == [1, 2, 3]


def test_a_next_link_to_another_host_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[], headers={"link": '<https://evil.test/steal>; rel="next"'})

    with rest(handler) as api, pytest.raises(ForgeError, match="another host"):
        list(api.pages("items"))


def test_endless_pages_stop() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[], headers={"link": '<https://api.example.test/items>; rel="next"'})

    with rest(handler) as api, pytest.raises(ForgeError, match=f"more than {MAX_PAGES} pages"):
        list(api.pages("items"))


def test_an_object_answer_is_read_by_its_key_and_checked() -> None:
    answers = iter([{"runs": [{"id": 1}]}, {"runs": "oops"}])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=next(answers))

    with rest(handler) as api:
        assert list(api.pages("a", items="runs")) == [{"id": 1}]
        with pytest.raises(ForgeError, match="answered no list"):
            list(api.pages("a", items="runs"))


def test_transient_statuses_are_retried_then_reported_without_the_token() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, json={"message": f"busy \x1b[2J {TOKEN[:3]}"})

    with rest(handler) as api, pytest.raises(ForgeError) as caught:
        api.call("POST", "issues/1/comments", json={"body": "x"})
    assert len(calls) == 3
    message = str(caught.value)
    assert "HTTP 503" in message and "POST issues/1/comments" in message
    assert TOKEN not in message and "\x1b" not in message


def test_a_client_error_is_not_retried_and_not_json_is_said() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(404 if request.method == "GET" else 200, text="<html>")

    with rest(handler) as api:
        with pytest.raises(ForgeError, match="HTTP 404"):
            api.call("GET", "x")
        with pytest.raises(ForgeError, match="not JSON"):
            api.call("PATCH", "x")
    assert len(calls) == 2


def test_no_token_no_client() -> None:
    with pytest.raises(ForgeError, match="no GitHub token"):
        Rest("https://api.example.test", "", forge="GitHub")
