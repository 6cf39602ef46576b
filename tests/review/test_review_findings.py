"""Reproductions of defects found in review of the plan/apply/export code (added since db66ca1).

Each test states the expected (docs/contract.md) behaviour and fails on the code as reviewed. They are
self-contained: an in-process emulator served on loopback (the shared ``serve`` fixture, or an httpx
MockTransport where a precise interleaving is needed) and the CLI through click's CliRunner.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner, Result

from chatsync.cli import main
from chatsync.domain.plan import Change, Plan
from chatsync.engine.apply import Applier
from chatsync.facts.endpoints import ENDPOINTS
from chatsync.tencent.api import ChatApi
from chatsync.tencent.client import Client
from chatsync.tencent.credentials import SigCache
from chatsync.tencent.retry import RetryPolicy
from chatsync.tencent.target import Target
from tests.support import ADMIN, SDKAPPID, SECRET, UNPACED, App

FAST_RATES = {name: 100_000 for name in ENDPOINTS}


# -- helpers -----------------------------------------------------------------------------------------

def write_config(directory: Path, bots: Mapping[str, Any] | None = None,
                 accounts: Mapping[str, Any] | None = None, name: str = "chatsync.yaml", **app: Any) -> str:
    section: dict[str, Any] = {"sdkappid": SDKAPPID, **app, "rate_limits": dict(FAST_RATES)}
    document: dict[str, Any] = {"version": 1, "app": section}
    if bots is not None:
        document["bots"] = {b: (dict(f) if f else None) for b, f in bots.items()}
    if accounts is not None:
        document["accounts"] = {a: (dict(f) if f else None) for a, f in accounts.items()}
    path = directory / name
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return str(path)


def edit_plan(path: str, change: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    change(data)
    Path(path).write_text(json.dumps(data), encoding="utf-8")


def assert_clean_exit_1(result: Result) -> None:
    """Exit 1 with a short ``Error:`` message and no traceback (docs/contract.md §1, §2)."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert errors, result.stderr
    assert "Traceback" not in result.stdout + result.stderr


# -- 1. plan crashes when the live read takes more than a second ------------------------------------

def test_plan_on_an_app_that_answers_slowly_does_not_crash(serve: Callable[..., App], tmp_path: Path) -> None:
    """cli/plan.py:56 calls ``progress(api.client, "Reading the live app")`` with the arguments
    swapped (label, status); when the read lasts >= 1 s the progress ``finally`` calls
    ``"Reading the live app"()`` -> TypeError and a traceback instead of the plan."""
    app = serve(latency_ms=1100)
    config = write_config(tmp_path, accounts={"alice": {"nick": "Alice"}})
    result = app.cli("plan", config)
    assert result.exception is None, repr(result.exception)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "Plan: 1 to create, 0 to update, 0 to delete." in result.stdout


# -- 2. swapping a bot at the 20-bot limit fails: creates run before deletes --------------------------

def test_replacing_a_bot_when_the_app_has_20_bots_applies_cleanly(serve: Callable[..., App],
                                                                  tmp_path: Path) -> None:
    """The planner accepts the plan (20 bots after it), but applier.py runs every create_robot in
    phase 1 and every delete_robot in phase 2, so the new bot is created while 20 are still active
    and the service refuses it with 10008: apply exits 1 although the plan was valid."""
    app = serve()  # max_bots 20, as the real service
    old = [f"@RBT#b{i:02d}" for i in range(20)]
    for bot in old:
        app.api.create_robot(bot, {})
    keep = {bot: None for bot in old[1:]}  # drop @RBT#b00 ...
    config = write_config(tmp_path, bots={**keep, "@RBT#new": {"nick": "New"}},  # ... add @RBT#new
                          prune_bots=True)
    planned = app.cli("plan", config)
    assert planned.exit_code == 0, planned.stderr
    assert "Plan: 1 to create, 0 to update, 1 to delete." in planned.stdout
    result = app.cli("apply", config, "--auto-approve", "--format", "json")
    report = json.loads(result.stdout)
    assert report["summary"]["failed"] == 0, [c for c in report["changes"] if c["status"] != "ok"]
    assert result.exit_code == 0
    assert sorted(app.api.get_all_robots()) == sorted([*old[1:], "@RBT#new"])


# -- 3. outcomes of a batch are lost when the run stops during its item retries -----------------------

