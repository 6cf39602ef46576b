"""The loader on good configs, on byte-level traps, and on rules that span files."""

from __future__ import annotations

import builtins
import io
import os
from pathlib import Path
from typing import Any

import pytest

from chatsync.config import ConfigError, load
from chatsync.domain.model import Principal
from chatsync.errors import Location

GOOD = Path(__file__).parent / "corpus" / "good"
APP = "version: 1\napp:\n  sdkappid: 1400000000\n"


def write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def problems(paths: list[str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(paths)
    return [str(p) for p in caught.value.problems]


# -- good configs --------------------------------------------------------------------------


def test_cjk_ids_and_values_at_exactly_the_byte_limits() -> None:
    state = load([GOOD / "cjk_limits.yaml"])
    (bot,) = state.bots.values()
    assert len(bot.user_id.encode()) == 32 and bot.fields == {"nick": "客服"}
    alice = state.accounts["张三李四王五赵六钱七ab"]
    assert len(alice.user_id.encode()) == 32
    assert isinstance(nick := alice.fields["nick"], str) and len(nick.encode()) == 500
    assert alice.fields["self_signature"] == ""  # managed, empty
    assert "face_url" not in alice.fields  # unmanaged
    assert state.accounts["1"].fields == {}
    assert state.app.region == "singapore"


def test_merge_keys_numeric_keys_and_case_sensitive_ids() -> None:
    state = load([GOOD / "merge_keys.yaml"])
    accounts = state.accounts
    assert dict(accounts["alice"].fields) == {
        "nick": "Alice",
        "face_url": "https://example.com/default.png",
        "self_signature": "Hello",
    }
    assert accounts["bob"].fields["face_url"] == "https://example.com/bob.png"  # explicit wins
    assert "12345" in accounts and "007" in accounts  # ids as written, not 12345 / 7
    assert "Alice" in accounts and "alice" in accounts
    assert accounts["dave"].fields == {"nick": "Carol"}
    assert state.bots == {}
    app = state.app
    assert app.admin == "ops_admin" and app.protected_ids == {"ops_admin", "alice"}
    assert app.max_deletes == 0 and app.prune_bots is True
    assert app.secret_key_env == "MY_APP_SECRET"
    assert dict(app.rates) == {"portrait_set": 500, "multiaccount_import": 200}


def test_split_directory_in_name_order_ignoring_other_files() -> None:
    directory = GOOD / "split"
    state = load([str(directory)])
    assert state.sources == tuple(
        str(directory / n) for n in ("10-app.yaml", "20-bots.yml", "30-accounts.yaml")
    )
    assert list(state.bots) == ["@RBT#support", "@RBT#old"]
    assert state.bots["@RBT#old"].state == "absent"
    assert "hidden" not in state.accounts
    assert state.app.endpoint == "http://localhost:8080/"
    assert state.summary() == "1 app, 2 bots, 2 accounts (2 to delete) in 3 files"
    assert state.accounts["alice"].location == Location(str(directory / "30-accounts.yaml"), 3, 3)


def test_defaults_and_null_sections(tmp_path: Path) -> None:
    state = load([write(tmp_path, "c.yaml", APP + "bots:\naccounts:\n  bob:\n")])
    app = state.app
    assert (app.region, app.endpoint, app.admin) == ("china", None, "administrator")
    assert (app.secret_key_env, app.prune_bots, app.max_deletes) == ("CHATSYNC_SECRET_KEY", False, 10)
    assert app.protected_ids == {"administrator"}
    assert state.accounts["bob"] == Principal("account", "bob")


def test_bom_and_crlf_are_accepted(tmp_path: Path) -> None:
    text = ("\ufeff" + APP + "accounts:\n  alice:\n    nick: A\n").replace("\n", "\r\n")
    state = load([write(tmp_path, "c.yaml", text.encode("utf-8"))])
    assert state.accounts["alice"].location == Location(str(tmp_path / "c.yaml"), 5, 3)


def test_same_file_twice_is_read_once(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", APP + "accounts:\n  a:\n")
    assert load([path, path, tmp_path]).sources == (path,)


def test_default_path_is_chatsync_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "chatsync.yaml").write_text(APP)
    assert load([]).sources == ("chatsync.yaml",)


def test_a_large_config_loads_whole(tmp_path: Path) -> None:
    """100,000 accounts load, each with its fields. How fast is bench/'s business (bench/plan_speed.py,
    bench/commands.py time it as a whole command), not a timed assertion here: a shared machine
    running slow failed the 10 s bound this test once had with nothing wrong in the code."""
    lines = [APP, "accounts:\n"]
    entry = "  user{0}:\n    nick: User {0}\n    face_url: https://e.com/{0}.png\n"
    lines += [entry.format(i) for i in range(100_000)]
    path = write(tmp_path, "big.yaml", "".join(lines))
    state = load([path])
    assert state.account_count == 100_000
    assert state.accounts["user99999"].fields["nick"] == "User 99999"


# -- located errors that are not single-file corpus cases -----------------------------------


def test_missing_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert problems([]) == [
        "chatsync.yaml: no such file in this directory; create it, or pass your config files or directories "
        "(e.g. bots envs/prod)"
    ]


def test_missing_and_empty_paths(tmp_path: Path) -> None:
    (tmp_path / "empty_dir").mkdir()
    got = problems(["nope.yaml", str(tmp_path / "empty_dir")])
    assert got == [
        "nope.yaml: no such file or directory; check the path",
        f"{tmp_path / 'empty_dir'}: no *.yaml or *.yml files in this directory; pass the "
        "directory that holds the config files",
    ]


def test_relative_paths_are_kept_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "config/a.yaml", APP + "accounts:\n  alice: {nik: A}\n")
    assert problems(["config/"])[0].startswith("config/a.yaml:5:11: unknown field 'nik'")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "1:1: the file is empty; add version: 1"),
        (b"  \n\n", "1:1: the file is empty"),
        (b"# only a comment\n", "1:1: the file has no content (only comments)"),
        (
            b"version: 1\naccounts:\n  caf\xe9:\n",
            "3:6: this byte (0xe9) is not valid UTF-8; save the file as UTF-8",
        ),
        ("\ufeffversion: 1".encode("utf-16"), "1:1: the file is UTF-16 or UTF-32; save it as UTF-8"),
        (b"version: 1\nx: \x01\n", "2:4: the character U+0001 (a control or non-character) is not allowed"),
        (b"hello\n", " is not a chatsync config: it has no version: at its top"),
        (
            b"version: 1\napp:\n\tsdkappid: 1\n",
            "3:1: a tab character is used for indentation; indent with spaces",
        ),
    ],
)
def test_byte_level_traps(tmp_path: Path, data: bytes, expected: str) -> None:
    path = write(tmp_path, "c.yaml", data)
    (got,) = problems([path])
    assert got.startswith(f"{path}:{expected}")


