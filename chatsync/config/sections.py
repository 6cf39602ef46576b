"""The sections of a config file, in one place: those that declare objects (one per kind), and the
others, in the order ``chatsync fmt`` and the effective config write them.

Every part of the config code that walks the kinds' sections (overlays, the effective config,
``fmt``, export) reads :data:`KIND_SECTIONS`, made from the registry of kinds
(:mod:`chatsync.domain.kinds`), so a new kind needs nothing here.
"""

from __future__ import annotations

from chatsync.domain.kinds import KINDS

#: Each section that declares objects, and the kind of object it declares, in the order written.
KIND_SECTIONS: dict[str, str] = {kind.section: kind.name for kind in KINDS}
#: The sections whose ids are written quoted (they start with @ and hold #, which YAML reads
#: specially unquoted).
QUOTED_ID_SECTIONS: frozenset[str] = frozenset(kind.section for kind in KINDS if kind.quote_ids)
#: The section of app settings every environment shares (docs/environments.md).
SHARED = "shared"
#: The section of per-environment changes to objects declared in other files.
OVERRIDES = "overrides"
#: The sections a config file may hold, in the order ``fmt`` puts first-level keys it knows.
TOP_LEVEL: tuple[str, ...] = ("version", "app", SHARED, *KIND_SECTIONS, OVERRIDES)


def kind_of(section: str) -> str:
    """The kind a section declares (``bots`` -> ``bot``); KeyError for another section."""
    return KIND_SECTIONS[section]


def section_of(kind: str) -> str:
    """The section that declares ``kind`` (``bot`` -> ``bots``); KeyError for an unknown kind."""
    for section, each in KIND_SECTIONS.items():
        if each == kind:
            return section
    raise KeyError(kind)
