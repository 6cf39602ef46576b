"""``chatsync export --all-fields``: the live app as a config that validates and plans to no changes:
every live bot (declared or not), and the named accounts that exist, with their whole profiles.
(The default, only the fields that hold a value, and export with no config: test_adopt.py.)"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from chatsync.config.fmt import format_text
from chatsync.facts.fields import BY_NAME
from tests.apply.conftest import all_fields, assert_clean_error, write_config
from tests.support import WRITE_ENDPOINTS, App


def exported_profile(fields: Mapping[str, Any]) -> dict[str, Any]:
    """What export writes of a profile: every field, but an enum never set is left out (unmanaged)."""
    return {k: v for k, v in all_fields(fields).items() if not (BY_NAME[k].kind == "enum" and v == "")}

BOTS = {
    "@RBT#declared": {"nick": "Declared", "face_url": "https://img.example/d.png", "self_signature": "sig"},
    "@RBT#undeclared": {"nick": "Undeclared"},
    "@RBT#客服": {"nick": "客服 🤖", "self_signature": "您好"},
    "@RBT#10086": {},
}
ACCOUNTS = {
    "alice": {"nick": "Alice", "face_url": "https://img.example/a.png", "self_signature": "Hi"},
    "10086": {"nick": "China Mobile"},
    "007": {"nick": "007"},
    "élodie": {"nick": "Élodie", "self_signature": "Ça va ?"},
    "用户一": {"nick": "一"},
    "bob": {},
    "tricky": {"nick": "yes", "face_url": "null", "self_signature": "#1: a: b - [x] {y} 'q' \"dq\""},
    "numbers": {"nick": "123", "face_url": "1e3", "self_signature": "0x1F"},
    "spaces": {"nick": " leading and trailing ", "face_url": "~", "self_signature": "line one\nline two"},
    "unlisted": {"nick": "Not named anywhere"},
}
IDS_FILE = """\
# accounts to adopt
10086
élodie

用户一
  007
