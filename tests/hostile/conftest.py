"""Shared pieces of the hostile-network tests: a fake app that answers honestly unless told not to,
fake servers on loopback, and the CLI run against them (outputs checked for secrets and controls)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from chatsync.model import PROFILE_FIELDS
from tests.apply.conftest import Secrets, invoke, write_config
from tests.apply.conftest import secrets as secrets
from tests.hostile.fakes import Behaviour, FakeServer, ok
from tests.support import cli_env

#: What the terminal must never get raw from chatsync: C0 (but newline and tab), DEL, C1, bidi.
RAW_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_TAG_OF = dict(PROFILE_FIELDS)


class HonestApp:
    """A tiny in-memory app answering each API as documented; tests override single answers."""

    def __init__(self, bots: dict[str, dict[str, str]] | None = None,
                 accounts: dict[str, dict[str, str]] | None = None) -> None:
        self.profiles: dict[str, dict[str, str]] = {}
        self.bots: list[str] = []
        for bot, fields in (bots or {}).items():
            self.bots.append(bot)
            self.profiles[bot] = dict(fields)
        for account, fields in (accounts or {}).items():
            self.profiles[account] = dict(fields)

    def __call__(self, endpoint: str, body: Any) -> Any:
        return getattr(self, endpoint)(body)

    def get_all_robots(self, body: Any) -> Any:
        return ok(Robot_Account=list(self.bots))

    def create_robot(self, body: Any) -> Any:
        self.bots.append(body["UserID"])
        self.profiles[body["UserID"]] = {}
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
            self.profiles.setdefault(item["UserID"], {})
        return ok(FailAccounts=[])

    def account_import(self, body: Any) -> Any:
        self.profiles.setdefault(body["UserID"], {})
        return ok()

    def account_delete(self, body: Any) -> Any:
        items = []
        for item in body["DeleteItem"]:
            gone = self.profiles.pop(item["UserID"], None) is None
            items.append({"UserID": item["UserID"], "ResultCode": 70107 if gone else 0, "ResultInfo": ""})
        return ok(ResultItem=items)

    def portrait_get(self, body: Any) -> Any:
        names = {tag: name for name, tag in _TAG_OF.items()}
        return ok(UserProfileItem=[
            {"To_Account": user, "ResultCode": 0, "ResultInfo": "",
             "ProfileItem": [{"Tag": tag, "Value": self.profiles.get(user, {}).get(names[tag], "")}
                             for tag in body["TagList"]]}
            for user in body["To_Account"]])

    def portrait_set(self, body: Any) -> Any:
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
