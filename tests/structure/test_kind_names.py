"""Generic code names no kind: outside each kind's own modules (chatsync/domain/kinds/,
chatsync/engine/kinds/, and the config module of a kind with checks of its own, chatsync/config/groups.py)
no module of chatsync holds a kind's name or section as a string (``"bot"``, ``"groups"``, an address
``"account."``, a section ``"bots:"``), nor reads the conveniences the first two kinds keep
(``DesiredState.bots``, ``.accounts``): the planner, the applier, the renderers, the export and the
schema ask the registry (:mod:`chatsync.domain.kinds`). Read from the source, so no module need run.
The few places that must name a kind are listed below, each with why; the emulator stands beside the
stack and speaks the API's words.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import chatsync
from chatsync.config.kinds import CHECKS
from chatsync.domain.kinds import BUILT_IN

PACKAGE = Path(chatsync.__file__).parent
#: Each kind's own modules, where naming it is the point.
OWN = ("domain/kinds/", "engine/kinds/", "emulator/",
       *(type(checks).__module__.removeprefix("chatsync.").replace(".", "/") + ".py"
         for checks in CHECKS.values()))
#: Modules that must name a kind, and why.
ALLOWED = {
    "domain/model.py": "DesiredState(app, bots, accounts), .bots and .accounts: public conveniences for the "
                       "first two kinds, which nothing generic uses",
    "api.py": "chatsync.export's account_ids and group_ids parameters: its public signature",
    "cli/export.py": "--accounts-file and --groups-file name the kind of the ids they give",
    "facts/endpoints.py": "an endpoint's family (robot, account, profile, group) picks its error codes: a "
                          "word of the API, not a kind",
}
WORDS = frozenset(word for kind in BUILT_IN for word in (kind.name, kind.section))
CONVENIENCES = frozenset({"bots", "accounts", "bot_count", "account_count"})


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if not relative.startswith(OWN) and relative not in OWN:
            yield relative, ast.parse(path.read_text(encoding="utf-8"))


def kind_named(node: ast.AST) -> str | None:
    """The kind's word ``node`` holds (a string that is one, or starts an address or a section with
    one; a convenience read), or None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
        if text in WORDS or any(text.startswith((f"{word}.", f"{word}:")) for word in WORDS):
            return repr(text)
    if isinstance(node, ast.Attribute) and node.attr in CONVENIENCES:
        return f".{node.attr}"
    return None


def found() -> dict[str, list[str]]:
    places: dict[str, list[str]] = {}
    for relative, tree in modules():
        for node in ast.walk(tree):
            shown = kind_named(node)
            if shown is not None:
                line = getattr(node, "lineno", 0)
                places.setdefault(relative, []).append(f"chatsync/{relative}:{line}: {shown}")
    return places


def test_no_generic_module_names_a_kind() -> None:
    places = found()
    stray = [place for relative, hits in places.items() if relative not in ALLOWED for place in hits]
    assert stray == [], "ask the registry (chatsync.domain.kinds) instead:\n" + "\n".join(stray)


def test_every_module_allowed_to_name_a_kind_still_does() -> None:
    assert sorted(set(ALLOWED) - set(found())) == []  # an entry no longer needed: take it out


def test_the_check_sees_a_kind_named() -> None:
    # the control: a literal, an address, a convenience are found; prose that mentions a bot is not
    def named(source: str) -> list[str]:
        return [shown for node in ast.walk(ast.parse(source)) if (shown := kind_named(node)) is not None]

    assert named('kind == "bot"') == ["'bot'"]
    assert named('address = f"account.{user_id}"') == ["'account.'"]
    assert named("desired.bots.get(x)") == [".bots"]
    assert named('"a bot cannot own a group"') == []
    assert "config/groups.py" in OWN
    assert found()["facts/endpoints.py"]  # an allowed module is seen, and allowed
