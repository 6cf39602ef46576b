"""The README stays true: its config tables list every schema field, its command section every
command and flag, and its top keeps the two commands a fresh clone needs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from chatsync.cli import main

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SCHEMA = json.loads((ROOT / "chatsync/schemas/chatsync.schema.json").read_text(encoding="utf-8"))


def test_the_top_keeps_the_two_commands() -> None:
    head = README[:800]
    assert re.search(r"^make demo\b", head, re.MULTILINE)
    assert re.search(r"^make test\b", head, re.MULTILINE)


@pytest.mark.parametrize("section", ["app", "principal"])
def test_every_schema_field_is_in_the_config_tables(section: str) -> None:
    for name in SCHEMA["$defs"][section]["properties"]:
        assert f"| `{name}` |" in README, f"README's config tables miss {section}.{name}"


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_and_flag_is_documented(name: str) -> None:
    assert f"chatsync {name}" in README or f"`{name}`" in README
    for param in main.commands[name].params:
        for option in getattr(param, "opts", []):
            if option.startswith("--") and option != "--help":
                assert option in README, f"README does not mention chatsync {name} {option}"