def test_deep_nesting_is_a_located_error(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", APP + "x-deep: " + "[" * 100 + "]" * 100 + "\n")
    (got,) = problems([path])
    assert got.startswith(f"{path}:4:") and "nesting is deeper than 64 levels" in got


def test_absurd_nesting_is_one_located_line(tmp_path: Path) -> None:
    # 100,000 levels: the YAML library may stop first with its own words (libyaml caps flow
    # nesting); either way it is one line at the right place, never a crash of the C stack.
    path = write(tmp_path, "c.yaml", APP + "x-deep: " + "[" * 100_000 + "]" * 100_000 + "\n")
    (got,) = problems([path])
    assert got.startswith(f"{path}:4:") and "\n" not in got


def test_app_twice_names_both_places(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", APP)
    b = write(tmp_path, "b.yaml", "version: 1\n\napp:\n  sdkappid: 1400000000\n")
    assert problems([a, b]) == [
        f"{b}:3:1: a second app: section; the first is at {a}:2:1; keep exactly one app: section "
        "across all files"
    ]


def test_no_app_names_the_files_read(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "version: 1\naccounts:\n  alice:\n")
    b = write(tmp_path, "b.yaml", "version: 1\nbots:\n")
    assert problems([a, b]) == [
        f"{a}:1:1: no app: section in {a}, {b}; add one (with at least sdkappid) to exactly one file"
    ]


def test_no_app_is_not_reported_when_a_file_could_not_be_read(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "version: 1\naccounts:\n  alice:\n")
    b = write(tmp_path, "b.yaml", "version: 1\napp: [\n")
    got = problems([a, b])
    assert len(got) == 1 and got[0].startswith(f"{b}:3:1: YAML syntax error")


def test_id_declared_in_two_files(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", APP + "accounts:\n  x: {}\n  alice:\n    nick: A\n")
    b = write(tmp_path, "b.yaml", "version: 1\naccounts:\n  alice:\n")
    assert problems([a, b]) == [
        f'{b}:3:3: account "alice" is already declared at {a}:6:3; declare each id once'
    ]


def test_bot_limit_counts_across_files_and_ignores_absent(tmp_path: Path) -> None:
    bots = "".join(f'  "@RBT#a{i}":\n' for i in range(15))
    more = "".join(f'  "@RBT#b{i}":\n' for i in range(5)) + '  "@RBT#gone": {state: absent}\n'
    a = write(tmp_path, "a.yaml", APP + "bots:\n" + bots)
    b = write(tmp_path, "b.yaml", "version: 1\n\nbots:\n" + more)
    assert load([a, b]).bot_count == 21  # 20 present + 1 absent
    c = write(tmp_path, "c.yaml", 'version: 1\nbots:\n  "@RBT#c":\n')
    assert problems([a, b, c]) == [
        f'{c}:2:1: 21 bots are declared present (the 21st is "@RBT#c"); an app can have at '
        "most 20 bots: remove some or mark them state: absent. Counted: "
        + ", ".join([*(f'"@RBT#a{i}"' for i in range(15)), *(f'"@RBT#b{i}"' for i in range(5)), '"@RBT#c"'])
    ]


def test_every_problem_of_every_file_is_reported(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", APP + "accounts:\n  alice: {nik: A, nick: yes}\n")
    b = write(tmp_path, "b.yaml", "version: 3\nbots:\n  support:\n")
    got = problems([a, b])
    assert [g.split(": ", 1)[0] for g in got] == [
        f"{a}:5:11",
        f"{a}:5:25",
        f"{b}:1:10",
        f"{b}:3:3",
    ]


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # chmod 0 does not stop root (CI runs as root), so the read itself is made to fail.
    path = write(tmp_path, "c.yaml", APP)
    real_open = os.open

    def fake_open(name: str, *args: object, **kwargs: object) -> int:
        if str(name) == path:
            raise PermissionError(13, "Permission denied", path)
        return real_open(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", fake_open)
    (got,) = problems([path])
    assert got.startswith(f"{path}: cannot read it (")
    assert "Permission denied" in got


# -- paths that are not regular files --------------------------------------------------------


def test_a_device_is_refused_without_reading_it() -> None:
    # /dev/zero never ends: reading it used to end in a MemoryError traceback
    assert problems(["/dev/zero"]) == [
        "/dev/zero: is a device, not a regular file; pass a config file or a directory of them"
    ]


def never_opened_blocking(monkeypatch: pytest.MonkeyPatch, fifo: Path) -> None:
    """Make any open of ``fifo`` that could wait for a writer (any but a non-blocking ``os.open``)
    fail the test at once, instead of hanging it."""
    real_os_open, real_io_open = os.open, io.open

    def os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        assert not (os.fspath(path) == str(fifo) and not flags & os.O_NONBLOCK), "opened the FIFO, blocking"
        return real_os_open(path, flags, *args, **kwargs)

    def io_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        assert not (isinstance(file, (str, os.PathLike)) and os.fspath(file) == str(fifo)), \
            "opened the FIFO, blocking"
        return real_io_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(io, "open", io_open)
    monkeypatch.setattr(builtins, "open", io_open)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_blocking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fifo = tmp_path / "c.yaml"
    os.mkfifo(fifo)
    never_opened_blocking(monkeypatch, fifo)
    (got,) = problems([str(fifo)])  # opening a FIFO for reading used to wait for a writer forever
    assert got.startswith(f"{fifo}: is a named pipe (FIFO), not a regular file;")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_inside_a_directory_is_reported_not_opened(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    good = write(tmp_path, "a.yaml", APP)
    os.mkfifo(tmp_path / "b.yaml")
    never_opened_blocking(monkeypatch, tmp_path / "b.yaml")
    (got,) = problems([str(tmp_path)])
    assert got.startswith(f"{tmp_path / 'b.yaml'}: is a named pipe (FIFO), not a regular file;")
    assert good


def test_an_empty_path_is_an_error_not_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "c.yaml", APP)
    (got,) = problems([""])
    assert got.startswith('"": an empty path was given; pass config files or directories')


def test_a_file_over_the_size_cap_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from chatsync.config import loader

    monkeypatch.setattr(loader, "MAX_FILE_BYTES", 100)
    path = write(tmp_path, "c.yaml", APP + "#" * 200 + "\n")
    (got,) = problems([path])
    assert got.startswith(f"{path}: the file is 0 MiB; a config file may be at most 0 MiB")


# -- order, anchors, byte limits in 4-byte characters ----------------------------------------


def test_problems_are_listed_in_the_order_the_files_were_given(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", APP)
    b = write(tmp_path, "b.yaml", "version: 1\naccounts:\n  bob: {nick: yes}\n")
    c = write(tmp_path, "c.yaml", "version: 2\n")
    missing = str(tmp_path / "missing.yaml")
    # b's problem is found after c's (the cross-file check of app comes last); order follows the arguments
    got = problems([c, missing, b, a.replace("a.yaml", "a.yaml")])
    assert [line.split(":")[0] for line in got] == [c, missing, b]


def test_anchors_do_not_cross_files(tmp_path: Path) -> None:
    defaults = write(tmp_path, "a.yaml", APP + "x-d: &defaults {nick: D}\n")
    use = write(tmp_path, "b.yaml", "version: 1\naccounts:\n  alice:\n    <<: *defaults\n")
    (got,) = problems([defaults, use])
    assert got.startswith(f"{use}:4:9: the alias *defaults refers to no anchor; define &defaults above")
    assert "(anchors do not cross files)" in got


def test_four_byte_characters_at_the_byte_limits() -> None:
    state = load([GOOD / "emoji_limits.yaml"])
    (user_id,) = state.accounts
    assert len(user_id.encode()) == 32 and len(user_id) == 8
    assert isinstance(nick := state.accounts[user_id].fields["nick"], str) and len(nick.encode()) == 500
    assert len(state.bots["@RBT#🤖🤖🤖🤖🤖🤖a"].user_id.encode()) == 30


def test_four_byte_characters_over_the_byte_limits(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", APP + f"accounts:\n  {'😀' * 8}a:\n  b:\n    nick: {'😀' * 125}a\n")
    got = problems([path])
    assert got[0].startswith(f'{path}:5:3: account id "{"😀" * 8}a" is 33 bytes long')
    assert got[1].startswith(f'{path}:7:11: account "b" nick is 501 bytes long')


def test_accepted_secret_key_env_names(tmp_path: Path) -> None:
    for name in ("CHATSYNC_SECRET_KEY", "TENCENT_IM_KEY_PROD", "MY_APP_SECRET_2", "_X"):
        path = write(tmp_path, "c.yaml", APP + f"  secret_key_env: {name}\n")
        assert load([path]).app.secret_key_env == name
