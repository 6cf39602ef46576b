"""Item 9: property-based, with generated hostile answers and configs (hypothesis).

* The client: every operation of :class:`ChatApi`, and a whole plan, through an in-process
  transport whose answers are honest answers with one field replaced by any JSON (or removed, or
  the whole answer replaced): the result is well typed, or the failure is a ``CallFailed`` (a
  protocol error for a misshapen answer), never another exception; no message holds a raw control.
* The CLI: ``apply`` against such answers (reads hostile, writes honest): exit 0 or 1, no
  traceback, no raw control character on either output, and after a protocol error nothing is
  written. ``validate`` and ``plan`` of generated hostile configs: the same, offline.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatsync.cli import main
from chatsync.domain.model import AppConfig, DesiredState, Principal
from chatsync.engine.plan import plan as make_plan
from chatsync.errors import CallFailed, ChatsyncError
from chatsync.facts.endpoints import BY_PATH
from chatsync.facts.fields import field_of
from chatsync.render import render
from chatsync.tencent.api import ChatApi, ItemResult
from chatsync.tencent.client import Client
from chatsync.tencent.credentials import SigCache
from chatsync.tencent.retry import RetryPolicy
from chatsync.tencent.target import Target
from chatsync.text.safe import UNSAFE
from tests.hostile.conftest import RAW_CONTROL, HonestApp
from tests.hostile.test_output_hygiene import rendered
from tests.support import ADMIN, SDKAPPID, SECRET, cli_env

QUICK = RetryPolicy(max_attempts=2, base_delay=0.0001, max_delay=0.001)
UNPACED = {name: 1_000_000.0 for name in ("create_robot", "delete_robot", "get_all_robots", "account_import",
                                          "multiaccount_import", "account_check", "account_delete", "kick",
                                          "portrait_get", "portrait_set")}
HOSTILE_CHARS = [*"aZ9 @#|<>&*_`[]\\\"'\n\r\t:/.", "\x1b", "\x07", "\x00", "\x7f", "\x85", "\x9b",
                 "\u202e", "\u2066", "\u2028", "\ufeff", "客", "🤖"]
texts = st.text(alphabet=st.sampled_from(HOSTILE_CHARS) | st.characters(), max_size=24)
bot_ids = texts.map(lambda t: "@RBT#" + t)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | texts | bot_ids,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=8,
)
#: The values that most often confuse a reader: the wrong type, or the right type but empty.
confusers = st.sampled_from([True, False, None, 0, 1, -1, 1.5, "", "0", "x", "@RBT#x", [], {}, ["x"], [["x"]],
                             {"a": 1}, "Imported", "NotImported", "Maybe", 2**64])
#: How to spoil an honest answer: (which path, what to do there, the value put there).
spoil_one = st.tuples(st.integers(0, 10_000),
                      st.sampled_from(["replace", "replace", "replace", "delete", "whole"]),
                      confusers | json_values)
spoils = st.lists(spoil_one, min_size=0, max_size=3)

READS = ("get_all_robots", "account_check", "portrait_get")


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def spoilt(answer: Any, spoil: list[tuple[int, str, Any]]) -> Any:
    for one in spoil:
        answer = _spoilt(answer, one)
    return answer


def _spoilt(answer: Any, spoil: tuple[int, str, Any]) -> Any:
    index, how, value = spoil
    if how == "whole":
        return value
    answer = copy.deepcopy(answer)
    paths = _paths(answer)
    if not paths:
        return value
    path = paths[index % len(paths)]
    parent = answer
    for step in path[:-1]:
        parent = parent[step]
    if how == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return answer


class HostileTransport(httpx.BaseTransport):
    """Answers like :class:`HonestApp`, but spoils the answers of ``endpoints`` with ``spoil``."""

    def __init__(self, app: HonestApp, spoil: list[tuple[int, str, Any]], endpoints: tuple[str, ...]) -> None:
        self.app = app
        self.spoil = spoil
        self.endpoints = endpoints
        self.sent: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        endpoint = BY_PATH[request.url.path].name
        self.sent.append(endpoint)
        body = json.loads(request.read())
        answer = self.app(endpoint, body)
        if endpoint in self.endpoints:
            answer = spoilt(answer, self.spoil)
        return httpx.Response(200, content=json.dumps(answer).encode())


def api_for(transport: httpx.BaseTransport) -> ChatApi:
    target = Target(("http://127.0.0.1:9",), "CHATSYNC_ENDPOINT")
    return ChatApi(Client(target, SigCache(SDKAPPID, ADMIN, SECRET), retry=QUICK, rates=UNPACED,
                          transport=transport))


def no_raw_controls(text: str) -> None:
    assert not UNSAFE.search(text.replace("\n", "")), repr(text)


def app_with(bots: list[str], accounts: list[str]) -> HonestApp:
    return HonestApp(bots={b: {"nick": "B"} for b in bots}, accounts={a: {"nick": "A"} for a in accounts})


FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("operation", ["get_all_robots", "account_check", "portrait_get",
                                       "multiaccount_import", "account_delete", "create_robot"])
@FEW
@given(spoil=spoils)
def test_every_operation_returns_typed_results_or_a_call_failure(spoil: list[tuple[int, str, Any]],
                                                                 operation: str) -> None:
    transport = HostileTransport(app_with(["@RBT#a"], ["alice"]), spoil, (operation,))
    api = api_for(transport)
    ids = ["alice", "bob"]
    try:
        if operation == "get_all_robots":
            result: Any = api.get_all_robots()
            assert all(isinstance(b, str) and b.startswith("@RBT#") for b in result)
            assert len(set(result)) == len(result)
        elif operation == "create_robot":
            api.create_robot("@RBT#n", {"nick": "N"})
        else:
            call: Callable[[], dict[str, ItemResult]] = {
                "account_check": lambda: api.account_check(ids),
                "portrait_get": lambda: api.portrait_get(ids),
                "multiaccount_import": lambda: api.multiaccount_import({i: {"nick": "x"} for i in ids}),
                "account_delete": lambda: api.account_delete(ids)}[operation]
            result = call()
            assert set(result) <= set(ids)
            for user_id, item in result.items():
                assert isinstance(item, ItemResult) and item.user_id == user_id
                assert item.code is None or (isinstance(item.code, int) and not isinstance(item.code, bool))
                assert isinstance(item.info, str)
                if operation == "account_check" and item.ok:
                    assert item.data["AccountStatus"] in ("Imported", "NotImported")
                if operation == "portrait_get" and item.ok:
                    assert all(isinstance(v, int if field_of(k).kind == "uint32" else str)
                               for k, v in item.data.items())
    except CallFailed as failure:
        no_raw_controls(str(failure))
    finally:
        api.client.close()


@FEW
@given(spoil=spoils, endpoint=st.sampled_from(READS))
def test_a_plan_on_hostile_reads_is_a_safe_plan_or_one_clear_error(spoil: list[tuple[int, str, Any]],
                                                                   endpoint: str) -> None:
    transport = HostileTransport(app_with(["@RBT#a", "@RBT#old"], ["alice"]), spoil, (endpoint,))
    api = api_for(transport)
    desired = DesiredState(app=AppConfig(sdkappid=SDKAPPID, prune_bots=True),
                           bots={"@RBT#a": Principal("bot", "@RBT#a", {"nick": "New"})},
                           accounts={"alice": Principal("account", "alice", {"nick": "Al"}),
                                     "bob": Principal("account", "bob", {"nick": "Bo"})})
    try:
        result = make_plan(api, desired, "http://127.0.0.1:9")
    except ChatsyncError as error:
        no_raw_controls(str(error))
        return
    finally:
        api.client.close()
    for output in ("text", "markdown"):
        assert not RAW_CONTROL.search(render(result, output))
    page = rendered(render(result, "markdown"))  # GitHub's parser: only our own tags, no link
    assert set(page.tags) <= {"table", "thead", "tr", "th", "tbody", "td", "code", "br", "strong", "p", "em",
                              "details", "summary", "!--", "blockquote"}, page.tags
    assert page.tags.count("tr") == (len(result.changes) + 1 if result.changes else 0)
    for change in result.changes:
        if change.kind == "bot":
            assert change.user_id.startswith("@RBT#")


# -- the CLI --------------------------------------------------------------------------------------

_FOR_APP = Client.for_app.__func__  # type: ignore[attr-defined]


def run_cli(monkeypatch: pytest.MonkeyPatch, transport: httpx.BaseTransport | None, *args: str) -> Result:
    if transport is not None:  # the CLI's client sends through it (Client's transport= option)
        monkeypatch.setattr(Client, "for_app", classmethod(
            lambda cls, app, environ=None, **options:
                _FOR_APP(cls, app, environ, **options, transport=transport)))
    result = CliRunner().invoke(main, list(args), env=cli_env("http://127.0.0.1:9"))
    out = result.stdout + result.stderr
    assert "Traceback" not in out
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert not RAW_CONTROL.search(out), out
    return result


CONFIG = """version: 1
app:
  sdkappid: 1400000000
  prune_bots: true
  rate_limits: {rates}
