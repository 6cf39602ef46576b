"""``chatsync plan`` exit codes (docs/contract.md §2) and its failures: short, on stderr, no secret."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from chatsync.cli import main
from tests.cli_plan.conftest import accounts_yaml, app_yaml, assert_clean_failure, write_config
from tests.support import App, refused_port

NO_CHANGES = "No changes. The app matches the configuration.\n"
SUMMARY = "Plan: 1 to create, 1 to update, 0 to delete."

CHANGES = app_yaml() + accounts_yaml({"alice": {"nick": "Alice"}, "bob": None})


def test_changes_without_detailed_exitcode_exit_0(serve: Callable[..., App], tmp_path: Path) -> None:
    app = serve()
    app.seed(accounts={"alice": {"nick": "Al"}})
    result = app.plan(write_config(tmp_path, CHANGES))
    assert result.exit_code == 0, result.stderr
    assert SUMMARY in result.stdout.splitlines()
    assert result.stderr == ""


def test_changes_with_detailed_exitcode_exit_2(serve: Callable[..., App], tmp_path: Path) -> None:
    app = serve()
    app.seed(accounts={"alice": {"nick": "Al"}})
    result = app.plan(write_config(tmp_path, CHANGES), "--detailed-exitcode")
    assert result.exit_code == 2, result.stderr
    assert SUMMARY in result.stdout.splitlines()
    assert result.stderr == ""


def test_no_changes_with_detailed_exitcode_exit_0_and_one_line(serve: Callable[..., App],
                                                               tmp_path: Path) -> None:
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


def test_unsafe_plan_exit_1_but_the_plan_is_shown(serve: Callable[..., App], tmp_path: Path) -> None:
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


def test_unsafe_plan_with_force_exit_0(serve: Callable[..., App], tmp_path: Path) -> None:
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


def test_too_many_bots_after_the_plan_exit_1_even_with_force(serve: Callable[..., App],
                                                             tmp_path: Path) -> None:
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


def test_bad_config_exit_1(serve: Callable[..., App], tmp_path: Path) -> None:
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


def test_missing_secret_env_var_exit_1(serve: Callable[..., App], tmp_path: Path) -> None:
    app = serve()
    result = app.plan(write_config(tmp_path, CHANGES), env=app.env(CHATSYNC_SECRET_KEY=None))
    assert_clean_failure(result)
    assert "CHATSYNC_SECRET_KEY" in result.stderr
    assert "is not set" in result.stderr
    assert result.stdout == ""


def test_unreachable_endpoint_exit_1(serve: Callable[..., App], tmp_path: Path) -> None:
    app = serve()
    with refused_port() as port:
        url = f"http://127.0.0.1:{port}"
        result = app.plan(write_config(tmp_path, CHANGES), env=app.env(CHATSYNC_ENDPOINT=url))
    assert_clean_failure(result)
    assert url.split("//")[1] in result.stderr or "reach" in result.stderr.lower()
    assert result.stdout == ""


def test_wrong_key_exit_1(serve: Callable[..., App], tmp_path: Path) -> None:
    app = serve()
    wrong = "wrong-secret-key-0123456789abcdef0123456789abcdef"
    result = app.plan(write_config(tmp_path, CHANGES), env=app.env(CHATSYNC_SECRET_KEY=wrong))
    assert_clean_failure(result, wrong)
    assert result.stdout == ""
    assert app.writes() == {}


# -- usage errors: exit 1 like every other error, never 2 (which --detailed-exitcode means "changes") --

#: (arguments, the command whose help the message points at, text the message must name).
USAGE_ERRORS = [
    (["plan", "--bogus", "--detailed-exitcode"], "chatsync plan", "--bogus"),
    (["plan", "--detailed-exitcode", "--format", "xml"], "chatsync plan", "xml"),
    (["plan", "--parallelism"], "chatsync plan", "--parallelism"),
    (["apply", "--bogus"], "chatsync apply", "--bogus"),
    (["apply", "--plan"], "chatsync apply", "--plan"),
    (["apply", "--format", "markdown"], "chatsync apply", "markdown"),
    (["validate", "--bogus"], "chatsync validate", "--bogus"),
    (["validate", "--format", "sarif"], "chatsync validate", "sarif"),
    (["schema", "extra"], "chatsync schema", "extra"),
    (["show"], "chatsync show", "PLAN.json"),
    (["show", "p.json", "--format", "yaml"], "chatsync show", "yaml"),
    (["export", "--out"], "chatsync export", "--out"),
    (["emulator", "--port", "x"], "chatsync emulator", "--port"),
    (["emulator", "--fault-rate", "nan"], "chatsync emulator", "--fault-rate"),
    (["--bogus", "plan"], "chatsync", "--bogus"),
    (["bogus"], "chatsync", "bogus"),
    (["-v"], "chatsync", "command"),
]


@pytest.mark.parametrize(("args", "command", "named"), USAGE_ERRORS,
                         ids=[" ".join(args) for args, _, _ in USAGE_ERRORS])
def test_a_usage_error_exits_1_with_two_lines_naming_it(args: list[str], command: str, named: str) -> None:
    result = CliRunner().invoke(main, args, prog_name="chatsync")
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    first, second = result.stderr.splitlines()
    assert first.startswith("Error: ") and named.lower() in first.lower(), first
    assert second == f"Try '{command} --help' for help."


def test_a_usage_error_prints_no_control_character() -> None:
    result = CliRunner().invoke(main, ["plan", "--\x1b[31mred\u202e"])
    assert result.exit_code == 1
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr
    assert "\\x1b" in result.stderr or "\\u001b" in result.stderr.lower(), result.stderr
    assert len(result.stderr.splitlines()) == 2


def test_bare_chatsync_prints_its_help_on_stdout_and_exits_0() -> None:
    bare, helped = CliRunner().invoke(main, []), CliRunner().invoke(main, ["--help"])
    assert (bare.exit_code, bare.stderr) == (0, "")
    assert bare.stdout == helped.stdout and "Commands:" in bare.stdout


def test_help_is_still_exit_0_for_every_command() -> None:
    for name in ("apply", "emulator", "export", "plan", "schema", "show", "validate"):
        result = CliRunner().invoke(main, [name, "--help"])
        assert (result.exit_code, result.stderr) == (0, ""), name
