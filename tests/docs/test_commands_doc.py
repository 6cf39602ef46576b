"""The Commands page (and the emulator's page, for its flags) stays in step with `--help`: each
command's flags are exactly those its --help lists, and its exit codes are what its --help says.
Read from the help text a user sees, not from the code that wrote the page."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from chatsync.cli import main
from tests.docs.pages import page, section, squash, table_rows

GLOBAL = {"-v", "--verbose", "--debug", "--no-color", "-h", "--help"}


def help_text(*args: str) -> str:
    result = CliRunner().invoke(main, [*args, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


def help_flags(text: str) -> set[str]:
    """The flags of the Options section of a --help text."""
    options = text.split("Options:\n", 1)[1]
    flags: set[str] = set()
    for line in options.splitlines():
        if not line.strip():
            break  # the end of the Options section
        if not line.startswith("  -"):
            continue
        head = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        flags |= {word.rstrip(",") for word in head.split() if word.startswith("-")}
    return flags


def help_exit_codes(text: str) -> str:
    """The "Exit codes:" paragraph of a command's --help; of ``chatsync --help``, its first sentence
    (more text follows it there without a blank line)."""
    found = re.search(r"Exit codes: (.*?)(?:\n\s*\n|\Z)", text, re.DOTALL)
    assert found, "the help says no exit codes"
    codes = squash(found.group(1))
    return codes.split(". ", 1)[0] + "." if "\nCommands:\n" in text else codes


def documented(name: str) -> str:
    text = page("emulator.md") if name == "emulator" else page("commands.md")
    return section(text, f"### `chatsync {name}`")


@pytest.mark.parametrize("name", sorted(main.commands))
def test_each_flag_of_help_is_documented_and_no_other(name: str) -> None:
    text = documented(name)
    in_page = {word for row in (table_rows(text, "flag") if "| flag |" in text else [])
               for word in re.findall(r"(?<![\w-])--?[\w-]+", row[0])}
    assert in_page == help_flags(help_text(name)) - GLOBAL


@pytest.mark.parametrize("name", sorted(main.commands))
def test_the_exit_codes_are_what_help_says(name: str) -> None:
    own = help_text(name)
    expected = help_exit_codes(own) if "Exit codes:" in own else help_exit_codes(help_text())
    assert f"**Exit codes:** {expected}" in squash(documented(name))
    summary = table_rows(section(page("commands.md"), "## Exit codes"), "command")
    row = next(cells for cells in summary if cells[0] == f"`{name}`")
    assert row[1] == expected or (row[1] == "as every command (the last row)" and "Exit codes:" not in own)


def test_the_global_flags_are_documented_once() -> None:
    rows = table_rows(section(page("commands.md"), "## Global flags"), "flag")
    in_page = {word for row in rows for word in re.findall(r"(?<![\w-])--?[\w-]+", row[0])}
    assert in_page == help_flags(help_text()) - {"--version"}
    assert f"{help_exit_codes(help_text())}" in squash(section(page("commands.md"), "## Exit codes"))


def test_every_command_is_listed() -> None:
    rows = table_rows(page("commands.md"), "command")
    assert {re.search(r"`(\w+)`", row[0]).group(1) for row in rows} == set(main.commands)  # type: ignore[union-attr]
