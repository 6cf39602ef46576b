"""Start-up: the commands that only print (``--version``, ``--help``, completion of command names)
import neither the HTTP client nor the schema validator; each command's module loads when it runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from chatsync.cli import COMMANDS, LazyCommands, main

HEAVY = ("httpx", "jsonschema", "yaml", "chatsync.tencent.client", "chatsync.config")

#: Runs the command line in a fresh interpreter and prints which heavy modules it imported.
PROBE = """
import json, sys
heavy = json.loads(sys.argv[2])
sys.argv = ["chatsync", *json.loads(sys.argv[1])]
from chatsync.cli import main
try:
    main()
except SystemExit:
    pass
sys.__stderr__.write(json.dumps(sorted(m for m in heavy if m in sys.modules)))
"""


def imported_by(args: list[str], env: dict[str, str] | None = None) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)],
        capture_output=True, text=True, check=False, env={**os.environ, **(env or {})}, timeout=60,
    )
    found: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return found


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["-h"], ["plan", "--help"],
                                  ["apply", "--help"], ["export", "--help"], ["show", "--help"],
                                  ["validate", "--help"], ["emulator", "--help"]])
def test_printing_only_commands_import_no_http_client_and_no_schema(args: list[str]) -> None:
    assert imported_by(args) == []


def test_completing_command_names_imports_no_http_client_and_no_schema() -> None:
    env = {"_CHATSYNC_COMPLETE": "bash_complete", "COMP_WORDS": "chatsync ", "COMP_CWORD": "1"}
    assert imported_by([], env) == []


def test_the_probe_does_see_the_imports_of_a_command_that_runs(tmp_path: Path) -> None:
    # the control: validate does load the config machinery, and the probe notices (jsonschema only
    # for a file that is not valid: a valid one is proven so by the compiled predicate)
    config = tmp_path / "chatsync.yaml"
    config.write_text("version: 1\napp:\n  sdkappid: 1400000000\n", encoding="utf-8")
    assert {"yaml", "chatsync.config"} <= set(imported_by(["validate", str(config)]))
    config.write_text("version: 1\napp:\n  sdkappid: 0\n", encoding="utf-8")
    assert {"jsonschema", "chatsync.config"} <= set(imported_by(["validate", str(config)]))


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_command_list_shows_each_commands_own_short_help(name: str) -> None:
    commands = main.commands
    assert isinstance(commands, LazyCommands)
    command = commands[name]  # imports it
    assert isinstance(command, click.Command)
    for limit in (45, 60, 1000):
        assert commands.short_help(name, limit) == command.get_short_help_str(limit)
        assert click.Command(name, help=COMMANDS[name][2]).get_short_help_str(limit) == \
            command.get_short_help_str(limit), f"COMMANDS[{name!r}] differs from its docstring"


def test_every_command_module_is_in_the_table() -> None:
    assert set(main.commands) == set(COMMANDS)
    assert len(main.commands) == len(COMMANDS)
    assert "no-such-command" not in main.commands
    with pytest.raises(KeyError):
        main.commands["no-such-command"]


def test_loaded_commands_take_the_global_flags() -> None:
    names = {param.name for param in main.commands["plan"].params}
    assert {"verbose", "debug", "no_color"} <= names


def test_the_apply_help_names_the_default_key_variable_of_the_model() -> None:
    from chatsync.cli import apply as apply_command
    from chatsync.domain.model import DEFAULT_SECRET_KEY_ENV

    assert vars(apply_command)["DEFAULT_SECRET_KEY_ENV"] == DEFAULT_SECRET_KEY_ENV


def test_a_plan_against_the_emulator_over_loopback_imports_no_httpx(tmp_path: Path) -> None:
    # a direct connection goes through chatsync/tencent/transport.py (httpcore);
    # httpx only for transports a caller injects
    from chatsync.emulator.server import RunningEmulator
    from tests.support import SDKAPPID, SECRET, make_emulator

    config = tmp_path / "chatsync.yaml"
    config.write_text(f"version: 1\napp:\n  sdkappid: {SDKAPPID}\naccounts:\n  alice: {{nick: Al}}\n",
                      encoding="utf-8")
    env = {"CHATSYNC_SECRET_KEY": SECRET, "HTTPS_PROXY": "http://127.0.0.1:9", "ALL_PROXY": "http://127.0.0.1:9"}
    with RunningEmulator(make_emulator(sdkappid=SDKAPPID)) as server:
        env["CHATSYNC_ENDPOINT"] = server.url
        found = imported_by(["plan", "--detailed-exitcode", str(config)], env)
        assert server.emulator.calls.get("account_check"), "the plan did not reach the emulator"
    assert "chatsync.tencent.client" in found  # the control: the plan did make its calls
    assert "httpx" not in found, found
