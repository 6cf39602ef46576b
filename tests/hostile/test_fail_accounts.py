"""Item 7: ids in ``FailAccounts`` with no code of their own (the docs allow it) cost one
``account_import`` each, to learn the reason; permanent codes are final and shown with their hint."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from click.testing import Result

from chatsync.facts import error_codes as errors
from tests.hostile.conftest import HonestApp, overriding
from tests.hostile.fakes import Behaviour, FakeServer, fail, ok

CODES = {"gone": 70399, "bad": 70402, "full": 70398}


def every_id_failed(body: Any) -> Any:
    return ok(FailAccounts=[item["UserID"] for item in body["AccountList"]])


def learner(app: HonestApp) -> Any:
    """``account_import`` of ``app`` for the ids whose kind has no code; the code for the others."""

    def learn(body: Any) -> Any:
        code = CODES.get(body["UserID"].split("-")[0])
        return app.account_import(body) if code is None else fail(code, "ERR")

    return learn


def test_unexplained_failures_are_learnt_once_each_and_reported_with_code_and_hint(
    fake: Callable[[Behaviour], FakeServer], cli: Callable[..., Result],
) -> None:
    kinds = ("gone", "bad", "full", "fine")
    accounts = {f"{kind}-{n:03d}": {"nick": "N"} for kind in kinds for n in range(60)}
    app = HonestApp()
    server = fake(overriding(app, multiaccount_import=every_id_failed, account_import=learner(app)))
    result = cli(server.url, "apply", "--auto-approve", "--format", "json", accounts=accounts)
    assert result.exit_code == 1
    calls = Counter(server.endpoints())
    assert calls["multiaccount_import"] == 3  # 240 ids, 100 a call
    imports = Counter(seen.body["UserID"] for seen in server.seen if seen.endpoint == "account_import")
    assert set(imports) == set(accounts) and set(imports.values()) == {1}  # one extra call per id, no more
    report = {c["user_id"]: c for c in json.loads(result.stdout)["changes"]}
    for user_id, change in report.items():
        kind = user_id.split("-")[0]
        if kind == "fine":
            assert change["status"] == "ok", change
        else:
            assert (change["status"], change["error_code"]) == ("failed", CODES[kind]), change
    assert json.loads(result.stdout)["summary"]["created"] == 60


def test_the_text_report_shows_the_learnt_code_and_its_hint(fake: Callable[[Behaviour], FakeServer],
                                                            cli: Callable[..., Result]) -> None:
    app = HonestApp()
    server = fake(overriding(app, multiaccount_import=every_id_failed, account_import=learner(app)))
    result = cli(server.url, "apply", "--auto-approve", accounts={"gone-1": None})
    assert "failed 70399" in result.stdout
    assert errors.lookup(70399).hint in result.stdout
