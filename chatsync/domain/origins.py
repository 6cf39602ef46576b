"""Where the parts of a desired state were written, beyond each object's own declaration: the file
each app setting came from (an environment's ``app:`` or the ``shared:`` settings), and the
overrides (``overrides:``) that changed objects other files declare. The effective config
(``chatsync validate --show``) prints them; planning needs none of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chatsync.errors import Location


@dataclass(frozen=True)
class Override:
    """One entry of ``overrides:``: where its id is written, and each field it replaces (``state``
    included) with the place of the value it replaces it with."""

    location: Location
    fields: Mapping[str, Location] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))


@dataclass(frozen=True)
class Origins:
    """``settings``: each app setting written in a file -> the places its value came from (two for
    one both the shared settings and the environment set). ``overrides``: an object's address
    (``bot.@RBT#support``) -> the override that changed it."""

    settings: Mapping[str, tuple[Location, ...]] = field(default_factory=dict)
    overrides: Mapping[str, Override] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))
