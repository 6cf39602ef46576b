"""Chatbots (``@RBT#...``): listed by ``get_all_robots``, at most 20 an app (docs/tencent-api.md §2-§3)."""

from __future__ import annotations

from chatsync.domain.kinds.base import Kind, id_text_problem
from chatsync.facts import limits
from chatsync.text.safe import quote


def id_problem(user_id: str) -> str | None:
    """Why ``user_id`` cannot be a bot's id, or None."""
    problem = id_text_problem("bot", user_id)
    if problem is not None:
        return problem
    if not limits.is_bot_id(user_id):
        rest = user_id.lstrip("@")
        case = ""
        if rest[:4].upper() == limits.BOT_PREFIX[1:]:  # @rbt#x: the prefix in other case
            rest = rest[4:]
            case = " in capitals"
        suggestion = limits.BOT_PREFIX + (rest or "support")
        return (
            f"bot id {quote(user_id)} must start with {limits.BOT_PREFIX}{case}; write "
            f"{quote(suggestion)} (quoted), or move it under accounts:"
        )
    if user_id == limits.BOT_PREFIX:
        return (
            f"bot id {quote(user_id)} has no name after {limits.BOT_PREFIX}; write e.g. "
            f"{quote(limits.BOT_PREFIX + 'support')}"
        )
    return None


KIND = Kind(
    name="bot",
    section="bots",
    description="Chatbots, by UserID (must start with @RBT#; quote it). A bot left out is not touched "
                "unless app.prune_bots is true.",
    id_schema={"description": "A bot UserID: @RBT# followed by a name, at most 32 bytes.",
               "type": "string", "minLength": 1, "maxLength": limits.USER_ID_MAX_BYTES,
               "pattern": "^@RBT#."},
    id_problem=id_problem,
    delete_note="invalidated",
    delete_rank=2,  # after the accounts: a permanent delete is read first
    create_call="create_robot",
    delete_call="delete_robot",
    listed=True,
    prune_setting="prune_bots",
    max_present=limits.MAX_BOTS,
    quote_ids=True,
    plan_keeps_ids=True,  # to count them (at most 20) and to see one appear before an apply
    export_all=True,
)
