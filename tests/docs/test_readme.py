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


def test_the_python_example_converges_an_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's "From Python" block, run as written against the emulator on loopback."""
    from chatsync.emulator.server import RunningEmulator
    from tests.support import SDKAPPID, SECRET, make_emulator

    block = re.search(r"## From Python\n.*?```python\n(.*?)```", README, re.DOTALL)
    assert block, "README has no From Python example"
    emulator = make_emulator(sdkappid=SDKAPPID, custom_fields=("Dept",))
    with RunningEmulator(emulator) as server:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("CHATSYNC_ENDPOINT", server.url)
        monkeypatch.setenv("CHATSYNC_SECRET_KEY", SECRET)
        (tmp_path / "chatsync.yaml").write_text(
            f"version: 1\napp: {{sdkappid: {SDKAPPID}, custom_fields: [Dept]}}\n"
            'bots:\n  "@RBT#support": {nick: Support, allow_type: deny_any, level: 2}\n'
            "accounts:\n  alice: {nick: Alice, gender: female, custom: {Dept: Sales}}\n", encoding="utf-8")
        exec(compile(block.group(1), "README.md", "exec"), {})
        import chatsync

        assert chatsync.plan(chatsync.load("chatsync.yaml")).empty
        assert (tmp_path / "plan.json").is_file()
        with emulator.store.lock:
            alice = dict(emulator.store.accounts["alice"])
    assert alice["Tag_Profile_IM_Gender"] == "Gender_Type_Female"
    assert alice["Tag_Profile_Custom_Dept"] == "Sales"


def test_the_public_api_is_listed_and_documented() -> None:
    import chatsync

    for name in chatsync.__all__:
        assert getattr(chatsync, name) is not None
        if not name.startswith("_"):
            assert f"`{name}`" in README, f"README's From Python section misses {name}"
