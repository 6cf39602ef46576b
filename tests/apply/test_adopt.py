"""Adopting a live app (docs/adopting.md): ``chatsync export`` with no config, only the fields that
hold a value, the objects alone (``--no-app``) planned beside a hand-written app file to "No changes"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from chatsync.config.fmt import format_text
from tests.apply.conftest import assert_clean_error
from tests.support import SDKAPPID, WRITE_ENDPOINTS, App

Serve = Callable[..., App]
#: The app adopted, its accounts and the file naming them.
Adopted = tuple[App, dict[str, dict[str, str]], Path]

BOTS = {"@RBT#support": {"nick": "Support", "face_url": "https://img.example/s.png"},
        "@RBT#news": {"nick": "News"},
        "@RBT#bare": {}}


def accounts(count: int) -> dict[str, dict[str, str]]:
    """Accounts with a few fields set each (the nick always; some an avatar or a signature)."""
    made = {}
    for i in range(count):
        fields = {"nick": f"User {i}"}
        if i % 3 == 0:
            fields["face_url"] = f"https://img.example/{i}.png"
        if i % 5 == 0:
            fields["self_signature"] = "yes"  # text YAML would read as a boolean: quoted
        made[f"user{i:04d}"] = fields
    return made


@pytest.fixture
def adopted(serve: Serve, tmp_path: Path) -> Adopted:
    app = serve(custom_fields=("Dept",))
    live = accounts(500)
    app.seed(BOTS, live)
    for i in range(0, 500, 50):  # a custom key and two typed fields on some
        app.api.portrait_set(f"user{i:04d}", {"custom.Dept": "Sales", "gender": "female", "level": 3})
    app.forget_calls()
    ids = tmp_path / "ids.txt"
    ids.write_text("".join(f"{user_id}\n" for user_id in live), encoding="utf-8")
    return app, live, ids


def test_an_app_exported_with_no_config_plans_to_no_changes_beside_a_hand_written_app(
        adopted: Adopted, tmp_path: Path) -> None:
    app, live, ids = adopted
    out = tmp_path / "accounts.yaml"
    env = app.env(CHATSYNC_ENDPOINT=None)  # the endpoint from the flag
    result = app.cli("export", "--sdkappid", str(SDKAPPID), "--endpoint", app.url, "--custom-field", "Dept",
                     "--accounts-file", str(ids), "--no-app", "--out", str(out), env=env)
    assert result.exit_code == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert format_text(str(out), text.encode("utf-8")) == (text, [])  # fmt's canonical form already
    document = yaml.safe_load(text)
    assert set(document) == {"version", "bots", "accounts"}  # no app: it plans beside the user's
    assert document["accounts"]["user0000"] == {"nick": "User 0", "face_url": "https://img.example/0.png",
                                                "self_signature": "yes", "gender": "female", "level": 3,
                                                "custom": {"Dept": "Sales"}}
    assert document["accounts"]["user0001"] == {"nick": "User 1"}  # unset fields stay unmanaged
    assert document["bots"]["@RBT#bare"] is None
    assert "birthday" not in text and "location" not in text and "allow_type" not in text

    # at most one line per set field: each object's id, its set fields, and custom: above custom keys
    set_fields = sum(len(fields) for fields in [*BOTS.values(), *live.values()]) + 10 * 3
    structure = len(BOTS) + len(live) + 10  # the ids, and custom: on the ten accounts with a custom key
    header = 2 + 3  # the comment lines, then version:, bots:, accounts:
    assert len(text.splitlines()) == header + structure + set_fields

    app_file = tmp_path / "app.yaml"
    app_file.write_text(f"version: 1\napp:\n  sdkappid: {SDKAPPID}\n  endpoint: {app.url}\n"
                        "  custom_fields: [Dept]\n", encoding="utf-8")
    planned = app.cli("plan", str(app_file), str(out), "--detailed-exitcode", env=env)
    assert planned.exit_code == 0, (planned.stdout, planned.stderr)
    assert planned.stdout.endswith("No changes. The app matches the configuration.\n")
    assert not any(app.emulator.calls.get(name) for name in WRITE_ENDPOINTS)


def test_with_the_app_section_the_export_is_a_whole_config(adopted: Adopted, tmp_path: Path) -> None:
    app, _, ids = adopted
    result = app.cli("export", "--sdkappid", str(SDKAPPID), "--region", "singapore",
                     "--secret-key-env", "CHATSYNC_SECRET_KEY", "--accounts-file", str(ids))
    assert result.exit_code == 0, result.stderr
    document = yaml.safe_load(result.stdout)
    assert document["app"] == {"sdkappid": SDKAPPID, "region": "singapore",
                               "secret_key_env": "CHATSYNC_SECRET_KEY"}
    out = tmp_path / "whole.yaml"
    out.write_text(result.stdout, encoding="utf-8")
    planned = app.cli("plan", str(out), "--detailed-exitcode")  # CHATSYNC_ENDPOINT: the emulator
    assert planned.exit_code == 0 and "No changes." in planned.stdout, planned.stderr


def test_fields_picks_the_fields_and_all_fields_writes_the_unset_ones(adopted: Adopted) -> None:
    app, _, ids = adopted
    base = ("export", "--sdkappid", str(SDKAPPID), "--custom-field", "Dept", "--accounts-file", str(ids),
            "--no-app")
    picked = yaml.safe_load(app.cli(*base, "--fields", "nick,custom.Dept").stdout)
    assert picked["accounts"]["user0000"] == {"nick": "User 0", "custom": {"Dept": "Sales"}}
    assert picked["accounts"]["user0001"] == {"nick": "User 1"}
    assert picked["bots"]["@RBT#support"] == {"nick": "Support"}
    every = yaml.safe_load(app.cli(*base, "--fields", "nick,birthday", "--all-fields").stdout)
    assert every["accounts"]["user0001"] == {"nick": "User 1", "birthday": 0}  # managed, as unset


@pytest.mark.parametrize(("args", "message"), [
    (("--region", "singapore"), "--region describes an app with no config: it goes with --sdkappid"),
    (("--sdkappid", "1400000000", "config.yaml"), "--sdkappid exports an app with no config"),
    (("--sdkappid", "1400000000", "--region", "singapore", "--endpoint", "http://127.0.0.1:1"),
     "--region and --endpoint both say where the app is"),
    (("--sdkappid", "1400000000", "--endpoint", "http://example.com"), "--endpoint: "),
    (("--sdkappid", "1400000000", "--fields", "nik"), "--fields: unknown field \"nik\""),
    (("--sdkappid", "1400000000", "--custom-field", "Dept-1"), "--custom-field \"Dept-1\""),
    ((), "no chatsync.yaml here: pass config PATHS, or export an app with no config"),
])
def test_flags_that_do_not_fit_are_usage_errors(serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             args: list[str], message: str) -> None:
    app = serve()
    monkeypatch.chdir(tmp_path)
    result = app.cli("export", *args)
    assert result.exit_code == 1, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert sum(app.emulator.calls.values()) == 0


def test_with_no_config_a_missing_key_fails_before_any_call(serve: Serve, tmp_path: Path) -> None:
    app = serve()
    result = app.cli("export", "--sdkappid", str(SDKAPPID), env=app.env(CHATSYNC_SECRET_KEY=None))
    assert_clean_error(result, "CHATSYNC_SECRET_KEY is not set")
    assert sum(app.emulator.calls.values()) == 0
    named = app.cli("export", "--sdkappid", str(SDKAPPID), "--secret-key-env", "OTHER_KEY")
    assert_clean_error(named, "OTHER_KEY is not set")


def test_the_default_export_of_a_config_writes_only_set_fields(serve: Serve, tmp_path: Path) -> None:
    app = serve()
    app.seed({"@RBT#support": {"nick": "Support"}}, {"alice": {"nick": "Alice"}})
    config = tmp_path / "chatsync.yaml"
    config.write_text(f"version: 1\napp:\n  sdkappid: {SDKAPPID}\naccounts:\n  alice:\n", encoding="utf-8")
    result = app.cli("export", str(config))
    assert result.exit_code == 0, result.stderr
    assert yaml.safe_load(result.stdout)["accounts"] == {"alice": {"nick": "Alice"}}
    assert "face_url" not in result.stdout
