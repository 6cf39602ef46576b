"""The effective config (chatsync validate --show): a config chatsync reads back to the same desired
state, with where each value came from."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from chatsync.config import load
from chatsync.config.canonical import scalar as _scalar
from chatsync.config.effective import text
from chatsync.config.fmt import format_text
from chatsync.domain.model import DesiredState

ROOT = Path(__file__).resolve().parents[2]
GOOD = Path(__file__).parent / "corpus" / "good"
CONFIGS = [
    [ROOT / "examples/quickstart"],
    [ROOT / "examples/gitops/bots", ROOT / "examples/gitops/envs/dev"],
    [ROOT / "examples/gitops/bots", ROOT / "examples/gitops/envs/prod"],
    [GOOD / "cjk_limits.yaml"], [GOOD / "emoji_limits.yaml"], [GOOD / "merge_keys.yaml"], [GOOD / "split"],
]


def same(a: DesiredState, b: DesiredState) -> None:
    assert a.app == b.app
    assert list(a.principals()) == list(b.principals())  # kind, id, fields and state, in order


@pytest.mark.parametrize("paths", CONFIGS, ids=lambda p: "+".join(x.name for x in p))
def test_the_effective_config_reads_back_to_the_same_desired_state(paths: list[Path], tmp_path: Path) -> None:
    desired = load(paths)
    shown = text(desired, [str(p) for p in paths])
    (tmp_path / "effective.yaml").write_text(shown, encoding="utf-8")
    same(load([tmp_path / "effective.yaml"]), desired)
    assert format_text("effective.yaml", shown.encode("utf-8")) == (shown, [])  # fmt's form already


def test_every_object_names_its_declaration(tmp_path: Path) -> None:
    desired = load([GOOD / "split"])
    shown = text(desired).splitlines()
    for principal in desired.principals():
        assert any(f"# {principal.location}" in line for line in shown), principal.user_id


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40))
def test_every_value_is_written_as_a_scalar_yaml_reads_back(value: str) -> None:
    assert yaml.safe_load(f"k: {_scalar(value)}\n")["k"] == value


def test_groups_are_shown_whole_and_read_back_the_same(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "version: 1\napp:\n  sdkappid: 1400000000\n  prune_groups: true\n"
        "accounts:\n  alice: {nick: A}\n  bob:\n  carol:\nbots:\n  \"@RBT#x\":\n"
        "groups:\n  room:\n    type: Public\n    name: Room\n    owner: alice\n    admins: [carol]\n"
        "    members: [bob, \"@RBT#x\"]\n  old:\n    state: absent\n", encoding="utf-8")
    desired = load([str(config)])
    shown = text(desired)
    assert "    members: [\"@RBT#x\", bob]" in shown and "    admins: [carol]" in shown
    assert "  prune_groups: true" in shown
    again = tmp_path / "again.yaml"
    again.write_text(shown, encoding="utf-8")
    same(desired, load([str(again)]))
