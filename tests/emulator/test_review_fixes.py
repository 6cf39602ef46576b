"""Bugs found in review, each pinned by a test: bad input never corrupts state or crashes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NoReturn

import pytest
from click.testing import CliRunner

from chatsync.cli import main
from chatsync.emulator import Emulator
from chatsync.emulator import store as store_module
from chatsync.emulator.store import Store
from chatsync.errors import StateFileError
from tests.support import SECRET, Api, api_for, call, make_emulator


def test_lone_surrogates_are_refused_at_the_door_and_state_stays_writable(tmp_path: Path) -> None:
    path = tmp_path / "app.json"
    api = api_for(make_emulator(state_path=path))
    for name, raw in [
        ("account_import", b'{"UserID": "bob", "Nick": "\\ud800"}'),
        ("multiaccount_import", b'{"Accounts": ["\\udfff"]}'),
        ("account_check", b'{"CheckItem": [{"UserID": "\\ud800x"}]}'),
        ("portrait_set", b'{"From_Account": "administrator", "ProfileItem": '
                         b'[{"Tag": "Tag_Profile_IM_Nick", "Value": "a\\udbffb"}]}'),
    ]:
        answer = api.request(name, raw=raw).json()
        assert answer["ErrorCode"] == 60003, (name, answer)
    # a proper surrogate pair (an emoji) is fine
    call(api, "account_import", raw=b'{"UserID": "smile", "Nick": "\\ud83d\\ude00"}')
    call(api, "account_import", {"UserID": "dave"})
    saved = json.loads(path.read_text(encoding="utf-8"))["accounts"]
    assert saved["smile"] == {"Tag_Profile_IM_Nick": "😀"} and "dave" in saved and "bob" not in saved


def test_a_malformed_delete_item_deletes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "app.json"
    emulator = make_emulator(state_path=path)
    api = api_for(emulator)
    call(api, "multiaccount_import", {"Accounts": ["alice", "bob"]})
    for bad in ("bob", {"UserID": 5}):
        answer = api("account_delete", {"DeleteItem": [{"UserID": "alice"}, bad]})
        assert answer["ErrorCode"] in (70402, 60015)
        assert "alice" in emulator.store.accounts
    assert "alice" in make_emulator(state_path=path).store.accounts


@pytest.mark.parametrize("query", [{"sdkappid": "²"}, {"sdkappid": "١٤٠٠٠٠٠٠٠٠"}, {"random": "²"}])
def test_non_ascii_digits_are_60025_not_a_crash(api: Api, query: dict[str, Any]) -> None:
    assert api("get_all_robots", {}, **query)["ErrorCode"] == 60025


def test_path_is_checked_before_the_method(api: Api) -> None:
    response = api.request("get_all_robots", {}, method="PUT", path="/v4/nothing/here")
    assert response.json()["ErrorCode"] == 60009


def test_an_internal_error_in_process_is_70500_too(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from chatsync.emulator import handlers

    def broken(app: object, body: object) -> NoReturn:
        raise RuntimeError("bug")

    monkeypatch.setitem(handlers.HANDLERS, "get_all_robots", broken)
    assert api("get_all_robots", {})["ErrorCode"] == 70500


def test_a_state_folder_that_does_not_exist_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(StateFileError, match="does not exist; create it or choose another --state"):
        Store(1400000000, ("administrator",), tmp_path / "missing" / "app.json")


def test_a_failed_write_answers_70500_is_rolled_back_and_a_retry_saves_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "app.json"
    emulator = make_emulator(state_path=path)
    api = api_for(emulator)
    real_write = store_module._atomic_write
    failures = [OSError(28, "No space left on device")] * 2

    def flaky(target: Path, data: bytes, fsync: bool) -> None:
        if failures:
            raise failures.pop()
        real_write(target, data, fsync)

    monkeypatch.setattr(store_module, "_atomic_write", flaky)
    assert api("account_import", {"UserID": "alice"})["ErrorCode"] == 70500  # never OK
    assert "alice" not in emulator.store.accounts  # rolled back in memory
    assert api("account_import", {"UserID": "alice"})["ErrorCode"] == 70500  # the disk is still full
    call(api, "account_import", {"UserID": "alice"})  # the retry is applied and saved
    assert "alice" in make_emulator(state_path=path).store.accounts


def test_a_failed_write_on_shutdown_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emulator = make_emulator(state_path=tmp_path / "app.json")
    emulator.store.accounts["alice"] = {}
    emulator.store.changed()

    def full(target: Path, data: bytes, fsync: bool) -> NoReturn:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_module, "_atomic_write", full)
    with pytest.raises(StateFileError, match=r"cannot write emulator state file .* \(No space left"):
        emulator.close()


def _state(**override: Any) -> bytes:
    data = {"format": "chatsync-emulator-state", "version": 1, "sdkappid": 1400000000,
            "accounts": {"administrator": {}}, "bots": {}, "deleted": [], "kicked": {}}
    data.update(override)
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (_state(deleted=[{}]), "'deleted' holds something other than ids"),
        (_state(kicked={"administrator": "x"}), "'kicked' holds something other than unix times"),
        (_state(kicked={"administrator": True}), "'kicked' holds something other than unix times"),
        (_state(accounts={"a": {"Tag_Profile_IM_Nick": 5}}),
         "the profile of 'a' has a bad 'Tag_Profile_IM_Nick'"),
        (_state(accounts={"a": {"Tag_Profile_IM_Level": "x"}}), "has a bad 'Tag_Profile_IM_Level'"),
        (_state(accounts={"a": {"Tag_Unknown": "x"}}), "has a bad 'Tag_Unknown'"),
    ],
)
def test_state_contents_of_the_wrong_type_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(content)
    with pytest.raises(StateFileError, match=message.replace("(", r"\(")):
        Store(1400000000, ("administrator",), path)
    assert path.read_bytes() == content


@pytest.mark.parametrize("flag", ["--rate-limit-scale", "--fault-rate", "--latency-ms"])
def test_nan_flags_are_refused(flag: str) -> None:
    result = CliRunner().invoke(main, ["emulator", flag, "nan"], env={"CHATSYNC_SECRET_KEY": SECRET})
    assert result.exit_code == 1  # a usage error, as every error (never 2: docs/contract.md §2)
    assert "must be a number, not nan" in result.output


class FakeServer:
    """Stands in for the HTTP server so CLI tests need not bind a real address."""

    url = "http://203.0.113.7:8080"
    emulator: Emulator  # the last one made: what the command built
    limits: dict[str, Any]

    def __init__(self, emulator: Emulator, host: str, port: int, access_log: bool = False,
                 **limits: Any) -> None:
        FakeServer.emulator, FakeServer.limits = emulator, limits


@pytest.fixture
def fake_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    from chatsync.cli import emulator as command
    from chatsync.emulator import server

    monkeypatch.setattr(server, "EmulatorHTTPServer", FakeServer)
    monkeypatch.setattr(command, "_serve_until_signal", lambda server: None)


def test_a_non_loopback_host_warns(fake_serving: None) -> None:
    result = CliRunner().invoke(main, ["emulator", "--host", "203.0.113.7"],
                                env={"CHATSYNC_SECRET_KEY": SECRET})
    assert result.exit_code == 0, result.output
    assert "Warning: listening on 203.0.113.7, not loopback" in result.stderr
    assert result.stdout.startswith("chatsync emulator listening on http://203.0.113.7:8080")


def test_loopback_hosts_do_not_warn(fake_serving: None) -> None:
    result = CliRunner().invoke(main, ["emulator"], env={"CHATSYNC_SECRET_KEY": SECRET})
    assert result.exit_code == 0 and "Warning" not in result.stderr


def test_the_fault_seed_is_shown_when_none_was_given(fake_serving: None) -> None:
    result = CliRunner().invoke(main, ["emulator", "--fault-rate", "0.2"],
                                env={"CHATSYNC_SECRET_KEY": SECRET})
    seed = FakeServer.emulator.faults.seed
    expected = f"Injecting faults into 20% of calls with seed {seed} (--seed {seed} replays them)."
    assert expected in result.stderr


def test_custom_fields_and_no_fsync_reach_the_emulator(fake_serving: None, tmp_path: Path) -> None:
    args = ["emulator", "--custom-field", "Hobby", "--custom-field", "Team", "--custom-field", "Hobby",
            "--state", str(tmp_path / "app.json")]
    result = CliRunner().invoke(main, args, env={"CHATSYNC_SECRET_KEY": SECRET})
    assert result.exit_code == 0, result.output
    config = FakeServer.emulator.config
    assert config.custom_fields == ("Hobby", "Team") and config.fsync is True
    assert FakeServer.emulator.store.custom_fields == {"Hobby", "Team"}
    result = CliRunner().invoke(main, [*args, "--no-fsync"], env={"CHATSYNC_SECRET_KEY": SECRET})
    assert result.exit_code == 0 and FakeServer.emulator.store.fsync is False


def test_max_connections_reaches_the_server(fake_serving: None) -> None:
    result = CliRunner().invoke(main, ["emulator", "--max-connections", "7"],
                                env={"CHATSYNC_SECRET_KEY": SECRET})
    assert result.exit_code == 0, result.output
    assert FakeServer.limits == {"max_connections": 7}
    result = CliRunner().invoke(main, ["emulator"], env={"CHATSYNC_SECRET_KEY": SECRET})
    assert FakeServer.limits == {"max_connections": None}  # the server derives it from ulimit -n
