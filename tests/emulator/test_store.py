"""Persistence: state survives a restart; a bad state file is a clear error and stays untouched."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import pytest

from chatsync.emulator import Emulator
from chatsync.emulator.store import Store
from chatsync.errors import StateFileError
from tests.support import Api, make_emulator


def test_state_survives_a_restart(served: Callable[..., tuple[Emulator, Api]], tmp_path: Path) -> None:
    path = tmp_path / "app.json"
    _emulator, api = served(state_path=path)
    api("create_robot", {"UserID": "@RBT#one", "Nick": "One"})
    api("multiaccount_import", {"AccountList": [{"UserID": "alice", "Nick": "Alice"}, {"UserID": "bob"}]})
    api("portrait_set", {"From_Account": "bob", "ProfileItem": [
        {"Tag": "Tag_Profile_IM_SelfSignature", "Value": "hi ☃"}]})
    api("account_delete", {"DeleteItem": [{"UserID": "alice"}]})
    api("create_robot", {"UserID": "@RBT#two"})
    api("delete_robot", {"Robot_Account": "@RBT#two"})
    # no shutdown: every OK answer must already be on disk
    reborn = make_emulator(state_path=path)
    assert reborn.store.active_bots() == ["@RBT#one"]
    assert reborn.store.bots == {"@RBT#one": True, "@RBT#two": False}
    assert reborn.store.accounts["bob"] == {"Tag_Profile_IM_SelfSignature": "hi ☃"}
    assert "alice" not in reborn.store.accounts
    assert reborn.store.deleted == {"alice"}
    assert reborn.store.accounts["@RBT#one"] == {"Tag_Profile_IM_Nick": "One"}


def test_no_temporary_files_are_left(served: Callable[..., tuple[Emulator, Api]], tmp_path: Path) -> None:
    path = tmp_path / "app.json"
    _, api = served(state_path=path)
    for i in range(20):
        api("account_import", {"UserID": f"u{i}"})
    assert [p.name for p in tmp_path.iterdir()] == ["app.json"]


def test_reads_do_not_write(served: Callable[..., tuple[Emulator, Api]], tmp_path: Path) -> None:
    path = tmp_path / "app.json"
    _, api = served(state_path=path)
    api("account_import", {"UserID": "alice"})
    before = path.stat().st_mtime_ns
    api("get_all_robots", {})
    api("account_check", {"CheckItem": [{"UserID": "alice"}]})
    api("account_import", {"UserID": "alice"})  # a repeat changes nothing
    assert path.stat().st_mtime_ns == before


def test_missing_file_starts_empty_and_is_created_on_first_change(tmp_path: Path) -> None:
    path = tmp_path / "new.json"
    emulator = make_emulator(state_path=path)
    assert set(emulator.store.accounts) == {"administrator"}
    assert not path.exists()
    emulator.close()
    assert not path.exists()  # nothing changed, nothing written


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "is not valid JSON (line 1, column 2"),
        (b"\xff\xfe\x00", "is not UTF-8"),
        (b"[]", "is not a chatsync emulator state"),
        (b'{"format": "chatsync-emulator-state", "version": 9}', "unsupported version 9"),
        (json.dumps({"format": "chatsync-emulator-state", "version": 1, "sdkappid": 1400000000,
                     "accounts": [], "bots": {}, "deleted": [], "kicked": {}}).encode(),
         "'accounts' is missing or not a dict"),
        (json.dumps({"format": "chatsync-emulator-state", "version": 1, "sdkappid": 1400000000,
                     "accounts": {}, "bots": {"@RBT#x": True}, "deleted": [], "kicked": {}}).encode(),
         "a bot is missing from 'accounts'"),
    ],
)
def test_bad_state_file_is_a_clear_error_and_untouched(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(content)
    with pytest.raises(StateFileError) as caught:
        Store(1400000000, ("administrator",), path)
    text = str(caught.value)
    assert str(path) in text and message in text and "left untouched" in text
    assert "\n" not in text
    assert path.read_bytes() == content


def test_state_of_another_app_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    emulator = make_emulator(state_path=path)
    emulator.store.accounts["x"] = {}
    emulator.store.commit(emulator.store.changed())
    with pytest.raises(StateFileError, match="belongs to SDKAppID 1400000000, not 1400000001"):
        Store(1400000001, ("administrator",), path)


def test_a_directory_as_state_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StateFileError, match=r"is not a regular file \(it is a directory\)"):
        Store(1400000000, ("administrator",), tmp_path)  # a directory


def test_requests_that_saw_a_change_that_is_then_rolled_back_never_answer_ok(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A read or a repeat that saw alice in memory waits for her write; when it fails, they fail too."""
    import threading

    from chatsync.emulator import store as store_module
    from tests.support import api_for

    emulator = make_emulator(state_path=tmp_path / "app.json")
    entered, release = threading.Event(), threading.Event()

    def stuck_then_full(path: Path, data: bytes, fsync: bool) -> NoReturn:
        entered.set()
        assert release.wait(10)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_module, "_atomic_write", stuck_then_full)
    answers: dict[str, dict[str, Any]] = {}

    def send(label: str, name: str, body: dict[str, Any]) -> None:
        api = api_for(emulator)
        answers[label] = api(name, body)

    writer = threading.Thread(target=send, args=("import", "account_import", {"UserID": "alice"}))
    writer.start()
    assert entered.wait(10)  # alice is in memory, her write is on its way to a full disk
    others = [threading.Thread(target=send, args=args) for args in [
        ("check", "account_check", {"CheckItem": [{"UserID": "alice"}]}),
        ("repeat", "account_import", {"UserID": "alice"}),
    ]]
    for thread in others:
        thread.start()
    for thread in others:  # they saw alice and wait for her write
        thread.join(0.2)
        assert thread.is_alive()
    release.set()
    for thread in [writer, *others]:
        thread.join(10)
    assert {label: answer["ErrorCode"] for label, answer in answers.items()} == {
        "import": 70500, "check": 70500, "repeat": 70500}
    assert "alice" not in emulator.store.accounts
    monkeypatch.undo()
    api = api_for(emulator)
    assert api("account_check", {"CheckItem": [{"UserID": "alice"}]})["ResultItem"][0][
        "AccountStatus"] == "NotImported"
    assert api("account_import", {"UserID": "alice"})["ErrorCode"] == 0
    assert "alice" in make_emulator(state_path=tmp_path / "app.json").store.accounts


