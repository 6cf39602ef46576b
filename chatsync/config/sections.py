"""The sections of a config file, in one place: those that declare objects (one per kind), and the
others, in the order ``chatsync fmt`` and the effective config write them.

Every part of the config code that walks the kinds' sections (overlays, the effective config,
``fmt``, export) reads :data:`KIND_SECTIONS`, a view of the registry of kinds
(:mod:`chatsync.domain.kinds`), so a new kind needs nothing here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Set

from chatsync.domain.kinds import BY_SECTION, SECTIONS


class _KindSections(Mapping[str, str]):
    """Each section that declares objects -> the kind it declares, in order: a view of the registry
    of kinds, so a kind registered later is in it."""

    def __getitem__(self, section: str) -> str:
        return BY_SECTION[section].name

    def __iter__(self) -> Iterator[str]:
        return iter(SECTIONS)

    def __len__(self) -> int:
        return len(SECTIONS)

    def __contains__(self, section: object) -> bool:
        return section in BY_SECTION


class _QuotedIdSections(Set[str]):
    """The sections whose kind writes its ids quoted (a view of the registry, as above)."""

    def __contains__(self, section: object) -> bool:
        kind = BY_SECTION.get(section) if isinstance(section, str) else None
        return kind is not None and kind.quote_ids

    def __iter__(self) -> Iterator[str]:
        return (section for section in SECTIONS if BY_SECTION[section].quote_ids)

    def __len__(self) -> int:
        return sum(1 for _ in self)


#: Each section that declares objects, and the kind of object it declares, in the order written.
KIND_SECTIONS: Mapping[str, str] = _KindSections()
#: The sections whose ids are written quoted (they start with @ and hold #, which YAML reads
#: specially unquoted).
QUOTED_ID_SECTIONS: Set[str] = _QuotedIdSections()
#: The section of app settings every environment shares (docs/environments.md).
SHARED = "shared"
#: The section of per-environment changes to objects declared in other files.
OVERRIDES = "overrides"