def _mock_client(handler: Callable[[httpx.Request], httpx.Response]) -> Client:
    return Client(Target(("http://127.0.0.1:9",), "test"), SigCache(SDKAPPID, ADMIN, SECRET),
                  rates=UNPACED, retry=RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.05),
                  transport=httpx.MockTransport(handler))


def _answer(**fields: Any) -> httpx.Response:
    return httpx.Response(200, json={"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "", **fields})


IMPORT_PLAN = [Change("account", user_id, "create", None, {"nick": user_id.upper()}) for user_id in "abc"]


def test_ctrl_c_after_an_import_answered_reports_the_imported_accounts_as_done() -> None:
    """api._per_item raises Stopped from its retry round (client.pause / the next call) and throws
    away the results of round 0; applier._batch then returns {} and every change of the chunk is
    reported "skipped: not started: interrupted" -- although a and b were imported."""
    applier: Applier | None = None

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith("/multiaccount_import")
        body = json.loads(request.content)
        if len(body["AccountList"]) == 3:
            assert applier is not None
            applier.stop()  # Ctrl-C arrives while the import is in flight
            return _answer(FailAccounts=["c"])  # a and b imported; c to be sent again
        return _answer()

    client = _mock_client(handler)
    try:
        applier = Applier(ChatApi(client), Plan(SDKAPPID, "http://127.0.0.1:9", list(IMPORT_PLAN)))
        report = applier.run()
    finally:
        client.close()
    status = {o.change.user_id: o.status for o in report.outcomes}
    assert report.interrupted
    assert status["a"] == "ok" and status["b"] == "ok", status  # they were imported
    assert status["c"] == "skipped", status


def test_a_run_stopping_failure_in_an_item_retry_does_not_fail_the_items_already_done() -> None:
    """The same loss when a run-stopping code (60028: the trial's daily quota is used up) comes back
    for the one-by-one retry of c: _batch marks a, b and c "failed 60028", but a and b were imported."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if len(body.get("AccountList", [])) == 3:
            return _answer(FailAccounts=["c"])
        return httpx.Response(200, json={"ActionStatus": "FAIL", "ErrorCode": 60028,
                                          "ErrorInfo": "trial quota"})

    client = _mock_client(handler)
    try:
        report = Applier(ChatApi(client), Plan(SDKAPPID, "http://127.0.0.1:9", list(IMPORT_PLAN))).run()
    finally:
        client.close()
    status = {o.change.user_id: (o.status, o.error_code) for o in report.outcomes}
    assert status["a"] == ("ok", None) and status["b"] == ("ok", None), status
    assert status["c"] == ("failed", 60028), status


def test_a_change_interrupted_while_waiting_to_retry_is_not_reported_as_not_started() -> None:
    """Applier._single treats Stopped as "never started": a create_robot that was sent, got a
    transient answer (it may have been applied: §5 faults after the change) and was waiting for its
    retry when Ctrl-C came is reported "skipped: not started: interrupted" with 0 attempts."""
    applier: Applier | None = None

    def handler(request: httpx.Request) -> httpx.Response:
        assert applier is not None
        applier.stop()  # Ctrl-C while the first attempt is in flight
        return httpx.Response(200, json={"ActionStatus": "FAIL", "ErrorCode": 70500, "ErrorInfo": "busy"})

    client = _mock_client(handler)
    change = Change("bot", "@RBT#x", "create", None, {"nick": "X"})
    try:
        applier = Applier(ChatApi(client), Plan(SDKAPPID, "http://127.0.0.1:9", [change]))
        report = applier.run()
    finally:
        client.close()
    [outcome] = report.outcomes
    assert "not started" not in outcome.error_info, outcome
    assert outcome.attempts >= 1, outcome


# -- 4. apply --plan: edits outside the fingerprint are accepted -----------------------------------

def test_a_plan_file_with_its_unsafe_reasons_removed_still_needs_force(serve: Callable[..., App],
                                                                       tmp_path: Path) -> None:
    """check_applicable() trusts ``safe``/``unsafe_reasons`` read from the file, and neither is
    covered by the fingerprint nor re-derived, so deleting the reasons makes apply --plan run an
    unsafe plan (3 deletes, max_deletes 1) without --force."""
    app = serve()
    app.api.multiaccount_import({"u1": {}, "u2": {}, "u3": {}})
    config = write_config(tmp_path, accounts={u: {"state": "absent"} for u in ("u1", "u2", "u3")},
                          max_deletes=1)
    path = str(tmp_path / "plan.json")
    made = app.cli("plan", config, "--out", path)
    assert made.exit_code == 1 and "Unsafe:" in made.stdout  # the plan itself is unsafe

    edit_plan(path, lambda d: d.update(safe=True, unsafe_reasons=[]))
    app.forget_calls()
    result = app.cli("apply", "--plan", path)
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert app.sent("account_delete") == []
    assert all(app.exists(u) for u in ("u1", "u2", "u3"))


def test_a_plan_file_edited_to_delete_a_protected_account_is_refused(serve: Callable[..., App],
                                                                     tmp_path: Path) -> None:
    """tampered() only checks that each change has an observation consistent with create/update;
    the fingerprint covers observations, not changes. Turning the planned nick update of the
    protected account "ops" into a delete keeps the fingerprint valid, and apply --plan deletes it
    (the plan file does not even carry app.protected, so the applier cannot re-check it)."""
    app = serve()
    app.api.multiaccount_import({"ops": {"nick": "Old"}})
    config = write_config(tmp_path, accounts={"ops": {"nick": "Ops"}}, protected=["ops"])
    path = str(tmp_path / "plan.json")
    assert app.cli("plan", config, "--out", path).exit_code == 0

    def to_delete(data: dict[str, Any]) -> None:
        [change] = data["changes"]
        change.update(action="delete", after=None)

    edit_plan(path, to_delete)
    app.forget_calls()
    result = app.cli("apply", "--plan", path)
    assert app.exists("ops"), "the protected account was deleted"
    assert result.exit_code == 1


def test_a_plan_file_edited_to_point_at_another_server_is_refused(serve: Callable[..., App],
                                                                  tmp_path: Path) -> None:
    """app.endpoint of the plan file is not covered by the fingerprint: an edited endpoint is
    accepted and apply --plan sends signed admin calls (a valid UserSig) to whatever host it names."""
    app = serve()
    other = serve()  # same key, same (empty) state: the stale check passes there too
    config = write_config(tmp_path, accounts={"alice": {"nick": "Alice"}})
    path = str(tmp_path / "plan.json")
    assert app.cli("plan", config, "--out", path).exit_code == 0
    edit_plan(path, lambda d: d["app"].update(endpoint=other.url))
    app.forget_calls()
    other.forget_calls()
    result = app.cli("apply", "--plan", path, env=app.env(CHATSYNC_ENDPOINT=None))
    assert other.requests == [], "the edited plan sent signed calls to another server"
    assert_clean_exit_1(result)


def test_a_plan_file_with_a_rate_limit_for_an_unknown_api_is_a_clean_error(serve: Callable[..., App],
                                                                           tmp_path: Path) -> None:
    """Plan.from_data accepts any rate_limits; Client.for_app -> Pacers raises ValueError for an
    unknown API name (or a rate <= 0), which escapes as a traceback instead of an Error: line."""
    app = serve()
    config = write_config(tmp_path, accounts={"alice": {"nick": "Alice"}})
    path = str(tmp_path / "plan.json")
    assert app.cli("plan", config, "--out", path).exit_code == 0
    edit_plan(path, lambda d: d["app"]["rate_limits"].update(send_msg=10))
    assert_clean_exit_1(app.cli("apply", "--plan", path))
    edit_plan(path, lambda d: d["app"].update(rate_limits={"portrait_set": 0}))
    assert_clean_exit_1(app.cli("apply", "--plan", path))


# -- 5. an endpoint httpx cannot encode gives a traceback -----------------------------------------

@pytest.mark.parametrize("endpoint", ["https://xn--zz", "https://a\u3002\u3002b"])
def test_an_endpoint_with_an_invalid_idna_host_is_a_clean_error(tmp_path: Path, endpoint: str) -> None:
    """endpoint_problem() accepts these hosts; httpx then raises idna.IDNAError / httpx.InvalidURL
    from Client._exchange (neither is an httpx.TransportError), which escapes as a traceback."""
    config = write_config(tmp_path, accounts={"alice": {"nick": "Alice"}})
    result = CliRunner().invoke(main, ["plan", config],
                                env={"CHATSYNC_SECRET_KEY": SECRET, "CHATSYNC_ENDPOINT": endpoint})
    assert_clean_exit_1(result)
    assert len(result.stderr.strip().splitlines()) <= 2, result.stderr
