"""Export: write the live app as a complete, valid config (every live bot, and the named accounts
that exist, each with its whole profile), so ``plan`` on it right after shows no changes."""

from __future__ import annotations

from collections.abc import Iterable

import yaml

from chatsync.live import Wanted, read_live
from chatsync.model import PROFILE_FIELDS, AppConfig, Principal
from chatsync.safe_text import UNSAFE
from chatsync.tencent.api import ChatApi

HEADER = "# Exported by chatsync export from the live app. Every field shown is managed.\n"


def export(api: ChatApi, app: AppConfig, account_ids: Iterable[str]) -> str:
    """The config text: ``app`` as given, every live bot, and those of ``account_ids`` that exist."""
    fields = tuple(PROFILE_FIELDS)
    accounts = list(dict.fromkeys(account_ids))
    live = read_live(api, [Wanted("account", a, fields) for a in accounts], every_bot=fields)
    document = {
        "version": 1,
        "app": _app_section(app),
        "bots": {b: _profile(live.get("bot", b)) for b in live.bot_ids},
        "accounts": {a: _profile(live.get("account", a)) for a in accounts if live.get("account", a)},
    }
    text = yaml.dump(document, Dumper=_SafeDumper, allow_unicode=True, sort_keys=False, width=1000)
    # Only double-quoted scalars hold such characters (see _SafeDumper); there, \uXXXX is the same value.
    return HEADER + UNSAFE.sub(lambda m: m.group() if m.group() == "\n" else f"\\u{ord(m.group()):04x}", text)


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
    if app.rates:
        section["rate_limits"] = dict(app.rates)
    return section


def _profile(principal: Principal | None) -> dict[str, str]:
    fields = principal.fields if principal is not None else {}
    return {name: fields.get(name, "") for name in PROFILE_FIELDS}