bots:
  "@RBT#a": {{nick: New}}
accounts:
  alice: {{nick: Al, self_signature: s}}
  bob: {{nick: Bo}}
"""


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(spoil=spoils, endpoint=st.sampled_from(READS))
def test_apply_on_hostile_reads_writes_nothing_after_a_protocol_error(monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path,
                                                                      spoil: list[tuple[int, str, Any]],
                                                                      endpoint: str) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG.format(rates=json.dumps({name: 100000 for name in UNPACED})), encoding="utf-8")
    transport = HostileTransport(app_with(["@RBT#a", "@RBT#old"], ["alice"]), spoil, (endpoint,))
    result = run_cli(monkeypatch, transport, "apply", str(config), "--auto-approve", "--force")
    assert result.exit_code in (0, 1), (result.exit_code, result.stderr)
    if "protocol error" in result.stderr:
        assert [line for line in result.stderr.splitlines() if line.startswith("Error: ")], result.stderr
        writes = {"create_robot", "delete_robot", "multiaccount_import", "account_import", "account_delete",
                  "portrait_set"}
        assert not writes & set(transport.sent), transport.sent


yaml_scalars = texts.map(json.dumps)  # any text, as a YAML double-quoted scalar (JSON is YAML)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["bot", "account", "nick", "region", "endpoint", "admin", "protected", "key"]),
       value=yaml_scalars)
def test_hostile_configs_are_valid_or_clear_errors_never_raw(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                             field: str, value: str) -> None:
    bot, account, nick, region, admin = '"@RBT#a"', "alice", '"N"', '"singapore"', '"administrator"'
    endpoint, protected, key = "", "[]", "x"
    if field == "bot":
        bot = json.dumps("@RBT#" + json.loads(value))
    elif field == "account":
        account = value
    elif field == "nick":
        nick = value
    elif field == "region":
        region = value
    elif field == "endpoint":
        endpoint = f"\n  endpoint: {value}"
    elif field == "admin":
        admin = value
    elif field == "protected":
        protected = f"[{value}]"
    else:
        key = value
    config = tmp_path / "c.yaml"
    config.write_text(f"version: 1\napp:\n  sdkappid: 1400000000\n  region: {region}\n  admin: {admin}"
                      f"\n  protected: {protected}{endpoint}\n  x-note: {key}"
                      f"\nbots:\n  {bot}: {{nick: {nick}}}\n"
                      f"accounts:\n  {account}: {{nick: {nick}}}\n", encoding="utf-8")
    result = run_cli(monkeypatch, None, "validate", str(config))
    assert result.exit_code in (0, 1)
    if result.exit_code == 1:
        assert result.stderr.strip(), "an error says what is wrong"
    else:
        assert result.stdout.startswith("Valid: ")
