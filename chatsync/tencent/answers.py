"""The strict reading of every answer, in one place: each field checked for type and shape before use.

Every answer from the network is untrusted input. The envelope (docs/tencent-api.md §1.3) must carry
an int ``ErrorCode`` (a JSON ``true``/``false`` is not one), a string ``ErrorInfo`` and ``ActionStatus``
``OK``/``FAIL`` when present. Each API's own fields are read here (§4-§6): ids are strings, bot ids
start with ``@RBT#``, ``AccountStatus`` is one of the documented values, and per-item results name
only ids that were asked for, each once. An answer that does not fit raises :class:`ProtocolError`
(a run-stopping :class:`~chatsync.tencent.client.CallFailed`): one line naming the API and the field,
and nothing is planned or written from it. Every loop here is linear in the size of the answer.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from chatsync.facts.limits import BOT_PREFIX
from chatsync.text.safe import clipped, quoted

#: The documented values of ``ResultItem[].AccountStatus`` (§5.3).
ACCOUNT_STATUSES = ("Imported", "NotImported")

#: Longest ``ErrorInfo``/``ResultInfo`` kept from an answer (longer text is cut, with a note).
INFO_MAX = 300

# What a per-item answer says about one id: (code, info, data).
Item = tuple[int | None, str, dict[str, Any]]


class AnswerError(ValueError):
    """An answer field that does not fit; :class:`~chatsync.tencent.client.ProtocolError` wraps it."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}")
        self.field = field
        self.problem = problem


