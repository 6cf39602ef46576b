"""User accounts: checked one by one (the API cannot list them), imported 100 a call, and deleted
for good (docs/tencent-api.md §4-§5)."""

from __future__ import annotations

from chatsync.domain.kinds.base import Kind, id_text_problem
from chatsync.facts import limits
from chatsync.text.safe import quote


def id_problem(user_id: str) -> str | None:
    """Why ``user_id`` cannot be an account's id, or None."""
    problem = id_text_problem("account", user_id)
    if problem is not None:
        return problem
    prefix = limits.reserved_prefix(user_id)
    if prefix == limits.BOT_PREFIX:
        return f"{quote(user_id)} is a bot id ({prefix}); move it under bots:"
    if prefix is not None:
        return (
            f"account id {quote(user_id)} starts with the reserved prefix {prefix} (the server's "
            "own ids use it); choose another id"
        )
    return None


def export_problem(user_id: str) -> str | None:
    """Why ``user_id`` cannot be exported as an account, or None."""
    problem = limits.user_id_problem(user_id)
    if problem is not None:
        return f"is not a valid UserID: it {problem}"
    if limits.is_bot_id(user_id):
        return "is a bot id (every live bot is exported anyway)"
    prefix = limits.reserved_prefix(user_id)
    if prefix is not None:
        return f"starts with the reserved prefix {prefix}"
    return None


KIND = Kind(
    name="account",
    section="accounts",
    description="Ordinary accounts, by UserID. An account left out is never touched.",
    id_schema={"description": "An account UserID: 1 to 32 bytes, not starting with @RBT#, @TLS#, @TIM# or "
                              "@TGS#.",
               "type": "string", "minLength": 1, "maxLength": limits.USER_ID_MAX_BYTES,
               "not": {"pattern": "^@(RBT|TLS|TIM|TGS)#"}},
    id_problem=id_problem,
    delete_note="permanent: on paid editions the id cannot be re-imported for 3 months",
    delete_rank=1,
    create_call="multiaccount_import",
    delete_call="account_delete",
    update_call="multiaccount_import",
    delete_warning="Deleting an account is permanent: on paid editions its id cannot be re-imported "
                   "for 3 months.",
    export_problem=export_problem,
)
