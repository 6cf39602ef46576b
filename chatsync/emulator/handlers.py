"""The API logic of each emulated endpoint: pure functions of (app, request body) -> answer.

Each handler runs with the store's lock held, validates the *whole* body as the real API does
before it changes anything (an error raised after a change would leave the change unsaved), then
changes the store and returns the API's own answer fields; the gateway wraps them in the envelope. A
whole-request failure raises :class:`ApiError`; per-item failures of batch APIs are reported in
the answer (``FailAccounts``, ``ResultItem``, ``Fail_Account``) as the real service does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chatsync.emulator import profile_rules, stance
from chatsync.emulator.store import Store
from chatsync.facts import error_codes as errors
from chatsync.facts import groups, limits
from chatsync.facts.fields import STANDARD
from chatsync.facts.profile_tags import UINT32_TAGS

#: Tag -> the key of create_robot / of the import APIs that carries it (the field table).
ROBOT_KEYS = {f.tag: f.robot_key for f in STANDARD if f.robot_key}
IMPORT_KEYS = {f.tag: f.import_key for f in STANDARD if f.import_key}


class ApiError(Exception):
    """The whole request fails with ``code`` (its ``ErrorInfo`` comes from the error table)."""

    def __init__(self, code: int, info: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.info = info if info is not None else errors.lookup(code).info


class BatchFailure(ApiError):
    """Every item of a batch failed: the envelope carries the first code, plus the item lists."""

    def __init__(self, code: int, fields: dict[str, Any], changed: bool) -> None:
        super().__init__(code)
        self.fields = fields
        self.changed = changed



@dataclass
class App:
    """What a handler works on: the store, the app's settings and the time."""

    store: Store
    max_bots: int = limits.MAX_BOTS
    max_accounts: int | None = None
    deletion_lock: bool = stance.DELETION_LOCK_DEFAULT
    allow_account_delete: bool = True
    now: Callable[[], float] = field(default=lambda: 0.0)
    group_member_cap: int = groups.DEFAULT_MEMBER_CAP  # the edition's members per group
    max_groups: int | None = None  # trial edition: 100 (10058); None: no limit
    max_av_chatrooms: int | None = None  # AVChatRooms at once (10036); None: no limit
    max_joined_groups: int | None = None  # groups an account may be in (10037); bots: none
    group_data_keys: frozenset[str] = frozenset()  # AppDefinedData keys configured for groups
    member_data_keys: frozenset[str] = frozenset()  # AppMemberDefinedData keys configured


@dataclass
class Answer:
    """A handler's result: the API's extra answer fields; ``changed`` when the store changed."""

    fields: dict[str, Any] = field(default_factory=dict)
    changed: bool = False


# -- body helpers ---------------------------------------------------------------------------------

def _user_id(value: Any, invalid: int, what: str = "UserID") -> str:
    """A required UserID field: 60015 when not a string, ``invalid`` when missing or malformed."""
    if value is None:
        raise ApiError(invalid, f"{what} is missing")
    if not isinstance(value, str):
        raise ApiError(60015, f"{what} must be a string")
    problem = limits.user_id_problem(value)
    if problem:
        raise ApiError(invalid, f"{what} {problem}")
    return value


def _account_field(body: dict[str, Any]) -> Any:
    """The account of ``account_import``/``kick``: ``UserID``, else the older ``Identifier`` (§9.1);
    a JSON null counts as absent (§9.8)."""
    value = body.get("UserID")
    return value if value is not None else body.get("Identifier")


