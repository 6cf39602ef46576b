"""The kinds of object chatsync manages, each defined once, in a module of this package.

A :class:`Kind` says what every layer above needs to treat its objects alike: the word in
addresses and plans (``bot.<id>``), the config section that declares them, the rules of an id,
what a delete means, the calls that create and delete one, whether the API lists them all (so that
undeclared ones can be pruned), and the stage of an apply it is written in. :data:`KINDS` lists the
kinds in the order every output shows them; the config, the planner, the applier, the renderers,
the export and the schema iterate it. The engine's side of each kind, how it is read and written,
is the module of the same name in :mod:`chatsync.engine.kinds`.

Adding a kind: a module here (its :class:`Kind`), one in :mod:`chatsync.engine.kinds` (its reads
and writes), and its line in :data:`KINDS` and in ``chatsync.engine.kinds.ENGINES``.
"""

from __future__ import annotations

from chatsync.domain.kinds import account, bot, group
from chatsync.domain.kinds.base import Kind

#: Every kind, in the order plans, exports and summaries show them.
KINDS: tuple[Kind, ...] = (bot.KIND, account.KIND, group.KIND)
#: Each kind by its name (``bot``) and by its config section (``bots``).
BY_NAME: dict[str, Kind] = {kind.name: kind for kind in KINDS}
BY_SECTION: dict[str, Kind] = {kind.section: kind for kind in KINDS}
#: The config sections that declare objects, in order.
SECTIONS: tuple[str, ...] = tuple(kind.section for kind in KINDS)

__all__ = ["BY_NAME", "BY_SECTION", "KINDS", "SECTIONS", "Kind"]
