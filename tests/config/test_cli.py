"""``chatsync validate`` and ``chatsync schema`` through click."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from chatsync.cli import main
from chatsync.config import schema_text

ROOT = Path(__file__).resolve().parents[2]
APP = "version: 1\napp:\n  sdkappid: 1400000000\n"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_validate_success_prints_a_summary(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(APP + 'bots:\n  "@RBT#a":\naccounts:\n  x:\n  y: {state: absent}\n')
    (tmp_path / "b.yml").write_text("version: 1\naccounts:\n  z:\n")
    result = run("validate", str(tmp_path))
    assert result.exit_code == 0
    assert result.stdout == "Valid: 1 app, 1 bot, 3 accounts (1 to delete) in 2 files.\n"
    assert result.stderr == ""


def test_validate_lists_every_problem_then_fails(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(APP + 'accounts:\n  alice: {nik: A}\n  "@RBT#x":\n')
    result = run("validate", str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path}:5:11: unknown field 'nik' in account \"alice\"; did you mean 'nick'?",
        f'{path}:6:3: "@RBT#x" is a bot id (@RBT#); move it under bots:',
        "2 problems found.",
    ]


def test_validate_default_path_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 1
    assert result.stderr == (
        "chatsync.yaml: no such file in this directory; create it, or pass your config files or directories "
        "(e.g. bots envs/prod)\n"
        "1 problem found.\n"
    )
    assert "Traceback" not in result.output


def test_validate_hostile_file_fails_fast_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "lol.yaml"
    lines = ["version: 1", "x: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    path.write_text("\n".join(lines) + "\n")
    result = run("validate", str(path))
    assert result.exit_code == 1
    assert "too many alias expansions" in result.stderr
    assert "Traceback" not in result.output


def test_quickstart_example_is_valid() -> None:
    result = run("validate", str(ROOT / "examples" / "quickstart" / "chatsync.yaml"))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Valid: 1 app, 2 bots, ")


def test_schema_prints_the_packaged_schema() -> None:
    result = run("schema")
    assert result.exit_code == 0
    assert result.stdout == schema_text()