def _optional_text(body: dict[str, Any], key: str, invalid: int, too_long: int) -> str | None:
    """An optional string field; JSON null counts as absent (client quirk §9.8)."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(invalid, f"{key} must be a string")
    if limits.value_problem(value):
        raise ApiError(too_long, f"{key} is longer than {limits.VALUE_MAX_BYTES} bytes")
    return value


def _batch(body: dict[str, Any], key: str, invalid: int, too_many: int) -> list[Any]:
    items = body.get(key)
    if not isinstance(items, list) or not items:
        raise ApiError(invalid, f"{key} must be a non-empty array")
    if len(items) > limits.BATCH_MAX:
        raise ApiError(too_many, f"{key} holds {len(items)} items; at most {limits.BATCH_MAX}")
    return items


def _item_user_id(item: Any, invalid: int) -> Any:
    if not isinstance(item, dict):
        raise ApiError(invalid, "each item must be an object with a UserID")
    value = item.get("UserID")
    if value is not None and not isinstance(value, str):
        raise ApiError(60015, "UserID must be a string")
    return value


def _item(user_id: str, code: int, **extra: Any) -> dict[str, Any]:
    info = "" if code == 0 else errors.lookup(code).info
    return {"UserID": user_id, "ResultCode": code, "ResultInfo": info, **extra}


def _set_profile(profile: dict[str, Any], values: dict[str, str | None]) -> None:
    for tag, value in values.items():
        if value is not None:
            profile[tag] = value


# -- robots ---------------------------------------------------------------------------------------

def create_robot(app: App, body: dict[str, Any]) -> Answer:
    """Create a chatbot (or revive an invalid one) with its Nick, FaceUrl and SelfSignature."""
    bot = _user_id(body.get("UserID"), 10004)
    if not limits.is_bot_id(bot):
        raise ApiError(10004, f"a bot UserID must start with {limits.BOT_PREFIX}")
    too_long = stance.CREATE_ROBOT_VALUE_TOO_LONG_CODE
    profile = {tag: _optional_text(body, key, 10004, too_long) for tag, key in ROBOT_KEYS.items()}
    store = app.store
    if store.bots.get(bot):
        if stance.CREATE_ROBOT_REPEAT_UPDATES_PROFILE:
            _set_profile(store.accounts[bot], profile)
            return Answer(changed=True)
        return Answer()
    if len(store.active_bots()) >= app.max_bots:
        raise ApiError(10008, f"the number of bots reached the limit of {app.max_bots}")
    if bot not in store.accounts and _account_limit_reached(app):
        raise ApiError(70398)  # a new bot is a new account; a revived one already counts
    _set_profile(store.accounts.setdefault(bot, {}), profile)
    store.bots[bot] = True
    return Answer(changed=True)


def delete_robot(app: App, body: dict[str, Any]) -> Answer:
    """Mark a chatbot invalid (its id stays); deleting an invalid bot again is OK."""
    bot = _user_id(body.get("Robot_Account"), 10004, "Robot_Account")
    if not limits.is_bot_id(bot) or bot not in app.store.bots:
        raise ApiError(10004, "Robot_Account is not a bot of this app")
    if not app.store.bots[bot]:
        return Answer()
    app.store.bots[bot] = False
    app.store.leave_groups(bot)  # stance §10.22: a deleted bot leaves every group
    return Answer(changed=True)


def get_all_robots(app: App, body: dict[str, Any]) -> Answer:
    """List active bots (the gateway reads an empty body or ``[]`` as ``{}``: client quirk §9.6)."""
    listed = list(app.store.bots) if stance.DELETED_BOT_LISTED else app.store.active_bots()
    return Answer({"Robot_Account": listed})


# -- accounts -------------------------------------------------------------------------------------

def _import_problem(app: App, user_id: str) -> int:
    """The code refusing a new ordinary account ``user_id``, or 0 when it may be imported."""
    if limits.user_id_problem(user_id):
        return 70402
    if limits.reserved_prefix(user_id):
        return stance.RESERVED_PREFIX_CODE
    store = app.store
    if user_id in store.accounts:
        return 0
    if app.deletion_lock and user_id in store.deleted:
        return 70399
    if _account_limit_reached(app):
        return 70398
    return 0


def _account_limit_reached(app: App) -> bool:
    """True when one more account would pass ``--max-accounts`` (stance: bots count too)."""
    if app.max_accounts is None:
        return False
    store = app.store
    counted = len(store.accounts) if stance.ACCOUNT_LIMIT_COUNTS_BOTS else store.ordinary_count()
    return counted >= app.max_accounts


def _create_account(store: Store, user_id: str, values: dict[str, str | None]) -> None:
    store.accounts[user_id] = {}
    _set_profile(store.accounts[user_id], values)
    store.deleted.discard(user_id)


def _import_values(item: dict[str, Any]) -> dict[str, str | None]:
    """The profile an import item carries (Nick, FaceUrl: the field table's import keys)."""
    return {tag: _optional_text(item, key, 70402, 40601) for tag, key in IMPORT_KEYS.items()}


def account_import(app: App, body: dict[str, Any]) -> Answer:
    """Import one account (``UserID``, or the older ``Identifier``) with Nick and FaceUrl."""
    user_id = _user_id(_account_field(body), 70402)
    values = _import_values(body)
    code = _import_problem(app, user_id)
    if code:
        raise ApiError(code)
    store = app.store
    if user_id in store.accounts:
        if stance.ACCOUNT_IMPORT_REPEAT_UPDATES_PROFILE:
            _set_profile(store.accounts[user_id], values)
            return Answer(changed=True)
        return Answer()
    _create_account(store, user_id, values)
    return Answer(changed=True)


def multiaccount_import(app: App, body: dict[str, Any]) -> Answer:
    """Import up to 100 accounts: ``{"Accounts": [ids]}`` or ``{"AccountList": [{UserID, ...}]}``."""
    has_accounts = body.get("Accounts") is not None  # null is absent (§9.8)
    if has_accounts == (body.get("AccountList") is not None):
        raise ApiError(70402, "send exactly one of Accounts or AccountList")
    entries: list[tuple[str, dict[str, Any] | None]] = []  # (UserID, its AccountList item)
    if has_accounts:
        for raw in _batch(body, "Accounts", 70402, 70206):
            if not isinstance(raw, str):
                raise ApiError(60015, "Accounts must hold strings")
            entries.append((raw, None))
    else:
        for item in _batch(body, "AccountList", 70402, 70206):
            raw = _item_user_id(item, 70402)
            if raw is None:
                raise ApiError(70402, "each AccountList item needs a UserID")
            entries.append((raw, item))
    store = app.store
    failed: list[str] = []
    first_code = 0
    changed = False
    for user_id, item in entries:
        code = _import_problem(app, user_id)
        values = None
        if not code and item is not None:
            try:  # the same field rules as account_import, failing this item only
                values = _import_values(item)
            except ApiError as error:
                code = error.code
        if code:
            failed.append(user_id)
            first_code = first_code or code
            continue
        if user_id in store.accounts:
            if values and stance.MULTIACCOUNT_IMPORT_REPEAT_UPDATES_PROFILE:
                before = dict(store.accounts[user_id])
                _set_profile(store.accounts[user_id], values)
                changed = changed or before != store.accounts[user_id]
            continue
        _create_account(store, user_id, values or {})
        changed = True
    if failed and len(failed) == len(entries):
        raise BatchFailure(first_code, {"FailAccounts": failed}, changed)
    return Answer({"FailAccounts": failed}, changed)


def account_check(app: App, body: dict[str, Any]) -> Answer:
    """Report for up to 100 ids whether each is imported (``AccountStatus``)."""
    results = []
    for item in _batch(body, "CheckItem", 70402, 70206):
        user_id = _item_user_id(item, 70402)
        if user_id is None or limits.user_id_problem(user_id):
            results.append(_item(user_id or "", 70402))
            continue
        status = "Imported" if user_id in app.store.accounts else "NotImported"
        results.append(_item(user_id, 0, AccountStatus=status))
    return Answer({"ResultItem": results})


def account_delete(app: App, body: dict[str, Any]) -> Answer:
    """Delete up to 100 ordinary accounts; unknown ids get 70107 item by item, envelope OK.

    Every item is checked before any account is deleted: a malformed item fails the whole
    request and deletes nothing.
    """
    user_ids = [_item_user_id(item, 70402) for item in _batch(body, "DeleteItem", 70402, 70206)]
    if not app.allow_account_delete:
        raise ApiError(71000)
    store = app.store
    results = []
    changed = False
    for user_id in user_ids:
        if user_id is None or limits.user_id_problem(user_id):
            results.append(_item(user_id or "", 70402))
        elif limits.is_bot_id(user_id) or user_id in store.admins:
            results.append(_item(user_id, stance.ACCOUNT_DELETE_REFUSED_CODE))
        elif user_id not in store.accounts:
            results.append(_item(user_id, 70107))
        else:
            del store.accounts[user_id]
            store.deleted.add(user_id)
            store.kicked.pop(user_id, None)
            store.leave_groups(user_id)  # stance §10.22: it leaves every group
            changed = True
            results.append(_item(user_id, 0))
    return Answer({"ResultItem": results}, changed)


def kick(app: App, body: dict[str, Any]) -> Answer:
    """Invalidate every UserSig issued to an account before now."""
    user_id = _user_id(_account_field(body), 70402)
    if user_id not in app.store.accounts:
        raise ApiError(70107)
    app.store.kicked[user_id] = int(app.now())
    return Answer(changed=True)


# -- profiles -------------------------------------------------------------------------------------

def _known_tag(app: App, tag: Any) -> str:
    """A standard tag, or a custom one configured with ``--custom-field`` (else 40009)."""
    try:
        return profile_rules.check_tag(tag, app.store.custom_fields)
    except TypeError:
        raise ApiError(40001, "Tag must be a string") from None
    except profile_rules.TagProblem as problem:
        raise ApiError(problem.code, str(problem)) from None


def portrait_get(app: App, body: dict[str, Any]) -> Answer:
    """Read the asked tags of up to 100 accounts; unknown accounts fail item by item (40003)."""
    if "To_Account" not in body or body["To_Account"] in (None, []):
        raise ApiError(40002)
    accounts = _batch(body, "To_Account", 40001, 40001)
    tags = body.get("TagList")
    if not isinstance(tags, list) or not tags:
        raise ApiError(40001, "TagList must be a non-empty array")
    tags = [_known_tag(app, tag) for tag in tags]
    if not all(isinstance(a, str) for a in accounts):
        raise ApiError(60015, "To_Account must hold strings")
    items, failed = [], []
    for user_id in accounts:
        profile = app.store.accounts.get(user_id)
        if profile is None:
            failed.append(user_id)
            items.append({"To_Account": user_id, "ProfileItem": [], "ResultCode": 40003,
                          "ResultInfo": errors.lookup(40003).info})
            continue
        profile_items = [
            {"Tag": tag, "Value": profile.get(tag, 0 if tag in UINT32_TAGS else "")}
            for tag in tags
            if tag in profile or not stance.PORTRAIT_GET_OMITS_UNSET_TAGS
        ]
        items.append({"To_Account": user_id, "ProfileItem": profile_items, "ResultCode": 0,
                      "ResultInfo": ""})
    answer: dict[str, Any] = {"UserProfileItem": items}
    if failed:
        answer["Fail_Account"] = failed
    return Answer(answer)


def _checked_value(tag: str, value: Any) -> str | int:
    """The value if the tag accepts it: 40610 wrong type, 40601 over 500 bytes, 40605 otherwise."""
    try:
        return profile_rules.check_value(tag, value)
    except profile_rules.TagProblem as problem:
        raise ApiError(problem.code, str(problem)) from None


def portrait_set(app: App, body: dict[str, Any]) -> Answer:
    """Set profile tags of one account; all items are checked before any is written."""
    user_id = _user_id(body.get("From_Account"), 40001, "From_Account")
    items = body.get("ProfileItem")
    if not isinstance(items, list) or not items:
        raise ApiError(40001, "ProfileItem must be a non-empty array")
    values: dict[str, str | int] = {}
    for item in items:
        if not isinstance(item, dict):
            raise ApiError(40001, "each ProfileItem must be an object with Tag and Value")
        tag = _known_tag(app, item.get("Tag"))
        if item.get("Value") is None:
            continue  # null is absent (client quirk §9.8)
        values[tag] = _checked_value(tag, item["Value"])
    profile = app.store.accounts.get(user_id)
    if profile is None:
        raise ApiError(40003)
    before = dict(profile)
    profile.update(values)
    return Answer(changed=profile != before)


HANDLERS: dict[str, Callable[[App, dict[str, Any]], Answer]] = {
    "create_robot": create_robot,
    "delete_robot": delete_robot,
    "get_all_robots": get_all_robots,
    "account_import": account_import,
    "multiaccount_import": multiaccount_import,
    "account_check": account_check,
    "account_delete": account_delete,
    "kick": kick,
    "portrait_get": portrait_get,
    "portrait_set": portrait_set,
}