def type_name(value: Any) -> str:
    """The JSON name of ``value``'s type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def integer(value: Any, field: str) -> int:
    """``value`` when it is a JSON integer (not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise AnswerError(field, f"is {type_name(value)}, not an integer")
    return value


def uint32(value: Any, field: str) -> int:
    """``value`` when it is a JSON integer from 0 to 4294967295."""
    number = integer(value, field)
    if not 0 <= number <= 2**32 - 1:
        raise AnswerError(field, f"is {number}, not an unsigned 32-bit integer")
    return number


def text(value: Any, field: str) -> str:
    """``value`` when it is a string."""
    if not isinstance(value, str):
        raise AnswerError(field, f"is {type_name(value)}, not a string")
    return value


def info(value: Any, field: str) -> str:
    """An optional ``ErrorInfo``/``ResultInfo``: '' when absent, else a string, cut to :data:`INFO_MAX`."""
    return "" if value is None else clipped(text(value, field), INFO_MAX)


def listed(value: Any, field: str) -> list[Any]:
    """An optional list: [] when absent (null), else it must be a list."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise AnswerError(field, f"is {type_name(value)}, not a list")
    return value


def obj(value: Any, field: str) -> Mapping[str, Any]:
    """``value`` when it is a JSON object."""
    if not isinstance(value, dict):
        raise AnswerError(field, f"is {type_name(value)}, not an object")
    return value


# -- the envelope ---------------------------------------------------------------------------------

def envelope(answer: Any) -> tuple[int, str]:
    """``(ErrorCode, ErrorInfo)`` of a Chat API answer; :class:`AnswerError` when it is not one.

    A zero code with ``ActionStatus: FAIL`` contradicts itself and is refused; a non-zero code is a
    failure whatever ``ActionStatus`` says.
    """
    answer = obj(answer, "the answer")
    if "ErrorCode" not in answer:
        raise AnswerError("ErrorCode", "is missing")
    code = integer(answer["ErrorCode"], "ErrorCode")
    status = answer.get("ActionStatus")
    if status is not None and status not in ("OK", "FAIL"):
        raise AnswerError("ActionStatus", f"is {_shown(status)}, not OK or FAIL")
    error_info = info(answer.get("ErrorInfo"), "ErrorInfo")
    if code == 0 and status == "FAIL":
        raise AnswerError("ActionStatus", "is FAIL with ErrorCode 0")
    return code, error_info


# -- per API --------------------------------------------------------------------------------------

def robot_ids(answer: Mapping[str, Any]) -> list[str]:
    """``Robot_Account`` of get_all_robots (§4.3): bot ids, each a string starting with ``@RBT#``.

    A repeated id is listed once (order kept).
    """
    found: dict[str, None] = {}
    for n, bot in enumerate(listed(answer.get("Robot_Account"), "Robot_Account")):
        bot = text(bot, f"Robot_Account[{n}]")
        if not bot.startswith(BOT_PREFIX):
            raise AnswerError(f"Robot_Account[{n}]", f"is {_shown(bot)}, not a bot id ({BOT_PREFIX}...)")
        found[bot] = None
    return list(found)


def result_items(answer: Mapping[str, Any], asked: Collection[str], *, statuses: bool) -> dict[str, Item]:
    """``ResultItem[]`` of account_check (``statuses``: with ``AccountStatus``) or account_delete."""
    found: dict[str, Item] = {}
    # Each field is tested inline; the helper that names it is called only for one that does not fit
    # (it raises): a large answer's field names are not written out for nothing.
    for n, item in enumerate(listed(answer.get("ResultItem"), "ResultItem")):
        if not isinstance(item, dict):
            obj(item, f"ResultItem[{n}]")
        user_id = item.get("UserID")
        if not isinstance(user_id, str) or user_id not in asked or user_id in found:
            asked_id(user_id, f"ResultItem[{n}].UserID", asked, found)
        code = item.get("ResultCode", 0)
        if isinstance(code, bool) or not isinstance(code, int):
            integer(code, f"ResultItem[{n}].ResultCode")
        data: dict[str, Any] = {}
        if statuses and code == 0:
            status = item.get("AccountStatus")
            if status not in ACCOUNT_STATUSES:
                raise AnswerError(f"ResultItem[{n}].AccountStatus",
                                  f"is {_shown(status)}, not one of {', '.join(ACCOUNT_STATUSES)}")
            data["AccountStatus"] = status
        found[user_id] = (code, _item_info(item, "ResultItem", n), data)
    return found


def profiles(answer: Mapping[str, Any], asked: Collection[str],
             tags: Mapping[str, tuple[str, bool, str | int]]) -> dict[str, Item]:
    """``UserProfileItem[]`` and ``Fail_Account`` of portrait_get (§6.1).

    ``tags`` maps each asked tag to (its field name, whether its values are integers, what it reads
    as when never set); each value must have its tag's type: a string, or an unsigned 32-bit integer
    (a tag the answer carries but was not asked for is ignored). A tag the answer leaves out reads as
    never set. An id in ``Fail_Account`` without a failed item of its own gets code None.
    """
    found: dict[str, Item] = {}
    # As in result_items: inline tests, and a field's name written out only when it does not fit.
    for n, item in enumerate(listed(answer.get("UserProfileItem"), "UserProfileItem")):
        if not isinstance(item, dict):
            obj(item, f"UserProfileItem[{n}]")
        user_id = item.get("To_Account")
        if not isinstance(user_id, str) or user_id not in asked or user_id in found:
            asked_id(user_id, f"UserProfileItem[{n}].To_Account", asked, found)
        code = item.get("ResultCode", 0)
        if isinstance(code, bool) or not isinstance(code, int):
            integer(code, f"UserProfileItem[{n}].ResultCode")
        profile: dict[str, Any] = {name: unset for name, _, unset in tags.values()}
        entries = item.get("ProfileItem")
        if not isinstance(entries, list):
            entries = listed(entries, f"UserProfileItem[{n}].ProfileItem")
        for m, entry in enumerate(entries):
            if not isinstance(entry, dict):
                obj(entry, f"UserProfileItem[{n}].ProfileItem[{m}]")
            tag = entry.get("Tag")
            if not isinstance(tag, str):
                text(tag, f"UserProfileItem[{n}].ProfileItem[{m}].Tag")
            if tag in tags:
                name, is_integer, _ = tags[tag]
                value = entry.get("Value")
                if is_integer:
                    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**32 - 1:
                        uint32(value, f"UserProfileItem[{n}].ProfileItem[{m}].Value")
                elif not isinstance(value, str):
                    text(value, f"UserProfileItem[{n}].ProfileItem[{m}].Value")
                profile[name] = value
        found[user_id] = (code, _item_info(item, "UserProfileItem", n), profile if code == 0 else {})
    failed: dict[str, Item] = {}
    for n, user_id in enumerate(listed(answer.get("Fail_Account"), "Fail_Account")):
        user_id = asked_id(user_id, f"Fail_Account[{n}]", asked, failed)
        failed[user_id] = (0, "", {})
        if found.get(user_id, (0,))[0] == 0:
            found[user_id] = (None, "listed in Fail_Account", {})
    return found


def failed_accounts(answer: Mapping[str, Any], asked: Collection[str]) -> list[str]:
    """``FailAccounts`` of multiaccount_import (§5.2): ids that were asked for, each once."""
    seen: dict[str, Any] = {}
    for n, user_id in enumerate(listed(answer.get("FailAccounts"), "FailAccounts")):
        seen[asked_id(user_id, f"FailAccounts[{n}]", asked, seen)] = None
    return list(seen)


def _item_info(item: Mapping[str, Any], listing: str, n: int) -> str:
    """:func:`info` of item ``n``'s ``ResultInfo`` in the list ``listing``."""
    said = item.get("ResultInfo")
    if said is None or said == "":
        return ""
    return info(said, f"{listing}[{n}].ResultInfo")


def asked_id(value: Any, field: str, asked: Collection[str], seen: Mapping[str, Any], *,
             what: str = "an id", each: str | None = None) -> str:
    """``value`` as an id of an item of a batch answer: text, one of those ``asked``, and not in
    ``seen`` yet (each is answered once). ``what`` (``a group``) names such an id in the messages,
    and ``each`` what is answered once (by default the noun of ``what``)."""
    found = text(value, field)
    if found not in asked:
        raise AnswerError(field, f"is {_shown(found)}, {what} that was not asked for")
    if found in seen:
        noun = each or what.split()[-1]
        raise AnswerError(field, f"is {_shown(found)} again (each {noun} is answered once)")
    return found


def _shown(value: Any) -> str:
    return quoted(clipped(value, 60)) if isinstance(value, str) else type_name(value)
