"""The Python API page: its example runs as written against the emulator, and every public name
(``chatsync.__all__``) has its entry, read from the docstrings by autodoc when the site is built."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import chatsync
from tests.docs.pages import page

API = page("api.md")


def test_the_example_converges_an_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from chatsync.emulator.server import RunningEmulator
    from tests.support import SDKAPPID, SECRET, make_emulator

    block = re.search(r"```python\n(.*?)```", API, re.DOTALL)
    assert block, "the API page has no Python example"
    emulator = make_emulator(sdkappid=SDKAPPID, custom_fields=("Dept",))
    with RunningEmulator(emulator) as server:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("CHATSYNC_ENDPOINT", server.url)
        monkeypatch.setenv("CHATSYNC_SECRET_KEY", SECRET)
        (tmp_path / "chatsync.yaml").write_text(
            f"version: 1\napp: {{sdkappid: {SDKAPPID}, custom_fields: [Dept]}}\n"
            'bots:\n  "@RBT#support": {nick: Support, allow_type: deny_any, level: 2}\n'
            "accounts:\n  alice: {nick: Alice, gender: female, custom: {Dept: Sales}}\n", encoding="utf-8")
        exec(compile(block.group(1), "docs/api.md", "exec"), {})
        assert chatsync.plan(chatsync.load("chatsync.yaml")).empty
        assert (tmp_path / "plan.json").is_file()
        with emulator.store.lock:
            alice = dict(emulator.store.accounts["alice"])
    assert alice["Tag_Profile_IM_Gender"] == "Gender_Type_Female"
    assert alice["Tag_Profile_Custom_Dept"] == "Sales"


def test_every_public_name_has_its_entry() -> None:
    documented = set(re.findall(r"^\.\. auto(?:function|class):: chatsync\.(\w+)$", API, re.MULTILINE))
    public = {name for name in chatsync.__all__ if not name.startswith("_")}
    assert documented == public
    for name in public:
        assert getattr(chatsync, name).__doc__, f"chatsync.{name} has no docstring for the API page"
    assert "`chatsync.__version__`" in API
