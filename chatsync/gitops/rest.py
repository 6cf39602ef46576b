"""A forge's REST API (GitHub's or GitLab's) over httpx: JSON in and out, lists page by page.

Answers are untrusted: a JSON answer is returned as parsed, and callers check the shape of what
they use; a list is followed only through ``Link: rel="next"`` URLs on the API's own origin (a
hostile answer cannot send the token elsewhere), and for at most :data:`MAX_PAGES` pages. The token
travels in ``Authorization``, which httpx drops on a redirect to another origin. No message ever
holds the token: errors name the method, the path and the HTTP status, with the server's message
clipped and made safe.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from chatsync.errors import ForgeError
from chatsync.text.safe import server_text

MAX_PAGES = 100
#: Statuses worth a retry (a rate limit, a gateway hiccup), and how many tries in all.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
TRIES = 3
MAX_BODY = 64 * 1024 * 1024


class Rest:
    """One forge API at ``base_url`` with ``token``; ``forge`` names it in messages."""

    def __init__(self, base_url: str, token: str, *, forge: str, transport: httpx.BaseTransport | None = None,
                 headers: Mapping[str, str] | None = None, backoff: float = 1.0) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ForgeError(f"{forge} API URL {server_text(base_url, 200)!r} is not an http(s) URL")
        if not token:
            raise ForgeError(f"no {forge} token: pass it to the step (it is never printed)")
        self.forge = forge
        self._token = token
        self.base = httpx.URL(base_url.rstrip("/") + "/")
        self.backoff = backoff
        self._client = httpx.Client(
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json",
                     "User-Agent": "chatsync-gitops", **(headers or {})},
            timeout=30.0, follow_redirects=True, transport=transport)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Rest:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def url(self, path: str) -> httpx.URL:
        """``path`` under the API's base URL (``path`` never starts a new origin)."""
        return self.base.join(path.lstrip("/"))

    def call(self, method: str, path: str, *, json: Any = None,
             params: Mapping[str, Any] | None = None) -> Any:
        """``method path``'s JSON answer (None for an empty one)."""
        response = self._send(method, self.url(path), path, json=json, params=params)
        return self._json(response, method, path)

    def raw(self, path: str, params: Mapping[str, Any] | None = None) -> bytes:
        """The bytes ``GET path`` answers (at most :data:`MAX_BODY`)."""
        return self._send("GET", self.url(path), path, params=params).content

    def pages(self, path: str, params: Mapping[str, Any] | None = None, *,
              items: str | None = None) -> Iterator[dict[str, Any]]:
        """Every object of a paged list, page after page; ``items`` names the key of the list when
        the answer is an object (GitHub's ``{"workflow_runs": [...]}``)."""
        url: httpx.URL | None = self.url(path)
        query: Mapping[str, Any] | None = {"per_page": 100, **(params or {})}
        for _ in range(MAX_PAGES):
            if url is None:
                return
            response = self._send("GET", url, path, params=query)
            answer = self._json(response, "GET", path)
            if items is not None:
                answer = answer.get(items) if isinstance(answer, dict) else None
            if not isinstance(answer, list):
                raise ForgeError(f"{self.forge}: GET {path} answered no list; nothing was changed")
            yield from (item for item in answer if isinstance(item, dict))
            url, query = self._next(response), None  # the next URL carries its own query
        raise ForgeError(f"{self.forge}: GET {path} has more than {MAX_PAGES} pages; giving up")

    def _next(self, response: httpx.Response) -> httpx.URL | None:
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        url = response.url.join(link)
        if (url.scheme, url.host, url.port) != (self.base.scheme, self.base.host, self.base.port):
            raise ForgeError(f"{self.forge}: a next page on another host ({server_text(url.host, 100)}); "
                             "not followed")
        return url

    def _send(self, method: str, url: httpx.URL, path: str, **kwargs: Any) -> httpx.Response:
        for attempt in range(1, TRIES + 1):
            try:
                response = self._client.request(method, url, **kwargs)
            except httpx.HTTPError as exc:
                if attempt < TRIES:
                    time.sleep(self.backoff * attempt)
                    continue
                host = server_text(str(url.host), 100)
                raise ForgeError(f"{self.forge}: {method} {path}: cannot reach {host} ({type(exc).__name__})"
                                 ) from None
            if response.status_code in RETRY_STATUSES and attempt < TRIES:
                time.sleep(self.backoff * attempt)
                continue
            if response.status_code >= 400:
                raise ForgeError(f"{self.forge}: {method} {path}: HTTP {response.status_code}"
                                 f"{_message(response, self._token)}", response.status_code)
            if len(response.content) > MAX_BODY:
                raise ForgeError(f"{self.forge}: {method} {path}: the answer is too large")
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _json(self, response: httpx.Response, method: str, path: str) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ForgeError(f"{self.forge}: {method} {path}: the answer is not JSON") from None


def _message(response: httpx.Response, token: str) -> str:
    """`` (<the server's message>)`` from an error answer, clipped and safe, the token cut out even
    if the server echoes it ('' when none)."""
    try:
        data = response.json()
    except ValueError:
        return ""
    message = data.get("message") if isinstance(data, dict) else None
    if not isinstance(message, str) or not message:
        return ""
    return f" ({server_text(message.replace(token, '[token]'), 200)})"
