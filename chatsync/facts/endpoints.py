"""The REST endpoints chatsync uses, with their paths and documented rate limits (§4-§7, §10.19).

Both the client (to pace itself) and the emulator (to route and to rate-limit) read this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatsync.facts import groups


@dataclass(frozen=True)
class Endpoint:
    """One API: ``v4/<service>/<command>``, its documented calls per second, and its error family."""

    service: str
    command: str
    rate_per_second: int
    family: str  # "robot", "account", "profile" or "group": decides which private codes it uses

    @property
    def path(self) -> str:
        """The URL path, e.g. ``/v4/im_open_login_svc/account_import``."""
        return f"/v4/{self.service}/{self.command}"

    @property
    def name(self) -> str:
        """The short name used in logs, configs and benchmarks, e.g. ``account_import``."""
        return self.command


_ROBOT = "openim_robot_http_svc"
_LOGIN = "im_open_login_svc"
_PROFILE = "profile"

ENDPOINTS: dict[str, Endpoint] = {
    e.command: e
    for e in (
        Endpoint(_ROBOT, "create_robot", 200, "robot"),
        Endpoint(_ROBOT, "delete_robot", 200, "robot"),
        Endpoint(_ROBOT, "get_all_robots", 200, "robot"),
        Endpoint(_LOGIN, "account_import", 200, "account"),
        Endpoint(_LOGIN, "multiaccount_import", 100, "account"),
        Endpoint(_LOGIN, "account_check", 100, "account"),
        Endpoint(_LOGIN, "account_delete", 100, "account"),
        Endpoint(_LOGIN, "kick", 200, "account"),
        Endpoint(_PROFILE, "portrait_get", 200, "profile"),
        Endpoint(_PROFILE, "portrait_set", 200, "profile"),
        *(Endpoint(groups.SERVICE, api.name, api.rate_per_second, "group")
          for api in groups.GROUP_APIS.values()),
    )
}

BY_PATH: dict[str, Endpoint] = {e.path: e for e in ENDPOINTS.values()}
