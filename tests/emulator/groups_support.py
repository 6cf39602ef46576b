"""Helpers for the group API tests of the emulator (docs/tencent-api.md §10)."""

from __future__ import annotations

from typing import Any

from tests.support import Api, call


def accounts(api: Api, *user_ids: str, bots: tuple[str, ...] = ()) -> None:
    """Import ``user_ids`` and create ``bots``."""
    if user_ids:
        call(api, "multiaccount_import", {"Accounts": list(user_ids)})
    for bot in bots:
        call(api, "create_robot", {"UserID": bot})


def create(api: Api, group_id: str | None = "team", *, type: str = "Public", name: str = "Team",
           code: int = 0, **fields: Any) -> dict[str, Any]:
    """``create_group``; ``members`` (a list of ids, or of ``{Member_Account, Role}``) becomes
    ``MemberList``."""
    body: dict[str, Any] = {"Type": type, "Name": name}
    if group_id is not None:
        body["GroupId"] = group_id
    members = fields.pop("members", None)
    if members is not None:
        body["MemberList"] = [m if isinstance(m, dict) else {"Member_Account": m} for m in members]
    body.update(fields)
    return call(api, "create_group", body, code=code)


def info(api: Api, group_id: str, **body: Any) -> dict[str, Any]:
    """One group's ``get_group_info`` item (asserting it succeeded)."""
    item: dict[str, Any] = call(api, "get_group_info", {"GroupIdList": [group_id], **body})[
        "GroupInfo"][0]
    assert item["ErrorCode"] == 0, item
    return item


def roles(api: Api, group_id: str) -> dict[str, str]:
    """Member -> role, in the order the group lists them."""
    return {m["Member_Account"]: m["Role"] for m in info(api, group_id)["MemberList"]}


def add(api: Api, group_id: str, *user_ids: str, code: int = 0, **body: Any) -> dict[str, Any]:
    return call(api, "add_group_member", {
        "GroupId": group_id, "MemberList": [{"Member_Account": u} for u in user_ids], **body},
        code=code)


def listed(api: Api, **body: Any) -> list[str]:
    """Every GroupId of the app, following ``Next``."""
    ids: list[str] = []
    cursor = 0
    while True:
        answer = call(api, "get_appid_group_list", {**body, "Next": cursor})
        ids += [entry["GroupId"] for entry in answer["GroupIdList"]]
        cursor = answer["Next"]
        if cursor == 0:
            return ids
