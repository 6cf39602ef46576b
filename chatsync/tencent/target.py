"""Where the API lives: the base URL(s) for an app, from ``CHATSYNC_ENDPOINT``, ``app.endpoint`` or
``app.region`` (in that order of precedence; docs/tencent-api.md §1.2, docs/configuration.md).

A region gives its primary domain and, as a fallback when the primary cannot be reached (DNS
trouble), its backup domain. An explicit endpoint is used alone. ``http://`` is accepted only for
loopback hosts, so a secret-bearing query string never crosses a network in clear text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chatsync.errors import ChatsyncError
from chatsync.model import AppConfig
from chatsync.net import endpoint_problem
from chatsync.tencent.regions import REGIONS

ENDPOINT_ENV = "CHATSYNC_ENDPOINT"


class TargetError(ChatsyncError):
    """The endpoint or region cannot be used."""


@dataclass(frozen=True)
class Target:
    """The base URLs to try, best first, and where they came from (for messages)."""

    urls: tuple[str, ...]
    source: str  # "CHATSYNC_ENDPOINT", "app.endpoint" or "app.region <name>"

    @property
    def url(self) -> str:
        """The primary base URL (what plans and reports show)."""
        return self.urls[0]


def resolve(app: AppConfig, environ: Mapping[str, str]) -> Target:
    """The :class:`Target` for ``app``; raises :class:`TargetError` with what to fix."""
    override = environ.get(ENDPOINT_ENV, "")
    if override:
        return Target((_checked(override, ENDPOINT_ENV),), ENDPOINT_ENV)
    if app.endpoint:
        where = f"{app.location.file}: app.endpoint" if app.location else "app.endpoint"
        return Target((_checked(app.endpoint, where),), "app.endpoint")
    region = REGIONS.get(app.region)
    if region is None:
        names = ", ".join(REGIONS)
        raise TargetError(f"app.region {app.region!r} is not a known region; use one of: {names}")
    return Target((region.url, f"https://{region.backup}"), f"app.region {region.name}")


def _checked(url: str, where: str) -> str:
    problem = endpoint_problem(url)
    if problem is not None:
        raise TargetError(f"{where}: {problem}")
    return url.rstrip("/")
