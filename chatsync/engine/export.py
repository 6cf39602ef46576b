"""Export: write the live app as a complete, valid config (every live bot, the named accounts
that exist, each with its whole profile, and every live group with the accounts it names), so
``plan`` on it right after shows no changes.

Every standard field is written (integers as integers, enums by their YAML name), and the custom
keys the config lists in ``app.custom_fields`` under ``custom:``. An enum never set (or set to a
value chatsync does not know) is left out: unmanaged, so the plan on the export stays empty.

Named accounts that cannot be exported (not UserIDs at all, bot ids, or not in the app) are not
dropped silently: :class:`Export` lists each with why, and the CLI makes that an error unless
told to skip them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import yaml

from chatsync.domain.live import Wanted
from chatsync.domain.model import AppConfig, Principal
from chatsync.engine.kinds.group import export_groups
from chatsync.engine.read import read_live
from chatsync.facts import limits
from chatsync.facts.fields import CUSTOM_SECTION, STANDARD, Value, custom_name
from chatsync.tencent.api import ChatApi
from chatsync.text.safe import UNSAFE

HEADER = "# Exported by chatsync export from the live app. Every field shown is managed.\n"


@dataclass(frozen=True)
class Export:
    """The config text, and the named accounts left out of it: (UserID, why)."""

    text: str
    left_out: list[tuple[str, str]] = field(default_factory=list)


def export(api: ChatApi, app: AppConfig, account_ids: Iterable[str], *,
           expected_absent: Iterable[str] = (), groups: bool = False) -> Export:
    """The config: ``app`` as given, every live bot, and those of ``account_ids`` that exist; with
    ``groups``, every live group and the accounts it names.

    Ids in ``expected_absent`` (declared ``state: absent``) that do not exist are not reported.
    """
    fields = (*(f.name for f in STANDARD), *(custom_name(key) for key in app.custom_fields))
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
    live = read_live(api, [Wanted("account", a, fields) for a in accounts], every_bot=fields)
    absent_ok = set(expected_absent)
    left_out += [(a, "does not exist in the app") for a in accounts
                 if live.get("account", a) is None and a not in absent_ok]
    document = {
        "version": 1,
        "app": _app_section(app),
        "bots": {b: _profile(live.get("bot", b), app) for b in live.bot_ids},
        "accounts": {a: _profile(live.get("account", a), app) for a in accounts if live.get("account", a)},
    }
    if live_groups:
        document["groups"] = live_groups
    text = yaml.dump(document, Dumper=_SafeDumper, allow_unicode=True, sort_keys=False, width=1000)
    # Only double-quoted scalars hold such characters (see _SafeDumper); there, \uXXXX is the same value.
    text = UNSAFE.sub(lambda m: m.group() if m.group() == "\n" else f"\\u{ord(m.group()):04x}", text)
    return Export(HEADER + text, left_out)


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


class _SafeDumper(yaml.SafeDumper):
    """Writes a string holding a control or bidi character double-quoted, so it can be escaped."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if UNSAFE.search(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_SafeDumper.add_representer(str, _string)


def _app_section(app: AppConfig) -> dict[str, object]:
    section: dict[str, object] = {"sdkappid": app.sdkappid}
    if app.endpoint:
        section["endpoint"] = app.endpoint
    else:
        section["region"] = app.region
    section.update(admin=app.admin, secret_key_env=app.secret_key_env, prune_bots=app.prune_bots,
                   protected=list(app.protected), max_deletes=app.max_deletes)
    if app.custom_fields:
        section["custom_fields"] = list(app.custom_fields)
    if app.rates:
        section["rate_limits"] = dict(app.rates)
    return section


def _profile(principal: Principal | None, app: AppConfig) -> dict[str, object]:
    fields = principal.fields if principal is not None else {}
    profile: dict[str, object] = {}
    for f in STANDARD:
        value = fields.get(f.name, f.unset)
        if f.problem(value) is None:  # an enum never set, or unknown to chatsync: left unmanaged
            profile[f.name] = value
    custom: dict[str, Value] = {key: fields.get(custom_name(key), "") for key in app.custom_fields}
    if custom:
        profile[CUSTOM_SECTION] = custom
    return profile
