"""Where the API lives: the base URL(s) for an app, from ``CHATSYNC_ENDPOINT``, ``app.endpoint`` or
``app.region`` (in that order of precedence; docs/tencent-api.md §1.2, docs/configuration.md).

A region gives its primary domain and, as a fallback when the primary cannot be reached (DNS
trouble), its backup domain. An explicit endpoint is used alone. ``http://`` is accepted only for
loopback hosts, so a secret-bearing query string never crosses a network in clear text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from chatsync.errors import TargetError
from chatsync.facts.network import endpoint_problem
from chatsync.facts.regions import REGIONS

ENDPOINT_ENV = "CHATSYNC_ENDPOINT"


class Place(Protocol):
    """Where a setting was written (a config file's name)."""

    @property
    def file(self) -> str: ...


class AppSettings(Protocol):
    """What the client needs of an app's settings (the config's ``app:`` section,
    :class:`chatsync.domain.model.AppConfig`, has these), so that the client knows nothing of configs."""

    @property
    def sdkappid(self) -> int: ...
    @property
    def region(self) -> str: ...
    @property
    def endpoint(self) -> str | None: ...
    @property
    def admin(self) -> str: ...
    @property
    def secret_key_env(self) -> str: ...
    @property
    def rates(self) -> Mapping[str, int]: ...
    @property
    def location(self) -> Place | None: ...


@dataclass(frozen=True)
class Target:
    """The base URLs to try, best first, and where they came from (for messages)."""

    urls: tuple[str, ...]
    source: str  # "CHATSYNC_ENDPOINT", "app.endpoint" or "app.region <name>"

    @property
    def url(self) -> str:
        """The primary base URL (what plans and reports show)."""
        return self.urls[0]


def resolve(app: AppSettings, environ: Mapping[str, str]) -> Target:
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
