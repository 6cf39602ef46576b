"""``chatsync plan`` exit codes (docs/contract.md §2) and its failures: short, on stderr, no secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cli_plan.conftest import accounts_yaml, app_yaml, assert_clean_failure, write_config
from tests.support import refused_port

NO_CHANGES = "No changes. The app matches the configuration.\n"
SUMMARY = "Plan: 1 to create, 1 to update, 0 to delete."

CHANGES = app_yaml() + accounts_yaml({"alice": {"nick": "Alice"}, "bob": None})


def test_changes_without_detailed_exitcode_exit_0(serve: Any, tmp_path: Path) -> None:
    app = serve()
    app.seed(accounts={"alice": {"nick": "Al"}})
    result = app.plan(write_config(tmp_path, CHANGES))
    assert result.exit_code == 0, result.stderr
    assert SUMMARY in result.stdout.splitlines()
    assert result.stderr == ""


def test_changes_with_detailed_exitcode_exit_2(serve: Any, tmp_path: Path) -> None:
    app = serve()
    app.seed(accounts={"alice": {"nick": "Al"}})
    result = app.plan(write_config(tmp_path, CHANGES), "--detailed-exitcode")
    assert result.exit_code == 2, result.stderr
    assert SUMMARY in result.stdout.splitlines()
    assert result.stderr == ""


def test_no_changes_with_detailed_exitcode_exit_0_and_one_line(serve: Any, tmp_path: Path) -> None:
    app = serve()
    app.seed(bots={"@RBT#support": {"nick": "Support", "face_url": "https://e.x/s.png",
                                    "self_signature": "Ask me"}},
             accounts={"alice": {"nick": "Alice", "face_url": ""}, "bob": {"nick": "Whatever"}})
    config = write_config(tmp_path, app_yaml(prune_bots="true") + """\
bots:
  "@RBT#support":
    nick: Support
    face_url: https://e.x/s.png
    self_signature: Ask me
  "@RBT#gone":
    state: absent
accounts:
  alice:
    nick: Alice
    face_url: ""
  bob:
  mallory:
    state: absent
""")
    result = app.plan(config, "--detailed-exitcode")
    # the app it read, then one line
    header = f"Plan for app 1400000000 at {app.url}\n\n"
    assert (result.exit_code, result.stdout, result.stderr) == (0, header + NO_CHANGES, "")
    for output_format in ("json", "markdown"):
        result = app.plan(config, "--detailed-exitcode", "--format", output_format)
        assert result.exit_code == 0, (output_format, result.stderr)
    assert app.writes() == {}


UNSAFE = app_yaml(max_deletes=1) + accounts_yaml({"x1": {"state": "absent"}, "x2": {"state": "absent"}})


def test_unsafe_plan_exit_1_but_the_plan_is_shown(serve: Any, tmp_path: Path) -> None:
    app = serve()
    app.seed(accounts={"x1": {}, "x2": {}})
    result = app.plan(write_config(tmp_path, UNSAFE))
    assert result.exit_code == 1
    assert "Plan: 0 to create, 0 to update, 2 to delete." in result.stdout.splitlines()
    assert '  - account "x1"' in result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: the plan is unsafe: ")
    assert "--force" in lines[0]
    assert "max_deletes" in lines[0]


def test_unsafe_plan_with_force_exit_0(serve: Any, tmp_path: Path) -> None:
    app = serve()
    app.seed(accounts={"x1": {}, "x2": {}})
    config = write_config(tmp_path, UNSAFE)
    result = app.plan(config, "--force")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert "Plan: 0 to create, 0 to update, 2 to delete." in result.stdout.splitlines()
    # the plan still says it is unsafe (a reviewer sees why --force was needed)
    assert any(line.startswith("Unsafe: the plan deletes 2 objects") for line in result.stdout.splitlines())
    assert app.plan(config, "--force", "--detailed-exitcode").exit_code == 2


def test_too_many_bots_after_the_plan_exit_1_even_with_force(serve: Any, tmp_path: Path) -> None:
    app = serve()
    app.seed(bots={f"@RBT#live{i}": {} for i in range(15)})
    config = write_config(tmp_path, app_yaml() + "bots:\n" + "".join(f'  "@RBT#new{i}":\n' for i in range(6)))
    for flags in ((), ("--force",), ("--force", "--detailed-exitcode")):
        result = app.plan(config, *flags)
        assert result.exit_code == 1, (flags, result.stderr)
        assert "Plan: 6 to create, 0 to update, 0 to delete." in result.stdout.splitlines()
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("Error: the plan cannot be applied: the app would have 21 active bots")
    assert app.writes() == {}


def test_bad_config_exit_1(serve: Any, tmp_path: Path) -> None:
    app = serve()
    config = write_config(tmp_path, app_yaml() + "accounts:\n  alice:\n    nik: Alice\n")
    result = app.plan(config)
    assert_clean_failure(result)
    assert result.stderr.splitlines()[0].startswith(f"{config}:")
    assert "nick" in result.stderr
    assert result.stdout == ""
    # no plan and no write: only the reads that start once app: is checked may have gone out
    assert app.writes() == {}
    assert set(app.emulator.calls) <= {"get_all_robots", "account_check", "portrait_get"}


def test_missing_secret_env_var_exit_1(serve: Any, tmp_path: Path) -> None:
    app = serve()
    result = app.plan(write_config(tmp_path, CHANGES), env=app.env(CHATSYNC_SECRET_KEY=None))
    assert_clean_failure(result)
    assert "CHATSYNC_SECRET_KEY" in result.stderr
    assert "is not set" in result.stderr
    assert result.stdout == ""


def test_unreachable_endpoint_exit_1(serve: Any, tmp_path: Path) -> None:
    app = serve()
    with refused_port() as port:
        url = f"http://127.0.0.1:{port}"
        result = app.plan(write_config(tmp_path, CHANGES), env=app.env(CHATSYNC_ENDPOINT=url))
    assert_clean_failure(result)
    assert url.split("//")[1] in result.stderr or "reach" in result.stderr.lower()
    assert result.stdout == ""


def test_wrong_key_exit_1(serve: Any, tmp_path: Path) -> None:
    app = serve()
    wrong = "wrong-secret-key-0123456789abcdef0123456789abcdef"
    result = app.plan(write_config(tmp_path, CHANGES), env=app.env(CHATSYNC_SECRET_KEY=wrong))
    assert_clean_failure(result, wrong)
    assert result.stdout == ""
    assert app.writes() == {}
