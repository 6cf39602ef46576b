"""The --state file is checked at start as strictly as a config: one clear line, exit 1, untouched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from chatsync.emulator.store import Store
from chatsync.errors import StateFileError
from tests.support import SECRET


def state(**override: Any) -> dict[str, Any]:
    data = {"format": "chatsync-emulator-state", "version": 1, "sdkappid": 1400000000,
            "accounts": {"administrator": {}, "alice": {}, "@RBT#b": {}}, "bots": {"@RBT#b": True},
            "deleted": ["old"], "kicked": {"alice": 1_600_000_000}}
    data.update(override)
    return data


def refused(path: Path, message: str, **store: Any) -> str:
    with pytest.raises(StateFileError) as caught:
        Store(1400000000, ("administrator",), path, **store)
    text = str(caught.value)
    assert message in text, text
    assert str(path) in text and "\n" not in text
    return text


def test_a_valid_state_loads(tmp_path: Path) -> None:
    path = tmp_path / "app.json"
    path.write_text(json.dumps(state()))
    store = Store(1400000000, ("administrator",), path)
    assert store.active_bots() == ["@RBT#b"] and store.deleted == {"old"}


@pytest.mark.parametrize(("override", "message"), [
    ({"extra": 1}, "unknown key 'extra'"),
    ({"sdkappid": True}, "'sdkappid' is missing or not a int"),
    ({"accounts": {"x" * 33: {}}}, "is 33 bytes long"),
    ({"accounts": {"": {}}}, "is empty"),
    ({"accounts": {"a\nb": {}}}, "non-printable"),
    ({"accounts": {"@TLS#x": {}}}, "starts with @TLS#"),
    ({"accounts": {"administrator": {}, "@RBT#x": {}}, "bots": {}}, "starts with @RBT#"),
    ({"bots": {"@RBT#b": True, "alice": True}}, "the bot 'alice' does not start with @RBT#"),
    ({"bots": {"@RBT#b": 1}}, "a bot's status is not true/false"),
    ({"accounts": {"a": {"Tag_Profile_IM_Gender": "Male"}}}, "has a bad 'Tag_Profile_IM_Gender'"),
    ({"accounts": {"a": {"Tag_Profile_IM_Nick": "x" * 501}}}, "has a bad 'Tag_Profile_IM_Nick'"),
    ({"accounts": {"a": {"Tag_Profile_IM_Level": 2**32}}}, "has a bad 'Tag_Profile_IM_Level'"),
    ({"accounts": {"a": {"Tag_Profile_Custom_Hobby": "x"}}}, "--custom-field Hobby"),
    ({"deleted": ["alice"]}, "'alice' is both an account and in 'deleted'"),
    ({"deleted": ["x", "x"]}, "'deleted' names an id twice"),
    ({"deleted": ["x" * 40]}, "is not a valid UserID"),
    ({"kicked": {"bob": 1}}, "'kicked' names 'bob', which is not an account"),
    ({"kicked": {"alice": -1}}, "is not between 0 and now"),
    ({"kicked": {"alice": 2**40}}, "is not between 0 and now"),
])
def test_out_of_range_or_inconsistent_values_are_refused(tmp_path: Path, override: dict[str, Any],
                                                         message: str) -> None:
    path = tmp_path / "app.json"
    content = json.dumps(state(**override)).encode()
    path.write_bytes(content)
    text = refused(path, message)
    assert "left untouched" in text
    assert path.read_bytes() == content


def test_a_kick_in_the_future_is_refused_not_a_70052_for_every_call(tmp_path: Path) -> None:
    path = tmp_path / "app.json"
    path.write_text(json.dumps(state(kicked={"administrator": int(time.time()) + 3600})))
    refused(path, "the kick of 'administrator' is at unix time")


@pytest.mark.parametrize(("raw", "message"), [
    (json.dumps(state(accounts={"administrator": {}, "a\ud800": {}}, bots={})).encode(),
     "lone UTF-16 surrogate"),
    (b'{"format": "chatsync-emulator-state", "version": 1, "sdkappid": 1400000000, "accounts": '
     b'{"a": {"Tag_Profile_IM_Nick": "x\\udc00"}}, "bots": {}, "deleted": [], "kicked": {}}',
     "lone UTF-16 surrogate"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"format": NaN}', "NaN is not a JSON value"),
    (b"\xc3\x28", "is not UTF-8 text (byte 0)"),
])
def test_text_that_is_not_unicode_or_not_json_is_refused(tmp_path: Path, raw: bytes, message: str) -> None:
    path = tmp_path / "app.json"
    path.write_bytes(raw)
    refused(path, message)
    assert path.read_bytes() == raw


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "app.json"
    os.mkfifo(fifo)
    refused(fifo, "is not a regular file (it is a named pipe)")


def test_the_cli_refuses_a_bad_state_file_with_one_line_and_exit_1(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    surrogate = tmp_path / "surrogate.json"
    surrogate.write_bytes(json.dumps(state(accounts={"administrator": {}, "a\udfff": {}}, bots={})).encode())
    for path, message in [(fifo, "is not a regular file"), (surrogate, "lone UTF-16 surrogate"),
                          (tmp_path, "is not a regular file (it is a directory)")]:
        process = subprocess.run(
            [sys.executable, "-m", "chatsync", "emulator", "--port", "0", "--state", str(path)],
            capture_output=True, text=True, timeout=20, env={**os.environ, "CHATSYNC_SECRET_KEY": SECRET},
        )
        assert process.returncode == 1, process.stderr
        assert process.stdout == ""
        lines = process.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"Error: emulator state file {path} "), lines
        assert message in lines[0]


@pytest.mark.parametrize("key", ["", "Tag_Profile_Custom_Hobby", "hobby1", "Toolongkey", "ÄÖ"])
def test_a_bad_custom_field_key_is_a_clear_error(key: str) -> None:
    process = subprocess.run(
        [sys.executable, "-m", "chatsync", "emulator", "--port", "0", "--custom-field", key],
        capture_output=True, text=True, timeout=20, env={**os.environ, "CHATSYNC_SECRET_KEY": SECRET},
    )
    assert process.returncode == 1
    assert process.stderr.startswith(f"Error: --custom-field {key!r} ") and "Traceback" not in process.stderr


def test_the_cli_starts_from_a_seed_state_and_never_writes_it(tmp_path: Path) -> None:
    """``--seed-state``: the app starts as the file says (its accounts, bots and groups); changes
    stay in memory, the file is only read; a missing file is a one-line error."""
    from chatsync.tencent.api import ChatApi
    from chatsync.tencent.client import Client
    from chatsync.tencent.credentials import SigCache
    from chatsync.tencent.groups import GroupApi
    from chatsync.tencent.target import Target

    group = {"Type": "Public", "Name": "Lobby", "Introduction": "", "Notification": "", "FaceUrl": "",
             "Owner_Account": "alice", "CreateTime": 1_700_000_000, "InfoSeq": 1,
             "LastInfoTime": 1_700_000_000,
             "LastMsgTime": 0, "NextMsgSeq": 1, "MaxMemberNum": 2000, "ApplyJoinOption": "NeedPermission",
             "ShutUpAllMember": "Off", "Active": True, "Seq": 1,
             "Members": {"alice": {"Role": "Owner", "JoinTime": 1_700_000_000},
                         "@RBT#b": {"Role": "Member", "JoinTime": 1_700_000_000}}}
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(state(groups={"lobby": group}, group_seq=1)), encoding="utf-8")
    before = seed.read_bytes()
    env = {**os.environ, "CHATSYNC_SECRET_KEY": SECRET}
    process = subprocess.Popen([sys.executable, "-m", "chatsync", "emulator", "--port", "0",
                                "--rate-limit-scale", "inf", "--seed-state", str(seed)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip().rsplit(" ", 1)[-1]
        with Client(Target((url,), "test"), SigCache(1400000000, "administrator", SECRET)) as client:
            assert ChatApi(client).get_all_robots() == ["@RBT#b"]
            groups = GroupApi(client)
            lobby = groups.get_group_info(["lobby"])["lobby"].group
            assert lobby is not None and lobby.members == {"alice": "Owner",
                                                                               "@RBT#b": "Member"}
            groups.destroy_group("lobby")
            assert groups.list_group_ids() == []
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert seed.read_bytes() == before
    missing = subprocess.run([sys.executable, "-m", "chatsync", "emulator", "--port", "0", "--seed-state",
                              str(tmp_path / "none.json")],
                             capture_output=True, text=True, timeout=20, env=env)
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"Error: emulator seed file {tmp_path / 'none.json'} does not exist"