def test_concurrent_writers_share_one_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Group commit: writers that queue behind a write are saved together by the next one."""
    import threading

    from chatsync.emulator import store as store_module
    from tests.support import api_for

    emulator = make_emulator(state_path=tmp_path / "app.json")
    real_write = store_module._atomic_write
    gate, writes = threading.Event(), []

    def slow(path: Path, data: bytes, fsync: bool) -> None:
        writes.append(data)
        if len(writes) == 1:
            assert gate.wait(10)
        real_write(path, data, fsync)

    monkeypatch.setattr(store_module, "_atomic_write", slow)
    first = threading.Thread(target=lambda: api_for(emulator)("account_import", {"UserID": "u0"}))
    first.start()
    while not writes:
        threading.Event().wait(0.01)
    rest = [threading.Thread(target=lambda i=i: api_for(emulator)("account_import", {"UserID": f"u{i}"}))
            for i in range(1, 9)]
    for thread in rest:
        thread.start()
    while emulator.store.version < 9:  # every change is in memory, waiting
        threading.Event().wait(0.01)
    gate.set()
    for thread in [first, *rest]:
        thread.join(10)
    assert len(writes) == 2  # the first, then one for the eight that queued behind it
    assert {f"u{i}" for i in range(9)} <= set(make_emulator(state_path=tmp_path / "app.json").store.accounts)
