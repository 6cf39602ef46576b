"""Shared wording of plan outputs: symbols, colours, quoted values and the estimate sentence."""

from __future__ import annotations

from chatsync.domain.kinds import BY_NAME
from chatsync.domain.kinds.base import moves
from chatsync.domain.plan import Change, Plan
from chatsync.facts.fields import Value
from chatsync.text.redact import redact_url
from chatsync.text.safe import quoted as safe_quoted
from chatsync.text.safe import visible

SYMBOLS = {"create": "+", "update": "~", "delete": "-"}
COLORS = {"create": "green", "update": "yellow", "delete": "red"}
NO_CHANGES = "No changes. The app matches the configuration."


def quoted(value: str) -> str:
    """A value in double quotes, with quotes, backslashes and every control or bidi character
    escaped (:func:`chatsync.text.safe.quoted`)."""
    return safe_quoted(value)


def target(plan: Plan) -> str:
    """Which app a plan is for, and where: ``app 1400000000 at https://adminapisgp.im.qcloud.com``."""
    return f"app {plan.sdkappid} at {visible(redact_url(plan.endpoint))}"


def header(change: Change) -> str:
    """``bot "@RBT#support"`` / ``account "alice"``."""
    return f"{change.kind} {quoted(change.user_id)}"


def value(shown: Value) -> str:
    """A field value as plans show it: text quoted and escaped (:func:`quoted`), an integer bare."""
    return str(shown) if isinstance(shown, int) else quoted(shown)


def field_lines(change: Change) -> list[tuple[str, str]]:
    """(field, shown value) pairs: ``"new"`` for a create, ``"old" -> "new"`` for an update; an
    integer field shows bare numbers (``3 -> 4``), a custom key shows as ``custom.Key``; a list of
    ids the ids added and removed (:func:`chatsync.domain.kinds.base.moves`), then who joins and
    who leaves."""
    kind = BY_NAME[change.kind]
    after = change.after or {}
    before = change.before or {}
    moved = moves(kind, change.action, change.before, change.after)
    shown: list[tuple[str, str]] = []
    for name, new in after.items():
        if name in kind.settings:
            continue
        if moved is not None and name in moved.added:  # ids added and removed: members: + alice, - mallory
            steps = [f"+ {_id(i)}" for i in moved.added[name]] + [f"- {_id(i)}" for i in moved.removed[name]]
            if steps:
                shown.append((name, ", ".join(steps)))
        elif change.action == "update":
            if before.get(name, "") != new:
                shown.append((name, f"{value(before.get(name, ''))} -> {value(new)}"))
        else:
            shown.append((name, value(new)))
    if moved is not None and moved.joins:
        how = "the group is notified" if moved.notified else "silently"
        shown.append(("joins", f"{', '.join(_id(i) for i in moved.joins)} ({how})"))
    if moved is not None and moved.leaves:
        shown.append(("leaves", f"{', '.join(_id(i) for i in moved.leaves)} (removed: counted as deletes)"))
    return shown


def _id(user_id: str) -> str:
    """An id in a list: bare when plain, quoted when it holds anything else (``"@RBT#support"``)."""
    plain = user_id.replace("_", "").replace("-", "").replace(".", "")
    return user_id if plain.isascii() and plain.isalnum() else quoted(user_id)


def estimate_sentence(plan: Plan) -> str:
    """How many calls the apply makes and how long that takes at the rate limits."""
    calls = plan.estimate.api_calls
    noun = "call" if calls == 1 else "calls"
    seconds = plan.estimate.seconds
    return f"Apply would make {calls} API {noun}, about {seconds:.2f} s at the API's rate limits."


def calls_sentence(plan: Plan) -> str:
    """Which calls the apply makes, per endpoint (``Calls: 1 multiaccount_import, 1 portrait_get.``),
    or '' when it makes none."""
    busy = [f"{count} {name}" for name, count in plan.estimate.calls.items() if count]
    return f"Calls: {', '.join(busy)}." if busy else ""
