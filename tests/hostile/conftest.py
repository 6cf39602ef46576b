"""Shared pieces of the hostile-network tests: a fake app that answers honestly unless told not to,
fake servers on loopback, and the CLI run against them (outputs checked for secrets and controls)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from chatsync.domain.model import PROFILE_FIELDS
from tests.apply.conftest import Secrets, invoke, write_config
from tests.apply.conftest import secrets as secrets
from tests.hostile.fakes import Behaviour, FakeServer, ok
from tests.support import cli_env

#: What the terminal must never get raw from chatsync: C0 (but newline and tab), DEL, C1, bidi.
RAW_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_TAG_OF = dict(PROFILE_FIELDS)
_ROBOT_KEYS = {"Nick": "Tag_Profile_IM_Nick", "FaceUrl": "Tag_Profile_IM_Image",
               "SelfSignature": "Tag_Profile_IM_SelfSignature"}
_IMPORT_KEYS = {"Nick": "Tag_Profile_IM_Nick", "FaceUrl": "Tag_Profile_IM_Image"}
_INTEGER_TAGS = {"Tag_Profile_IM_BirthDay", "Tag_Profile_IM_Language", "Tag_Profile_IM_MsgSettings",
                 "Tag_Profile_IM_Level", "Tag_Profile_IM_Role"}


class HonestApp:
    """A tiny in-memory app answering each API as documented; tests override single answers.

    It is a second implementation of the API, independent of the emulator, and takes the other
    reading where the docs are silent: ``portrait_get`` leaves out the tags never set (the emulator
    answers them as "" or 0). Profiles are kept as tag -> value on the wire; a custom tag whose key is
    not in ``custom_fields`` is answered with 40009, as the service does.
    """

    def __init__(self, bots: dict[str, dict[str, Any]] | None = None,
                 accounts: dict[str, dict[str, Any]] | None = None,
                 custom_fields: tuple[str, ...] = ()) -> None:
        self.profiles: dict[str, dict[str, Any]] = {}
        self.bots: list[str] = []
        self.custom_fields = set(custom_fields)
        for bot, fields in (bots or {}).items():
            self.bots.append(bot)
            self.profiles[bot] = {_TAG_OF[name]: value for name, value in fields.items()}
        for account, fields in (accounts or {}).items():
            self.profiles[account] = {_TAG_OF[name]: value for name, value in fields.items()}

    def __call__(self, endpoint: str, body: Any) -> Any:
        return getattr(self, endpoint)(body)

    def get_all_robots(self, body: Any) -> Any:
        return ok(Robot_Account=list(self.bots))

    def create_robot(self, body: Any) -> Any:
        if body["UserID"] not in self.bots:
            self.bots.append(body["UserID"])
            self.profiles[body["UserID"]] = {
                tag: body[key] for key, tag in _ROBOT_KEYS.items() if key in body}
        return ok()

    def delete_robot(self, body: Any) -> Any:
        self.bots.remove(body["Robot_Account"])
        return ok()

    def account_check(self, body: Any) -> Any:
        return ok(ResultItem=[{"UserID": i["UserID"], "ResultCode": 0, "ResultInfo": "",
                               "AccountStatus": "Imported" if i["UserID"] in self.profiles else "NotImported"}
                              for i in body["CheckItem"]])

    def multiaccount_import(self, body: Any) -> Any:
        for item in body["AccountList"]:
            self.profiles.setdefault(item["UserID"], {}).update(
                {tag: item[key] for key, tag in _IMPORT_KEYS.items() if key in item})
        return ok(FailAccounts=[])

    def account_import(self, body: Any) -> Any:
        self.profiles.setdefault(body["UserID"], {}).update(
            {tag: body[key] for key, tag in _IMPORT_KEYS.items() if key in body})
        return ok()

    def account_delete(self, body: Any) -> Any:
        items = []
        for item in body["DeleteItem"]:
            gone = self.profiles.pop(item["UserID"], None) is None
            items.append({"UserID": item["UserID"], "ResultCode": 70107 if gone else 0, "ResultInfo": ""})
        return ok(ResultItem=items)

    def _unknown_tag(self, tags: list[str]) -> Any:
        custom = "Tag_Profile_Custom_"
        for tag in tags:
            known = (tag[len(custom):] in self.custom_fields if tag.startswith(custom)
                     else tag in _TAG_OF.values())
            if not known:
                return {"ActionStatus": "FAIL", "ErrorCode": 40009, "ErrorInfo": "Err_Profile_Tag_Not_Exist"}
        return None

    def portrait_get(self, body: Any) -> Any:
        refused = self._unknown_tag(body["TagList"])
        if refused:
            return refused
        return ok(UserProfileItem=[
            {"To_Account": user, "ResultCode": 0, "ResultInfo": "",
             "ProfileItem": [{"Tag": tag, "Value": self.profiles[user][tag]}
                             for tag in body["TagList"] if tag in self.profiles.get(user, {})]}
            for user in body["To_Account"]])

    def portrait_set(self, body: Any) -> Any:
        tags = [item["Tag"] for item in body["ProfileItem"]]
        refused = self._unknown_tag(tags)
        if refused:
            return refused
        for item in body["ProfileItem"]:
            expected = int if item["Tag"] in _INTEGER_TAGS else str
            if not isinstance(item["Value"], expected) or isinstance(item["Value"], bool):
                return {"ActionStatus": "FAIL", "ErrorCode": 40610, "ErrorInfo": "wrong type"}
        self.profiles.setdefault(body["From_Account"], {}).update(
            {item["Tag"]: item["Value"] for item in body["ProfileItem"]})
        return ok()


def overriding(app: HonestApp, **answers: Any) -> Behaviour:
    """``app`` except for the named endpoints, which answer as given (a value or a function of body)."""

    def behaviour(endpoint: str, body: Any) -> Any:
        if endpoint in answers:
            answer = answers[endpoint]
            return answer(body) if callable(answer) and not isinstance(answer, type) else answer
        return app(endpoint, body)

    return behaviour


@pytest.fixture
def fake() -> Iterator[Callable[[Behaviour], FakeServer]]:
    """Factory: a :class:`FakeServer` on loopback with ``behaviour``, stopped after the test."""
    started: list[FakeServer] = []

    def start(behaviour: Behaviour) -> FakeServer:
        server = FakeServer(behaviour).__enter__()
        started.append(server)
        return server

    yield start
    for server in started:
        server.__exit__()


@pytest.fixture
def cli(secrets: Secrets, tmp_path: Path) -> Callable[..., Result]:
    """``cli(url, *args, bots=..., accounts=..., env=..., **app)``: chatsync against ``url`` with a
    config of ``bots`` and ``accounts``; asserts nothing raw and no traceback reached the outputs."""

    def run(url: str, *args: str, bots: Any = None, accounts: Any = None,
            env: dict[str, str | None] | None = None, config: bool = True, **app: Any) -> Result:
        argv = list(args)
        if config:
            argv.append(write_config(tmp_path, bots, accounts, **app))
        result = invoke(secrets, *argv, env={**cli_env(url), **(env or {})})
        for name, text in (("stdout", result.stdout), ("stderr", result.stderr)):
            assert not RAW_CONTROL.search(text), (name, text)
            assert "Traceback" not in text, text
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        return result

    return run


def one_error(result: Result) -> str:
    """The single ``Error: ...`` line of a failed run (exit 1), and that it is the only line after it."""
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]
