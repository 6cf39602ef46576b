"""``chatsync fmt``: one canonical form, every comment kept, and never a change to what chatsync
reads. Proven on every config file in the repository, and on generated configs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from chatsync.cli import main
from chatsync.config import ConfigError, load
from chatsync.config.fmt import comments, format_text, same_data
from chatsync.config.yaml_loader import read_text
from chatsync.facts.fields import STANDARD

ROOT = Path(__file__).resolve().parents[2]
#: Every YAML file in the repository that is a chatsync config (CI files and the like are not).
CONFIGS = sorted(
    path for path in (ROOT / name for name in subprocess.run(
        ["git", "ls-files", "*.yaml", "*.yml"], cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split())
    if path.is_file() and b"version:" in path.read_bytes()[:4000])
#: The configs that load (alone or with the files they go with): fmt must leave their desired state.
LOADABLE = [
    ["examples/quickstart"], ["examples/gitops/bots", "examples/gitops/envs/dev"],
    ["examples/gitops/bots", "examples/gitops/envs/prod"], ["tests/config/corpus/good/cjk_limits.yaml"],
    ["tests/config/corpus/good/emoji_limits.yaml"], ["tests/config/corpus/good/merge_keys.yaml"],
    ["tests/config/corpus/good/split"],
]


def formatted(path: Path) -> str | None:
    text, _ = format_text(str(path), path.read_bytes())
    return text


def test_the_corpus_is_large_enough_to_mean_something() -> None:
    assert len(CONFIGS) >= 80
    assert sum(formatted(path) is not None for path in CONFIGS) >= 60


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_fmt_is_idempotent_keeps_comments_and_the_data(path: Path) -> None:
    once = formatted(path)
    if once is None:  # cannot be read as a config: fmt says why and leaves it
        return
    original = path.read_text(encoding="utf-8-sig")
    assert comments(once) == comments(original)
    before, _ = read_text(str(path), path.read_bytes())
    after, problems = read_text(str(path), once.encode("utf-8"))
    assert problems == [] and same_data(before, after)
    assert formatted_text(once, path) == once  # fmt twice is fmt once


def formatted_text(text: str, path: Path) -> str | None:
    result, _ = format_text(str(path), text.encode("utf-8"))
    return result


@pytest.mark.parametrize("paths", LOADABLE, ids=lambda p: "+".join(p))
def test_validate_reads_the_same_desired_state_after_fmt(paths: list[str], tmp_path: Path) -> None:
    copies = []
    for name in paths:
        source = ROOT / name
        target = tmp_path / name
        for file in ([source] if source.is_file() else sorted(source.iterdir())):
            destination = target if source.is_file() else target / file.name
            destination.parent.mkdir(parents=True, exist_ok=True)
            config = file.suffix in (".yaml", ".yml") and not file.name.startswith(".")
            text = formatted(file) if config else None
            destination.write_bytes(text.encode("utf-8") if text is not None else file.read_bytes())
        copies.append(str(target))
    before = load([str(ROOT / p) for p in paths])
    after = load(copies)
    assert after.app == before.app
    assert list(after.principals()) == list(before.principals())
    assert after.origins.overrides.keys() == before.origins.overrides.keys()


def test_invalid_configs_keep_every_problem_after_fmt(tmp_path: Path) -> None:
    bad = ROOT / "tests/config/corpus/bad"
    kept = 0
    for path in sorted(bad.glob("*.yaml")):
        text = formatted(path)
        if text is None:
            continue
        copy = tmp_path / path.name
        copy.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError) as before:
            load([path])
        with pytest.raises(ConfigError) as after:
            load([copy])
        messages = [p.message for p in after.value.problems]
        assert messages == [p.message for p in before.value.problems], path.name
        kept += 1
    assert kept >= 40


SOURCE = """\
# yaml-language-server: $schema=./chatsync.schema.json
app:
  region: singapore   # where
  # sdkappid comes from the console
  sdkappid: 1400000001
  protected:
  - ops
  - admin   # the admin
version: 1   # the version

bots:
  '@RBT#a':
    # about the avatar
    face_url: https://x   # eol face
    nick: A
  "@RBT#b": {nick: B, face_url: y}
  # comment before c
  '@RBT#c':   # eol on c
    state: absent
x-defaults:
  avatar: &avatar
    face_url: https://example.com/a.png
accounts:
    alice:
        <<: *avatar                     # face_url from the defaults (its column kept)
        nick: Alice
    "10086":
        self_signature: hi
        custom: {Dept: Sales}
        nick: 客服
# end comment
"""
EXPECTED = """\
# yaml-language-server: $schema=./chatsync.schema.json
version: 1   # the version
app:
  # sdkappid comes from the console
  sdkappid: 1400000001
  region: singapore   # where
  protected:
    - ops
    - admin # the admin

