"""Export: write the live app as a config (every live bot, the named accounts that exist, and, for
a config that manages groups, every live group with the accounts it names), so ``plan`` on it right
after shows no changes (docs/adopting.md).

By default only the fields that hold a value are written: a field never set (``""``, ``0``, an
enum at its first value: ``unknown``, ``need_confirm``, ``none``) stays unmanaged, so adopting an
app manages what it uses. ``all_fields`` writes every field (integers as integers, enums by their
YAML name; an enum set to a value chatsync does not know is left out, unmanaged), and ``fields``
picks the fields written: standard names and ``custom.Key`` for the keys ``app.custom_fields``
lists. ``with_app=False`` leaves the ``app:`` section out, so the export plans beside the user's
own app file. The text is in the canonical form ``chatsync fmt`` writes
(:mod:`chatsync.config.canonical`).

Named accounts that cannot be exported (not UserIDs at all, bot ids, or not in the app) are not
dropped silently: :class:`Export` lists each with why, and the CLI makes that an error unless
told to skip them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from chatsync.config import canonical
from chatsync.config.sections import section_of
from chatsync.domain.live import Wanted
from chatsync.domain.model import AppConfig, Principal
from chatsync.engine.kinds.group import export_groups
from chatsync.engine.read import read_live
from chatsync.facts import limits
from chatsync.facts.fields import STANDARD, Value, custom_name, field_of
from chatsync.tencent.api import ChatApi

HEADER = ("# Exported by chatsync export from the live app. Every field written is managed; a field left\n"
          "# out is not (chatsync never compares or changes it).\n")


@dataclass(frozen=True)
class Export:
    """The config text, and the named accounts left out of it: (UserID, why)."""

    text: str
    left_out: list[tuple[str, str]] = field(default_factory=list)


def export(api: ChatApi, app: AppConfig, account_ids: Iterable[str], *,
           expected_absent: Iterable[str] = (), fields: Sequence[str] | None = None, all_fields: bool = False,
           with_app: bool = True, groups: bool = False) -> Export:
    """The config: ``app`` as given (unless not ``with_app``), every live bot, and those of
    ``account_ids`` that exist, with ``fields`` (default: every standard field and the custom keys
    ``app.custom_fields`` lists), only those set unless ``all_fields``; with ``groups``, every live
    group and the accounts it names.

    Ids in ``expected_absent`` (declared ``state: absent``) that do not exist are not reported.
    """
    names = tuple(fields) if fields is not None else exportable(app)
    left_out: list[tuple[str, str]] = []
    accounts: list[str] = []
    for user_id in dict.fromkeys(account_ids):
        why = _not_an_account(user_id)
        if why:
            left_out.append((user_id, why))
        else:
            accounts.append(user_id)
    live_groups = export_groups(api.client) if groups else {}
    named = {user_id for body in live_groups.values() for user_id in _people(body)}
    accounts += sorted(u for u in named - set(accounts) if not limits.is_bot_id(u) and u != app.admin
                       and not _not_an_account(u))  # a group's members must be declared
    live = read_live(api, [Wanted("account", a, names) for a in accounts], every_bot=names)
    absent_ok = set(expected_absent)
    left_out += [(a, "does not exist in the app") for a in accounts
                 if live.get("account", a) is None and a not in absent_ok]

    def objects(kind: str, ids: Iterable[str]) -> Iterable[canonical.Written]:
        for user_id in ids:
            found = live.get(kind, user_id)
            if found is not None:
                yield user_id, _profile(found, names, all_fields), "present"

    lines = canonical.document(app if with_app else None, [
        (section_of("bot"), objects("bot", live.bot_ids)),
        (section_of("account"), objects("account", accounts)),
    ])
    text = "".join(f"{line}\n" for line in [*lines, *_group_lines(live_groups)])
    return Export(HEADER + text, left_out)


def _group_lines(groups: dict[str, dict[str, object]]) -> Iterator[str]:
    """The ``groups:`` section: each group's settings and its lists of ids, as the config writes them."""
    if not groups:
        return
    yield "groups:"
    for group_id, body in groups.items():
        yield f"  {canonical.scalar(group_id)}:"
        for key, value in body.items():
            if isinstance(value, (list, tuple)):
                yield f"    {key}: [" + ", ".join(canonical.scalar(v) for v in value) + "]"
            else:
                yield f"    {key}: {canonical.scalar(value)}"


def exportable(app: AppConfig) -> tuple[str, ...]:
    """Every field an export of ``app`` can write: the standard fields, then the custom keys."""
    return (*(f.name for f in STANDARD), *(custom_name(key) for key in app.custom_fields))


def holds_value(name: str, value: Value) -> bool:
    """True when field ``name`` holds a value someone set: not its unset value (``""``, ``0``), and
    for an enum, not its first value (the API's default: ``unknown``, ``need_confirm``, ``none``)."""
    f = field_of(name)
    if value == f.unset:
        return False
    return not (f.kind == "enum" and value == f.names[0])


def _people(body: dict[str, object]) -> list[str]:
    """The owner, admins and members an exported group names."""
    owner = body.get("owner")
    named = [owner] if isinstance(owner, str) else []
    for name in ("admins", "members"):
        value = body.get(name)
        if isinstance(value, list):
            named += [u for u in value if isinstance(u, str)]
    return named


def _not_an_account(user_id: str) -> str:
    """Why ``user_id`` cannot be exported as an account ('' when it can)."""
    problem = limits.user_id_problem(user_id)
    if problem is not None:
        return f"is not a valid UserID: it {problem}"
    if limits.is_bot_id(user_id):
        return "is a bot id (every live bot is exported anyway)"
    prefix = limits.reserved_prefix(user_id)
    if prefix is not None:
        return f"starts with the reserved prefix {prefix}"
    return ""


def _profile(principal: Principal, names: Sequence[str], all_fields: bool) -> dict[str, Value]:
    """The fields of ``principal`` to write: each of ``names`` read that is set (or every one, with
    ``all_fields``), if it is a value the config can hold (an enum chatsync does not know is not)."""
    profile: dict[str, Value] = {}
    for name in names:
        f = field_of(name)
        value = principal.fields.get(name, f.unset)
        if f.problem(value) is None and (all_fields or holds_value(name, value)):
            profile[name] = value
    return profile