bob
tricky
numbers
spaces
ghost
alice
"""
NAMED = ["alice", "10086", "élodie", "用户一", "007", "bob", "tricky", "numbers", "spaces"]


@pytest.fixture
def app(serve: Callable[..., App]) -> App:
    app = serve()
    app.seed(BOTS, ACCOUNTS)
    return app


@pytest.fixture
def exported(app: App, tmp_path: Path) -> Path:
    config = write_config(tmp_path, bots={"@RBT#declared": {"nick": "Old"}},
                          accounts={"alice": {"nick": "Alice"}, "ghost2": {"state": "absent"}})
    ids = tmp_path / "ids.txt"
    ids.write_text(IDS_FILE, encoding="utf-8")
    out = tmp_path / "exported.yaml"
    result = app.cli("export", config, "--accounts-file", str(ids), "--out", str(out), "--skip-missing",
                     "--all-fields")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert 'account "ghost" does not exist in the app' in result.stderr  # named, never silently dropped
    assert "ghost2" not in result.stderr  # declared state: absent: its absence is expected
    return out


def test_export_is_valid_and_plans_to_no_changes(app: App, exported: Path) -> None:
    validated = app.cli("validate", str(exported))
    assert validated.exit_code == 0, (validated.stdout, validated.stderr)
    app.forget_calls()
    plan = app.cli("plan", str(exported), "--detailed-exitcode")
    assert plan.exit_code == 0, (plan.stdout, plan.stderr)
    assert plan.stdout.endswith("No changes. The app matches the configuration.\n")
    applied = app.cli("apply", str(exported), "--auto-approve")
    assert applied.exit_code == 0 and "Apply complete" not in applied.stdout
    assert not any(app.emulator.calls.get(name) for name in WRITE_ENDPOINTS)


def test_export_holds_every_live_bot_and_the_named_accounts_that_exist(app: App, exported: Path) -> None:
    document = yaml.safe_load(exported.read_text(encoding="utf-8"))
    assert document["version"] == 1
    assert document["app"]["sdkappid"] == 1400000000
    assert sorted(document["bots"]) == sorted(BOTS)
    for bot, fields in BOTS.items():
        assert document["bots"][bot] == exported_profile(fields), bot
    assert list(document["accounts"]) == NAMED  # config first, then the file; ghost and unlisted left out
    for user_id in NAMED:
        assert isinstance(user_id, str)
        assert document["accounts"][user_id] == exported_profile(ACCOUNTS[user_id]), user_id


def test_export_is_in_the_form_fmt_writes(exported: Path) -> None:
    text = exported.read_text(encoding="utf-8")
    assert format_text(str(exported), text.encode("utf-8")) == (text, [])


def test_export_keeps_unicode_and_numeric_looking_ids_as_text(exported: Path) -> None:
    text = exported.read_text(encoding="utf-8")
    assert "用户一" in text and "élodie" in text and "客服 🤖" in text  # readable, not \\u escapes
    document = yaml.safe_load(text)
    assert "10086" in document["accounts"] and 10086 not in document["accounts"]
    assert "007" in document["accounts"] and 7 not in document["accounts"]
    assert document["accounts"]["numbers"]["nick"] == "123"


def test_export_to_stdout_matches_the_file(app: App, exported: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path, bots={"@RBT#declared": {"nick": "Old"}},
                          accounts={"alice": {"nick": "Alice"}, "ghost2": {"state": "absent"}})
    result = app.cli("export", config, "--accounts-file", str(tmp_path / "ids.txt"), "--skip-missing",
                     "--all-fields")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == exported.read_text(encoding="utf-8")


def test_export_names_no_secret(app: App, exported: Path) -> None:
    text = exported.read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    assert document["app"]["secret_key_env"] == "CHATSYNC_SECRET_KEY"  # the name, never the key
    assert "usersig" not in text.lower()


def test_export_without_an_accounts_file_exports_the_declared_accounts(app: App, tmp_path: Path) -> None:
    config = write_config(tmp_path, accounts={"alice": None, "10086": {"nick": "x"}, "ghost": None})
    result = app.cli("export", config)
    assert result.exit_code == 1, result.stderr  # ghost is declared, and not in the app
    assert 'account "ghost" does not exist in the app' in result.stderr
    assert "--skip-missing" in result.stderr.splitlines()[-1]
    document = yaml.safe_load(result.stdout)  # the rest is still written
    assert list(document["accounts"]) == ["alice", "10086"]
    assert sorted(document["bots"]) == sorted(BOTS)


def test_export_of_a_missing_accounts_file_is_a_clear_error(app: App, tmp_path: Path) -> None:
    config = write_config(tmp_path, accounts={"alice": None})
    missing = str(tmp_path / "nope.txt")
    assert_clean_error(app.cli("export", config, "--accounts-file", missing), "cannot read", missing)
    assert not (tmp_path / "exported.yaml").exists()


def test_export_with_a_wrong_key_writes_no_file(app: App, tmp_path: Path) -> None:
    config = write_config(tmp_path, accounts={"alice": None})
    out = tmp_path / "out.yaml"
    result = app.cli("export", config, "--out", str(out), env=app.env(CHATSYNC_SECRET_KEY="not-the-key-42"))
    assert_clean_error(result, "70009")
    assert not out.exists()


def test_ids_that_cannot_be_exported_are_listed_with_why(app: App, tmp_path: Path) -> None:
    config = write_config(tmp_path, accounts={"alice": None})
    ids = tmp_path / "ids.txt"
    ids.write_text("@RBT#declared\n@TLS#system\n" + "x" * 40 + "\nnobody\nbob\n", encoding="utf-8")
    result = app.cli("export", config, "--accounts-file", str(ids))
    assert result.exit_code == 1
    listed = result.stderr.splitlines()
    assert listed[0] == "Left out of the export (4 named accounts):"
    assert '  account "@RBT#declared" is a bot id (every live bot is exported anyway)' in listed
    assert '  account "@TLS#system" starts with the reserved prefix @TLS#' in listed
    too_long = f'  account "{"x" * 40}" is not a valid UserID: it is 40 bytes'
    assert any(line.startswith(too_long) for line in listed)
    assert '  account "nobody" does not exist in the app' in listed
    assert listed[-1].startswith("Error: 4 named account(s) could not be exported")
    assert "Traceback" not in result.stderr
    assert sorted(yaml.safe_load(result.stdout)["accounts"]) == ["alice", "bob"]
    skipped = app.cli("export", config, "--accounts-file", str(ids), "--skip-missing")
    assert skipped.exit_code == 0 and skipped.stdout == result.stdout


@pytest.mark.parametrize("which", ["config", "accounts-file", "directory member"])
def test_out_naming_an_input_file_is_refused_and_the_input_kept(app: App, tmp_path: Path, which: str) -> None:
    config = write_config(tmp_path, accounts={"alice": None})
    ids = tmp_path / "ids.txt"
    ids.write_text("bob\n", encoding="utf-8")
    target = {"config": config, "accounts-file": str(ids), "directory member": config}[which]
    given = str(tmp_path) if which == "directory member" else config
    before = Path(target).read_text(encoding="utf-8")
    result = app.cli("export", given, "--accounts-file", str(ids), "--out", target)
    assert_clean_error(result, "is one of the input files")
    assert Path(target).read_text(encoding="utf-8") == before
    assert sum(app.emulator.calls.values()) == 0  # refused before reading anything