bots:
  "@RBT#a":
    nick: A
    # about the avatar
    face_url: https://x   # eol face
  "@RBT#b": {nick: B, face_url: y}
  # comment before c
  "@RBT#c":   # eol on c
    state: absent
x-defaults:
  avatar: &avatar
    face_url: https://example.com/a.png
accounts:
  alice:
    <<: *avatar                         # face_url from the defaults (its column kept)
    nick: Alice
  "10086":
    nick: 客服
    self_signature: hi
    custom: {Dept: Sales}
# end comment
"""


def test_the_canonical_form_and_where_comments_go() -> None:
    text, problems = format_text("c.yaml", SOURCE.encode("utf-8"))
    assert problems == []
    assert text == EXPECTED


def test_an_unreadable_file_is_left_alone_with_its_problem(tmp_path: Path) -> None:
    path = tmp_path / "chatsync.yaml"
    path.write_text("version: 1\naccounts:\n  alice: {nick: A\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["fmt", str(path)])
    assert result.exit_code == 1
    assert f"{path}:4:1: YAML syntax error" in result.stderr
    assert path.read_text(encoding="utf-8") == "version: 1\naccounts:\n  alice: {nick: A\n"
    other = tmp_path / "other.yaml"
    other.write_text("name: not a config\n", encoding="utf-8")
    assert "is not a chatsync config" in CliRunner().invoke(main, ["fmt", str(other)]).stderr


def test_check_lists_diff_shows_and_plain_fmt_writes(tmp_path: Path) -> None:
    messy = tmp_path / "a.yaml"
    messy.write_text(SOURCE, encoding="utf-8")
    tidy = tmp_path / "b.yaml"
    tidy.write_text(EXPECTED, encoding="utf-8")
    checked = CliRunner().invoke(main, ["fmt", "--check", str(tmp_path)])
    assert checked.exit_code == 1 and checked.stdout == f"would reformat {messy}\n"
    assert "1 file would be reformatted, 1 file left unchanged." in checked.stderr
    diffed = CliRunner().invoke(main, ["fmt", "--diff", str(messy)])
    assert diffed.exit_code == 0 and "-  '@RBT#a':\n+  \"@RBT#a\":\n" in diffed.stdout
    assert messy.read_text(encoding="utf-8") == SOURCE  # --check and --diff write nothing
    written = CliRunner().invoke(main, ["fmt", str(tmp_path)])
    assert written.exit_code == 0, written.stderr
    assert messy.read_text(encoding="utf-8") == EXPECTED and tidy.read_text(encoding="utf-8") == EXPECTED
    assert CliRunner().invoke(main, ["fmt", "--check", str(tmp_path)]).exit_code == 0


def test_a_value_escaped_for_safety_stays_escaped() -> None:
    source = 'version: 1\naccounts:\n  "evil\\u202egnp.exe":\n    nick: "x\\u200fy\\ty"\n'
    text, problems = format_text("c.yaml", source.encode("utf-8"))
    assert problems == [] and text == source


_FIELDS = [f.name for f in STANDARD if f.kind == "text"]
_comment = st.text(st.characters(codec="utf-8", categories=("L", "N", "Zs")), max_size=12).map(
    lambda text: f"# {text}".rstrip())


@settings(max_examples=60, deadline=None)
@given(bodies=st.lists(st.tuples(st.permutations(_FIELDS[:4]), st.lists(_comment, max_size=4)),
                       min_size=1, max_size=4))
def test_fields_in_any_order_with_comments_anywhere(bodies: list[tuple[list[str], list[str]]]) -> None:
    lines = ["version: 1", "accounts:"]
    for i, (fields, notes) in enumerate(bodies):
        lines.append(f"  user{i}:")
        for j, name in enumerate(fields):
            if j < len(notes):
                lines.append(f"    {notes[j]}")
            lines.append(f"    {name}: v{j}" + (f"   {notes[j]}" if j < len(notes) and j % 2 else ""))
    source = "\n".join(lines) + "\n"
    once, problems = format_text("c.yaml", source.encode("utf-8"))
    assert problems == [] and once is not None
    assert comments(once) == comments(source)
    twice, _ = format_text("c.yaml", once.encode("utf-8"))
    assert twice == once
    for i, (fields, _) in enumerate(bodies):
        block = once.split(f"  user{i}:\n", 1)[1]
        order = [line.split(":")[0].strip() for line in block.splitlines() if line.startswith("    ")
                 and not line.strip().startswith("#")][:len(fields)]
        assert order == [name for name in _FIELDS if name in fields]
